from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from offers.forms import ProposeForm
from retention.cases import opening
from retention.cases import services as cases
from retention.cases.contacts import case_contact_rules, contact_log, port_out_contact_used
from retention.cases.filters import QueueFilter
from retention.cases.forms import (
    CallbackForm,
    CancelForm,
    CaseOpenForm,
    ContactForm,
    NoteForm,
    ReasonForm,
    ReassignForm,
    WithdrawForm,
)
from retention.cases.opening import CaseAlreadyOpen, Intake
from retention.cases.selectors import (
    case_contacts,
    case_get,
    case_history,
    cases_open,
    queue_counts,
    queue_page,
)
from retention.core.forms import filter_fields, form_errors
from retention.core.http import DeskRequest
from retention.core.refusals import NotAllowed, Refusal, WrongState
from retention.core.roles import STAFF_ROLES, WORKER_ROLES, Role, has_role, role_required
from retention.models import CancellationCase, User
from retention.notifications.selectors import notifications_unread
from retention.saves import services as saves
from retention.saves.selectors import offer_panel
from subscribers.selectors import (
    subscriber_get,
    subscriber_summary,
    timeline_page,
)


@require_GET
@role_required(*STAFF_ROLES)
def queue(request: DeskRequest) -> HttpResponse:
    filters = QueueFilter(request.GET or None, queryset=cases_open(), user=request.user)
    matching = filters.qs if filters.is_bound and filters.is_valid() else cases_open()
    page = queue_page(cases=matching, after=request.GET.get("after") or None)
    # The counts depend on the filters (and on who "me" and "my team" are), not on the page.
    filters_key = request.GET.copy()
    filters_key.pop("after", None)
    counts = queue_counts(
        cases=matching, key=f"{request.user.pk}:{request.user.team_id}:{filters_key.urlencode()}"
    )
    is_manager = has_role(request.user, Role.MANAGER, Role.ADMIN)
    context = {
        "filters": filters,
        "filter_fields": filter_fields(filters.form),
        "page": page,
        **_deadline_marks(),
        "counts": counts,
        "is_manager": is_manager,
        # Ids of its own: the filters above it have a "reason" field too.
        "reassign_form": ReassignForm(auto_id="reassign-%s") if is_manager else None,
        "next_query": _with_cursor(request, page.next_cursor),
    }
    template = "retention/queue.html#results" if request.htmx else "retention/queue.html"
    return render(request, template, context)


def _with_cursor(request: DeskRequest, cursor: str | None) -> str:
    if not cursor:
        return ""
    query = request.GET.copy()
    query["after"] = cursor
    return query.urlencode()


@require_GET
@role_required(*WORKER_ROLES)
def my_cases(request: DeskRequest) -> HttpResponse:
    mine = (
        CancellationCase.objects.filter(
            owner=request.user, status__in=CancellationCase.OPEN_STATUSES
        )
        .select_related("subscriber", "subscriber__plan", "reason", "owner")
        .order_by("process_by", "-priority", "id")
    )
    context = {
        "cases": list(mine[:200]),
        **_deadline_marks(),
        "notifications": notifications_unread(user=request.user),
    }
    return render(request, "retention/my_cases.html", context)


def _deadline_marks() -> dict[str, object]:
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


@require_POST
@role_required(*WORKER_ROLES)
def claim_next(request: DeskRequest) -> HttpResponse:
    case = cases.case_claim_next(actor=request.user)
    if case is None:
        messages.info(request, _("There is no unclaimed case in the queue."))
        return redirect("queue")
    messages.success(request, _("Case #%(id)s is yours.") % {"id": case.pk})
    return redirect("case", pk=case.pk)


@require_POST
@role_required(*WORKER_ROLES)
def case_claim(request: DeskRequest, pk: int) -> HttpResponse:
    case = case_get(pk=pk)
    try:
        cases.case_claim(case=case, actor=request.user)
    except (NotAllowed, WrongState) as exc:
        messages.error(request, str(exc))
        return redirect("queue")
    return redirect("case", pk=pk)


@require_POST
@role_required(*WORKER_ROLES)
def case_release(request: DeskRequest, pk: int) -> HttpResponse:
    case = case_get(pk=pk)
    try:
        cases.case_release(case=case, actor=request.user)
    except (NotAllowed, WrongState) as exc:
        messages.error(request, str(exc))
        return redirect("case", pk=pk)
    messages.success(request, _("Case #%(id)s is back in the queue.") % {"id": pk})
    return redirect("queue")


@require_POST
@role_required(Role.MANAGER, Role.ADMIN)
def reassign(request: DeskRequest) -> HttpResponse:
    form = ReassignForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            _("Choose cases, a person and a reason: %(errors)s") % {"errors": form_errors(form)},
        )
        return redirect(_safe_next(request, "queue"))
    try:
        moved = cases.cases_reassign(
            case_ids=[c.pk for c in form.cleaned_data["select"]],
            to_user=form.cleaned_data["to_user"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    except (NotAllowed, WrongState) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            ngettext("%(n)s case reassigned.", "%(n)s cases reassigned.", len(moved))
            % {"n": len(moved)},
        )
    return redirect(_safe_next(request, "queue"))


def _safe_next(request: DeskRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse(default)


@require_http_methods(["GET", "POST"])
@role_required(*WORKER_ROLES)
def case_open(request: DeskRequest, subscriber_pk: int) -> HttpResponse:
    subscriber = subscriber_get(pk=subscriber_pk)
    form = CaseOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = opening.case_open(
                subscriber=subscriber,
                intake=Intake(
                    channel=data["channel"],
                    reason=data["reason"],
                    reason_detail=data["reason_detail"],
                    competitor=data["competitor"],
                    requested_end_date=data["requested_end_date"],
                ),
                actor=request.user,
            )
        except CaseAlreadyOpen as exc:
            messages.info(request, str(exc))
            return redirect("case", pk=exc.case.pk)
        except WrongState as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("case", pk=case.pk)
    return render(request, "retention/case_open.html", {"form": form, "subscriber": subscriber})


def case_workspace(
    request: DeskRequest, case: CancellationCase, **extra: object
) -> dict[str, object]:
    subscriber = case.subscriber
    can_act = cases.case_can_act(user=request.user, case=case)
    summary = subscriber_summary(subscriber=subscriber, now=timezone.now())
    port_out_used = port_out_contact_used(case=case)
    return {
        **summary,
        # Both contact panels of the case page show the rules as they hold for this case.
        "windows": case_contact_rules(decisions=summary["windows"], port_out_used=port_out_used),
        "case": case,
        "can_act": can_act,
        "port_out_used": port_out_used,
        "history": case_history(case=case),
        "contacts": case_contacts(case=case),
        "page": timeline_page(subscriber=subscriber),
        "kinds": [],
        "contact_form": extra.pop("contact_form", None) or ContactForm(),
        "callback_form": extra.pop("callback_form", None) or CallbackForm(case=case),
        "reason_form": extra.pop("reason_form", None)
        or ReasonForm(
            initial={
                "reason": case.reason_id,
                "reason_detail": case.reason_detail,
                "competitor": case.competitor,
            }
        ),
        "note_form": extra.pop("note_form", None) or NoteForm(),
        "withdraw_form": extra.pop("withdraw_form", None) or WithdrawForm(),
        "cancel_form": extra.pop("cancel_form", None) or CancelForm(case=case),
        "offers": offer_panel(
            user=request.user,
            subscriber=subscriber,
            case=case,
            can_propose=can_act and case.status == CancellationCase.Status.IN_PROGRESS,
        ),
        "propose_form": extra.pop("propose_form", None),
        **extra,
    }


@require_GET
@role_required(*STAFF_ROLES)
def case_detail(request: DeskRequest, pk: int) -> HttpResponse:
    case = case_get(pk=pk)
    return render(request, "retention/case.html", case_workspace(request, case))


@dataclass(frozen=True)
class CaseAction:
    """A routine action on a case: its form, the service it calls, the form's context key."""

    form: Callable[[QueryDict, CancellationCase], forms.Form]
    run: Callable[[CancellationCase, User, dict[str, Any]], object]
    form_key: str


CASE_ACTIONS = {
    "contact": CaseAction(
        lambda data, case: ContactForm(data),
        lambda case, actor, d: contact_log(case=case, actor=actor, **d),
        "contact_form",
    ),
    "callback": CaseAction(
        lambda data, case: CallbackForm(data, case=case),
        lambda case, actor, d: cases.case_set_callback(case=case, actor=actor, at=d["callback_at"]),
        "callback_form",
    ),
    "reason": CaseAction(
        lambda data, case: ReasonForm(data),
        lambda case, actor, d: cases.case_set_reason(case=case, actor=actor, **d),
        "reason_form",
    ),
    "note": CaseAction(
        lambda data, case: NoteForm(data),
        lambda case, actor, d: cases.case_add_note(case=case, actor=actor, text=d["text"]),
        "note_form",
    ),
    "withdraw": CaseAction(
        lambda data, case: WithdrawForm(data),
        lambda case, actor, d: cases.case_withdraw(case=case, actor=actor, note=d["note"]),
        "withdraw_form",
    ),
    "offer": CaseAction(
        lambda data, case: ProposeForm(data),
        lambda case, actor, d: saves.case_offer_propose(
            case=case, template=d["template"], actor=actor, note=d["note"]
        ),
        "propose_form",
    ),
    "cancel": CaseAction(
        lambda data, case: CancelForm(data, case=case),
        lambda case, actor, d: cases.case_cancel(case=case, actor=actor, **d),
        "cancel_form",
    ),
}


@require_POST
@role_required(*WORKER_ROLES)
def case_action(request: DeskRequest, pk: int, action: str) -> HttpResponse:
    """Validate, call the service, and answer with the work fragment (htmx) or the page.

    A refusal (not yours, closed already, outside the contact policy) comes back as the
    fragment with the reason, with 403 or 409; a bad form as the fragment with its errors, 400.
    """
    spec = CASE_ACTIONS[action]
    case = case_get(pk=pk)
    form: forms.Form | None = spec.form(request.POST, case)
    error, status = "", 200
    if form is not None and form.is_valid():
        try:
            spec.run(case, request.user, form.cleaned_data)
        except Refusal as exc:
            error, status = str(exc), exc.status
        else:
            form = None
        case = case_get(pk=pk)
    else:
        status = 400
    extra = {spec.form_key: form} if form is not None else {}
    context = case_workspace(request, case, action_error=error, **extra)
    if request.htmx:
        return render(request, "retention/case.html#work", context, status=status)
    if status == 200:
        return redirect("case", pk=pk)
    if error:
        messages.error(request, error)
    return render(request, "retention/case.html", context, status=status)
