"""``manage.py seed_demo``: believable, deterministic demo subscribers with their timelines and
twelve months of usage, and every subscriber's tariff fit computed from it.

    manage.py seed_demo                          # 2,000 subscribers, seed 42
    manage.py seed_demo --if-empty               # what ``make run`` does on every start
    manage.py seed_demo --subscribers 1000000 --reset --heavy 2 --heavy-events 60000

On PostgreSQL the rows go in with COPY (see retention/demo/loading.py); elsewhere with
bulk_create. The same options give the same data on the same reference date (``--today``).
"""

import time
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.models import ProtectedError
from django.utils import timezone

from retention.dashboard.tariff_fit import fit_snapshot_take
from retention.demo.loading import database_is_empty, load_demo, reset_demo_data
from retention.demo.rows import SeedOptions
from retention.demo.world import heavy_account_numbers
from subscribers.fit import fits_compute
from subscribers.models import Subscriber


def _positive(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Load deterministic demo subscribers, plans, equipment, timeline events and usage, and "
        "compute their tariff fits."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--subscribers", type=_positive, default=2000)
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--events-per-subscriber", type=_positive, default=20)
        parser.add_argument(
            "--heavy",
            type=_positive,
            default=2,
            help="Corporate accounts with --heavy-events events each (for deep timeline pages).",
        )
        parser.add_argument("--heavy-events", type=_positive, default=2000)
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if any subscriber exists."
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete subscribers, events, equipment, usage, fits and plans first (and, on "
            "PostgreSQL, everything that refers to them: TRUNCATE ... CASCADE).",
        )
        parser.add_argument(
            "--today",
            type=date.fromisoformat,
            default=None,
            help="Reference date the data is relative to (YYYY-MM-DD); default today.",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and not database_is_empty():
            self.stdout.write(
                f"Demo data not loaded: {Subscriber.objects.count():,} subscribers exist already."
            )
            return
        if options["reset"]:
            try:
                reset_demo_data()
            except ProtectedError as exc:
                raise CommandError(f"Cannot delete plans still in use elsewhere: {exc}") from exc
        elif not database_is_empty():
            raise CommandError("Subscribers exist already. Use --reset to replace them.")
        seed_options = SeedOptions(
            subscribers=options["subscribers"],
            seed=options["seed"],
            events_per_subscriber=options["events_per_subscriber"],
            heavy=options["heavy"],
            heavy_events=options["heavy_events"],
            today=options["today"],
        )
        self.stdout.write(
            f"Seeding {seed_options.subscribers:,} subscribers (seed {seed_options.seed}) on "
            f"{connection.vendor}…"
        )
        report = load_demo(
            seed_options,
            progress=not options["no_progress"] and options["verbosity"] > 0,
            log=lambda line: self.stdout.write(line),
        )
        self.stdout.write(self.style.SUCCESS(report.summary()))
        # The fits the nightly run would have left and the dashboard's count of them, so the
        # desk shows them from the start (the notices are seed_outreach's, once there are
        # managers).
        started = time.perf_counter()
        today = seed_options.today or timezone.localdate()
        fits = fits_compute(today=today)
        fit_snapshot_take(today=today)
        self.stdout.write(
            f"Computed {fits:,} tariff fits in {time.perf_counter() - started:.1f} s."
        )
        heavy = heavy_account_numbers(min(seed_options.heavy, seed_options.subscribers))
        if heavy:
            self.stdout.write(
                f"Heavy accounts ({seed_options.heavy_events:,} events each): {', '.join(heavy)}"
            )
