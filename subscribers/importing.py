"""Import subscribers from a billing CSV export: validate every row, then upsert by account number.

Reading and validation are one piece of code for every database; only the write differs.
PostgreSQL streams the valid rows through COPY into a temporary staging table while the file is
still being read, then upserts from it in one statement. SQLite (development) upserts in chunks
with ``bulk_create``. Either way it is one transaction: a file with bad rows imports nothing
unless ``skip_invalid`` is set, and memory stays bounded because rows are never all held at once.
"""

import csv
import operator
import os
import re
import time
import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import TracebackType
from typing import Any, Protocol, Self, TextIO

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import connection, transaction
from django.db.models import Field, TextChoices
from django.utils import timezone

from subscribers.models import Plan, Subscriber
from subscribers.text import has_nul, visible

# The report keeps this many bad rows in detail and counts the rest: a million-row file that is
# wrong throughout must not build a million error objects.
ERROR_DETAIL_LIMIT = 10_000
# How often the progress callback hears about rows read.
PROGRESS_EVERY = 5_000
# Rows per bulk_create on SQLite.
SQLITE_CHUNK_SIZE = 1_000
# Serialises imports on PostgreSQL (pg_advisory_xact_lock): two imports upserting overlapping
# account numbers in different orders could otherwise deadlock each other.
_IMPORT_LOCK_KEY = 7_310_001
_STAGING_TABLE = "subscriber_import_staging"


class ImportFileError(Exception):
    """The file as a whole cannot be imported (encoding, header, format); nothing was changed."""


@dataclass(frozen=True, slots=True)
class RowError:
    line: int  # physical line in the file where the row starts; the header is line 1
    account_number: str
    message: str

    def __str__(self) -> str:
        account = f" (account {self.account_number})" if self.account_number else ""
        return f"line {self.line}{account}: {self.message}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    rows_read: int = 0
    seconds: float = 0.0
    # Bad rows in all; ``errors`` holds the first ERROR_DETAIL_LIMIT of them.
    error_count: int = 0
    skip_invalid: bool = False

    @property
    def imported(self) -> int:
        return self.created + self.updated

    @property
    def failed(self) -> bool:
        """Nothing was imported because of bad rows."""
        return self.error_count > 0 and self.imported == 0

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0

    def add_error(self, line: int, account_number: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < ERROR_DETAIL_LIMIT:
            # Cut: a garbage cell in place of an account number must not bloat the report; a
            # NUL in it is shown as \u0000, like the database, a terminal or a page can take.
            self.errors.append(RowError(line, visible(account_number[:40]), message))

    @property
    def errors_not_listed(self) -> int:
        return self.error_count - len(self.errors)

    def summary(self) -> str:
        read = (
            f"Read {_count(self.rows_read, 'row')} in {self.seconds:.1f} s "
            f"({self.rows_per_second:,.0f} rows/s)"
        )
        if self.failed:
            if self.skip_invalid:
                return f"{read}: nothing imported, every row is invalid."
            return f"{read}: nothing imported, {_count(self.error_count, 'invalid row')}."
        text = f"{read}: {self.created:,} created, {self.updated:,} updated"
        if self.error_count:
            text += f", {_count(self.error_count, 'invalid row')} skipped"
        return text + "."

    def __str__(self) -> str:
        lines = [self.summary(), *(str(error) for error in self.errors)]
        if self.errors_not_listed:
            lines.append(f"… and {_count(self.errors_not_listed, 'more invalid row')}.")
        return "\n".join(lines)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


# --- Columns --------------------------------------------------------------------------------
# A parser takes a cell as read and returns the value to store, or raises ValueError with a
# message that completes "<column>: …". They run millions of times, so the common case (a clean
# cell) comes first; stray spaces and explanations of bad values take the slower path.
Parser = Callable[[str], Any]

_DECIMAL_RE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
# The everyday shape of an address; anything else goes to Django's validator, so the accepted set
# is exactly the model form's, and the common case skips its slow checks (~8 µs per address).
_SIMPLE_EMAIL_RE = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_validate_email = EmailValidator()
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _text(max_length: int, *, required: bool) -> Parser:
    def parse(raw: str) -> str:
        value = raw.strip()
        if not value:
            if required:
                raise ValueError("is required")
            return value
        if len(value) > max_length:
            raise ValueError(f"is longer than {max_length} characters")
        if has_nul(value):  # PostgreSQL refuses it (subscribers/text.py)
            raise ValueError("contains a NUL character")
        return value

    return parse


def _choice(choices: type[TextChoices]) -> Parser:
    allowed = frozenset(choices.values)
    listed = ", ".join(choices.values)

    def parse(raw: str) -> str:
        if raw in allowed:
            return raw
        if (value := raw.strip()) != raw:
            return parse(value)
        raise ValueError(f"{raw!r} is not one of {listed}")

    return parse


def _date(*, required: bool) -> Parser:
    def parse(raw: str) -> date | None:
        # fromisoformat alone would also take 20240131 and week dates; the format is fixed.
        if len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
            try:
                return date.fromisoformat(raw)
            except ValueError:
                raise ValueError(f"{raw!r} is not a valid date") from None
        if (value := raw.strip()) != raw:
            return parse(value)
        if not value:
            if required:
                raise ValueError("is required")
            return None
        raise ValueError(f"{raw!r} is not a date in the form YYYY-MM-DD")

    return parse


def _decimal(max_digits: int, *, negative: bool) -> Parser:
    whole_digits = max_digits - 2
    # Plain numbers within the column's range match this and are passed on as they are (the
    # database parses them); anything else gets the full check below.
    plain = re.compile(
        ("-?" if negative else "") + rf"[0-9]{{1,{whole_digits}}}(?:\.[0-9]{{1,2}})?"
    )
    limit = Decimal(10) ** whole_digits

    def parse(raw: str) -> str:
        if plain.fullmatch(raw):
            return raw
        if (stripped := raw.strip()) != raw:
            return parse(stripped)
        if not raw:
            raise ValueError("is required")
        if "," in raw:
            raise ValueError(f"{raw!r}: use a dot as the decimal separator")
        if not _DECIMAL_RE.fullmatch(raw):
            raise ValueError(f"{raw!r} is not a number like 29.99")
        value = Decimal(raw)
        if value.as_tuple().exponent < -2:  # type: ignore[operator]  # finite, so an int
            raise ValueError(f"{raw} has more than 2 decimal places")
        if abs(value) >= limit:
            raise ValueError(f"{raw} must be less than {limit}")
        if value < 0 and not negative:
            raise ValueError(f"{raw} must not be negative")
        return str(value)  # leading zeros, or a negative zero

    return parse


def _boolean(raw: str) -> bool:
    try:
        return _BOOLEANS[raw]
    except KeyError:
        if (value := raw.strip().lower()) != raw:
            return _boolean(value)
        raise ValueError(f"{raw!r} is not one of true, false, 1, 0, yes, no") from None


def _email(raw: str) -> str:
    value = raw.strip()
    if not value or (len(value) <= 254 and _SIMPLE_EMAIL_RE.fullmatch(value)):
        return value
    if len(value) > 254:
        raise ValueError("is longer than 254 characters")
    try:
        _validate_email(value)
    except ValidationError:
        raise ValueError(f"{value!r} is not a valid e-mail address") from None
    return value


# Names found valid so far. A file repeats a handful of zones, and a set lookup is much cheaper
# than lru_cache; invalid names are not kept, so junk in a file cannot grow it.
_known_time_zones: set[str] = set()


def _is_time_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _time_zone(raw: str) -> str:
    if raw in _known_time_zones:
        return raw
    if (value := raw.strip()) != raw:
        return _time_zone(value)
    if value and len(value) <= 64 and _is_time_zone(value):
        _known_time_zones.add(value)
        return value
    raise ValueError(f"{raw!r} is not a time zone name such as Europe/Riga")


@dataclass(frozen=True)
class Column:
    name: str  # in the CSV header
    field: str  # Subscriber field it fills
    required: bool
    parse: Parser
    help: str  # for README and the admin upload page


_S = Subscriber
COLUMNS: tuple[Column, ...] = (
    Column(
        "account_number",
        "account_number",
        True,
        _text(32, required=True),
        "Billing account number, up to 32 characters. Rows are matched on it.",
    ),
    Column("name", "name", True, _text(200, required=True), "Up to 200 characters."),
    # The parser here only documents the shape; each import looks codes up in the plans it read.
    Column(
        "plan_code", "plan", True, _text(40, required=True), "Code of an existing plan (Plan.code)."
    ),
    Column(
        "monthly_price",
        "monthly_price",
        True,
        _decimal(8, negative=False),
        "Current monthly price, e.g. 29.99: dot separator, at most 2 decimals, 0 to 999999.99.",
    ),
    Column("signup_date", "signup_date", True, _date(required=True), "YYYY-MM-DD."),
    Column("region", "region", True, _text(64, required=True), "Up to 64 characters."),
    Column(
        "phone", "phone", False, _text(32, required=False), "Up to 32 characters; may be empty."
    ),
    Column("email", "email", False, _email, "A valid address; may be empty."),
    Column("language", "language", False, _choice(_S.Language), "lv, ru or en. Default lv."),
    Column(
        "time_zone",
        "time_zone",
        False,
        _time_zone,
        "IANA time zone name, e.g. Europe/Riga (the default).",
    ),
    Column(
        "segment",
        "segment",
        False,
        _choice(_S.Segment),
        "residential (default), small_business or corporate.",
    ),
    Column(
        "status",
        "status",
        False,
        _choice(_S.Status),
        "active (default), suspended, cancelling or cancelled.",
    ),
    Column(
        "promo_ends_on",
        "promo_ends_on",
        False,
        _date(required=False),
        "YYYY-MM-DD; empty for no promotion.",
    ),
    Column(
        "balance",
        "balance",
        False,
        _decimal(10, negative=True),
        "Amount owed now, e.g. 12.50 (at most 2 decimals); negative means in credit. Default 0.",
    ),
    Column(
        "arrears",
        "arrears",
        False,
        _decimal(10, negative=False),
        "Overdue part of the balance, e.g. 4.99; not negative. Default 0.",
    ),
    Column(
        "payment_method",
        "payment_method",
        False,
        _choice(_S.PaymentMethod),
        "direct_debit (default), card, bank_transfer or cash.",
    ),
    Column(
        "do_not_call",
        "do_not_call",
        False,
        _boolean,
        "true/false, 1/0 or yes/no (any case). Default false.",
    ),
    Column(
        "do_not_email",
        "do_not_email",
        False,
        _boolean,
        "true/false, 1/0 or yes/no (any case). Default false.",
    ),
    Column(
        "do_not_sms",
        "do_not_sms",
        False,
        _boolean,
        "true/false, 1/0 or yes/no (any case). Default false.",
    ),
)
COLUMNS_BY_NAME = {column.name: column for column in COLUMNS}
REQUIRED_COLUMNS = tuple(column.name for column in COLUMNS if column.required)
OPTIONAL_COLUMNS = tuple(column.name for column in COLUMNS if not column.required)


def _plan_parser(plans: dict[str, int]) -> Parser:
    def parse(raw: str) -> int:
        try:
            return plans[raw]
        except KeyError:
            if (value := raw.strip()) != raw:
                return parse(value)
            if not raw:
                raise ValueError("is required") from None
            raise ValueError(f"no plan has the code {raw!r}") from None

    return parse


def _model_field(name: str) -> Field:
    model_field = Subscriber._meta.get_field(name)
    assert isinstance(model_field, Field)
    return model_field


# --- Reading --------------------------------------------------------------------------------


@contextmanager
def _open_text(file: TextIO | str | os.PathLike[str]) -> Iterator[TextIO]:
    if isinstance(file, str | os.PathLike):
        # utf-8-sig drops the byte-order mark that Excel writes, and reads files without one.
        with open(file, encoding="utf-8-sig", newline="") as text:
            yield text
    else:
        yield file


def _read_header(reader: Any) -> list[Column]:
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("The file is empty.") from None
    names = [cell.strip().lower() for cell in header]
    if names:
        names[0] = names[0].lstrip("\ufeff")  # a BOM left by a caller that opened the file itself
    if not any(names):
        raise ImportFileError("The first line must be the header row naming the columns.")
    if len(names) == 1 and ";" in names[0]:
        raise ImportFileError(
            "The header has a single column containing ';'. Save the file as comma-separated CSV."
        )
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        raise ImportFileError(
            f"Columns named more than once in the header: {', '.join(duplicated)}."
        )
    unknown = [
        name or f"(empty name in column {i})"
        for i, name in enumerate(names, 1)
        if name not in COLUMNS_BY_NAME
    ]
    if unknown:
        raise ImportFileError(
            f"Unknown columns: {', '.join(unknown)}. The file is refused as a whole. "
            f"Allowed columns: {', '.join(COLUMNS_BY_NAME)}."
        )
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise ImportFileError(f"Required columns missing from the header: {', '.join(missing)}.")
    return [COLUMNS_BY_NAME[name] for name in names]


def _validated_rows(
    reader: Any,
    columns: list[Column],
    plans: dict[str, int],
    report: ImportReport,
    progress: Callable[[int], None] | None,
) -> Iterator[tuple[Any, ...]]:
    """Yield the values of every valid row, in header order; record the bad ones in the report."""
    parsers = [
        _plan_parser(plans) if column.name == "plan_code" else column.parse for column in columns
    ]
    names = [column.name for column in columns]
    width = len(columns)
    account_index = names.index("account_number")
    # First line of each account number, to report duplicates. The only state that grows with
    # the file: about 110 MB per million rows.
    seen: dict[str, int] = {}
    rows = 0
    line_end = reader.line_num
    try:
        for row in reader:
            # line_num counts physical lines, so a quoted cell spanning lines is counted right;
            # report where the row starts.
            line = line_end + 1
            line_end = reader.line_num
            if not any(row):
                continue  # blank lines, and the ",,,," rows spreadsheets leave at the end
            rows += 1
            if progress is not None and rows % PROGRESS_EVERY == 0:
                progress(PROGRESS_EVERY)
            if len(row) != width:
                account = row[account_index].strip() if len(row) > account_index else ""
                report.add_error(line, account, f"has {len(row)} cells, the header has {width}")
                continue
            problems: list[str] = []
            try:
                # The hot path: one C-level loop over the cells, no per-cell bookkeeping.
                values = tuple(map(operator.call, parsers, row))
                account = values[account_index]
            except ValueError:
                # Only for a bad row: run every parser again to report all of its problems.
                for name, parse, raw in zip(names, parsers, row, strict=True):
                    try:
                        parse(raw)
                    except ValueError as exc:
                        problems.append(f"{name}: {exc}")
                account = row[account_index].strip()
            if account and len(account) <= 32:
                # Even a bad row claims its account number: the file contradicts itself about
                # that subscriber, so a later row for it is not taken at face value either.
                first = seen.setdefault(account, line)
                if first != line:
                    problems.append(f"account_number: {account} is already on line {first}")
            if problems:
                report.add_error(line, account, "; ".join(problems))
            else:
                yield values
    except UnicodeDecodeError:
        raise ImportFileError(
            f"The file is not UTF-8 text (the first problem is after line {line_end}). "
            "Export it as CSV UTF-8 and upload it again."
        ) from None
    except csv.Error as exc:
        raise ImportFileError(f"Line {line_end + 1} is not valid CSV: {exc}.") from None
    finally:
        report.rows_read = rows
    if progress is not None and rows % PROGRESS_EVERY:
        progress(rows % PROGRESS_EVERY)


# --- Writing --------------------------------------------------------------------------------


class _Writer(Protocol):
    def __enter__(self) -> Self: ...
    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None: ...
    def write(self, values: tuple[Any, ...]) -> None: ...
    def finish(self) -> tuple[int, int]: ...


def _quoted(model_field: Field) -> str:
    assert model_field.column is not None
    return connection.ops.quote_name(model_field.column)


class _CopyWriter:
    """PostgreSQL: COPY rows into a temporary table while reading, then one upsert from it."""

    def __init__(self, fields: list[Field]) -> None:
        self.fields = fields
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
        conflict = _quoted(_model_field("account_number"))
        assignments = ", ".join(f"{column} = EXCLUDED.{column}" for column in updates)
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


class _BulkCreateWriter:
    """SQLite (development): upsert in chunks with bulk_create."""

    def __init__(self, fields: list[Field]) -> None:
        self.names = [f.name for f in fields]
        self.update_fields = [f.name for f in fields if not f.unique] + ["updated_at"]
        self.created = self.updated = 0
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


# --- The service ----------------------------------------------------------------------------


def import_subscribers_csv(
    *,
    file: TextIO | str | os.PathLike[str],
    skip_invalid: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Create or update subscribers from a CSV file, matched on account number.

    ``file`` is a path (read as UTF-8, with or without a BOM) or a text file opened with
    ``newline=""``. ``progress`` is called with the number of rows read since its last call.
    Raises ImportFileError when the file as a whole is unusable. Bad rows are returned in the
    report; unless ``skip_invalid`` is set, any bad row means nothing is written.
    """
    started = time.perf_counter()
    report = ImportReport(skip_invalid=skip_invalid)
    with _open_text(file) as text:
        reader = csv.reader(text)
        try:
            columns = _read_header(reader)
        except UnicodeDecodeError:
            raise ImportFileError(
                "The file is not UTF-8 text. Export it as CSV UTF-8 and upload it again."
            ) from None
        except csv.Error as exc:
            raise ImportFileError(f"The header line is not valid CSV: {exc}.") from None
        fields = [_model_field(column.field) for column in columns]
        with transaction.atomic():
            plans = dict(Plan.objects.values_list("code", "id"))
            writer: _Writer = (
                _CopyWriter(fields)
                if connection.vendor == "postgresql"
                else _BulkCreateWriter(fields)
            )
            with writer:
                for values in _validated_rows(reader, columns, plans, report, progress):
                    # After the first bad row nothing will be written, but reading goes on so
                    # that every bad row is reported at once.
                    if skip_invalid or not report.error_count:
                        writer.write(values)
            if not report.rows_read:
                raise ImportFileError("The file has a header but no rows.")
            if report.error_count and not skip_invalid:
                transaction.set_rollback(True)
            else:
                report.created, report.updated = writer.finish()
    report.seconds = time.perf_counter() - started
    return report
