import time
import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from retention.dashboard.figures import desk_today, figures_refresh_range, loyalty_snapshot_take
from retention.demo.cases import cases_seed
from retention.demo.experiments import experiment_demo_assign, experiment_demo_start
from retention.demo.history import HISTORY_SOURCE, history_seed
from retention.demo.macros import macros_seed
from retention.demo.pauses import pauses_settle
from retention.demo.staff import demo_staff_ensure
from retention.models import CancellationCase, User


class Command(BaseCommand):
    help = (
        "Add the demo message templates, open demo cancellation cases for active subscribers, "
        "and write the desk's past: closed "
        "cases handled by demo agents in demo teams, with the dashboard's figures computed "
        "(deterministic for a seed)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, default=80)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--owner", default="agent", help="username who owns some cases")
        parser.add_argument("--owned", type=int, default=3)
        parser.add_argument(
            "--history-days", type=int, default=180, help="days of closed cases up to yesterday"
        )
        parser.add_argument("--history-per-day", type=int, default=12)
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="open no cases if any case exists, and write no history if any history exists",
        )

    def handle(self, *args: object, **options: object) -> None:
        seed = int(str(options["seed"]))
        added = macros_seed()
        if added:
            self.stdout.write(f"Added {added} demo message templates.")
        if options["if_empty"] and CancellationCase.objects.exists():
            self.stdout.write("Cases exist already; no open cases seeded.")
        else:
            owner = User.objects.filter(username=str(options["owner"])).first()
            created = cases_seed(
                count=int(str(options["cases"])),
                seed=seed,
                owner=owner,
                owned=int(str(options["owned"])) if owner else 0,
                # The demo agents made the first contacts of the cases already reached.
                agents=demo_staff_ensure(),
            )
            self.stdout.write(self.style.SUCCESS(f"Opened {created} demo cancellation cases."))
        days = int(str(options["history_days"]))
        if days <= 0:
            return
        if options["if_empty"] and CancellationCase.objects.filter(source=HISTORY_SOURCE).exists():
            self.stdout.write("History exists already; none written.")
            return
        start = time.perf_counter()
        agents = demo_staff_ensure()
        # The experiment runs from the history's first day, and the history honours it.
        first_day = desk_today() - timedelta(days=days)
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        experiment = experiment_demo_start(
            started=datetime.combine(first_day, datetime.min.time(), tzinfo=zone), seed=seed
        )
        closed = history_seed(
            days=days, per_day=int(str(options["history_per_day"])), seed=seed, agents=agents
        )
        today = desk_today()
        paused = pauses_settle(today=today)
        figures_refresh_range(first=today - timedelta(days=days), last=today)
        loyalty_snapshot_take()
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {closed} closed demo cases over {days} days for {len(agents)} agents, "
                f"with the dashboard's figures ({paused} subscribers paused now), in "
                f"{time.perf_counter() - start:.1f} s."
            )
        )
        if experiment is not None:
            assigned = experiment_demo_assign(experiment=experiment)
            self.stdout.write(
                self.style.SUCCESS(f"Started the demo experiment with {assigned} cases.")
            )
