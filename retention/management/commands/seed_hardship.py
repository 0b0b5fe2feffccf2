"""``manage.py seed_hardship``: two demo subscribers in hardship (retention.demo.hardship), one
arrangement kept and one broken. Idempotent; part of ``make run``."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from retention.demo.hardship import demo_arrangements
from retention.models import User


class Command(BaseCommand):
    help = "Agree two demo hardship arrangements: one kept, one broken."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--agent", default="agent", help="who agreed them")

    def handle(self, *args: object, **options: object) -> None:
        agent = User.objects.filter(username=str(options["agent"])).first()
        if agent is None:
            raise CommandError("Run demo_users first (the agent).")
        made = demo_arrangements(agent=agent)
        if not made:
            self.stdout.write("Hardship arrangements exist already (or none could be made).")
            return
        for arrangement in made:
            arrangement.refresh_from_db()
            self.stdout.write(
                self.style.SUCCESS(
                    f"{arrangement.get_kind_display()} for {arrangement.subscriber.name} "
                    f"(subscriber #{arrangement.subscriber_id}): {arrangement.status}."
                )
            )
