"""A small demo of the background work: an outreach campaign that the worker sends on
``make run``, and callbacks that light up the demo agent's bell a minute or two after start.

Idempotent: the campaign is created and launched once (found again by its name); the
callbacks are set again on each run, on the agent's own open cases, a few minutes ahead.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from offers.models import OfferTemplate
from retention import cases, outreach
from retention.models import CancellationCase, OutreachCampaign, User
from subscribers.models import ContactChannel

NAME = "Loyalty tariff for long-standing customers"
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

    def _callbacks(self, agent: User) -> None:
        mine = CancellationCase.objects.filter(
            owner=agent, status__in=CancellationCase.OPEN_STATUSES
        ).order_by("pk")[:2]
        now = timezone.now()
        for minutes, case in enumerate(mine, start=1):
            cases.case_set_callback(case=case, actor=agent, at=now + timedelta(minutes=minutes))
            self.stdout.write(
                f"Callback on case #{case.pk} in {minutes} min: {agent.username}'s bell rings then."
            )
