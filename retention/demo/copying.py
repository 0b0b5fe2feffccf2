"""The PostgreSQL writer of the demo data: one transaction that detaches the indexes and key
constraints of the four big tables, truncates them, streams every row through
``COPY ... FREEZE`` and rebuilds exactly the indexes and constraints it found (read from the
catalogue, so migrations stay the single definition)."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from django.core.management.color import no_style
from django.db import connection
from django.utils import timezone
from tqdm import tqdm

from retention.demo.generator import DemoGenerator
from retention.demo.rows import Bundle, EquipmentRow, LoadReport, SubscriberRow, UsageRow
from retention.demo.units import DAY, date_of, eur
from subscribers.models import Equipment, Plan, Subscriber, TimelineEvent, Usage

# churn_risk_kind is written empty: the demo's score is its own, no churn model's (the column
# has no default in the database, so COPY must name it).
_SUBSCRIBER_COLUMNS = (
    "id", "account_number", "name", "phone", "email", "language", "time_zone", "region",
    "segment", "status", "signup_date", "plan_id", "monthly_price", "promo_ends_on", "balance",
    "arrears", "payment_method", "do_not_call", "do_not_email", "do_not_sms", "churn_risk",
    "churn_risk_reasons", "churn_risk_kind", "updated_at",
)  # fmt: skip
_EQUIPMENT_COLUMNS = (
    "id", "subscriber_id", "kind", "model_name", "serial", "status", "return_method",
    "return_due_on", "shipped_on", "returned_on",
)  # fmt: skip
_EVENT_COLUMNS = (
    "id", "subscriber_id", "kind", "occurred_at", "actor_id", "source", "external_id", "summary",
    "code", "params", "data", "recorded_at",
)  # fmt: skip
_USAGE_COLUMNS = (
    "id", "subscriber_id", "period", "gb_down", "gb_up", "hours_online", "peak_devices", "people",
    "received_at",
)  # fmt: skip
_MODELS: list[type[Any]] = [TimelineEvent, Equipment, Usage, Subscriber]
_FLUSH_EVERY = 2000  # subscribers
NULL = "\\N"  # COPY text for NULL


def _copy_sql(model: type[Any], columns: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    table, names = quote(model._meta.db_table), ", ".join(map(quote, columns))
    return f"COPY {table} ({names}) FROM STDIN WITH (FREEZE)"


def _day_text(day: date | None) -> str:
    return NULL if day is None else day.isoformat()


class _Stamps:
    """Epoch seconds to COPY text, from two lookup tables instead of a datetime per row."""

    def __init__(self, first_day: int, last_day: int) -> None:
        self.first_day = first_day
        self.days = [date_of(d).isoformat() + " " for d in range(first_day, last_day + 1)]
        self.times = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+00" for s in range(DAY)]

    def __call__(self, epoch: int) -> str:
        day, second = divmod(epoch, DAY)
        return self.days[day - self.first_day] + self.times[second]


@dataclass
class DetachedSchema:
    """The key constraints and indexes taken off the big tables for the load, to put back."""

    drop: list[str]
    restore: list[str]


_CONSTRAINTS_SQL = """
    SELECT con.conrelid::regclass::text, con.conname, con.contype,
           pg_get_constraintdef(con.oid)
    FROM pg_constraint con
    WHERE con.contype IN ('p', 'u', 'f')
      AND (con.conrelid = ANY(%s::regclass[])
           OR (con.contype = 'f' AND con.confrelid = ANY(%s::regclass[])))
    ORDER BY con.conrelid::regclass::text, con.conname
"""
# Indexes that back no constraint: those go and come back with their constraint.
_INDEXES_SQL = """
    SELECT i.indexname, i.indexdef
    FROM pg_indexes i
    WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
      AND NOT EXISTS (
          SELECT 1 FROM pg_constraint c
          WHERE c.conindid
                = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass
      )
    ORDER BY i.tablename, i.indexname
"""


def detach_schema(cursor: Any, tables: list[str]) -> DetachedSchema:
    """SQL to drop, and to recreate exactly, the primary keys, unique and foreign keys of
    ``tables`` (and foreign keys elsewhere that point at them) and their other indexes.

    Definitions are read from the catalogue, so what comes back is what the migrations made,
    names included. Check constraints stay: they cost little during COPY.
    """
    cursor.execute(_CONSTRAINTS_SQL, [tables, tables])
    constraints = cursor.fetchall()
    cursor.execute(_INDEXES_SQL, [tables])
    indexes = cursor.fetchall()
    q = connection.ops.quote_name
    foreign = [c for c in constraints if c[2] == "f"]
    keys = [c for c in constraints if c[2] != "f"]
    drop = [
        f"ALTER TABLE {table} DROP CONSTRAINT {q(name)}" for table, name, _, _ in foreign + keys
    ]
    drop += [f"DROP INDEX {q(name)}" for name, _ in indexes]
    # Primary keys first (foreign keys need them), then the other indexes, then foreign keys.
    keys.sort(key=lambda c: c[2] != "p")
    restore = [
        f"ALTER TABLE {table} ADD CONSTRAINT {q(name)} {definition}"
        for table, name, _, definition in keys
    ]
    restore += [definition for _, definition in indexes]
    restore += [
        f"ALTER TABLE {table} ADD CONSTRAINT {q(name)} {definition}"
        for table, name, _, definition in foreign
    ]
    return DetachedSchema(drop, restore)


def load_postgres(
    generator: DemoGenerator,
    plan_ids: dict[str, int],
    report: LoadReport,
    *,
    bar: tqdm[Any],
    log: Callable[[str], None],
    started: float,
) -> None:
    """Must run inside a transaction: a failure anywhere leaves the schema as it was."""
    tables = [m._meta.db_table for m in _MODELS]
    quote = connection.ops.quote_name
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own cursor, for copy()
        schema = _detach_and_empty(cursor, tables)
        _copy_rows(cursor, generator, plan_ids, report, bar)
        bar.close()
        report.seconds["generate and copy"] = time.perf_counter() - started
        log(
            f"Rows copied in {report.seconds['generate and copy']:.1f} s; "
            "rebuilding indexes and keys…"
        )
        mark = time.perf_counter()
        _restore(cursor, schema, log)
        report.seconds["indexes and keys"] = time.perf_counter() - mark
        mark = time.perf_counter()
        for table in tables:
            cursor.execute(f"ANALYZE {quote(table)}")
        report.seconds["analyze"] = time.perf_counter() - mark


def _detach_and_empty(cursor: Any, tables: list[str]) -> DetachedSchema:
    # Memory for the index builds after the load; a session setting, undone at commit.
    cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
    cursor.execute("SET LOCAL synchronous_commit = off")
    schema = detach_schema(cursor, tables)
    for statement in schema.drop:
        cursor.execute(statement)
    # Empty already, but truncating in this transaction lets COPY write frozen rows: no
    # hint-bit rewrite or freeze vacuum of twenty million rows later, and the visibility map
    # is set, so index-only scans work at once.
    cursor.execute(f"TRUNCATE {', '.join(connection.ops.quote_name(t) for t in tables)}")
    return schema


def _copy_rows(
    cursor: Any,
    generator: DemoGenerator,
    plan_ids: dict[str, int],
    report: LoadReport,
    bar: tqdm[Any],
) -> None:
    stamps = _Stamps(generator.start_day - 1, generator.today_day + 2)
    now_text = timezone.now().isoformat()
    usage_text = _UsageText(generator, now_text)
    with (
        tempfile.TemporaryFile("w+", encoding="utf-8") as subscriber_file,
        tempfile.TemporaryFile("w+", encoding="utf-8") as equipment_file,
        tempfile.TemporaryFile("w+", encoding="utf-8") as usage_file,
    ):
        # One COPY stream at a time per connection: events go straight to the server while
        # the (smaller) subscriber, equipment and usage rows wait in temporary files.
        with cursor.copy(_copy_sql(TimelineEvent, _EVENT_COLUMNS)) as copy:
            spools = (subscriber_file, equipment_file, usage_file)
            _stream(generator.bundles(plan_ids), copy, spools, stamps, usage_text, report, bar)
        for model, columns, spool in (
            (Subscriber, _SUBSCRIBER_COLUMNS, subscriber_file),
            (Equipment, _EQUIPMENT_COLUMNS, equipment_file),
            (Usage, _USAGE_COLUMNS, usage_file),
        ):
            spool.seek(0)
            with cursor.copy(_copy_sql(model, columns)) as copy:
                while chunk := spool.read(1 << 20):
                    copy.write(chunk)


def _restore(cursor: Any, schema: DetachedSchema, log: Callable[[str], None]) -> None:
    for statement in schema.restore:
        step = time.perf_counter()
        cursor.execute(statement)
        log(f"  {time.perf_counter() - step:6.1f} s  {statement[:110]}")
    for statement in connection.ops.sequence_reset_sql(
        no_style(), [Plan, Subscriber, Equipment, TimelineEvent, Usage]
    ):
        cursor.execute(statement)


class _UsageText:
    """Usage rows as COPY text: the window's months and the received time written once."""

    def __init__(self, generator: DemoGenerator, now_text: str) -> None:
        self.now_text = now_text
        # "\t2026-01-01\t" for each month of the window, by its index.
        self.periods = [f"\t{first.isoformat()}\t" for first, _, _ in generator.usage_window]

    def __call__(self, rows: list[UsageRow]) -> str:
        periods, received = self.periods, self.now_text
        return "".join(
            f"{uid}\t{sid}{periods[month]}{eur(down)}\t{eur(up)}\t{tenths // 10}.{tenths % 10}\t"
            f"{devices}\t{people}\t{received}\n"
            for uid, sid, month, down, up, tenths, devices, people in rows
        )


def _stream(
    bundles: Iterator[Bundle],
    copy: Any,
    spools: tuple[IO[str], IO[str], IO[str]],
    stamps: _Stamps,
    usage_text: _UsageText,
    report: LoadReport,
    bar: tqdm[Any],
) -> None:
    """Write each bundle as COPY text lines. Generated text never holds tabs, newlines or
    backslashes, so it needs no escaping (tests/subscribers/test_seeding.py checks)."""
    lines: list[str] = []
    subscriber_lines: list[str] = []
    equipment_lines: list[str] = []
    usage_lines: list[str] = []
    now_text = usage_text.now_text
    pending = events = subscribers = equipment = usage = 0
    for bundle in bundles:
        subscriber_lines.append(_subscriber_line(bundle.subscriber, now_text))
        equipment_lines.extend(map(_equipment_line, bundle.equipment))
        usage_lines.append(usage_text(bundle.usage))
        usage += len(bundle.usage)
        for eid, sid, kind, at, source, ext, summary, data in bundle.events:
            stamp = stamps(at)
            lines.append(
                # What billing and the network sent: the timeline says it from the data where it
                # can (subscribers.phrases.event_phrase), so no phrase of the desk's own.
                f"{eid}\t{sid}\t{kind}\t{stamp}\t\\N\t{source}\t{ext or NULL}\t"
                f"{summary}\t\t{{}}\t{data}\t{stamp}\n"
            )
        events += len(bundle.events)
        equipment += len(bundle.equipment)
        subscribers += 1
        pending += 1
        if pending == _FLUSH_EVERY:
            _flush(copy, spools, lines, subscriber_lines, equipment_lines, usage_lines)
            bar.update(pending)
            pending = 0
    _flush(copy, spools, lines, subscriber_lines, equipment_lines, usage_lines)
    bar.update(pending)
    report.subscribers, report.equipment, report.events = subscribers, equipment, events
    report.usage = usage


def _flush(
    copy: Any,
    spools: tuple[IO[str], IO[str], IO[str]],
    lines: list[str],
    *spooled: list[str],
) -> None:
    copy.write("".join(lines))
    lines.clear()
    for spool, pending in zip(spools, spooled, strict=True):
        spool.write("".join(pending))
        pending.clear()


def _subscriber_line(s: SubscriberRow, now_text: str) -> str:
    return (
        f"{s.id}\t{s.account_number}\t{s.name}\t{s.phone}\t{s.email}\t{s.language}\t"
        f"{s.time_zone}\t{s.region}\t{s.segment}\t{s.status}\t{s.signup_date.isoformat()}\t"
        f"{s.plan_id}\t{eur(s.monthly_cents)}\t{_day_text(s.promo_ends_on)}\t"
        f"{'-' if s.balance_cents < 0 else ''}{eur(abs(s.balance_cents))}\t"
        f"{eur(s.arrears_cents)}\t{s.payment_method}\t"
        f"{'t' if s.do_not_call else 'f'}\t{'t' if s.do_not_email else 'f'}\t"
        f"{'t' if s.do_not_sms else 'f'}\t{s.churn_risk}\t{s.churn_risk_reasons}\t\t{now_text}\n"
    )


def _equipment_line(e: EquipmentRow) -> str:
    return (
        f"{e.id}\t{e.subscriber_id}\t{e.kind}\t{e.model_name}\t{e.serial}\t{e.status}\t"
        f"{e.return_method}\t{_day_text(e.return_due_on)}\t{_day_text(e.shipped_on)}\t"
        f"{_day_text(e.returned_on)}\n"
    )
