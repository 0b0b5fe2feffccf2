"""Pages of the save workflow: the approvals inbox, delegation, proactive offers, and the
steps of an offer (present, answer, withdraw) wherever it is shown."""

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from offers import delegation as offer_delegation
from offers.forms import (
    AmendForm,
    DecisionForm,
    DelegationForm,
    PausePriceForm,
    ProposeForm,
    RejectForm,
)
from offers.models import ApprovalDelegation
from offers.selectors import delegations_active
from retention.cases.selectors import cases_open
from retention.core.forms import form_errors
from retention.core.http import DeskRequest
from retention.core.refusals import Refusal
from retention.core.roles import STAFF_ROLES, WORKER_ROLES, Role, has_role, role_required
from retention.models import User
from retention.saves import services as saves
from retention.saves.selectors import (
    approvals_inbox,
    offer_get_for_user,
    offer_panel,
    pause_priced,
)
from retention.saves.services import Decision
from subscribers.models import Subscriber
from subscribers.selectors import subscriber_get, subscriber_summary

# --- The approvals inbox ------------------------------------------------------------------------


@require_GET
@role_required(Role.MANAGER)
def approvals(request: DeskRequest[User]) -> HttpResponse:
    """Pending offers this manager may decide; the list refreshes itself every few seconds."""
    return _inbox(request)


def _inbox(
    request: DeskRequest[User], *, error: str = "", done: str = "", status: int = 200
) -> HttpResponse:
    inbox = approvals_inbox(user=request.user)
    context = {
        "inbox": inbox,
        "inbox_error": error,
        "inbox_done": done,
        "delegations": delegations_active(delegate=request.user),
    }
    template = "retention/approvals.html#items" if request.htmx else "retention/approvals.html"
    return render(request, template, context, status=status)


DECISION_FORMS = {Decision.APPROVE: DecisionForm, Decision.REJECT: RejectForm}


@require_GET
@role_required(Role.MANAGER)
def offer_amend_form(request: DeskRequest[User], pk: int) -> HttpResponse:
    """The amend form of one offer, loaded when the manager opens it: the inbox would be slow
    to render a form for every card on every refresh."""
    offer = offer_get_for_user(user=request.user, pk=pk)
    context = {"offer": offer, "amend": AmendForm(offer=offer)}
    template = "retention/approvals.html#amend" if request.htmx else "retention/offer_amend.html"
    return render(request, template, context)


@require_POST
@role_required(Role.MANAGER)
def offer_decide(request: DeskRequest[User], pk: int, decision: Decision) -> HttpResponse:
    """Approve, reject or amend; answers with the refreshed inbox and what happened. When
    someone else decided first, the refusal says who: no error page."""
    offer = offer_get_for_user(user=request.user, pk=pk)
    if decision == Decision.AMEND:
        form: forms.Form = AmendForm(request.POST, offer=offer)
    else:
        form = DECISION_FORMS[decision](request.POST)
    error, done, status = "", "", 200
    if not form.is_valid():
        error, status = form_errors(form), 400
    else:
        try:
            offer = saves.offer_decide(
                offer=offer,
                actor=request.user,
                decision=decision,
                note=form.cleaned_data["note"],
                terms=form.terms() if isinstance(form, AmendForm) else None,
            )
        except Refusal as exc:
            error, status = str(exc), exc.status
        else:
            done = _("Offer #%(id)s for %(name)s: %(status)s.") % {
                "id": offer.pk,
                "name": offer.subscriber.name,
                "status": offer.get_status_display().lower(),
            }
    if request.htmx:
        return _inbox(request, error=error, done=done, status=status)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect("approvals")


@require_http_methods(["GET", "POST"])
@role_required(Role.MANAGER)
def delegation(request: DeskRequest[User]) -> HttpResponse:
    """Hand my approvals inbox to another manager while I am away."""
    form = DelegationForm(request.POST or None, delegator=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            offer_delegation.delegation_create(
                delegator=request.user,
                delegate=data["delegate"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                note=data["note"],
            )
        except Refusal as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("%(name)s decides your approvals until %(until)s.")
                % {
                    "name": data["delegate"].get_full_name() or data["delegate"].username,
                    "until": timezone.localtime(data["ends_at"]).strftime("%Y-%m-%d %H:%M"),
                },
            )
            return redirect("delegation")
    given = delegations_active(delegator=request.user)
    return render(
        request,
        "retention/delegation.html",
        {"form": form, "given": given},
        status=400 if form.errors else 200,
    )


@require_POST
@role_required(Role.MANAGER, Role.ADMIN)
def delegation_end(request: DeskRequest[User], pk: int) -> HttpResponse:
    found = get_object_or_404(ApprovalDelegation, pk=pk)
    try:
        offer_delegation.delegation_end(delegation=found, actor=request.user)
    except Refusal as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The delegation has ended."))
    return redirect("delegation")


# --- Proactive offers ---------------------------------------------------------------------------


def _subscriber_offers(request: DeskRequest[User], subscriber_pk: int, **extra: object) -> dict:
    subscriber = subscriber_get(pk=subscriber_pk)
    open_case = cases_open().filter(subscriber=subscriber).first()
    can_propose = (
        open_case is None
        and subscriber.status in (Subscriber.Status.ACTIVE, Subscriber.Status.SUSPENDED)
        and has_role(request.user, *WORKER_ROLES)
    )
    summary = subscriber_summary(subscriber=subscriber, now=timezone.now())
    return {
        **summary,
        "open_case": open_case,
        "offers": offer_panel(
            user=request.user,
            subscriber=subscriber,
            case=None,
            can_propose=can_propose,
            fit=summary["fit"],
        ),
        **extra,
    }


@require_GET
@role_required(*STAFF_ROLES)
def subscriber_offers(request: DeskRequest[User], subscriber_pk: int) -> HttpResponse:
    """Proactive offers: better terms before the subscriber asks to leave."""
    context = _subscriber_offers(request, subscriber_pk)
    return render(request, "retention/subscriber_offers.html", context)


PAUSE_FIGURES = "retention/subscriber_offers.html#pause-figures"


@require_GET
@role_required(*WORKER_ROLES)
def subscriber_pause_price(request: DeskRequest[User], subscriber_pk: int) -> HttpResponse:
    """The builder's pause line re-priced on the months and fee being typed (its cost, the new
    monthly price, whether it is within the agent's authority), before anything is proposed.
    Changes nothing; terms the service would refuse answer 400 with the reason, in place of
    the cost."""
    subscriber = subscriber_get(pk=subscriber_pk)
    form = PausePriceForm(request.GET)
    context: dict[str, object] = {"subscriber": subscriber, "form": form}
    if not form.is_valid():
        context["error"] = form_errors(form)
        return render(request, PAUSE_FIGURES, context, status=400)
    try:
        context["choice"] = pause_priced(
            user=request.user,
            subscriber=subscriber,
            template=form.cleaned_data["template"],
            months=form.cleaned_data["months"],
            amount=form.cleaned_data["amount"],
        )
    except Refusal as exc:
        context["error"] = str(exc)
        return render(request, PAUSE_FIGURES, context, status=exc.status)
    return render(request, PAUSE_FIGURES, context)


@require_POST
@role_required(*WORKER_ROLES)
def subscriber_offer_propose(request: DeskRequest[User], subscriber_pk: int) -> HttpResponse:
    subscriber = subscriber_get(pk=subscriber_pk)
    form = ProposeForm(request.POST)
    error, status = "", 200
    if not form.is_valid():
        error, status = form_errors(form), 400
    else:
        try:
            saves.offer_propose_proactive(
                subscriber=subscriber,
                template=form.cleaned_data["template"],
                actor=request.user,
                note=form.cleaned_data["note"],
                **form.pause_terms(),
            )
        except Refusal as exc:
            error, status = str(exc), exc.status
    return subscriber_offers_answer(request, subscriber_pk, error, status)


def subscriber_offers_answer(
    request: DeskRequest[User], subscriber_pk: int, error: str, status: int
) -> HttpResponse:
    """The subscriber's offers after a step: the fragment (htmx) or the page again."""
    if request.htmx:
        context = _subscriber_offers(request, subscriber_pk, action_error=error)
        return render(request, "retention/subscriber_offers.html#offers", context, status=status)
    if error:
        messages.error(request, error)
    return redirect("subscriber_offers", subscriber_pk=subscriber_pk)
