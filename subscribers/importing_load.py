"""Writing a subscriber import (subscribers/importing.py): its valid rows upserted by account
number, inside the import's transaction.

PostgreSQL streams the rows through COPY into a temporary staging table while the file is still
being read, then upserts from it in one statement. SQLite (development) upserts in chunks with
``bulk_create``.
"""

from contextlib import ExitStack
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from types import TracebackType
from typing import Any, Protocol, Self

from django.db import connection, transaction
from django.db.models import Field
from django.utils import timezone

from retention.core import broker
from subscribers.models import FieldConflict, FieldHold, Plan, Subscriber

# Rows per bulk_create on SQLite.
SQLITE_CHUNK_SIZE = 1_000
# Serialises imports on PostgreSQL (pg_advisory_xact_lock): two imports upserting overlapping
# account numbers in different orders could otherwise deadlock each other.
_IMPORT_LOCK_KEY = 7_310_001
_STAGING_TABLE = "subscriber_import_staging"
# Fields a desk decision may hold until billing confirms it (FieldHold): an import row that
# would change one is a conflict, and the field keeps the desk's value.
HELD = frozenset(FieldHold.Field.values)
# The churn-risk scorer's task (retention/risk): it scores every active subscriber that has no
# score yet. Asked for by name: subscribers may import retention.core, nothing else of retention.
SCORE_ARRIVALS_TASK = "retention.tasks.risk_score_arrivals"


def arrivals_score_after_commit() -> None:
    """Have the subscribers just created scored on arrival, not at the next nightly run: asks
    for the scorer once the transaction commits (call it inside the transaction that created
    them). The task takes no arguments and scores whoever is still unscored, so a message lost
    with the broker down only waits for beat's next risk-score-arrivals tick, and a repeated one
    finds nothing."""
    transaction.on_commit(lambda: broker.enqueue(SCORE_ARRIVALS_TASK))


@dataclass(frozen=True)
class Conflict:
    """A row's value the import did not write: the desk holds that field for billing."""

    account_number: str
    field: str
    incoming: str | None
    kept: str | None

    def __str__(self) -> str:
        return (
            f"account {self.account_number}: {self.field} {self.incoming or '—'} in the file, "
            f"kept {self.kept or '—'} (a desk decision billing has not confirmed yet)"
        )


def subscriber_field(name: str) -> Field:
    """The Subscriber field a column fills."""
    found = Subscriber._meta.get_field(name)
    assert isinstance(found, Field)
    return found


class Writer(Protocol):
    def __enter__(self) -> Self: ...
    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None: ...

    conflicts: list[Conflict]

    def write(self, values: tuple[Any, ...]) -> None: ...
    def finish(self) -> tuple[int, int]: ...


def _quoted(model_field: Field) -> str:
    assert model_field.column is not None
    return connection.ops.quote_name(model_field.column)


class _CopyWriter:
    """PostgreSQL: COPY rows into a temporary table while reading, then one upsert from it."""

    def __init__(self, fields: list[Field]) -> None:
        self.fields = fields
        self.conflicts: list[Conflict] = []
        self._stack = ExitStack()

    def __enter__(self) -> Self:
        cursor = self._stack.enter_context(connection.cursor())
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_IMPORT_LOCK_KEY])
        # No constraints or indexes: rows arrive validated, and the upsert reads it once.
        definitions = ", ".join(f"{_quoted(f)} {f.db_type(connection)}" for f in self.fields)
        # Created inside the import's transaction, so a rollback removes it as well.
        cursor.execute(f"CREATE TEMPORARY TABLE {_STAGING_TABLE} ({definitions}) ON COMMIT DROP")
        columns = ", ".join(_quoted(f) for f in self.fields)
        self._copy = self._stack.enter_context(
            cursor.copy(f"COPY {_STAGING_TABLE} ({columns}) FROM STDIN")
        )
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        # Ends the COPY; on an exception psycopg aborts it and the error propagates.
        return self._stack.__exit__(kind, exc, tb)

    def write(self, values: tuple[Any, ...]) -> None:
        self._copy.write_row(values)

    def finish(self) -> tuple[int, int]:
        insert_columns: list[str] = []
        select: list[str] = []
        params: list[Any] = []
        updates = [_quoted(f) for f in self.fields if not f.unique]
        now = timezone.now()
        for model_field in Subscriber._meta.concrete_fields:
            if model_field.primary_key:
                continue
            column = _quoted(model_field)
            insert_columns.append(column)
            if model_field in self.fields:
                select.append(column)
            elif getattr(model_field, "auto_now", False):
                select.append("%s")
                params.append(now)
                updates.append(column)
            else:
                # Columns the file leaves out get the model default on insert (Django defaults
                # live in Python, not in the table) and keep their value on update.
                select.append("%s")
                params.append(model_field.get_db_prep_save(model_field.get_default(), connection))
        table = connection.ops.quote_name(Subscriber._meta.db_table)
        conflict = _quoted(subscriber_field("account_number"))
        held = {_quoted(f): f.name for f in self.fields if f.name in HELD}
        self.conflicts = _staged_conflicts(list(held.values()), now)
        assignments = ", ".join(
            f"{column} = {_unless_held(table, column, held[column])}"
            if column in held
            else f"{column} = EXCLUDED.{column}"
            for column in updates
        )
        # xmax is 0 on a freshly inserted row version and non-zero on one written by the DO
        # UPDATE branch: the usual way to tell inserts from updates in one upsert statement.
        sql = f"""
            WITH upserted AS (
                INSERT INTO {table} ({", ".join(insert_columns)})
                SELECT {", ".join(select)} FROM {_STAGING_TABLE}
                ON CONFLICT ({conflict}) DO UPDATE SET {assignments}
                RETURNING (xmax = 0) AS inserted
            )
            SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted)
            FROM upserted
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            created, updated = cursor.fetchone()
            # ON COMMIT DROP alone would leave it to a surrounding transaction (a test, a caller
            # importing twice) and the next import could not create it again.
            cursor.execute(f"DROP TABLE {_STAGING_TABLE}")
        return created, updated


def _unless_held(table: str, column: str, name: str) -> str:
    """The upsert's value for a column a hold may keep: the row's own while the field is held."""
    holds = connection.ops.quote_name(FieldHold._meta.db_table)
    # ``name`` is one of FieldHold.Field's values, never input.
    return (
        f"CASE WHEN EXISTS (SELECT 1 FROM {holds} h WHERE h.subscriber_id = {table}.id "
        f"AND h.field = '{name}' AND h.released_at IS NULL) "
        f"THEN {table}.{column} ELSE EXCLUDED.{column} END"
    )


def _staged_conflicts(names: list[str], now: Any) -> list[Conflict]:
    """Staged rows that would change a held field: recorded as conflicts, in one statement a
    field."""
    table = connection.ops.quote_name(Subscriber._meta.db_table)
    holds = connection.ops.quote_name(FieldHold._meta.db_table)
    conflicts_table = connection.ops.quote_name(FieldConflict._meta.db_table)
    plans = connection.ops.quote_name(Plan._meta.db_table)
    found: list[Conflict] = []
    with connection.cursor() as cursor:
        for name in names:
            column = _quoted(subscriber_field(name))
            if name == "plan":
                incoming = f"(SELECT code FROM {plans} WHERE id = s.{column})"
                kept = f"(SELECT code FROM {plans} WHERE id = t.{column})"
            else:
                incoming, kept = f"s.{column}::text", f"t.{column}::text"
            cursor.execute(
                f"""
                INSERT INTO {conflicts_table}
                    (subscriber_id, field, incoming, kept, hold_id, source, "where", at)
                SELECT t.id, %s, to_jsonb({incoming}), to_jsonb({kept}), h.id, 'import',
                       s.account_number, %s
                FROM {_STAGING_TABLE} s
                JOIN {table} t ON t.account_number = s.account_number
                JOIN {holds} h ON h.subscriber_id = t.id AND h.field = %s
                     AND h.released_at IS NULL
                WHERE s.{column} IS DISTINCT FROM t.{column}
                RETURNING "where", field, incoming #>> '{{}}', kept #>> '{{}}'
                """,
                [name, now, name],
            )
            found += [Conflict(*row) for row in cursor.fetchall()]
    return sorted(found, key=lambda c: (c.account_number, c.field))


class _BulkCreateWriter:
    """SQLite (development): upsert in chunks with bulk_create."""

    def __init__(self, fields: list[Field]) -> None:
        self.names = [f.name for f in fields]
        self.update_fields = [f.name for f in fields if not f.unique] + ["updated_at"]
        self.created = self.updated = 0
        self.conflicts: list[Conflict] = []
        self._chunk: list[tuple[Any, ...]] = []

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        return None

    def write(self, values: tuple[Any, ...]) -> None:
        self._chunk.append(values)
        if len(self._chunk) >= SQLITE_CHUNK_SIZE:
            self._flush()

    def finish(self) -> tuple[int, int]:
        self._flush()
        return self.created, self.updated

    def _flush(self) -> None:
        if not self._chunk:
            return
        names = [name if name != "plan" else "plan_id" for name in self.names]
        # Fields the file leaves out get the model default here, and are not in update_fields.
        objects = [Subscriber(**dict(zip(names, values, strict=True))) for values in self._chunk]
        self._chunk = []
        self._keep_held(objects)
        # bulk_create does not say which rows it inserted; one query per chunk counts them.
        existing = Subscriber.objects.filter(
            account_number__in=[obj.account_number for obj in objects]
        ).count()
        Subscriber.objects.bulk_create(
            objects,
            update_conflicts=True,
            unique_fields=["account_number"],
            update_fields=self.update_fields,
        )
        self.created += len(objects) - existing
        self.updated += existing

    def _keep_held(self, objects: list[Subscriber]) -> None:
        """Objects whose held fields the file would change keep the row's values; each such
        value is a conflict."""
        names = [name for name in self.update_fields if name in HELD]
        if not names:
            return
        holds = list(
            FieldHold.objects.filter(
                subscriber__account_number__in=[obj.account_number for obj in objects],
                field__in=names,
                released_at__isnull=True,
            ).select_related("subscriber", "subscriber__plan")
        )
        by_account = {obj.account_number: obj for obj in objects}
        now = timezone.now()
        recorded = []
        for hold in holds:
            row, current = by_account[hold.subscriber.account_number], hold.subscriber
            attribute = "plan_id" if hold.field == "plan" else hold.field
            incoming, kept = getattr(row, attribute), getattr(current, attribute)
            if _same(incoming, kept):
                continue
            setattr(row, attribute, kept)
            if hold.field == "plan":
                incoming = Plan.objects.get(pk=incoming).code
                kept = current.plan.code
            text = (
                None if incoming is None else str(incoming),
                None if kept is None else str(kept),
            )
            recorded.append(
                FieldConflict(
                    subscriber=current,
                    field=hold.field,
                    incoming=text[0],
                    kept=text[1],
                    hold=hold,
                    source="import",
                    where=current.account_number,
                    at=now,
                )
            )
            self.conflicts.append(Conflict(current.account_number, hold.field, *text))
        FieldConflict.objects.bulk_create(recorded)


def _same(incoming: Any, kept: Any) -> bool:
    """A cell's value and the row's, whatever type each comes as (a price may arrive as text
    for COPY, and be read back as a Decimal)."""
    if incoming is None or kept is None:
        return incoming is kept
    try:
        return Decimal(str(incoming)) == Decimal(str(kept))
    except InvalidOperation:
        return str(incoming) == str(kept)


def writer_for(fields: list[Field]) -> Writer:
    """The writer of this database for the ``fields`` a file fills, in the file's order."""
    if connection.vendor == "postgresql":
        return _CopyWriter(fields)
    return _BulkCreateWriter(fields)
