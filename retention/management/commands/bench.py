"""``manage.py bench``: the benchmark (see retention/bench/run.py). Not part of the test suite.

    make bench                                   # quick scale: 20,000 subscribers, 5,000 cases
    uv run python manage.py bench --scale full   # 1,000,000 subscribers, 20,000,000 events,
                                                 # 100,000 open cases

Runs against BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/desk_bench): when
DATABASE_URL points elsewhere the command creates that database if needed and runs itself again
with DATABASE_URL set to it, TESTING=true (development defaults, no real secret needed) and
DEBUG=false (no SQL logging, production-like templates).
"""

import os
import sys
from typing import Any

import dj_database_url
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from retention.bench.database import create_database, same_database
from retention.bench.report import render
from retention.bench.results import save
from retention.bench.run import bench_run
from retention.bench.scale import DEFAULT_BENCH_DATABASE_URL, SCALES, scale_for
from retention.bench.sections import SECTIONS

_CHILD_FLAG = "RETENTION_BENCH_CHILD"


class Command(BaseCommand):
    help = (
        "Measure page times, query counts, claim-next latency, import speed, outreach fan-out "
        "and sending, the reminder tick, and the dashboard over two years of closed cases on a "
        "dedicated benchmark database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=sorted(SCALES), default="quick")
        parser.add_argument("--subscribers", type=int, default=None, help="Override the scale.")
        parser.add_argument("--reload", action="store_true", help="Load the data again.")
        parser.add_argument("--requests", type=int, default=200, help="Requests per figure.")
        for section in SECTIONS:
            if not section.always:
                parser.add_argument(
                    f"--skip-{section.name}", action="store_true", help=section.skip_help
                )

    def handle(self, *args: Any, **options: Any) -> None:
        url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_BENCH_DATABASE_URL)
        target = dj_database_url.parse(url)
        if target["ENGINE"] != "django.db.backends.postgresql":
            raise CommandError("BENCH_DATABASE_URL must point at PostgreSQL.")
        if not same_database(settings.DATABASES["default"], target):
            if os.environ.get(_CHILD_FLAG):
                raise CommandError("DATABASE_URL does not match BENCH_DATABASE_URL.")
            if create_database(target):
                self.stdout.write(f"Created database {target['NAME']}.")
            self._rerun_with(url)
        self.run(options)

    def _rerun_with(self, url: str) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "TESTING": "true",
            "DEBUG": "false",
            _CHILD_FLAG: "1",
        }
        self.stdout.write(f"Running against {url}…")
        self.stdout.flush()
        sys.stderr.flush()
        argv = [sys.executable, os.path.abspath(sys.argv[0]), *sys.argv[1:]]
        os.execve(sys.executable, argv, env)  # noqa: S606 — this same command, on another DB

    def run(self, options: dict[str, Any]) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("The benchmark needs PostgreSQL.")

        def log(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        call_command("migrate", verbosity=0)
        skip = {s.name for s in SECTIONS if options.get(f"skip_{s.name.replace('-', '_')}")}
        results = bench_run(
            scale_for(options["scale"], options["subscribers"]),
            reload=options["reload"],
            requests=options["requests"],
            skip=skip,
            log=log,
        )
        path = save(results)
        self.stdout.write("")
        self.stdout.write(render(results))
        self.stdout.write(f"\nFigures saved to {path}.")
