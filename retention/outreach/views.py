"""The outreach pages: campaigns for managers (a draft with its preview, launching, pausing,
resuming, the progress and the history), and the subscriber's personal link from a message."""

from datetime import date

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from offers.models import CounterOffer
from offers.pricing import Terms, fit_moves_to, offer_cost, terms_describe, terms_for
from retention.core.http import DeskRequest
from retention.core.refusals import Refusal
from retention.core.roles import Role, role_required
from retention.models import OutreachCampaign, OutreachMessage, User
from retention.outreach import selectors, services
from retention.outreach.forms import CampaignForm
from retention.outreach.links import message_from_token
from retention.outreach.notice import notice_fit, notice_switch
from retention.outreach.rendering import campaign_preview
from retention.outreach.replies import outreach_respond
from retention.outreach.tables import CampaignsTable

Campaign = OutreachCampaign


@require_GET
@role_required(Role.MANAGER)
def campaigns(request: DeskRequest[User]) -> HttpResponse:
    table = CampaignsTable(selectors.campaigns_overview())
    RequestConfig(request, paginate=False).configure(table)  # sorted in memory: no query
    return render(request, "retention/campaigns.html", {"table": table})


@require_http_methods(["GET", "POST"])
@role_required(Role.MANAGER)
def campaign_create(request: DeskRequest[User]) -> HttpResponse:
    form = CampaignForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                campaign = services.campaign_create(actor=request.user, values=form.values())
            except Refusal as exc:
                form.add_error(None, str(exc))
                status = exc.status
            else:
                messages.success(request, _("The draft is saved. Check the preview, then launch."))
                return redirect("campaign", pk=campaign.pk)
    return render(request, "retention/campaign_form.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@role_required(Role.MANAGER)
def campaign_edit(request: DeskRequest[User], pk: int) -> HttpResponse:
    campaign = selectors.campaign_get(pk=pk)
    if campaign.state != Campaign.State.DRAFT:
        messages.error(request, _("Only a draft campaign can be changed."))
        return redirect("campaign", pk=pk)
    form = CampaignForm(request.POST or None, instance=campaign)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.campaign_update(
                    campaign=campaign, actor=request.user, values=form.values()
                )
            except Refusal as exc:
                form.add_error(None, str(exc))
                status = exc.status
            else:
                messages.success(request, _("The draft is saved."))
                return redirect("campaign", pk=pk)
    context = {"form": form, "campaign": campaign}
    return render(request, "retention/campaign_form.html", context, status=status)


@require_GET
@role_required(Role.MANAGER)
def campaign_detail(request: DeskRequest[User], pk: int) -> HttpResponse:
    """A draft shows who matches and sample messages; a launched campaign its progress, which
    refreshes itself (htmx asks for the progress fragment) while it runs. The answer that finds
    it no longer running also brings the new state and buttons, out of band."""
    campaign = selectors.campaign_get(pk=pk)
    if request.htmx:
        return render(request, "retention/campaign.html#poll", {**_progress(campaign), "oob": True})
    return render(request, "retention/campaign.html", _campaign_context(campaign))


def _progress(campaign: Campaign) -> dict[str, object]:
    progress = selectors.campaign_progress(campaign)
    done = sum(
        progress.count(state)
        for state in (
            OutreachMessage.State.SENT,
            OutreachMessage.State.RESPONDED,
            OutreachMessage.State.SKIPPED,
            OutreachMessage.State.FAILED,
        )
    )
    return {
        "campaign": campaign,
        "progress": progress,
        "done": done,
        "waiting": progress.count(OutreachMessage.State.PENDING)
        + progress.count(OutreachMessage.State.SENDING),
        "skip_reasons": [(SKIP_REASONS.get(r, r), n) for r, n in progress.skip_reasons.items()],
        # Still messages to create or send: keep refreshing.
        "live": campaign.state == Campaign.State.RUNNING,
    }


SKIP_REASONS = {
    "do_not_contact": gettext_lazy("asked not to be contacted"),
    "no_address": gettext_lazy("no address on file"),
    "over_cap": gettext_lazy("contacted as often as the policy allows"),
    "quiet_hours": gettext_lazy("quiet hours"),
    "no_fit": gettext_lazy("no tariff fit any more"),
    "not_active": gettext_lazy("no longer an active subscriber"),
}


def _campaign_context(campaign: Campaign, **extra: object) -> dict[str, object]:
    context: dict[str, object] = {"campaign": campaign, **extra}
    if campaign.state == Campaign.State.DRAFT:
        context["preview"] = campaign_preview(campaign)
    else:
        context.update(_progress(campaign))
    context["history"] = selectors.campaign_history(campaign=campaign)
    return context


CAMPAIGN_ACTIONS = {
    "launch": services.campaign_launch,
    "pause": services.campaign_pause,
    "resume": services.campaign_resume,
}


ACTION_DONE = {
    "launch": gettext_lazy(
        "Launched: the messages go out in the background, as the contact policy allows."
    ),
    "pause": gettext_lazy("Paused: nothing more is sent until you resume."),
    "resume": gettext_lazy("Resumed: sending goes on."),
}


@require_POST
@role_required(Role.MANAGER)
def campaign_action(request: DeskRequest[User], pk: int, action: str) -> HttpResponse:
    """Launch, pause or resume. A refusal (launched already, not running, an offer that does
    not hold…) is shown on the page with its status (409); nothing changes."""
    campaign = selectors.campaign_get(pk=pk)
    try:
        CAMPAIGN_ACTIONS[action](campaign=campaign, actor=request.user)
    except Refusal as exc:
        campaign = selectors.campaign_get(pk=pk)
        context = _campaign_context(campaign, action_error=str(exc))
        return render(request, "retention/campaign.html", context, status=exc.status)
    messages.success(request, str(ACTION_DONE[action]))
    return redirect("campaign", pk=pk)


def _message_from_token(token: str) -> OutreachMessage | None:
    try:
        return message_from_token(token)
    except (signing.BadSignature, OutreachMessage.DoesNotExist):
        return None


@require_http_methods(["GET", "POST"])
@never_cache
def outreach_link(request: HttpRequest, token: str) -> HttpResponse:
    """The page a subscriber reaches from an outreach message, in their language: accept the
    offer, or ask for a call. Open (see urls.OPEN_URL_NAMES): the signed token is the key. A
    forged or expired link is a 404 that says so."""
    message = _message_from_token(token)
    if message is None:
        return render(request, "retention/outreach_link.html", {"invalid": True}, status=404)
    # The page speaks the subscriber's language whatever their browser says; LocaleMiddleware
    # activates a language per request, so this lasts for this response only.
    translation.activate(message.subscriber.language)
    request.LANGUAGE_CODE = translation.get_language()
    if message.campaign.is_notice:
        if request.method == "POST":
            return _switch(request, message, token)
        return render(request, "retention/outreach_link.html", _notice_context(message))
    if request.method == "POST":
        return _respond(request, message, token)
    return render(request, "retention/outreach_link.html", _link_context(message))


def _switch(request: HttpRequest, message: OutreachMessage, token: str) -> HttpResponse:
    """The notice's "switch" button: the plan and the fit's date the page showed come back, so
    a fit worked out again in between is refused rather than acted on."""
    try:
        plan_id = int(request.POST.get("plan", ""))
        computed_on = date.fromisoformat(request.POST.get("computed_on", ""))
    except ValueError:
        context = _notice_context(message, error=_("Unknown response."))
        return render(request, "retention/outreach_link.html", context, status=400)
    try:
        # Refusals are said in the subscriber's language (the page's); what the switch writes
        # for staff is stored as phrases, said in each reader's.
        offer = notice_switch(message=message, plan_id=plan_id, computed_on=computed_on)
    except Refusal as exc:
        context = _notice_context(message_from_token(token), error=str(exc))
        return render(request, "retention/outreach_link.html", context, status=exc.status)
    if offer.status == CounterOffer.Status.ACCEPTED:
        messages.success(request, _("Done: you are on the plan that fits you from your next bill."))
    else:
        messages.success(request, _("Thank you. A colleague will confirm your new plan shortly."))
    return redirect("outreach_link", token=token)


def _notice_context(message: OutreachMessage, **extra: object) -> dict[str, object]:
    """The best tariff notice's page: the plan that fits and what it saves, with the switch
    while it applies; or that their plan fits them best; or the switch they made."""
    subscriber = message.subscriber
    fit = notice_fit(message)
    context: dict[str, object] = {
        "message": message,
        "campaign": message.campaign,
        "subscriber": subscriber,
        "notice": True,
        "fit": fit,
        **extra,
    }
    if message.response == OutreachMessage.Response.SWITCHED:
        offer = selectors.message_offer(message)
        context["switch_waiting"] = (
            offer is not None and offer.status != CounterOffer.Status.ACCEPTED
        )
        return context
    moves_to = fit_moves_to(fit, subscriber)
    context["moves_to"] = moves_to
    if fit is not None and moves_to is not None:
        terms = terms_for(message.campaign.template, subscriber, fit)
        context["new_price"] = offer_cost(terms=terms, subscriber=subscriber).new_monthly_price
    return context


def _respond(request: HttpRequest, message: OutreachMessage, token: str) -> HttpResponse:
    response = request.POST.get("response", "")
    if message.response:
        messages.info(request, _("You have already answered this offer; nothing was changed."))
        return redirect("outreach_link", token=token)
    try:
        # What the service writes for staff (the manager's notification, offer notes) is in
        # the desk's language, as the worker writes it, not in the subscriber's.
        with translation.override(settings.LANGUAGE_CODE):
            offer = outreach_respond(message=message, response=response)
    except Refusal as exc:
        context = _link_context(message, error=str(exc))
        return render(request, "retention/outreach_link.html", context, status=exc.status)
    if response == OutreachMessage.Response.CALL:
        messages.success(request, _("Thank you. We will call you soon."))
    elif offer is not None and offer.status == CounterOffer.Status.ACCEPTED:
        messages.success(request, _("Thank you. Your new terms apply from your next bill."))
    else:
        messages.success(request, _("Thank you. A colleague will confirm your new terms shortly."))
    return redirect("outreach_link", token=token)


def _link_context(message: OutreachMessage, **extra: object) -> dict[str, object]:
    """Until the subscriber accepts: the offer, what they pay now and what they would pay with
    it. Once they have accepted, the new price is said once: as what they pay now when the offer
    is applied, beside the old one while an approver has still to confirm it. (Worked out again
    from a price the offer has already changed, it would show up twice, or discounted twice.)"""
    campaign, subscriber = message.campaign, message.subscriber
    context: dict[str, object] = {
        "message": message,
        "campaign": campaign,
        "subscriber": subscriber,
        "offer_label": campaign.template.label,
        "price_now": subscriber.monthly_price,
        **extra,
    }
    if message.response == OutreachMessage.Response.ACCEPTED:
        offer = selectors.message_offer(message)
        waiting = offer is not None and offer.status != CounterOffer.Status.ACCEPTED
        context["price_with_offer"] = offer.new_monthly_price if offer and waiting else None
        return context
    terms = Terms.of(campaign.template)
    cost = offer_cost(terms=terms, subscriber=subscriber)
    context["offer_terms"] = terms_describe(terms, cost)
    context["price_with_offer"] = cost.new_monthly_price
    return context
