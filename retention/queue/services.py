"""The queue's writes: saved views (an agent's own, a team's by its manager), and the bulk
actions on the cases ticked in the queue.

A bulk action runs the single-case service on each case in a transaction of its own and says,
case by case, which were done and which were refused and why: one case taken by a colleague in
the meantime must not stop the other nineteen.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils.translation import gettext as _

from retention.cases import services as cases
from retention.cases.filters import QueueFilter
from retention.cases.selectors import cases_open
from retention.core.refusals import Conflict, InvalidInput, NotAllowed, Refusal
from retention.core.roles import WORKER_ROLES, Role, has_role
from retention.models import CancellationCase, SavedView, SavedViewHistory, User
from retention.queue.selectors import sort_parse

NAME_MAX = 60


# --- Saved views ----------------------------------------------------------------------------------


def saved_view_filters_clean(*, query: QueryDict, user: User) -> tuple[dict[str, str], str]:
    """The filters and sort of a queue URL as a view stores them: only the FilterSet's own
    parameters, only when they validate, empty ones left out; refused otherwise."""
    filters = QueueFilter(query, queryset=cases_open(), user=user)
    if not filters.is_valid():
        raise InvalidInput(
            _("These filters cannot be saved: %(errors)s")
            % {
                "errors": "; ".join(
                    f"{filters.form.fields[name].label}: {' '.join(errs)}"
                    for name, errs in filters.errors.items()
                )
            }
        )
    data = {name: str(query[name]) for name in filters.filters if query.get(name) not in (None, "")}
    sort = str(query.get("sort", ""))
    if sort and sort_parse(sort) is None:
        raise InvalidInput(_("The queue cannot be sorted by “%(sort)s”.") % {"sort": sort})
    return data, sort


def _require_may_manage(*, team: bool, actor: User) -> None:
    if not has_role(actor, *WORKER_ROLES):
        raise NotAllowed(_("Only agents and managers keep queue views."))
    if team:
        if not has_role(actor, Role.MANAGER):
            raise NotAllowed(_("Only a manager creates and changes the team's views."))
        if not actor.team_id:
            raise NotAllowed(_("You are in no team to share a view with."))


def _name_clean(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput(_("Give the view a name."))
    if len(name) > NAME_MAX:
        raise InvalidInput(_("A view's name is at most %(n)s characters.") % {"n": NAME_MAX})
    return name


def _history(view: SavedView, actor: User, action: str) -> None:
    if view.team_id is not None:
        SavedViewHistory.objects.create(
            view=view if view.pk else None,
            team_id=view.team_id,
            name=view.name,
            actor=actor,
            action=action,
        )


def _saved(view: SavedView) -> SavedView:
    try:
        with transaction.atomic():
            view.save()
    except IntegrityError as exc:
        raise Conflict(_("A view named “%(name)s” exists already.") % {"name": view.name}) from exc
    return view


def saved_view_create(*, actor: User, name: str, query: QueryDict, team: bool = False) -> SavedView:
    """Save the queue's current filters and sort under a name: the actor's own, or (a
    manager's) shared with the team."""
    _require_may_manage(team=team, actor=actor)
    name = _name_clean(name)
    filters, sort = saved_view_filters_clean(query=query, user=actor)
    with transaction.atomic():
        owner_q = {"team_id": actor.team_id} if team else {"owner": actor}
        last = SavedView.objects.filter(**owner_q).order_by("-position").first()
        view = SavedView(
            name=name,
            owner=None if team else actor,
            team_id=actor.team_id if team else None,
            filters=filters,
            sort=sort,
            position=(last.position + 1) if last else 0,
            created_by=actor,
        )
        _saved(view)
        _history(view, actor, SavedViewHistory.Action.CREATED)
    return view


def _locked(view: SavedView, actor: User) -> SavedView:
    view = SavedView.objects.select_for_update().get(pk=view.pk)
    if view.team_id is not None:
        _require_may_manage(team=True, actor=actor)
        if actor.team_id != view.team_id:
            raise NotAllowed(_("This view belongs to another team."))
    elif view.owner_id != actor.pk:
        raise NotAllowed(_("This view is someone else's."))
    return view


def saved_view_rename(*, view: SavedView, actor: User, name: str) -> SavedView:
    name = _name_clean(name)
    with transaction.atomic():
        view = _locked(view, actor)
        view.name = name
        _saved(view)
        _history(view, actor, SavedViewHistory.Action.RENAMED)
    return view


def saved_view_update(*, view: SavedView, actor: User, query: QueryDict) -> SavedView:
    """Replace the view's filters and sort by the queue's current ones."""
    filters, sort = saved_view_filters_clean(query=query, user=actor)
    with transaction.atomic():
        view = _locked(view, actor)
        view.filters, view.sort = filters, sort
        _saved(view)
        _history(view, actor, SavedViewHistory.Action.UPDATED)
    return view


def saved_view_delete(*, view: SavedView, actor: User) -> None:
    with transaction.atomic():
        view = _locked(view, actor)
        _history(view, actor, SavedViewHistory.Action.DELETED)
        view.delete()


# --- Bulk actions on cases ------------------------------------------------------------------------


@dataclass(frozen=True)
class Refused:
    case_id: int
    label: str  # the subscriber's name, to say which case
    message: str


@dataclass
class BulkOutcome:
    done: list[CancellationCase] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)


BULK_MAX = 200


def _each(
    *, case_ids: Iterable[int], actor: User, act: Callable[[CancellationCase], object]
) -> BulkOutcome:
    if not has_role(actor, *WORKER_ROLES):
        raise NotAllowed(_("Only agents and managers work cases."))
    ids = sorted(set(case_ids))
    if not ids:
        raise InvalidInput(_("Tick the cases first."))
    if len(ids) > BULK_MAX:
        raise InvalidInput(_("At most %(n)s cases at once.") % {"n": BULK_MAX})
    found = {
        c.pk: c
        for c in CancellationCase.objects.select_related("subscriber", "owner").filter(pk__in=ids)
    }
    outcome = BulkOutcome()
    # In id order, as the bulk reassignment locks them: two bulk actions cannot deadlock.
    for pk in ids:
        case = found.get(pk)
        if case is None:
            outcome.refused.append(Refused(pk, f"#{pk}", _("There is no such case.")))
            continue
        try:
            act(case)
        except Refusal as exc:
            outcome.refused.append(Refused(pk, case.subscriber.name, str(exc)))
        else:
            outcome.done.append(case)
    return outcome


def cases_release(*, case_ids: Iterable[int], actor: User) -> BulkOutcome:
    """Put the ticked cases back in the queue, each as ``case_release`` would."""
    return _each(
        case_ids=case_ids,
        actor=actor,
        act=lambda case: cases.case_release(case=case, actor=actor),
    )


def cases_add_note(*, case_ids: Iterable[int], actor: User, text: str) -> BulkOutcome:
    """The same note on each ticked open case."""
    if not text.strip():
        raise InvalidInput(_("The note is empty."))

    def note(case: CancellationCase) -> None:
        # The queue lists open cases; one closed since the page was shown is refused.
        cases.case_require_open(case)
        cases.case_add_note(case=case, actor=actor, text=text)

    return _each(case_ids=case_ids, actor=actor, act=note)


def cases_set_callback(*, case_ids: Iterable[int], actor: User, at: datetime) -> BulkOutcome:
    """A callback at the same moment on each ticked case; each case checks it against its
    own deadline and its subscriber's calling hours."""
    return _each(
        case_ids=case_ids,
        actor=actor,
        act=lambda case: cases.case_set_callback(case=case, actor=actor, at=at),
    )
