from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from retention.cases.case_import import (
    CSV_COLUMNS,
    CSV_REQUIRED_COLUMNS,
    CaseImportRejected,
    cases_import_csv,
)
from retention.cases.intake import CaseItemResult, CaseItemStatus


class Command(BaseCommand):
    help = (
        "Open cancellation cases from a CSV file (UTF-8, header row first; columns: "
        f"{', '.join(CSV_COLUMNS)}; required: {', '.join(CSV_REQUIRED_COLUMNS)}). "
        "If any row is bad nothing is imported, unless --skip-invalid. Importing a file again "
        "opens nothing twice."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help="The CSV file.")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the good rows and report the bad ones, instead of importing nothing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: str = options["file"]
        try:
            with open(path, "rb") as file:
                report = cases_import_csv(file=file, skip_invalid=options["skip_invalid"])
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        except CaseImportRejected as exc:
            for row in exc.rows:
                self.stdout.write(self.style.WARNING(_describe(row)))
            hint = " Correct them, or import with --skip-invalid." if exc.rows else ""
            raise CommandError(f"{path}: {exc}{hint}") from exc

        style = self.style.WARNING if report.rejected else self.style.SUCCESS
        self.stdout.write(
            style(
                f"{path}: {len(report.items)} rows: {report.created} created, "
                f"{report.duplicates} duplicates, {report.merged} merged into an open case, "
                f"{report.already_open} already open, {report.rejected} rejected."
            )
        )
        verbose = options["verbosity"] >= 2
        for row in report.items:
            if row.rejected:
                self.stdout.write(self.style.WARNING(_describe(row)))
            elif verbose or row.status in (CaseItemStatus.MERGED, CaseItemStatus.ALREADY_OPEN):
                self.stdout.write(_describe(row))
        if report.rejected and report.rejected == len(report.items):
            # --skip-invalid was given, and every row was bad: a failure for whoever runs this.
            raise CommandError(f"{path}: every row was rejected, so nothing was imported.")


def _describe(row: CaseItemResult) -> str:
    external_id = f" ({row.external_id})" if row.external_id else ""
    text = f"line {row.line}{external_id}: {row.status.replace('_', ' ')}"
    if row.case is not None:
        text += f", case #{row.case}"
    problems = [f"{e.field}: {e.message}" if e.field else e.message for e in row.errors]
    return text + (": " + "; ".join(problems) if problems else "")
