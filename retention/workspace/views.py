"""The case page: a case's work, its offers and the subscriber side by side.

The room above cases and saves, where the two meet: every form on the page (contact, callback,
reason, note, withdraw, cancel, propose, and the steps of an offer made on the case) answers
with the page's work fragment (htmx) or the page. The steps of a proactive offer answer with the
subscriber's offers page, which the saves room writes.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from offers.forms import AnswerForm, OfferStepForm, OfferWithdrawForm, ProposeForm
from retention.cases import services as cases
from retention.cases.contacts import case_contact_rules, contact_log, port_out_contact_used
from retention.cases.forms import (
    CallbackForm,
    CancelForm,
    ContactForm,
    NoteForm,
    ReasonForm,
    WithdrawForm,
)
from retention.cases.selectors import case_get_for_user
from retention.core.forms import form_errors
from retention.core.http import DeskRequest
from retention.core.refusals import Refusal
from retention.core.roles import STAFF_ROLES, WORKER_ROLES, role_required
from retention.hardship.selectors import arrangement_standing
from retention.macros.forms import MessageForm
from retention.macros.rendering import case_live_offer, macro_render
from retention.macros.selectors import macros_for_case
from retention.macros.services import case_message_send
from retention.models import CancellationCase, User
from retention.saves import services as saves
from retention.saves.selectors import offer_get_for_user, offer_panel
from retention.saves.views import subscriber_offers_answer
from retention.workspace.selectors import case_conversation
from subscribers.models import Equipment, Subscriber
from subscribers.selectors import subscriber_incidents, subscriber_summary, timeline_page


def case_workspace(
    request: DeskRequest[User], case: CancellationCase, **extra: object
) -> dict[str, object]:
    """The case page's context; ``case`` as ``case_get_for_user`` answers it, flagged."""
    subscriber = case.subscriber
    can_act: bool = case.may_act  # type: ignore[attr-defined]
    now = timezone.now()
    summary = subscriber_summary(subscriber=subscriber, now=now)
    port_out_used = port_out_contact_used(case=case)
    compose = (
        case_compose_context(request, case, extra.pop("message_form", None))  # type: ignore[arg-type]
        if case.is_open and can_act
        else {}
    )
    return {
        **summary,
        **compose,
        # Both contact panels of the case page show the rules as they hold for this case.
        "windows": case_contact_rules(decisions=summary["windows"], port_out_used=port_out_used),
        "case": case,
        "can_act": can_act,
        "port_out_used": port_out_used,
        "conversation": case_conversation(
            case=case, show_all=request.method == "GET" and request.GET.get("stream") == "all"
        ),
        "incidents": subscriber_incidents(subscriber=subscriber, now=now),
        "arrangement": arrangement_standing(subscriber_id=subscriber.pk),
        # What processing the cancellation will do, for its confirmation.
        "on_loan": [e for e in summary["equipment"] if e.status == Equipment.Status.ON_LOAN],
        "return_days": settings.EQUIPMENT_RETURN_DAYS,
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
            fit=summary["fit"],
        ),
        "propose_form": extra.pop("propose_form", None),
        **extra,
    }


def case_compose_context(
    request: DeskRequest[User], case: CancellationCase, form: MessageForm | None
) -> dict[str, object]:
    """The "Write to the subscriber" card: the macros (the case's reason's first), the one
    chosen (``?macro=``, or the bound form's) and its text in the subscriber's language."""
    macros = macros_for_case(case=case)
    wanted = None
    if form is not None and form.is_bound:
        wanted = form.data.get("template")
    elif request.method == "GET":
        wanted = request.GET.get("macro")
    macro = next((m for m in macros if str(m.pk) == str(wanted)), macros[0] if macros else None)
    if macro is None:
        return {"macros": macros, "macro": None, "message_form": form}
    subscriber = case.subscriber
    preview = macro_render(
        template=macro, subscriber=subscriber, agent=request.user, offer=case_live_offer(case=case)
    )
    if form is None:
        form = MessageForm(
            case=case,
            initial={"template": macro.pk, "subject": preview.subject, "body": preview.body},
        )
    return {
        "macros": macros,
        "macro": macro,
        "preview": preview,
        "preview_language_name": _language_name(preview.language),
        "wanted_language_name": _language_name(preview.wanted),
        "message_form": form,
    }


def _language_name(code: str) -> str:
    return str(dict(Subscriber.Language.choices).get(code, code))


@require_GET
@role_required(*WORKER_ROLES)
def case_compose(request: DeskRequest[User], pk: int) -> HttpResponse:
    """The "Write to the subscriber" card for the macro chosen (htmx, when the choice changes)."""
    case = case_get_for_user(user=request.user, pk=pk)
    if not (case.is_open and case.may_act):  # type: ignore[attr-defined]
        return redirect("case", pk=pk)
    context = {"case": case, "subscriber": case.subscriber, "can_act": True}
    context |= case_compose_context(request, case, None)
    return render(request, "retention/case.html#compose", context)


@require_GET
@role_required(*STAFF_ROLES)
def case_detail(request: DeskRequest[User], pk: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, pk=pk)
    return render(request, "retention/case.html", case_workspace(request, case))


@dataclass(frozen=True)
class CaseAction:
    """A routine action on a case: its form, the service it calls, the form's context key."""

    form: Callable[[QueryDict, CancellationCase], forms.Form]
    run: Callable[[CancellationCase, User, dict[str, Any]], Any]
    form_key: str
    # What the agent should know after it worked (a macro sent whose callback was not set).
    notice: Callable[[Any], str] = lambda result: ""


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
            case=case,
            template=d["template"],
            actor=actor,
            note=d["note"],
            months=d["months"],
            amount=d["amount"],
        ),
        "propose_form",
    ),
    "message": CaseAction(
        lambda data, case: MessageForm(data, case=case),
        lambda case, actor, d: case_message_send(case=case, actor=actor, **d),
        "message_form",
        lambda sent: (
            _("Sent, but its callback was not set: %(reason)s") % {"reason": sent.callback_problem}
            if sent.callback_problem
            else ""
        ),
    ),
    "cancel": CaseAction(
        lambda data, case: CancelForm(data, case=case),
        lambda case, actor, d: cases.case_cancel(case=case, actor=actor, **d),
        "cancel_form",
    ),
}


@require_POST
@role_required(*WORKER_ROLES)
def case_action(request: DeskRequest[User], pk: int, action: str) -> HttpResponse:
    """Validate, call the service, and answer with the work fragment (htmx) or the page.

    A refusal (not yours, closed already, outside the contact policy) comes back as the
    fragment with the reason, with 403 or 409; a bad form as the fragment with its errors, 400.
    """
    spec = CASE_ACTIONS[action]
    case = case_get_for_user(user=request.user, pk=pk)
    form: forms.Form | None = spec.form(request.POST, case)
    error, notice, status = "", "", 200
    # A cancellation cannot be undone: it is processed only once the agent has read what will
    # happen and confirmed (the dialog, or the confirmation page without JavaScript).
    confirmed = request.POST.get("confirmed") == "on"
    # One who may not process it is refused by the service as before, without a confirmation.
    may_cancel = case.is_open and case.may_act  # type: ignore[attr-defined]
    if action == "cancel" and may_cancel and not confirmed and form is not None and form.is_valid():
        return cancel_confirmation(request, case, form)
    if form is not None and form.is_valid():
        try:
            result = spec.run(case, request.user, form.cleaned_data)
        except Refusal as exc:
            error, status = str(exc), exc.status
        else:
            form, notice = None, spec.notice(result)
        case = case_get_for_user(user=request.user, pk=pk)
    else:
        status = 400
    extra = {spec.form_key: form} if form is not None else {}
    context = case_workspace(request, case, action_error=error, action_notice=notice, **extra)
    if request.htmx:
        return render(request, "retention/case.html#work", context, status=status)
    if status == 200:
        if notice:
            messages.warning(request, notice)
        return redirect("case", pk=pk)
    if error:
        messages.error(request, error)
    return render(request, "retention/case.html", context, status=status)


def cancel_confirmation(
    request: DeskRequest[User], case: CancellationCase, form: forms.Form
) -> HttpResponse:
    """What processing the cancellation will do, to confirm (the page without JavaScript;
    with it, the dialog on the case page says the same). Nothing changes here."""
    context = case_workspace(request, case)
    context["effective_date"] = form.cleaned_data["effective_date"]
    context["note"] = form.cleaned_data["note"]
    return render(request, "retention/case_cancel_confirm.html", context)


# --- The steps of an offer ----------------------------------------------------------------------

STEP_FORMS: dict[str, type[OfferStepForm]] = {
    "present": OfferStepForm,
    "answer": AnswerForm,
    "withdraw": OfferWithdrawForm,
}


@require_POST
@role_required(*WORKER_ROLES)
def offer_step(request: DeskRequest[User], pk: int, step: str) -> HttpResponse:
    """Present an approved offer, record the subscriber's answer, or withdraw it; answers with
    the fragment the offer is shown in (the case's work area, or the subscriber's offers)."""
    offer = offer_get_for_user(user=request.user, pk=pk)
    form = STEP_FORMS[step](request.POST)
    error, status = "", 200
    if not form.is_valid() or form.cleaned_data["offer"].pk != offer.pk:
        error, status = form_errors(form) or _("That offer is no longer under way."), 400
    else:
        note = form.cleaned_data["note"]
        try:
            if step == "present":
                saves.offer_present(offer=offer, actor=request.user, note=note)
            elif step == "answer":
                accepted = form.cleaned_data["answer"] == "accept"
                saves.offer_answer(offer=offer, actor=request.user, accepted=accepted, note=note)
            else:
                saves.offer_withdraw(offer=offer, actor=request.user, note=note)
        except Refusal as exc:
            error, status = str(exc), exc.status
    if not offer.case_id:
        return subscriber_offers_answer(request, offer.subscriber_id, error, status)
    case = case_get_for_user(user=request.user, pk=offer.case_id)
    if request.htmx:
        context = case_workspace(request, case, action_error=error)
        return render(request, "retention/case.html#work", context, status=status)
    if error:
        messages.error(request, error)
    return redirect("case", pk=case.pk)
