"""``manage.py bench``: the benchmark (see retention/bench.py). Not part of the test suite.

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
from collections.abc import Mapping
from typing import Any

import dj_database_url
import psycopg
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from psycopg import sql
from psycopg.conninfo import make_conninfo

from retention.bench import run as bench

_CHILD_FLAG = "RETENTION_BENCH_CHILD"


def _same_database(config: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    keys = ("ENGINE", "NAME", "HOST", "PORT")
    return all(str(config.get(k) or "") == str(other.get(k) or "") for k in keys)


def _create_database(config: Mapping[str, Any]) -> bool:
    """Create the benchmark database unless it exists; True if it was created."""
    params = {
        "dbname": "postgres",
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
    }
    conninfo = make_conninfo(**{k: v for k, v in params.items() if v})
    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if exists:
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
        return True


class Command(BaseCommand):
    help = (
        "Measure page times, query counts, claim-next latency, import speed, outreach fan-out "
        "and sending, the reminder tick, and the dashboard over two years of closed cases on a "
        "dedicated benchmark database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", choices=sorted(bench.SCALES), default="quick")
        parser.add_argument("--subscribers", type=int, default=None, help="Override the scale.")
        parser.add_argument("--reload", action="store_true", help="Load the data again.")
        parser.add_argument("--requests", type=int, default=200, help="Requests per figure.")
        parser.add_argument("--skip-claims", action="store_true")
        parser.add_argument("--skip-import", action="store_true")
        parser.add_argument(
            "--skip-outreach",
            action="store_true",
            help="Leave out campaign fan-out, outreach sending and the reminder tick.",
        )
        parser.add_argument(
            "--skip-dashboard",
            action="store_true",
            help="Leave out the history of closed cases, the figures' backfill and the dashboard.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        url = os.environ.get("BENCH_DATABASE_URL", bench.DEFAULT_BENCH_DATABASE_URL)
        target = dj_database_url.parse(url)
        if target["ENGINE"] != "django.db.backends.postgresql":
            raise CommandError("BENCH_DATABASE_URL must point at PostgreSQL.")
        if not _same_database(settings.DATABASES["default"], target):
            if os.environ.get(_CHILD_FLAG):
                raise CommandError("DATABASE_URL does not match BENCH_DATABASE_URL.")
            if _create_database(target):
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
        scale = bench.scale_for(options["scale"], options["subscribers"])
        data = bench.ensure_data(scale, reload=options["reload"], log=log)
        cases = bench.ensure_cases(scale, log=log)
        history = {} if options["skip_dashboard"] else bench.ensure_history(scale, log=log)
        results = bench.Results(scale=scale, data=data, cases=cases, history=history)
        bench.measure_pages(results, requests=options["requests"], log=log)
        if not options["skip_claims"]:
            bench.measure_claims(results, log=log)
        if not options["skip_import"]:
            bench.measure_import(results, log=log)
        if not options["skip_outreach"]:
            bench.measure_outreach(results, log=log)
        if not options["skip_dashboard"]:
            bench.measure_dashboard(results, requests=options["requests"], log=log)
        path = bench.save(results)
        self.stdout.write("")
        self.stdout.write(bench.render(results))
        self.stdout.write(f"\nFigures saved to {path}.")
