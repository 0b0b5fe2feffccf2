from django.core.management.base import BaseCommand, CommandParser

from retention.models import CancellationCase, User
from retention.seeding import cases_seed


class Command(BaseCommand):
    help = "Open demo cancellation cases for active subscribers (deterministic for a seed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, default=80)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--owner", default="agent", help="username who owns some cases")
        parser.add_argument("--owned", type=int, default=3)
        parser.add_argument("--if-empty", action="store_true", help="do nothing if any case exists")

    def handle(self, *args: object, **options: object) -> None:
        if options["if_empty"] and CancellationCase.objects.exists():
            self.stdout.write("Cases exist already; nothing seeded.")
            return
        owner = User.objects.filter(username=str(options["owner"])).first()
        created = cases_seed(
            count=int(str(options["cases"])),
            seed=int(str(options["seed"])),
            owner=owner,
            owned=int(str(options["owned"])) if owner else 0,
        )
        self.stdout.write(self.style.SUCCESS(f"Opened {created} demo cancellation cases."))
