"""Import speed: new subscribers from a billing export through import_subscribers_csv, against
a raw COPY of the same rows (with and without the subscriber table's indexes); and usage months
through import_usage_csv, against a raw COPY of the same rows into the usage table."""

import csv
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from retention.bench.results import Log, Results
from retention.bench.scale import SEED
from retention.demo.generator import IMPORT_COLUMNS, import_rows
from subscribers.models import Equipment, Plan, Subscriber, TimelineEvent, Usage

_RAW_COLUMNS = (
    "account_number", "name", "plan_id", "monthly_price", "signup_date", "region", "phone",
    "email", "language", "time_zone", "segment", "status", "promo_ends_on", "payment_method",
    "balance", "arrears", "do_not_call", "do_not_email", "do_not_sms", "churn_risk",
    "churn_risk_reasons", "updated_at",
)  # fmt: skip


def measure_import(results: Results, *, requests: int, log: Log) -> None:
    try:
        from subscribers.importing import import_subscribers_csv
    except ImportError as exc:
        results.note(f"Import not measured: subscribers.importing is not available ({exc}).", log)
        return
    rows = results.scale.import_rows
    _delete_imported()  # left over from an interrupted run
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "subscribers.csv"
        log(f"Writing {rows:,} new subscribers to a CSV file…")
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(IMPORT_COLUMNS)
            writer.writerows(import_rows(rows, seed=SEED + 1))
        log("Importing it with import_subscribers_csv…")
        start = time.perf_counter()
        report = import_subscribers_csv(file=path, skip_invalid=False)
        import_seconds = time.perf_counter() - start
        if report.error_count or report.created != rows:
            raise RuntimeError(f"the benchmark file did not import cleanly: {report}")
        _delete_imported()
        copy_seconds, bare_seconds = _raw_copies(path, Path(tmp) / "subscribers.copy", log=log)
    results.imports = {
        "rows": rows,
        "import_seconds": round(import_seconds, 2),
        "import_rows_per_second": round(rows / import_seconds),
        "copy_seconds": round(copy_seconds, 2),
        "copy_rows_per_second": round(rows / copy_seconds),
        "import_vs_copy": round(import_seconds / copy_seconds, 2),
        "copy_unindexed_seconds": round(bare_seconds, 2),
        "copy_unindexed_rows_per_second": round(rows / bare_seconds),
    }
    measure_usage_import(results, log=log)


def _raw_copies(path: Path, copy_file: Path, *, log: Log) -> tuple[float, float]:
    """Seconds to load the same rows with a raw COPY, and with one into a table without the
    subscriber table's indexes: how much of the cost is index maintenance (the four trigram
    GIN indexes above all)."""
    log("Loading the same rows with a raw COPY…")
    _write_copy_text(path, copy_file, dict(Plan.objects.values_list("code", "id")))
    copy_seconds = _raw_copy(copy_file)
    _delete_imported()
    return copy_seconds, _raw_copy(copy_file, bare=True)


def _delete_imported() -> None:
    """Remove the benchmark's imported subscribers (accounts B…) and anything hung on them."""
    subscribers = Subscriber._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        ids = f"SELECT id FROM {subscribers} WHERE account_number LIKE 'B%%'"
        cursor.execute(f"DELETE FROM {TimelineEvent._meta.db_table} WHERE subscriber_id IN ({ids})")
        cursor.execute(f"DELETE FROM {Equipment._meta.db_table} WHERE subscriber_id IN ({ids})")
        cursor.execute(f"DELETE FROM {subscribers} WHERE account_number LIKE 'B%%'")
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {subscribers}")


def _write_copy_text(source: Path, target: Path, plan_ids: dict[str, int]) -> None:
    """The CSV rows as COPY text with the model's defaults filled in: the work a raw COPY
    leaves out, done before the clock starts."""
    now = datetime.now(UTC).isoformat()
    with (
        source.open(encoding="utf-8", newline="") as src,
        target.open("w", encoding="utf-8") as out,
    ):
        reader = csv.reader(src)
        next(reader)
        for row in reader:
            row[2] = str(plan_ids[row[2]])
            out.write("\t".join(row) + f"\t0.00\t0.00\tf\tf\tf\t0\t[]\t{now}\n")


def _raw_copy(path: Path, *, bare: bool = False) -> float:
    """Seconds to COPY the file into the subscriber table, or with ``bare`` into a fresh table
    shaped like it but without indexes (dropped again afterwards)."""
    table = connection.ops.quote_name(Subscriber._meta.db_table)
    columns = ", ".join(map(connection.ops.quote_name, _RAW_COLUMNS))
    with transaction.atomic(), connection.cursor() as wrapper:
        if bare:
            wrapper.execute(
                f"CREATE TABLE bench_copy_floor (LIKE {table} INCLUDING DEFAULTS "
                "INCLUDING IDENTITY)"
            )
            table = "bench_copy_floor"
        start = time.perf_counter()
        with (
            wrapper.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            path.open(encoding="utf-8") as text,
        ):
            while chunk := text.read(1 << 20):
                copy.write(chunk)
        seconds = time.perf_counter() - start
        if bare:
            wrapper.execute("DROP TABLE bench_copy_floor")
    return seconds


# --- Usage months -------------------------------------------------------------------------------

# The usage months the benchmark imports start this many months back: older than the 12 months
# seed_demo writes, so that every row is created, and within the 36 months an import takes.
_USAGE_FIRST_MONTH_BACK = 30
_USAGE_COLUMNS = ("subscriber_id", "period", "gb_down", "gb_up", "hours_online", "peak_devices",
                  "people", "received_at")  # fmt: skip


def measure_usage_import(results: Results, *, log: Log) -> None:
    """Usage rows per second through import_usage_csv (validation, staging COPY, checks, one
    upsert, the fits of the subscribers touched), against a raw COPY of the same rows into the
    usage table, in the same run."""
    from subscribers.usage_import import import_usage_csv

    rows = results.scale.import_rows
    accounts = list(Subscriber.objects.order_by("id").values_list("account_number", "id")[:rows])
    if not accounts:
        results.note("Usage import not measured: no subscribers.", log)
        return
    months = _bench_months(-(-rows // len(accounts)))
    _delete_usage(months)
    with tempfile.TemporaryDirectory() as tmp:
        path, copy_path = Path(tmp) / "usage.csv", Path(tmp) / "usage.copy"
        log(f"Writing {rows:,} usage months to a CSV file…")
        now = datetime.now(UTC).isoformat()
        with path.open("w", encoding="utf-8", newline="") as out, copy_path.open("w") as raw:
            writer = csv.writer(out)
            writer.writerow(["account_number", "period", "gb_down", "gb_up", "hours_online",
                             "peak_devices", "people"])  # fmt: skip
            for n in range(rows):
                account, pk = accounts[n % len(accounts)]
                month = months[n // len(accounts)]
                figures = (f"{(n * 37) % 900}.{n % 100:02d}", f"{(n * 7) % 90}.5",
                           f"{(n * 13) % 744}.0", str(1 + n % 9), "1")  # fmt: skip
                writer.writerow([account, f"{month:%Y-%m}", *figures])
                raw.write("\t".join((str(pk), month.isoformat(), *figures, now)) + "\n")
        log("Importing it with import_usage_csv…")
        start = time.perf_counter()
        report = import_usage_csv(file=path, skip_invalid=False)
        import_seconds = time.perf_counter() - start
        if report.error_count or report.created != rows:
            raise RuntimeError(f"the usage benchmark file did not import cleanly: {report}")
        _delete_usage(months)
        log("Loading the same usage rows with a raw COPY…")
        copy_seconds = _raw_usage_copy(copy_path)
        _delete_usage(months)
    results.imports["usage"] = {
        "rows": rows,
        "import_seconds": round(import_seconds, 2),
        "import_rows_per_second": round(rows / import_seconds),
        "copy_seconds": round(copy_seconds, 2),
        "copy_rows_per_second": round(rows / copy_seconds),
        "import_vs_copy": round(import_seconds / copy_seconds, 2),
    }


def _bench_months(count: int) -> list[date]:
    today = timezone.localdate()
    first = today.year * 12 + today.month - 1 - _USAGE_FIRST_MONTH_BACK
    return [date((first + n) // 12, (first + n) % 12 + 1, 1) for n in range(count)]


def _delete_usage(months: list[date]) -> None:
    with transaction.atomic():
        Usage.objects.filter(period__in=months).delete()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Usage._meta.db_table}")


def _raw_usage_copy(path: Path) -> float:
    table = connection.ops.quote_name(Usage._meta.db_table)
    columns = ", ".join(map(connection.ops.quote_name, _USAGE_COLUMNS))
    with transaction.atomic(), connection.cursor() as wrapper:
        start = time.perf_counter()
        with (
            wrapper.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            path.open(encoding="utf-8") as text,
        ):
            while chunk := text.read(1 << 20):
                copy.write(chunk)
        return time.perf_counter() - start
