"""``manage.py seed_outreach``: the demo's outreach campaigns and the demo agent's callbacks
(retention.demo.outreach). Idempotent; part of ``make run``."""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from retention.demo.outreach import (
    NAME,
    PAST_NAME,
    demo_callbacks,
    demo_campaign_launch,
    demo_past_campaign,
    loyalty_offer,
)
from retention.models import OutreachCampaign, User
from retention.outreach.notice import notices_nightly


class Command(BaseCommand):
    help = "Create and launch the demo outreach campaign; set callbacks for the demo agent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--manager", default="manager", help="who creates the campaign")
        parser.add_argument("--agent", default="agent", help="whose bell lights up")

    def handle(self, *args: object, **options: object) -> None:
        manager = User.objects.filter(username=str(options["manager"])).first()
        template = loyalty_offer()
        if manager is None or template is None:
            raise CommandError("Run demo_users and migrate first (the manager and the offer).")
        campaign, matched = demo_campaign_launch(manager=manager, template=template)
        if matched is None:
            self.stdout.write(f"“{NAME}” exists already ({campaign.get_state_display()}).")
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Launched “{NAME}” for {matched} subscribers; the worker sends it as the "
                    "contact policy allows (e-mails land in var/mail)."
                )
            )
        recorded = demo_past_campaign(manager=manager, template=template)
        if recorded is not None:
            self.stdout.write(
                f"Recorded the finished campaign “{PAST_NAME}” ({recorded} messages)."
            )
        # This year's best tariff notice, as the nightly tariff task makes it: those whose
        # signup anniversary has come this year (and who have a tariff fit) get theirs.
        today = timezone.localdate()
        added = notices_nightly(today=today)
        if OutreachCampaign.objects.filter(purpose="best_tariff", year=today.year).exists():
            self.stdout.write(f"Best tariff notice {today.year}: {added} notices added.")
        agent = User.objects.filter(username=str(options["agent"])).first()
        if agent is None:
            return
        for case, at in demo_callbacks(agent=agent):
            self.stdout.write(
                f"Callback on case #{case.pk} at {at:%Y-%m-%d %H:%M %Z}:"
                f" {agent.username}'s bell rings then."
            )
