"""Import usage months from a network system's CSV export: validate every row, then upsert by
account number and month, and recompute the tariff fits of the subscribers whose usage changed.

The file is read and its cells checked by the subscriber import's pieces
(subscribers/importing.py: header, rows, report; importing_columns.py: cell parsers) against
the usage columns below, with the same rules as the API (subscribers/usage_ingest.py: the months
that may be reported, the maxima). What needs the database, an account number no subscriber
has and a month of a subscriber repeated in the file, is checked by the writer:

- PostgreSQL streams the rows, with their line numbers, through COPY into a temporary staging
  table while the file is still being read; two set-based queries then find the unknown
  accounts and the repeated months (memory stays bounded, however long the file), and one
  upsert writes the new and changed months.
- SQLite (development) looks the accounts up and upserts chunk by chunk with the ORM
  (``usage_months_store``, the API's own write).

One transaction either way: a file with bad rows imports nothing unless ``skip_invalid`` is
set; every bad row is reported with its line. The first row of a month is the one taken, a later
row for the same subscriber and month is a bad row.
"""

import csv
import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import TracebackType
from typing import Any, Protocol, Self, TextIO

from django.db import connection, transaction
from django.utils import timezone

from subscribers.fit import fits_compute
from subscribers.importing import (
    ImportFileError,
    ImportReport,
    open_text,
    read_header,
    validated_rows,
)
from subscribers.importing_columns import (
    Column,
    Parser,
    decimal_parser,
    integer_parser,
    text_parser,
)
from subscribers.models import Subscriber, Usage
from subscribers.usage import HOURS_IN_A_MONTH
from subscribers.usage_ingest import (
    MAX_DEVICES,
    MAX_GB,
    MAX_PEOPLE,
    MONTHS_BACK,
    UsageStatus,
    period_problem,
    usage_months_store,
)

# Serialises usage imports on PostgreSQL (pg_advisory_xact_lock), as the subscriber import's
# lock does: two imports upserting overlapping months in different orders could deadlock.
_IMPORT_LOCK_KEY = 7_310_002
_STAGING_TABLE = "usage_import_staging"
# Rows per lookup and upsert on SQLite.
SQLITE_CHUNK_SIZE = 1_000
# Above this many subscribers touched, the fits are recomputed for everyone, chunk by chunk
# (subscribers.fit.CHUNK): cheaper than that many lists of ids.
FIT_ALL_ABOVE = 50_000
UNKNOWN_ACCOUNT = "account_number: no subscriber has this account number"


def period_parser(today: date) -> Parser:
    """The parser of period for an import run on ``today``: YYYY-MM, a month that may be
    reported (subscribers/usage_ingest.py)."""
    # A file holds a handful of months: each is checked once.
    known: dict[str, date] = {}

    def parse(raw: str) -> date:
        try:
            return known[raw]
        except KeyError:
            pass
        value = raw.strip()
        if value != raw:
            return parse(value)
        if not value:
            raise ValueError("is required")
        try:
            if len(value) != 7 or value[4] != "-" or not value.isascii():
                raise ValueError
            period = date(int(value[:4]), int(value[5:]), 1)
        except ValueError:
            raise ValueError(f"{raw!r} is not a month in the form YYYY-MM") from None
        problem = period_problem(period, today)
        if problem:
            raise ValueError(f"{value} {problem}")
        known[raw] = period
        return period

    return parse


_GB_MAX = MAX_GB - Decimal("0.01")
COLUMNS: tuple[Column, ...] = (
    Column(
        "account_number",
        "account_number",
        True,
        text_parser(32, required=True),
        "Billing account number of an existing subscriber.",
    ),
    # The parser here only documents the shape; each import checks the months against its day.
    Column(
        "period",
        "period",
        True,
        period_parser(date.max),
        f"The month, YYYY-MM: not in the future, at most {MONTHS_BACK} months back.",
    ),
    Column(
        "gb_down",
        "gb_down",
        True,
        decimal_parser(9, negative=False, maximum=_GB_MAX),
        f"GB downloaded, e.g. 120.5: dot separator, at most 2 decimals, 0 to {_GB_MAX}.",
    ),
    Column(
        "gb_up",
        "gb_up",
        True,
        decimal_parser(9, negative=False, maximum=_GB_MAX),
        f"GB uploaded, as gb_down, 0 to {_GB_MAX}.",
    ),
    Column(
        "hours_online",
        "hours_online",
        True,
        decimal_parser(4, negative=False, places=1, maximum=Decimal(HOURS_IN_A_MONTH)),
        f"Hours online in the month, e.g. 310.5: at most 1 decimal, 0 to {HOURS_IN_A_MONTH}.",
    ),
    Column(
        "peak_devices",
        "peak_devices",
        True,
        integer_parser(0, MAX_DEVICES),
        f"Most devices online at once, a whole number from 0 to {MAX_DEVICES}.",
    ),
    Column(
        "people",
        "people",
        False,
        integer_parser(1, MAX_PEOPLE, default=1),
        f"People sharing the line, 1 to {MAX_PEOPLE}: a business's users. Default 1.",
    ),
)
REQUIRED_COLUMNS = tuple(column.name for column in COLUMNS if column.required)
FIGURES = ("gb_down", "gb_up", "hours_online", "peak_devices", "people")


# --- Writing ----------------------------------------------------------------------------------


@dataclass
class Written:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    touched: list[int] = field(default_factory=list)  # subscribers whose usage changed


class UsageWriter(Protocol):
    def __enter__(self) -> Self: ...
    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None: ...

    def write(self, line: int, values: tuple[Any, ...]) -> None: ...
    def problems(self) -> Iterator[tuple[int, str, str]]: ...
    def finish(self) -> Written: ...


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


class _CopyWriter:
    """PostgreSQL: COPY the rows into a temporary table while reading; check and upsert from it."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self._stack = ExitStack()

    def __enter__(self) -> Self:
        cursor = self._stack.enter_context(connection.cursor())
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_IMPORT_LOCK_KEY])
        # No constraints or indexes: rows arrive validated, and the checks read it whole.
        # Created inside the import's transaction, so a rollback removes it as well.
        cursor.execute(
            f"CREATE TEMPORARY TABLE {_STAGING_TABLE} (line integer, account_number text, "
            "period date, gb_down numeric, gb_up numeric, hours_online numeric, "
            "peak_devices integer, people integer) ON COMMIT DROP"
        )
        columns = ", ".join(["line", *self.names])
        self._copy = self._stack.enter_context(
            cursor.copy(f"COPY {_STAGING_TABLE} ({columns}) FROM STDIN")
        )
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        # Ends the COPY; on an exception psycopg aborts it and the error propagates.
        return self._stack.__exit__(kind, exc, tb)

    def write(self, line: int, values: tuple[Any, ...]) -> None:
        self._copy.write_row((line, *values))

    def problems(self) -> Iterator[tuple[int, str, str]]:
        subscribers = _quote(Subscriber._meta.db_table)
        # (The staging table is analysed first: the planner knows nothing of a fresh temporary
        # table and would guess a nested loop over a million rows.)
        sql = f"""
            SELECT line, account_number, first FROM (
                SELECT line, account_number,
                       min(line) OVER (PARTITION BY account_number, period) AS first
                FROM {_STAGING_TABLE}
            ) rows
            WHERE line <> first
            UNION ALL
            SELECT st.line, st.account_number, NULL FROM {_STAGING_TABLE} st
            WHERE NOT EXISTS (
                SELECT 1 FROM {subscribers} s WHERE s.account_number = st.account_number
            )
            ORDER BY line
        """
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {_STAGING_TABLE}")
            cursor.execute(sql)
            while rows := cursor.fetchmany(10_000):
                for line, account, first in rows:
                    if first is None:
                        yield line, account, UNKNOWN_ACCOUNT
                    else:
                        yield line, account, f"account_number, period: already on line {first}"

    def finish(self) -> Written:
        usage, subscribers = _quote(Usage._meta.db_table), _quote(Subscriber._meta.db_table)
        people = "st.people" if "people" in self.names else "1"
        figures = ", ".join(FIGURES)
        changed = " OR ".join(
            f"{usage}.{name} IS DISTINCT FROM EXCLUDED.{name}" for name in FIGURES
        )
        # The first row of each month of a known subscriber. xmax is 0 on a freshly inserted
        # row version and non-zero on one written by the DO UPDATE branch; a month whose figures
        # are the same is not written at all (no dead row, no fit to recompute).
        sql = f"""
            WITH src AS MATERIALIZED (
                SELECT DISTINCT ON (st.account_number, st.period)
                       s.id AS subscriber_id, st.period, st.gb_down, st.gb_up, st.hours_online,
                       st.peak_devices, {people} AS people
                FROM {_STAGING_TABLE} st
                JOIN {subscribers} s ON s.account_number = st.account_number
                ORDER BY st.account_number, st.period, st.line
            ),
            upserted AS (
                INSERT INTO {usage} (subscriber_id, period, {figures}, received_at)
                SELECT subscriber_id, period, {figures}, %s FROM src
                ORDER BY subscriber_id, period
                ON CONFLICT (subscriber_id, period) DO UPDATE
                SET {", ".join(f"{name} = EXCLUDED.{name}" for name in FIGURES)},
                    received_at = EXCLUDED.received_at
                WHERE {changed}
                RETURNING subscriber_id, (xmax = 0) AS inserted
            )
            SELECT (SELECT count(*) FROM src),
                   count(*) FILTER (WHERE inserted),
                   count(*) FILTER (WHERE NOT inserted),
                   coalesce(array_agg(DISTINCT subscriber_id), '{{}}')
            FROM upserted
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, [timezone.now()])
            rows, created, updated, touched = cursor.fetchone()
            # ON COMMIT DROP alone would leave it to a surrounding transaction (a test, a caller
            # importing twice) and the next import could not create it again.
            cursor.execute(f"DROP TABLE {_STAGING_TABLE}")
        return Written(created, updated, rows - created - updated, list(touched))


class _OrmWriter:
    """SQLite (development): look the accounts up and upsert chunk by chunk with the ORM."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.written = Written()
        self._touched: set[int] = set()
        self._problems: list[tuple[int, str, str]] = []
        self._seen: dict[tuple[str, date], int] = {}
        self._chunk: list[tuple[int, tuple[Any, ...]]] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        return None

    def write(self, line: int, values: tuple[Any, ...]) -> None:
        self._chunk.append((line, values))
        if len(self._chunk) >= SQLITE_CHUNK_SIZE:
            self._flush()

    def problems(self) -> Iterator[tuple[int, str, str]]:
        self._flush()
        yield from self._problems

    def finish(self) -> Written:
        self._flush()
        self.written.touched = sorted(self._touched)
        return self.written

    def _flush(self) -> None:
        if not self._chunk:
            return
        rows = [(line, dict(zip(self.names, values, strict=True))) for line, values in self._chunk]
        self._chunk = []
        ids = dict(
            Subscriber.objects.filter(
                account_number__in={row["account_number"] for _, row in rows}
            ).values_list("account_number", "id")
        )
        months: dict[tuple[int, date], dict[str, Any]] = {}
        for line, row in rows:
            account = row["account_number"]
            first = self._seen.setdefault((account, row["period"]), line)
            if first != line:
                message = f"account_number, period: already on line {first}"
                self._problems.append((line, account, message))
            elif account not in ids:
                self._problems.append((line, account, UNKNOWN_ACCOUNT))
            else:
                figures = {name: row.get(name, 1) for name in FIGURES}
                months[(ids[account], row["period"])] = figures
        for (subscriber_id, _), status in usage_months_store(months).items():
            if status == UsageStatus.CREATED:
                self.written.created += 1
            elif status == UsageStatus.UPDATED:
                self.written.updated += 1
            else:
                self.written.unchanged += 1
                continue
            self._touched.add(subscriber_id)


def _writer_for(names: list[str]) -> UsageWriter:
    if connection.vendor == "postgresql":
        return _CopyWriter(names)
    return _OrmWriter(names)


# --- The service --------------------------------------------------------------------------------


def import_usage_csv(
    *,
    file: TextIO | str | os.PathLike[str],
    skip_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Create or update usage months from a CSV file, matched on account number and month;
    then recompute the fits of the subscribers whose usage changed.

    ``file``, ``progress`` and the report as for ``import_subscribers_csv``: raises
    ImportFileError when the file as a whole is unusable; unless ``skip_invalid`` is set, any
    bad row means nothing is written.
    """
    started = time.perf_counter()
    today = timezone.localdate()
    report = ImportReport(skip_invalid=skip_invalid)
    with open_text(file) as text:
        reader = csv.reader(text)
        columns = read_header(reader, COLUMNS)
        parsers = [
            period_parser(today) if column.name == "period" else column.parse for column in columns
        ]
        with transaction.atomic():
            writer = _writer_for([column.name for column in columns])
            with writer:
                # Every valid row is staged, even after a bad one: the database's checks then
                # report every unknown account and repeated month at once.
                rows = validated_rows(
                    reader, columns, parsers, report, progress, once_per_account=False
                )
                for line, values in rows:
                    writer.write(line, values)
            if not report.rows_read:
                raise ImportFileError("The file has a header but no rows.")
            for line, account, message in writer.problems():
                report.add_error(line, account, message)
            report.errors.sort(key=lambda error: error.line)
            if report.error_count and not skip_invalid:
                transaction.set_rollback(True)
            else:
                written = writer.finish()
                report.created, report.updated = written.created, written.updated
                report.unchanged = written.unchanged
                _fits_refresh(written.touched, today)
    report.seconds = time.perf_counter() - started
    return report


def _fits_refresh(subscriber_ids: list[int], today: date) -> None:
    if len(subscriber_ids) > FIT_ALL_ABOVE:
        fits_compute(today=today)
    elif subscriber_ids:
        fits_compute(today=today, subscriber_ids=subscriber_ids)
