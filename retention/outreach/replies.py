"""The subscriber's answer through their link: accept the offer, or ask for a call.

An acceptance goes through the offers workflow like an offer made on the desk, proposed by the
manager who made the campaign and within their authority: applied at once when it is, waiting
for an approver when it is not. A call is asked of that manager and their team's managers.
"""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from offers import lifecycle as offer_lifecycle
from offers import services as offer_services
from offers.exceptions import InvalidTerms, OutsideAuthority
from offers.models import CounterOffer, OfferTemplate
from retention.core.refusals import InvalidInput, WrongState
from retention.core.roles import Role
from retention.hardship.services import arrangement_start
from retention.models import OutreachCampaign, OutreachMessage, User
from retention.notifications.reminders import reminder_for_pending_offer
from retention.notifications.services import notify
from retention.outreach.rendering import campaign_said
from subscribers import phrases
from subscribers.models import Subscriber, TimelineEvent
from subscribers.services import timeline_event_record

Message = OutreachMessage
MState = OutreachMessage.State
ANSWERS = (Message.Response.ACCEPTED, Message.Response.CALL)


class UnknownAnswer(InvalidInput):
    """Not one of the two answers the link page offers: a request the page does not send."""

    status = 400


def outreach_respond(*, message: Message, response: str) -> CounterOffer | None:
    """The subscriber followed their link: accept the offer (applied as in the offers workflow,
    within the authority of the manager who launched the campaign) or ask for a call."""
    if response not in ANSWERS:
        raise UnknownAnswer(_("Unknown response."))
    now = timezone.now()
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .select_related("campaign", "campaign__template", "campaign__created_by", "subscriber")
            .get(pk=message.pk)
        )
        if message.response:
            return None  # answered already: the link is not a button to press twice
        if message.state not in (MState.SENT, MState.RESPONDED):
            raise WrongState(_("This message was not sent."))
        campaign, subscriber = message.campaign, message.subscriber
        if campaign.is_notice:
            raise UnknownAnswer(_("Unknown response."))  # a notice is answered by its switch
        message.state, message.response, message.responded_at = MState.RESPONDED, response, now
        message.save(update_fields=["state", "response", "responded_at"])
        timeline_event_record(
            subscriber=subscriber,
            kind=TimelineEvent.Kind.CONTACT,
            phrase=phrases.phrase(
                "outreach.accepted" if response == Message.Response.ACCEPTED else "outreach.call",
                campaign=campaign_said(campaign),
            ),
            data={"direction": "inbound", "campaign": campaign.pk, "message": message.pk},
            occurred_at=now,
            source="outreach",
        )
        if response == Message.Response.CALL:
            _ask_for_call(campaign, subscriber)
            return None
        return _accept(campaign, subscriber, template=message.offer_template)


def _ask_for_call(campaign: OutreachCampaign, subscriber: Subscriber) -> None:
    url = reverse("subscriber_offers", args=[subscriber.pk])
    said = phrases.phrase(
        "notify.outreach_call", name=subscriber.name, campaign=campaign_said(campaign)
    )
    people = {campaign.created_by.pk: campaign.created_by}
    team = campaign.created_by.team_id
    if team is not None:
        for manager in User.objects.filter(is_active=True, groups__name=Role.MANAGER, team_id=team):
            people[manager.pk] = manager
    for person in people.values():
        notify(recipient=person, phrase=said, url=url)


def offer_taken_online(
    campaign: OutreachCampaign, subscriber: Subscriber, *, template: OfferTemplate | None = None
) -> CounterOffer:
    """The campaign's offer (or ``template``, the message's own: an experiment arm's),
    accepted by the subscriber through their link: proposed in the
    name of the campaign's author and, within their authority, presented and accepted at once
    (applied to the plan and price, told to billing); beyond it, waiting for an approver.
    Raises the offers workflow's refusals. Call inside the answer's transaction."""
    actor = campaign.created_by
    offer = offer_services.offer_propose(
        subscriber=subscriber,
        template=template or campaign.template,
        proposer=actor,
        note=phrases.phrase("offer.from_outreach", campaign=campaign_said(campaign)),
    )
    if offer.status == CounterOffer.Status.APPROVED:
        offer = offer_lifecycle.offer_present(
            offer=offer, actor=actor, note=phrases.phrase("offer.outreach_link")
        )
        offer = offer_lifecycle.offer_accept(
            offer=offer, actor=actor, note=phrases.phrase("offer.accepted_online")
        )
        arrangement_start(offer=offer, actor=actor)
    elif offer.status == CounterOffer.Status.PENDING:
        # Its approvers are reminded like those of an offer made on the desk.
        reminder_for_pending_offer(offer=offer)
    return offer


def _accept(
    campaign: OutreachCampaign, subscriber: Subscriber, *, template: OfferTemplate
) -> CounterOffer | None:
    actor = campaign.created_by
    try:
        return offer_taken_online(campaign, subscriber, template=template)
    except (InvalidTerms, WrongState, OutsideAuthority) as exc:
        # Why it failed is the refusal's own message, in the language it was raised in.
        notify(
            recipient=actor,
            phrase=phrases.phrase(
                "notify.outreach_failed",
                name=subscriber.name,
                campaign=campaign_said(campaign),
                why=str(exc),
            ),
            url=reverse("subscriber_offers", args=[subscriber.pk]),
        )
        return None
