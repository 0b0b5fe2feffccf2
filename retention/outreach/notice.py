"""The annual best tariff notice: once a year every active subscriber with a tariff fit hears, in
their language, which plan fits how they use the service and what it would save them, or that
their own plan already fits them best (the law asks to tell everyone, not only those who would
save). Their link lets them switch to the plan that fits.

The notice is an outreach campaign of the desk's own, one a year (``purpose`` "best_tariff",
unique by ``year``), and each subscriber's notice its message row (unique by campaign and
subscriber): those two keys make it once a year each, however often or concurrently the nightly
run repeats. It is sent by the outreach machinery under the contact policy (quiet hours and the
cap defer it, do-not-contact is kept per channel), and who is due when is
``audience.notice_matching``: on their signup anniversary.
"""

from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from offers.models import CounterOffer, OfferTemplate
from retention.core import broker
from retention.core.refusals import Conflict, WrongState
from retention.core.roles import Role
from retention.models import CampaignHistory, OutreachCampaign, OutreachMessage, User
from retention.outreach.audience import campaign_fan_out
from retention.outreach.rendering import campaign_said
from retention.outreach.replies import offer_taken_online
from retention.outreach.services import OUTREACH_WORK
from subscribers import phrases
from subscribers.models import ContactChannel, Subscriber, TariffFit, TimelineEvent
from subscribers.services import timeline_event_record

Campaign = OutreachCampaign
Message = OutreachMessage
MState = OutreachMessage.State
BEST_TARIFF = OutreachCampaign.Purpose.BEST_TARIFF
# The catalogue's move to the plan that fits (offers/migrations/0007): what a switch applies.
FITTING_OFFER = "plan-that-fits"
# Fits are computed every night; one older than this means the nightly run has stopped, and
# the plan it names may no longer be the one that fits: the switch is refused rather than
# acted on.
FIT_FRESH_DAYS = 7
LEAVING = (Subscriber.Status.CANCELLING, Subscriber.Status.CANCELLED)


def notice_author() -> User | None:
    """In whose name the notice's switches are made (offers are proposed by a person, within
    their authority): the author of an earlier notice while they are still an active manager,
    else the longest-serving active manager. None when the desk has no manager yet."""
    managers = User.objects.filter(
        Q(groups__name=Role.MANAGER) | Q(is_superuser=True), is_active=True
    ).distinct()
    earlier = (
        Campaign.objects.filter(purpose=BEST_TARIFF, created_by__in=managers)
        .order_by("-year")
        .values_list("created_by_id", flat=True)
        .first()
    )
    if earlier is not None:
        return managers.filter(pk=earlier).first()
    return managers.order_by("date_joined", "pk").first()


def notice_campaign(*, year: int) -> Campaign | None:
    """The notice campaign of ``year``, created (running and standing) if there is none yet.
    Two nightly runs at once create one: the unique key on the year makes the loser read the
    winner's. None when it cannot be made (no manager, or the catalogue lacks the move to the
    plan that fits)."""
    found = Campaign.objects.filter(purpose=BEST_TARIFF, year=year).first()
    if found is not None:
        return found
    author = notice_author()
    template = OfferTemplate.objects.filter(code=FITTING_OFFER, to_fitting_plan=True).first()
    if author is None or template is None:
        return None
    now = timezone.now()
    try:
        with transaction.atomic():
            campaign = Campaign.objects.create(
                # The stored name is for the admin and logs; pages say ``title``, in each
                # reader's language.
                name=f"Best tariff notice {year}",
                purpose=BEST_TARIFF,
                year=year,
                created_by=author,
                created_at=now,
                state=Campaign.State.RUNNING,
                launched_at=now,
                standing=True,
                template=template,
                channel=ContactChannel.EMAIL,
                not_contacted_days=0,
                body_lv="",
                body_ru="",
                body_en="",
            )
            CampaignHistory.objects.create(
                campaign=campaign,
                actor=None,
                action=CampaignHistory.Action.LAUNCHED,
                from_status="",
                to_status=campaign.state,
                at=now,
            )
    except IntegrityError:
        return Campaign.objects.get(purpose=BEST_TARIFF, year=year)
    return campaign


def notices_nightly(*, today: date) -> int:
    """Nightly: the subscribers whose notice of this year has fallen due get their message
    (sent by the outreach worker as the contact policy allows). Safe to repeat and to run
    twice at once. Returns how many messages were added."""
    # Earlier years' notices stop taking subscribers in; what they still have to send goes
    # out, and then the desk finishes them like any campaign (services.campaigns_finish).
    Campaign.objects.filter(purpose=BEST_TARIFF, year__lt=today.year, standing=True).update(
        standing=False
    )
    campaign = notice_campaign(year=today.year)
    if campaign is None or campaign.state != Campaign.State.RUNNING:
        return 0  # paused by a manager: nobody is added until it is resumed
    added = campaign_fan_out(campaign=campaign)
    if added:
        pk = campaign.pk
        transaction.on_commit(lambda: broker.enqueue(OUTREACH_WORK, pk))
    return added


# --- The subscriber's switch ------------------------------------------------------------------


def notice_fit(message: Message) -> TariffFit | None:
    """The subscriber's tariff fit as their notice page shows it, its plan loaded; one query."""
    return (
        TariffFit.objects.select_related("best_plan")
        .filter(subscriber_id=message.subscriber_id)
        .first()
    )


def notice_switch(
    *, message: Message, plan_id: int, computed_on: date, today: date | None = None
) -> CounterOffer:
    """The subscriber pressed "switch" on their notice page: move them to the plan that fits.

    ``plan_id`` and ``computed_on`` are the fit the page showed: a fit recomputed since (another
    plan, or the same plan from other figures) is refused, so nobody switches to something they
    were not shown. Refused too: a stale fit, a subscriber who is leaving or already on that
    plan, a notice that was not sent, and a second switch. The move itself is the catalogue's
    move to the plan that fits, accepted online as any outreach offer is
    (``replies.offer_taken_online``): it changes plan and price with their timeline rows and
    the offer's history, and tells billing in the same transaction."""
    today = today or timezone.localdate()
    with transaction.atomic():
        # The message first, then the subscriber: the order outreach answers lock in, so a
        # double click waits here and then finds the switch done.
        message = (
            Message.objects.select_for_update()
            .select_related("campaign", "campaign__template", "campaign__created_by")
            .get(pk=message.pk)
        )
        campaign = message.campaign
        if not campaign.is_notice:
            raise WrongState(_("This message is not a best tariff notice."))
        if message.response == Message.Response.SWITCHED:
            raise WrongState(_("You have already switched to the plan that fits you."))
        if message.state not in (MState.SENT, MState.RESPONDED):
            raise WrongState(_("This notice was not sent."))
        subscriber = (
            Subscriber.objects.select_for_update()
            .select_related("plan")
            .get(pk=message.subscriber_id)
        )
        if subscriber.status in LEAVING:
            raise WrongState(_("Your contract is ending; the plan can no longer be changed."))
        fit = notice_fit(message)
        if fit is None or fit.best_plan_id != plan_id or fit.computed_on != computed_on:
            raise Conflict(
                _(
                    "The plan that fits you has been worked out again since this page was shown. "
                    "Please look at it again."
                )
            )
        if fit.computed_on < today - timedelta(days=FIT_FRESH_DAYS):
            raise WrongState(
                _("The plan that fits you is out of date; please try again in a few days.")
            )
        if subscriber.plan_id == fit.best_plan_id or fit.verdict == TariffFit.Verdict.FITS:
            raise WrongState(_("You are already on the plan that fits you best."))
        now = timezone.now()
        message.state, message.response, message.responded_at = (
            MState.RESPONDED,
            Message.Response.SWITCHED,
            now,
        )
        message.save(update_fields=["state", "response", "responded_at"])
        timeline_event_record(
            subscriber=subscriber,
            kind=TimelineEvent.Kind.CONTACT,
            phrase=phrases.phrase("outreach.accepted", campaign=campaign_said(campaign)),
            data={"direction": "inbound", "campaign": campaign.pk, "message": message.pk},
            occurred_at=now,
            source="outreach",
        )
        # The offers workflow's refusals (the plan is no longer sold to them, an offer already
        # under way) roll the whole switch back, the answer with it.
        return offer_taken_online(campaign, subscriber)
