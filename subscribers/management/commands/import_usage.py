from collections.abc import Callable
from pathlib import Path

from subscribers.importing import ImportReport
from subscribers.management.commands import import_subscribers
from subscribers.usage_import import REQUIRED_COLUMNS, import_usage_csv


class Command(import_subscribers.Command):
    """``import_subscribers`` with the usage import: the same arguments, progress and report."""

    help = (
        "Create or update usage months from a UTF-8 CSV file, matched on account_number and "
        f"period (YYYY-MM). Required columns: {', '.join(REQUIRED_COLUMNS)}. A file with "
        "invalid rows imports nothing unless --skip-invalid is given. The tariff fits of the "
        "subscribers whose usage changed are recomputed."
    )

    def run_import(
        self, path: Path, *, skip_invalid: bool, progress: Callable[[int], None]
    ) -> ImportReport:
        return import_usage_csv(file=path, skip_invalid=skip_invalid, progress=progress)
