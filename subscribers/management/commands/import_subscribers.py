import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from subscribers.importing import ImportFileError, ImportReport, import_subscribers_csv
from subscribers.importing_columns import REQUIRED_COLUMNS


def _estimate_rows(path: Path) -> int:
    """Lines after the header: exact unless quoted cells span lines, and cheap to count."""
    lines = 0
    last = b"\n"
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    if last != b"\n":
        lines += 1  # the last line has no newline
    return max(lines - 1, 0)


class Command(BaseCommand):
    help = (
        "Create or update subscribers from a UTF-8 CSV file, matched on account_number. "
        f"Required columns: {', '.join(REQUIRED_COLUMNS)}. A file with invalid rows imports "
        "nothing unless --skip-invalid is given."
    )

    def run_import(
        self, path: Path, *, skip_invalid: bool, progress: Callable[[int], None]
    ) -> ImportReport:
        # import_usage's command is this one with another import.
        return import_subscribers_csv(file=path, skip_invalid=skip_invalid, progress=progress)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV file with a header row")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the valid rows and report the invalid ones instead of importing nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        skip_invalid: bool = options["skip_invalid"]
        # The bar goes to the real stderr and only on a terminal (disable=None), so redirected
        # output and tests get the report alone.
        with tqdm(
            total=_estimate_rows(path),
            unit=" rows",
            unit_scale=True,
            file=sys.stderr,
            disable=None if options["verbosity"] > 0 else True,
        ) as bar:

            def progress(rows: int) -> None:
                bar.update(rows)
                if bar.total and bar.n >= bar.total:
                    # Reading is done; the upsert that follows has no progress of its own.
                    bar.set_postfix_str("writing to the database…")

            try:
                report = self.run_import(path, skip_invalid=skip_invalid, progress=progress)
            except ImportFileError as exc:
                raise CommandError(f"{path}: {exc} Nothing was imported.") from exc
        style = self.style.ERROR if report.failed else self.style.SUCCESS
        self.stdout.write(style(report.summary()))
        for error in report.errors:
            self.stdout.write(self.style.WARNING(str(error)))
        if report.errors_not_listed:
            more = f"… and {report.errors_not_listed:,} more invalid rows."
            self.stdout.write(self.style.WARNING(more))
        if report.failed:
            if skip_invalid:
                raise CommandError("Nothing was imported: every row is invalid.")
            raise CommandError(
                f"Nothing was imported: invalid rows: {report.error_count:,}. "
                "Correct them, or use --skip-invalid to import the valid rows."
            )
