"""A small demo of the background work: an outreach campaign that the worker sends on
``make run``, one that ran six weeks ago (for the dashboard's outreach rates), and callbacks
that light up the demo agent's bell a minute or two after start.

Idempotent: the campaign is created and launched once (found again by its name); the
callbacks are set again on each run, on the agent's own open cases, a few minutes ahead.
"""

import random
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from offers.models import OfferTemplate
from retention.cases import services as cases
from retention.models import CancellationCase, OutreachCampaign, OutreachMessage, User
from retention.outreach import services as outreach
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


class Command(BaseCommand):
    help = "Create and launch the demo outreach campaign; set callbacks for the demo agent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--manager", default="manager", help="who creates the campaign")
        parser.add_argument("--agent", default="agent", help="whose bell lights up")

    def handle(self, *args: object, **options: object) -> None:
        manager = User.objects.filter(username=str(options["manager"])).first()
        template = OfferTemplate.objects.filter(code="loyalty-tariff", is_active=True).first()
        if manager is None or template is None:
            raise CommandError("Run demo_users and migrate first (the manager and the offer).")
        self._campaign(manager, template)
        self._past_campaign(manager, template)
        agent = User.objects.filter(username=str(options["agent"])).first()
        if agent is not None:
            self._callbacks(agent)

    def _campaign(self, manager: User, template: OfferTemplate) -> None:
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
        if campaign.state == OutreachCampaign.State.DRAFT:
            matched = outreach.campaign_matching(campaign).count()
            outreach.campaign_launch(campaign=campaign, actor=manager)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Launched “{NAME}” for {matched} subscribers; the worker sends it as the "
                    "contact policy allows (e-mails land in var/mail)."
                )
            )
        else:
            self.stdout.write(f"“{NAME}” exists already ({campaign.get_state_display()}).")

    def _past_campaign(self, manager: User, template: OfferTemplate) -> None:
        """A campaign that ran six weeks ago, with its messages' outcomes, so the dashboard's
        outreach rates have something to show. Demo rows only: the accepted answers are
        recorded on the messages, no offers are applied for them."""
        if OutreachCampaign.objects.filter(name=PAST_NAME).exists():
            return
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
        messages = []
        for subscriber_id in subscribers:
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
            messages.append(message)
        OutreachMessage.objects.bulk_create(messages, batch_size=1000)
        self.stdout.write(
            f"Recorded the finished campaign “{PAST_NAME}” ({len(messages)} messages)."
        )

    def _callbacks(self, agent: User) -> None:
        mine = CancellationCase.objects.filter(
            owner=agent, status__in=CancellationCase.OPEN_STATUSES
        ).order_by("pk")[:2]
        now = timezone.now()
        hours = contact_policy_get().hours[ContactChannel.PHONE]
        for minutes, case in enumerate(mine, start=1):
            # A few minutes ahead, or as soon as the subscriber may be called (make run in the
            # evening): a callback outside their calling hours is refused.
            soon = (now + timedelta(minutes=minutes)).astimezone(case.subscriber.zone)
            at = next_opening(hours=hours, local=soon)
            cases.case_set_callback(case=case, actor=agent, at=at)
            self.stdout.write(
                f"Callback on case #{case.pk} at {at:%Y-%m-%d %H:%M %Z}:"
                f" {agent.username}'s bell rings then."
            )
