"""A small demo of the background work: an outreach campaign that the worker sends on
``make run``, one that ran six weeks ago (for the dashboard's outreach rates), and callbacks
that light up the demo agent's bell a minute or two after start.

Idempotent: the campaign is created and launched once (found again by its name); the
callbacks are set again on each run, on the agent's own open cases, a few minutes ahead.
"""

import random
from datetime import datetime, timedelta

from django.utils import timezone

from offers.models import OfferTemplate
from retention.cases import services as cases
from retention.models import CancellationCase, OutreachCampaign, OutreachMessage, User
from retention.outreach import services as outreach
from retention.outreach.audience import campaign_matching
from subscribers.models import ContactChannel, Subscriber
from subscribers.selectors import contact_policy_get, next_opening

NAME = "Loyalty tariff for long-standing customers"
PAST_NAME = "Autumn review: out of promo for two years"
PAST_SIZE, PAST_SEED = 300, 11
# With the default demo data (seed_demo: 2,000 subscribers, seed 42) about 20 subscribers
# match: customers for three years or more in Pierīga who pay 30% over the new-customer price
# and are at high risk of leaving.
CRITERIA = {
    "min_tenure_months": 36,
    "min_penalty_percent": 30,
    "min_risk": 60,
    "region": "Pierīga",
    "not_contacted_days": 30,
}
BODIES = {
    "body_lv": (
        "Labdien, {name}!\n\nJūs esat ar mums jau ilgi, bet maksājat {price} mēnesī — vairāk "
        "nekā jauni klienti. Piedāvājam jums {offer}: {new_price} mēnesī.\n\n"
        "Pieņemiet piedāvājumu vai palūdziet mums piezvanīt: {link}"
    ),
    "body_ru": (
        "Здравствуйте, {name}!\n\nВы с нами давно, но платите {price} в месяц — больше, чем "
        "новые клиенты. Предлагаем вам {offer}: {new_price} в месяц.\n\n"
        "Примите предложение или попросите нас позвонить: {link}"
    ),
    "body_en": (
        "Hello {name},\n\nYou have been with us for years, yet you pay {price} a month — more "
        "than new customers do. We offer you {offer}: {new_price} a month.\n\n"
        "Accept the offer or ask us to call you: {link}"
    ),
}


def loyalty_offer() -> OfferTemplate | None:
    """The offer the demo campaigns make (the catalogue migration loads it)."""
    return OfferTemplate.objects.filter(code="loyalty-tariff", is_active=True).first()


def demo_campaign_launch(
    *, manager: User, template: OfferTemplate
) -> tuple[OutreachCampaign, int | None]:
    """The demo campaign, created once and launched while still a draft; with how many
    subscribers it matched when launched now, or None when it had been launched before."""
    campaign = OutreachCampaign.objects.filter(name=NAME).first()
    if campaign is None:
        campaign = outreach.campaign_create(
            actor=manager,
            values={
                "name": NAME,
                "template": template,
                "channel": ContactChannel.EMAIL,
                # No subject: each e-mail is titled with the offer's name in the
                # subscriber's language.
                **CRITERIA,
                **BODIES,
            },
        )
    if campaign.state != OutreachCampaign.State.DRAFT:
        return campaign, None
    matched = campaign_matching(campaign).count()
    outreach.campaign_launch(campaign=campaign, actor=manager)
    return campaign, matched


def demo_past_campaign(*, manager: User, template: OfferTemplate) -> int | None:
    """A campaign that ran six weeks ago, with its messages' outcomes, so the dashboard's
    outreach rates have something to show; how many messages, or None when it exists already.
    Demo rows only: the accepted answers are recorded on the messages, no offers are applied
    for them."""
    if OutreachCampaign.objects.filter(name=PAST_NAME).exists():
        return None
    launched = timezone.now() - timedelta(days=42)
    campaign = OutreachCampaign.objects.create(
        name=PAST_NAME,
        created_by=manager,
        created_at=launched - timedelta(hours=2),
        state=OutreachCampaign.State.FINISHED,
        launched_at=launched,
        fanned_out_at=launched,
        template=template,
        channel=ContactChannel.EMAIL,
        min_tenure_months=24,
        min_penalty_percent=15,
        **BODIES,
    )
    rng = random.Random(PAST_SEED)
    subscribers = list(
        Subscriber.objects.filter(status=Subscriber.Status.ACTIVE)
        .order_by("pk")
        .values_list("pk", flat=True)[:PAST_SIZE]
    )
    messages = [_past_message(rng, campaign, pk, launched) for pk in subscribers]
    OutreachMessage.objects.bulk_create(messages, batch_size=1000)
    return len(messages)


def _past_message(
    rng: random.Random, campaign: OutreachCampaign, subscriber_id: int, launched: datetime
) -> OutreachMessage:
    """Mostly sent, some answered, a few skipped or failed."""
    roll = rng.random()
    sent_at = launched + timedelta(hours=rng.uniform(0, 30))
    message = OutreachMessage(
        campaign=campaign, subscriber_id=subscriber_id, due_at=launched, attempts=1
    )
    if roll < 0.07:
        message.state, message.skip_reason = OutreachMessage.State.SKIPPED, "do_not_contact"
    elif roll < 0.08:
        message.state, message.error = OutreachMessage.State.FAILED, "mailbox unavailable"
    elif roll < 0.22:
        message.state, message.sent_at = OutreachMessage.State.RESPONDED, sent_at
        message.responded_at = sent_at + timedelta(hours=rng.uniform(1, 96))
        message.response = rng.choice(
            [OutreachMessage.Response.ACCEPTED, OutreachMessage.Response.CALL]
        )
    else:
        message.state, message.sent_at = OutreachMessage.State.SENT, sent_at
    return message


def demo_callbacks(*, agent: User) -> list[tuple[CancellationCase, datetime]]:
    """Callbacks on two of the agent's open cases, and when each is set for."""
    mine = CancellationCase.objects.filter(
        owner=agent, status__in=CancellationCase.OPEN_STATUSES
    ).order_by("pk")[:2]
    now = timezone.now()
    hours = contact_policy_get().hours[ContactChannel.PHONE]
    set_for = []
    for minutes, case in enumerate(mine, start=1):
        # A few minutes ahead, or as soon as the subscriber may be called (make run in the
        # evening): a callback outside their calling hours is refused.
        soon = (now + timedelta(minutes=minutes)).astimezone(case.subscriber.zone)
        at = next_opening(hours=hours, local=soon)
        cases.case_set_callback(case=case, actor=agent, at=at)
        set_for.append((case, at))
    return set_for
