"""What the queue reads beyond its default page: the page sorted by a column, the views a user
can pick (built in, personal, their team's) with a count beside each, and the day's callbacks.

Every sort is a keyset page (the sort value and the id of the last row shown), so a deep page
costs what the first does; each sortable column has a partial index ``(column, id)`` on the open
cases (retention.models.cases).
"""

import hashlib
import json
import zoneinfo
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.http import Http404, QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from retention.cases.filters import QueueFilter
from retention.cases.selectors import QueuePage, case_workers, cases_open
from retention.core.caching import cached
from retention.core.roles import Role, has_role
from retention.models import CancellationCase, SavedView, User
from subscribers.keyset import aware_datetime, cursor_decode, cursor_encode

# The columns the queue sorts by, each with the type its cursor holds.
SORTS: dict[str, type] = {
    "priority": int,
    "first_contact_due": datetime,
    "process_by": date,
    "opened_at": datetime,
}


@dataclass(frozen=True)
class Sort:
    column: str
    descending: bool

    @property
    def param(self) -> str:
        return f"-{self.column}" if self.descending else self.column


def sort_parse(value: str) -> Sort | None:
    """The sort a ``sort`` parameter names ("process_by", "-priority"), or None if it names a
    column the queue cannot sort by (the page says so and keeps its own order)."""
    column = value.removeprefix("-")
    if column not in SORTS:
        return None
    return Sort(column=column, descending=value.startswith("-"))


def _cursor_value(column: str, value: Any) -> int | datetime:
    return value.toordinal() if isinstance(value, date) and SORTS[column] is date else value


def sorted_cursor(sort: Sort, value: Any, pk: int) -> str:
    return cursor_encode(_cursor_value(sort.column, value), pk)


def _cursor_parse(sort: Sort, token: str) -> tuple[Any, int]:
    kind = SORTS[sort.column]
    parse = aware_datetime if kind is datetime else int
    value, pk = cursor_decode(token, parse, int)
    if kind is date:
        try:
            value = date.fromordinal(value)
        except (ValueError, OverflowError) as exc:
            raise Http404("bad cursor") from exc
    return value, pk


def queue_page_sorted(
    *, cases: QuerySet[CancellationCase], sort: Sort, after: str | None, size: int | None = None
) -> QueuePage:
    """A page of cases ordered by one column (ties by id, the same way), after the cursor."""
    size = size or settings.QUEUE_PAGE_SIZE
    column = sort.column
    page = cases
    if after:
        value, pk = _cursor_parse(sort, after)
        beyond = "lt" if sort.descending else "gt"
        page = page.filter(
            Q(**{f"{column}__{beyond}": value}) | Q(**{column: value, f"id__{beyond}": pk})
        )
    order = (f"-{column}", "-id") if sort.descending else (column, "id")
    rows = list(
        page.select_related("subscriber", "subscriber__plan", "reason", "owner").order_by(*order)[
            : size + 1
        ]
    )
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = sorted_cursor(sort, getattr(last, column), last.pk)
    return QueuePage(cases=rows, next_cursor=next_cursor)


# --- Views ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueView:
    """A view in the side list: a built-in (``key`` a word) or a saved one (``key`` its id)."""

    key: str
    name: str
    filters: dict[str, str]
    sort: str = ""
    saved: SavedView | None = field(default=None, compare=False)

    @property
    def is_team(self) -> bool:
        return self.saved is not None and self.saved.is_team

    def data(self) -> QueryDict:
        query = QueryDict(mutable=True)
        for key, value in self.filters.items():
            query[key] = value
        return query


BUILT_IN: tuple[tuple[str, Any, dict[str, str]], ...] = (
    ("unclaimed", _("Unclaimed"), {"owner": "none"}),
    ("mine", _("Mine"), {"owner": "me"}),
    ("overdue", _("Overdue"), {"overdue": "on"}),
)


def _built_in() -> list[QueueView]:
    return [QueueView(key=key, name=str(name), filters=data) for key, name, data in BUILT_IN]


def _as_view(saved: SavedView) -> QueueView:
    return QueueView(
        key=str(saved.pk), name=saved.name, filters=saved.filters, sort=saved.sort, saved=saved
    )


def saved_views_visible(*, user: User) -> QuerySet[SavedView]:
    """The saved views this user may use: their own and their team's."""
    mine = Q(owner=user)
    if user.team_id:
        mine |= Q(team_id=user.team_id)
    return SavedView.objects.filter(mine).order_by("team_id", "position", "name", "id")


def queue_views(*, user: User) -> list[QueueView]:
    """The side list: the built-ins, then the user's own views, then their team's."""
    saved = list(saved_views_visible(user=user))
    personal = [_as_view(v) for v in saved if not v.is_team]
    team = [_as_view(v) for v in saved if v.is_team]
    return _built_in() + personal + team


def queue_view_get(*, user: User, key: str, views: list[QueueView] | None = None) -> QueueView:
    """The view the ``view`` parameter names, if this user may use it; else Http404 (a word we
    do not know, an id that is not a number, another person's or another team's view)."""
    for view in views if views is not None else _built_in():
        if view.key == key:
            return view
    if views is not None or not key.isdigit() or len(key) > 18:
        raise Http404("no such view")
    saved = saved_views_visible(user=user).filter(pk=int(key)).first()
    if saved is None:
        raise Http404("no such view")
    return _as_view(saved)


def saved_view_get_for_user(*, user: User, pk: int) -> SavedView:
    """A saved view this user sees (their own or their team's); Http404 otherwise."""
    saved = saved_views_visible(user=user).filter(pk=pk).first()
    if saved is None:
        raise Http404("no such view")
    return saved


def saved_view_may_manage(*, user: User, view: SavedView) -> bool:
    """An agent manages his own views; a team's views are its managers' to change."""
    if view.team_id is not None:
        return has_role(user, Role.MANAGER) and user.team_id == view.team_id
    return view.owner_id == user.pk


# The side list polls every 30 s for 200 agents; the counts are cached like the queue's own.
VIEW_COUNTS_SECONDS = 15


def queue_view_counts(
    *, user: User, views: list[QueueView], workers: list[User] | None = None
) -> dict[str, int | None]:
    """How many open cases each view matches, all counted in one query (one pass over the open
    cases); None for a view whose stored filters no longer validate. ``workers``: the owner
    filter's choices, if the caller has read them already."""

    def count() -> dict[str, int | None]:
        nonlocal workers
        if workers is None:
            workers = list(case_workers())
        conditions: dict[str, Q] = {}
        counts: dict[str, int | None] = {}
        for view in views:
            filters = QueueFilter(view.data(), queryset=cases_open(), user=user, workers=workers)
            if filters.is_valid():
                conditions[view.key] = filters.as_q()
            else:
                counts[view.key] = None
        if conditions:
            found = cases_open().aggregate(
                **{f"v{n}": Count("pk", filter=q) for n, q in enumerate(conditions.values())}
            )
            for n, key in enumerate(conditions):
                counts[key] = found[f"v{n}"]
        return counts

    described = json.dumps([(v.key, v.filters) for v in views], sort_keys=True)
    digest = hashlib.sha256(f"{user.pk}:{user.team_id}:{described}".encode()).hexdigest()[:32]
    return cached(f"queue:views:{digest}", count, timeout=VIEW_COUNTS_SECONDS)


# --- Callbacks ------------------------------------------------------------------------------------


def agenda_agents(*, user: User) -> list[User]:
    """Whose callbacks this user may see: a manager his team's agents and managers (himself
    first); anyone else only himself."""
    if not has_role(user, Role.MANAGER) or not user.team_id:
        return [user]
    team = [u for u in case_workers().filter(team_id=user.team_id) if u.pk != user.pk]
    return [user, *team]


def agenda_agent_get(*, user: User, agents: list[User], pk: str | None) -> User:
    if not pk:
        return user
    for agent in agents:
        if str(agent.pk) == pk:
            return agent
    raise Http404("not a colleague of this manager")


@dataclass(frozen=True)
class Agenda:
    agent: User
    day: date
    now: datetime
    cases: list[CancellationCase]

    @property
    def overdue(self) -> int:
        return sum(1 for c in self.cases if c.callback_at and c.callback_at < self.now)


AGENDA_LIMIT = 200


def callbacks_today(*, agent: User, now: datetime | None = None) -> Agenda:
    """The agent's open cases with a callback due by the end of today in the agent's time zone:
    the overdue ones (earlier days too) first, then by time."""
    now = now or timezone.now()
    zone = _zone(agent)
    day = now.astimezone(zone).date()
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    cases = list(
        cases_open()
        .filter(owner=agent, callback_at__isnull=False, callback_at__lt=end)
        .select_related("subscriber", "reason")
        .order_by("callback_at", "id")[:AGENDA_LIMIT]
    )
    for case in cases:
        case.callback_overdue = case.callback_at < now  # type: ignore[attr-defined,operator]
    return Agenda(agent=agent, day=day, now=now, cases=cases)


def _zone(user: User) -> Any:
    try:
        return zoneinfo.ZoneInfo(user.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()
