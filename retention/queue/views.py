"""The queue as a team uses it: filtered, sorted by a column, through saved views with their
counts; bulk actions on ticked cases; and the day's callbacks as an agenda."""

from datetime import timedelta

from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from retention.cases.filters import QueueFilter
from retention.cases.forms import ReassignForm
from retention.cases.selectors import case_workers, cases_open, queue_counts, queue_page
from retention.core.forms import filter_fields, form_errors
from retention.core.http import DeskRequest
from retention.core.refusals import InvalidInput, Refusal
from retention.core.roles import STAFF_ROLES, WORKER_ROLES, Role, has_role, role_required
from retention.models import User
from retention.queue import services
from retention.queue.forms import BulkForm, RenameForm, SavedViewForm
from retention.queue.selectors import (
    QueueView,
    Sort,
    agenda_agent_get,
    agenda_agents,
    callbacks_today,
    queue_page_sorted,
    queue_view_counts,
    queue_view_get,
    queue_views,
    saved_view_get_for_user,
    saved_view_may_manage,
    sort_parse,
)

# The columns whose headings sort the queue (each has its index), in the table's order.
SORTABLE = ("priority", "first_contact_due", "process_by")


@require_GET
@role_required(*STAFF_ROLES)
def queue(request: DeskRequest[User]) -> HttpResponse:
    user = request.user
    views = queue_views(user=user)
    key = request.GET.get("view", "")
    active = queue_view_get(user=user, key=key, views=views) if key else None
    # A view's own filters, unless the request brings filters of its own: the filter form
    # sends every field (and the view's id), so a view narrowed further stays the active one
    # and can be updated to what is on screen.
    own = any(name in request.GET for name in QueueFilter.base_filters)
    data = active.data() if active and not own else request.GET
    workers = list(case_workers())
    filters = QueueFilter(
        data if (active or data) else None, queryset=cases_open(), user=user, workers=workers
    )
    valid = filters.is_bound and filters.is_valid()
    matching = filters.qs if valid else cases_open()
    view_problem = ""
    if active and not own and not valid:
        view_problem = _(
            "The view “%(name)s” asks for filters the queue no longer has (%(errors)s): all "
            "open cases are shown. Update or delete the view."
        ) % {"name": active.name, "errors": form_errors(filters.form)}
    sort_param = request.GET.get("sort") or (active.sort if active else "")
    sort = sort_parse(sort_param) if sort_param else None
    sort_problem = ""
    if sort_param and sort is None:
        sort_problem = _("The queue cannot be sorted by “%(sort)s”: it is in its usual order.") % {
            "sort": sort_param[:40]
        }
    after = request.GET.get("after") or None
    if sort:
        page = queue_page_sorted(cases=matching, sort=sort, after=after)
    else:
        page = queue_page(cases=matching, after=after)
    filters_key = data.copy()
    filters_key.pop("after", None)
    filters_key.pop("sort", None)
    counts = queue_counts(cases=matching, key=f"{user.pk}:{user.team_id}:{filters_key.urlencode()}")
    is_manager = has_role(user, Role.MANAGER, Role.ADMIN)
    is_worker = has_role(user, *WORKER_ROLES)
    context = {
        "filters": filters,
        "filter_fields": filter_fields(filters.form),
        "page": page,
        **deadline_marks(),
        "counts": counts,
        "is_manager": is_manager,
        "selectable": is_worker,
        "sort": sort,
        "sort_links": _sort_links(request, sort),
        "sort_problem": sort_problem,
        "view_problem": view_problem,
        # Ids of its own: the filters above it have a "reason" field too.
        "reassign_form": ReassignForm(auto_id="reassign-%s", use_required_attribute=False)
        if is_manager
        else None,
        "bulk_form": BulkForm() if is_worker else None,
        "next_query": _with_cursor(request, page.next_cursor),
        **_views_context(user, views, active, workers),
    }
    if is_worker:
        state = _state_query(data, sort)
        context["save_form"] = SavedViewForm(
            initial={"query": state}, may_share=is_manager and bool(user.team_id)
        )
        if active and active.saved and saved_view_may_manage(user=user, view=active.saved):
            context["manage_view"] = active.saved
            context["rename_form"] = RenameForm(initial={"name": active.saved.name})
            context["state_query"] = state
    template = "retention/queue.html#results" if request.htmx else "retention/queue.html"
    return render(request, template, context)


def deadline_marks() -> dict[str, object]:
    """What the case rows need, worked out once per page rather than once per row: what
    makes a row stand out (a late first contact, a process-by date by tomorrow), the case
    URLs' common prefix and the repeated labels."""
    now = timezone.now()
    return {
        "now": now,
        "tomorrow": timezone.localdate(now) + timedelta(days=1),
        "case_prefix": reverse("case", args=[0]).removesuffix("0/"),
        "claim_label": _("Claim"),
        "select_label": _("Select case"),
    }


def _views_context(
    user: User, views: list[QueueView], active: QueueView | None, workers: list[User] | None = None
) -> dict:
    counts = queue_view_counts(user=user, views=views, workers=workers)
    return {
        "views": [(v, counts.get(v.key)) for v in views],
        "active_key": active.key if active else "",
    }


@require_GET
@role_required(*STAFF_ROLES)
def queue_views_list(request: DeskRequest[User]) -> HttpResponse:
    """The side list alone, as its poll refreshes it."""
    views = queue_views(user=request.user)
    key = request.GET.get("view", "")
    active = queue_view_get(user=request.user, key=key, views=views) if key else None
    return render(
        request, "retention/queue.html#views", _views_context(request.user, views, active)
    )


def _state_query(data: QueryDict, sort: Sort | None) -> str:
    state = QueryDict(mutable=True)
    for name, value in data.items():
        if name not in ("after", "view", "sort") and value:
            state[name] = str(value)
    if sort:
        state["sort"] = sort.param
    return state.urlencode()


def _sort_links(request: DeskRequest[User], sort: Sort | None) -> dict[str, dict[str, str]]:
    """Each sortable heading's link (ascending first, the other way when it is the sort) and
    its aria-sort."""
    links = {}
    for column in SORTABLE:
        query = request.GET.copy()
        query.pop("after", None)
        current = sort is not None and sort.column == column
        descending = current and sort is not None and not sort.descending
        query["sort"] = f"-{column}" if descending else column
        aria = ""
        if current and sort is not None:
            aria = "descending" if sort.descending else "ascending"
        links[column] = {"href": f"?{query.urlencode()}", "aria": aria}
    return links


def _with_cursor(request: DeskRequest[User], cursor: str | None) -> str:
    if not cursor:
        return ""
    query = request.GET.copy()
    query["after"] = cursor
    return query.urlencode()


def _back(request: DeskRequest[User], default: str = "queue") -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse(default)


# --- Saved views ------------------------------------------------------------------------------


@require_POST
@role_required(*WORKER_ROLES)
def saved_view_create(request: DeskRequest[User]) -> HttpResponse:
    user = request.user
    form = SavedViewForm(
        request.POST, may_share=has_role(user, Role.MANAGER) and bool(user.team_id)
    )
    if not form.is_valid():
        messages.error(
            request, _("The view was not saved: %(errors)s") % {"errors": form_errors(form)}
        )
        return redirect(_back(request))
    try:
        view = services.saved_view_create(
            actor=user,
            name=form.cleaned_data["name"],
            query=QueryDict(form.cleaned_data["query"]),
            team=form.cleaned_data.get("team", False),
        )
    except Refusal as exc:
        messages.error(request, str(exc))
        return redirect(_back(request))
    messages.success(request, _("The view “%(name)s” is saved.") % {"name": view.name})
    return redirect(f"{reverse('queue')}?view={view.pk}")


@require_POST
@role_required(*WORKER_ROLES)
def saved_view_rename(request: DeskRequest[User], pk: int) -> HttpResponse:
    view = saved_view_get_for_user(user=request.user, pk=pk)
    form = RenameForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidInput(form_errors(form))
        services.saved_view_rename(view=view, actor=request.user, name=form.cleaned_data["name"])
    except Refusal as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The view is renamed."))
    return redirect(f"{reverse('queue')}?view={view.pk}")


@require_POST
@role_required(*WORKER_ROLES)
def saved_view_update(request: DeskRequest[User], pk: int) -> HttpResponse:
    view = saved_view_get_for_user(user=request.user, pk=pk)
    try:
        services.saved_view_update(
            view=view, actor=request.user, query=QueryDict(request.POST.get("query", "")[:2000])
        )
    except Refusal as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("The view “%(name)s” now keeps these filters.") % {"name": view.name}
        )
    return redirect(f"{reverse('queue')}?view={view.pk}")


@require_POST
@role_required(*WORKER_ROLES)
def saved_view_delete(request: DeskRequest[User], pk: int) -> HttpResponse:
    view = saved_view_get_for_user(user=request.user, pk=pk)
    try:
        services.saved_view_delete(view=view, actor=request.user)
    except Refusal as exc:
        messages.error(request, str(exc))
        return redirect(f"{reverse('queue')}?view={view.pk}")
    messages.success(request, _("The view “%(name)s” is deleted.") % {"name": view.name})
    return redirect("queue")


# --- Bulk actions -----------------------------------------------------------------------------

REFUSALS_SHOWN = 10


@require_POST
@role_required(*WORKER_ROLES)
def queue_bulk(request: DeskRequest[User]) -> HttpResponse:
    form = BulkForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Nothing was done: %(errors)s") % {"errors": form_errors(form)})
        return redirect(_back(request))
    data = form.cleaned_data
    ids, action = data["select"], data["action"]
    try:
        if action == "release":
            outcome = services.cases_release(case_ids=ids, actor=request.user)
        elif action == "note":
            outcome = services.cases_add_note(case_ids=ids, actor=request.user, text=data["text"])
        else:
            outcome = services.cases_set_callback(
                case_ids=ids, actor=request.user, at=data["callback_at"]
            )
    except Refusal as exc:
        messages.error(request, str(exc))
        return redirect(_back(request))
    _report(request, action, outcome)
    return redirect(_back(request))


def _report(request: DeskRequest[User], action: str, outcome: services.BulkOutcome) -> None:
    n = len(outcome.done)
    if n:
        if action == "release":
            text = ngettext(
                "%(n)s case is back in the queue.", "%(n)s cases are back in the queue.", n
            )
        elif action == "note":
            text = ngettext("Note added to %(n)s case.", "Note added to %(n)s cases.", n)
        else:
            text = ngettext("Callback set on %(n)s case.", "Callback set on %(n)s cases.", n)
        messages.success(request, text % {"n": n})
    refused = outcome.refused
    if refused:
        messages.error(
            request,
            ngettext(
                "%(n)s case was left as it was:",
                "%(n)s cases were left as they were:",
                len(refused),
            )
            % {"n": len(refused)},
        )
    for item in refused[:REFUSALS_SHOWN]:
        messages.error(
            request,
            _("#%(id)s %(name)s: %(reason)s")
            % {"id": item.case_id, "name": item.label, "reason": item.message},
        )
    if len(refused) > REFUSALS_SHOWN:
        messages.error(request, _("…and %(n)s more.") % {"n": len(refused) - REFUSALS_SHOWN})


# --- Callbacks --------------------------------------------------------------------------------


@require_GET
@role_required(*WORKER_ROLES)
def callbacks(request: DeskRequest[User]) -> HttpResponse:
    agents = agenda_agents(user=request.user)
    agent = agenda_agent_get(user=request.user, agents=agents, pk=request.GET.get("agent"))
    agenda = callbacks_today(agent=agent)
    context = {
        "agenda": agenda,
        "agents": agents if len(agents) > 1 else [],
        "case_prefix": reverse("case", args=[0]).removesuffix("0/"),
    }
    return render(request, "retention/callbacks.html", context)
