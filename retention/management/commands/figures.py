from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser

from retention.dashboard import figures


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {text}") from exc


class Command(BaseCommand):
    help = (
        "Compute the dashboard's figures again for a range of days (after a data fix or a "
        "load). Idempotent: each day's rows are replaced. Default: every day with a closed case."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", type=_day, help="first day (desk time), YYYY-MM-DD")
        parser.add_argument("--until", type=_day, help="last day, default today")
        parser.add_argument("--days", type=int, help="the last N days instead of --since")

    def handle(self, *args: object, **options: object) -> None:
        today = figures.desk_today()
        until, since, days = options["until"], options["since"], options["days"]
        last = until if isinstance(until, date) else today
        if isinstance(days, int) and days > 0:
            first = today - timedelta(days=days - 1)
        elif isinstance(since, date):
            first = since
        else:
            first = figures.first_case_day() or today
        if first > last:
            raise CommandError("--since is after --until")
        done = figures.figures_refresh_range(first=first, last=last)
        figures.loyalty_snapshot_take()
        outcomes = sum(d.outcomes for d in done)
        self.stdout.write(
            self.style.SUCCESS(
                f"Computed {len(done)} days from {first} to {last}: {outcomes:,} closed cases."
            )
        )
