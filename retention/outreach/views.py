"""The outreach pages: campaigns for managers (a draft with its preview, launching, pausing,
resuming, the progress and the history), and the subscriber's personal link from a message."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from offers.models import CounterOffer
from offers.pricing import Terms, fit_moves_to, offer_cost, terms_describe, terms_for
from retention.core.delivery import reason_code
from retention.core.http import DeskRequest
from retention.core.refusals import InvalidInput, Refusal
from retention.core.roles import Role, role_required
from retention.models import OutreachCampaign, OutreachMessage, User
from retention.outreach import selectors, services
from retention.outreach.forms import CampaignForm, CampaignTestForm, LaunchForm
from retention.outreach.links import StopLink, message_from_token, stop_from_token, stop_token
from retention.outreach.notice import notice_fit, notice_switch
from retention.outreach.rendering import campaign_preview
from retention.outreach.replies import outreach_respond
from retention.outreach.tables import CampaignsTable
from subscribers.models import ContactChannel, Subscriber
from subscribers.phrases import duration, moment
from subscribers.services import subscriber_contact_stop

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
        "failures": send_errors(progress.failures),
        "retrying": send_errors(progress.retrying),
        # Deferred to the subscriber's allowed hours or the cap, not by the provider.
        "held": progress.count(OutreachMessage.State.DEFERRED) - sum(progress.retrying.values()),
        # Still messages to create or send: keep refreshing.
        "live": campaign.state == Campaign.State.RUNNING,
        # A throttled campaign's rate and when it should be done.
        "pace": selectors.campaign_pace(campaign, progress, now=timezone.now()),
    }


SKIP_REASONS = {
    "do_not_contact": gettext_lazy("asked not to be contacted"),
    "no_address": gettext_lazy("no address on file"),
    "over_cap": gettext_lazy("contacted as often as the policy allows"),
    "quiet_hours": gettext_lazy("quiet hours"),
    "no_fit": gettext_lazy("no tariff fit any more"),
    "not_active": gettext_lazy("no longer an active subscriber"),
    "holdout": gettext_lazy("held out by an experiment: no message"),
}


# What a provider's answer on an outbox row means (retention.core.delivery), in the reader's
# language; the provider's own words follow it as they came.
SEND_ERRORS = {
    "smtp_refused": gettext_lazy("the mail server refused it"),
    "smtp_deferred": gettext_lazy("the mail server asked to try later"),
    "smtp_lost": gettext_lazy("the connection to the mail server was lost"),
    "smtp_unreachable": gettext_lazy("the mail server did not answer"),
    "sms_refused": gettext_lazy("the SMS provider refused it"),
    "sms_busy": gettext_lazy("the SMS provider asked to slow down"),
    "sms_error": gettext_lazy("the SMS provider had an error"),
    "sms_lost": gettext_lazy("the connection to the SMS provider was lost"),
    "sms_unreachable": gettext_lazy("the SMS provider did not answer"),
    "sms_credentials": gettext_lazy("the SMS provider refused the desk's credentials"),
    "rate_limit": gettext_lazy("waiting for a turn within the provider's rate"),
    "stopped": gettext_lazy("the sender stopped before it was sent"),
    "unsendable": gettext_lazy("it cannot be sent as it is (its address or text)"),
}


@dataclass(frozen=True)
class SendError:
    said: str  # what it means, in the reader's language
    detail: str  # the provider's words of the most common answer with that meaning
    count: int


def send_errors(reasons: dict[str, int]) -> list[SendError]:
    """Kept answers grouped by what they mean, most first; each with the provider's words of
    its most common one (``reasons`` come most first)."""
    grouped: dict[str, SendError] = {}
    for reason, n in reasons.items():
        code, detail = reason_code(reason)
        seen = grouped.get(code)
        if seen is None:
            said = str(SEND_ERRORS.get(code, code))
            grouped[code] = SendError(said, detail, n)
        else:
            grouped[code] = SendError(seen.said, seen.detail, seen.count + n)
    return sorted(grouped.values(), key=lambda e: -e.count)


def _campaign_context(campaign: Campaign, **extra: object) -> dict[str, object]:
    context: dict[str, object] = {"campaign": campaign, **extra}
    if campaign.state in (Campaign.State.DRAFT, Campaign.State.SCHEDULED):
        context["preview"] = campaign_preview(campaign)
        context["test_form"] = CampaignTestForm(initial={"language": translation.get_language()})
    else:
        context.update(_progress(campaign))
    context["history"] = selectors.campaign_history(campaign=campaign)
    return context


CAMPAIGN_ACTIONS = {
    "pause": services.campaign_pause,
    "resume": services.campaign_resume,
    "unschedule": services.campaign_schedule_cancel,
}


ACTION_DONE = {
    "pause": gettext_lazy("Paused: nothing more is sent until you resume."),
    "resume": gettext_lazy("Resumed: sending goes on."),
    "unschedule": gettext_lazy("The schedule is cancelled: the campaign is a draft again."),
}


@require_http_methods(["GET", "POST"])
@role_required(Role.MANAGER)
def campaign_launch(request: DeskRequest[User], pk: int) -> HttpResponse:
    """The launch's confirmation (GET; ``?start=`` to schedule) says what will happen: who
    gets a message now and who is left out and why, when it starts, the rate and how long
    sending takes, the offer. Only its confirm button (POST) launches or schedules; the
    audience is counted again then, and if it moved a lot the page asks again instead."""
    campaign = selectors.campaign_get(pk=pk)
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = LaunchForm(data)
    if request.method == "GET" and campaign.state != Campaign.State.DRAFT:
        messages.error(request, _("Only a draft campaign can be launched."))
        return redirect("campaign", pk=pk)
    if not form.is_bound or not form.is_valid():
        summary = selectors.campaign_launch_summary(campaign)
        status = 400 if form.is_bound else 200
        return _confirm(request, campaign, form, summary, status=status)
    start = form.cleaned_data["start"]
    summary = selectors.campaign_launch_summary(campaign, starts_at=start)
    if request.method == "GET":
        return _confirm(request, campaign, form, summary)
    shown = form.cleaned_data["shown"]
    if shown is None:
        form.add_error(None, _("Check what will happen, then confirm."))
        return _confirm(request, campaign, form, summary, status=400)
    if selectors.audience_changed_a_lot(shown=shown, now=summary.reachable):
        return _confirm(request, campaign, form, summary, status=409, shown_before=shown)
    try:
        services.campaign_launch(campaign=campaign, actor=request.user, starts_at=start)
    except Refusal as exc:
        campaign = selectors.campaign_get(pk=pk)
        context = _campaign_context(campaign, action_error=str(exc))
        return render(request, "retention/campaign.html", context, status=exc.status)
    if start is None:
        messages.success(
            request,
            _("Launched: the messages go out in the background, as the contact policy allows."),
        )
    else:
        messages.success(request, _("Scheduled: it starts on %(when)s.") % {"when": moment(start)})
    return redirect("campaign", pk=pk)


def _confirm(
    request: HttpRequest,
    campaign: Campaign,
    form: LaunchForm,
    summary: selectors.LaunchSummary,
    *,
    status: int = 200,
    shown_before: int | None = None,
) -> HttpResponse:
    context = {
        "campaign": campaign,
        "form": form,
        "summary": summary,
        "ends_at": summary.ends_at(timezone.now()),
        "took": duration(summary.minutes) if summary.minutes is not None else "",
        "zone": timezone.get_current_timezone_name(),
        "start_value": form["start"].value() or "",
        "shown_before": shown_before,
        "start_error": bool(form.errors),
    }
    return render(request, "retention/campaign_launch.html", context, status=status)


@require_POST
@role_required(Role.MANAGER)
def campaign_test(request: DeskRequest[User], pk: int) -> HttpResponse:
    """Send the campaign's message to the manager themselves, as a test: an SMS campaign's to
    their mobile number, an e-mail campaign's to their e-mail address."""
    campaign = selectors.campaign_get(pk=pk)
    form = CampaignTestForm(request.POST)
    try:
        if not form.is_valid():
            raise InvalidInput(_("Choose English, Latvian or Russian."))
        sent = services.campaign_test_send(
            campaign=campaign, actor=request.user, language=form.cleaned_data["language"]
        )
    except Refusal as exc:
        context = _campaign_context(campaign, action_error=str(exc))
        return render(request, "retention/campaign.html", context, status=exc.status)
    if campaign.channel == ContactChannel.SMS:
        said = _(
            "A test SMS is on its way to %(phone)s. No subscriber got it, and it counts nowhere."
        ) % {"phone": sent.params["to"]}
    else:
        said = _(
            "A test is on its way to %(email)s. No subscriber got it, and it counts nowhere."
        ) % {"email": sent.params["to"]}
    messages.success(request, said)
    return redirect("campaign", pk=pk)


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
        "stop": _message_stop(message),
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
        terms = terms_for(message.offer_template, subscriber, fit)
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


def _message_stop(message: OutreachMessage) -> dict[str, object]:
    """The stop choices on the message's own page, the campaign's channel first."""
    link = StopLink(subscriber_id=message.subscriber_id, channel=message.campaign.channel)
    return stop_choices(message.subscriber, link, emphasise=False)


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
        "offer_label": message.offer_template.label,
        "price_now": subscriber.monthly_price,
        "stop": _message_stop(message),
        **extra,
    }
    if message.response == OutreachMessage.Response.ACCEPTED:
        offer = selectors.message_offer(message)
        waiting = offer is not None and offer.status != CounterOffer.Status.ACCEPTED
        context["price_with_offer"] = offer.new_monthly_price if offer and waiting else None
        return context
    terms = Terms.of(message.offer_template)
    cost = offer_cost(terms=terms, subscriber=subscriber)
    context["offer_terms"] = terms_describe(terms, cost)
    context["price_with_offer"] = cost.new_monthly_price
    return context


# --- "Stop contacting me" -----------------------------------------------------------------------

STOP_ALL = "all"


@require_http_methods(["GET", "POST"])
@never_cache
def outreach_stop(request: HttpRequest, token: str) -> HttpResponse:
    """The subscriber's "stop contacting me" page from the link in any outreach message, in
    their language, no login: one button per channel and one for all, the channel the message
    came by first. Looking changes nothing; a button stops that channel (again: nothing more
    to do, and the page says so). Open (see urls.OPEN_URL_NAMES): the signed token is the key."""
    link = _stop_link(token)
    subscriber = selectors.stop_subscriber(link) if link else None
    if link is None or subscriber is None:
        return render(request, "retention/outreach_stop.html", {"invalid": True}, status=404)
    translation.activate(subscriber.language)
    request.LANGUAGE_CODE = translation.get_language()
    if request.method == "POST":
        choice = request.POST.get("channel", "")
        channels = list(ContactChannel.values) if choice == STOP_ALL else [choice]
        if choice != STOP_ALL and choice not in ContactChannel.values:
            context = _stop_context(subscriber, link, error=_("Unknown choice."))
            return render(request, "retention/outreach_stop.html", context, status=400)
        changed = subscriber_contact_stop(
            subscriber=subscriber, channels=channels, source="subscriber", via="link"
        )
        if changed:
            messages.success(request, _("Done: we will not contact you that way any more."))
        else:
            messages.info(request, _("That was already done: we do not contact you that way."))
        return redirect("outreach_stop", token=token)
    return render(request, "retention/outreach_stop.html", _stop_context(subscriber, link))


@csrf_exempt  # a mail client's POST (RFC 8058) carries no CSRF token: the signed token is the key
@require_http_methods(["GET", "POST"])
@never_cache
def outreach_stop_one_click(request: HttpRequest, token: str) -> HttpResponse:
    """RFC 8058 one-click unsubscribe: the mail client POSTs ``List-Unsubscribe=One-Click`` to
    the address in the e-mail's List-Unsubscribe header, and the channel the e-mail came by
    is stopped. A GET (the address opened in a browser) changes nothing: it shows the page."""
    link = _stop_link(token)
    subscriber = selectors.stop_subscriber(link) if link else None
    if link is None or subscriber is None:
        return HttpResponse("This link does not work.", status=404, content_type="text/plain")
    if request.method == "GET":
        return redirect("outreach_stop", token=token)
    if request.POST.get("List-Unsubscribe") != "One-Click":
        return HttpResponse("Expected List-Unsubscribe=One-Click.", status=400)
    subscriber_contact_stop(
        subscriber=subscriber, channels=[link.channel], source="subscriber", via="one_click"
    )
    return HttpResponse("Unsubscribed.", content_type="text/plain")


def _stop_link(token: str) -> StopLink | None:
    try:
        return stop_from_token(token)
    except signing.BadSignature:
        return None


def _stop_context(subscriber: Subscriber, link: StopLink, **extra: object) -> dict[str, object]:
    return {"subscriber": subscriber, "stop": stop_choices(subscriber, link), **extra}


def stop_choices(
    subscriber: Subscriber, link: StopLink, *, emphasise: bool = True
) -> dict[str, object]:
    """What the stop buttons show: the channel the message came by first (the main button on
    the stop page; beside an offer, the offer's button is the main one), each channel with
    whether it is stopped already, and the token the buttons post with."""
    stopped: dict[str, bool] = {
        ContactChannel.EMAIL: subscriber.do_not_email,
        ContactChannel.SMS: subscriber.do_not_sms,
        ContactChannel.PHONE: subscriber.do_not_call,
    }
    order = [link.channel, *(c for c in STOP_ORDER if c != link.channel)]
    return {
        "token": stop_token(subscriber_id=subscriber.pk, channel=link.channel),
        "came_by": link.channel,
        "emphasise": emphasise,
        "channels": [(c, STOP_LABELS[c], STOPPED_LABELS[c], stopped[c]) for c in order],
        "all_stopped": all(stopped.values()),
    }


STOP_ORDER = (ContactChannel.EMAIL, ContactChannel.SMS, ContactChannel.PHONE)
STOP_LABELS: dict[str, Any] = {
    ContactChannel.EMAIL: gettext_lazy("Stop e-mails"),
    ContactChannel.SMS: gettext_lazy("Stop SMS"),
    ContactChannel.PHONE: gettext_lazy("Stop calls"),
}
STOPPED_LABELS: dict[str, Any] = {
    ContactChannel.EMAIL: gettext_lazy("We do not send you e-mails."),
    ContactChannel.SMS: gettext_lazy("We do not send you SMS."),
    ContactChannel.PHONE: gettext_lazy("We do not call you."),
}
