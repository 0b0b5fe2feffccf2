from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from offers.exceptions import InvalidTerms, OutsideAuthority
from offers.forms import ProposeForm
from retention import cases, saves, selectors, services
from retention.contacts import case_contact_rules, contact_log, port_out_contact_used
from retention.exceptions import ContactRefused, InvalidTransition, NotAllowed
from retention.filters import QueueFilter
from retention.forms import (
    CallbackForm,
    CancelForm,
    CaseOpenForm,
    ContactForm,
    NoteForm,
    PreferencesForm,
    ReasonForm,
    ReassignForm,
    WithdrawForm,
)
from retention.http import DeskRequest
from retention.models import CancellationCase, User
from retention.roles import STAFF_ROLES, WORKER_ROLES, Role, has_role, role_required
from retention.selectors import health_get
from subscribers.selectors import (
    subscriber_get,
    subscriber_summary,
    timeline_page,
)

# What a service may refuse with, for the views that call them: not yours or beyond your
# authority (403), or not possible now (409). The message says why.
REFUSALS = (NotAllowed, OutsideAuthority, ContactRefused, InvalidTransition, InvalidTerms)


def refusal_status(exc: Exception) -> int:
    return 403 if isinstance(exc, (NotAllowed, OutsideAuthority)) else 409


def form_errors(form: forms.Form) -> str:
    return "; ".join(str(e) for errors in form.errors.values() for e in errors)


@require_GET
@role_required(*STAFF_ROLES)
def home(request: DeskRequest) -> HttpResponse:
    if has_role(request.user, Role.AGENT, Role.MANAGER):
        return redirect("queue")
    return redirect("subscribers:search")


@require_GET
@never_cache
def health(request: DeskRequest) -> HttpResponse:
    """Open to load balancers and to people: database reachable, worker and beat alive."""
    health = health_get()
    status = 200 if health.ok else 503
    if request.GET.get("format") == "json":
        return JsonResponse(
            {
                "ok": health.ok,
                "database": health.database_ok,
                "worker": health.worker_ok,
                "last_beat_at": health.last_beat_at.isoformat() if health.last_beat_at else None,
                "beats": health.beats,
            },
            status=status,
        )
    template = "retention/health.html#facts" if request.htmx else "retention/health.html"
    return render(request, template, {"health": health}, status=status)


@require_http_methods(["GET", "POST"])
def preferences(request: DeskRequest) -> HttpResponse:
    form = PreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_update_preferences(
            user=request.user,
            actor=request.user,
            time_zone=form.cleaned_data["time_zone"],
            email_notifications=form.cleaned_data["email_notifications"],
            language=form.cleaned_data["language"],
        )
        messages.success(request, _("Your preferences are saved."))
        response = redirect("preferences")
        if form.cleaned_data["language"]:
            # The pages follow the language chosen for the e-mails, as the switcher sets it.
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, form.cleaned_data["language"])
        return response
    return render(request, "retention/preferences.html", {"form": form})


def filter_fields(form: forms.Form, names: tuple[str, ...] = ()) -> list[tuple[Any, list]]:
    """Each field with its choices read once. Iterated, not list()-ed: list() would ask a model
    choice iterator for its length first, which costs a COUNT query per field."""
    return [
        (form[name], [choice for choice in getattr(field, "choices", ())])
        for name, field in form.fields.items()
        if not names or name in names
    ]


# --- The queue --------------------------------------------------------------------------------


@require_GET
@role_required(*STAFF_ROLES)
def queue(request: DeskRequest) -> HttpResponse:
    filters = QueueFilter(request.GET or None, queryset=selectors.cases_open(), user=request.user)
    matching = filters.qs if filters.is_bound and filters.is_valid() else selectors.cases_open()
    page = selectors.queue_page(cases=matching, after=request.GET.get("after") or None)
    # The counts depend on the filters (and on who "me" and "my team" are), not on the page.
    filters_key = request.GET.copy()
    filters_key.pop("after", None)
    counts = selectors.queue_counts(
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
        "notifications": selectors.notifications_unread(user=request.user),
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
    case = selectors.case_get(pk=pk)
    try:
        cases.case_claim(case=case, actor=request.user)
    except (NotAllowed, InvalidTransition) as exc:
        messages.error(request, str(exc))
        return redirect("queue")
    return redirect("case", pk=pk)


@require_POST
@role_required(*WORKER_ROLES)
def case_release(request: DeskRequest, pk: int) -> HttpResponse:
    case = selectors.case_get(pk=pk)
    try:
        cases.case_release(case=case, actor=request.user)
    except (NotAllowed, InvalidTransition) as exc:
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
    except (NotAllowed, InvalidTransition) as exc:
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


# --- Intake from the subscriber page ------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(*WORKER_ROLES)
def case_open(request: DeskRequest, subscriber_pk: int) -> HttpResponse:
    subscriber = subscriber_get(pk=subscriber_pk)
    form = CaseOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = cases.case_open(
                subscriber=subscriber,
                intake=cases.Intake(
                    channel=data["channel"],
                    reason=data["reason"],
                    reason_detail=data["reason_detail"],
                    competitor=data["competitor"],
                    requested_end_date=data["requested_end_date"],
                ),
                actor=request.user,
            )
        except cases.CaseAlreadyOpen as exc:
            messages.info(request, str(exc))
            return redirect("case", pk=exc.case.pk)
        except InvalidTransition as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("case", pk=case.pk)
    return render(request, "retention/case_open.html", {"form": form, "subscriber": subscriber})


# --- The case workspace -------------------------------------------------------------------------


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
        "history": selectors.case_history(case=case),
        "contacts": selectors.case_contacts(case=case),
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
        "offers": selectors.offer_panel(
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
    case = selectors.case_get(pk=pk)
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
    case = selectors.case_get(pk=pk)
    form: forms.Form | None = spec.form(request.POST, case)
    error, status = "", 200
    if form is not None and form.is_valid():
        try:
            spec.run(case, request.user, form.cleaned_data)
        except REFUSALS as exc:
            error, status = str(exc), refusal_status(exc)
        else:
            form = None
        case = selectors.case_get(pk=pk)
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
