"""Import subscribers from a billing CSV export: validate every row, then upsert by account number.

Reading and validation (here, with the columns and cell parsers of importing_columns.py) are one
piece of code for every database; only the write differs (importing_load.py). PostgreSQL streams
the valid rows through COPY into a temporary staging table while the file is still being read,
then upserts from it in one statement. SQLite (development) upserts in chunks with
``bulk_create``. Either way it is one transaction: a file with bad rows imports nothing unless
``skip_invalid`` is set, and memory stays bounded because rows are never all held at once.
"""

import csv
import operator
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

from django.db import transaction

from subscribers.importing_columns import COLUMNS, Column, Parser, plan_parser
from subscribers.importing_columns import COLUMNS_BY_NAME as COLUMNS_BY_NAME  # the admin's list
from subscribers.importing_load import (
    Conflict,
    arrivals_score_after_commit,
    subscriber_field,
    writer_for,
)
from subscribers.models import Plan
from subscribers.text import visible

# The report keeps this many bad rows in detail and counts the rest: a million-row file that is
# wrong throughout must not build a million error objects.
ERROR_DETAIL_LIMIT = 10_000
# How often the progress callback hears about rows read.
PROGRESS_EVERY = 5_000


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
    # Rows that match what is stored already (an import that replaces, like usage months).
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    rows_read: int = 0
    seconds: float = 0.0
    # Bad rows in all; ``errors`` holds the first ERROR_DETAIL_LIMIT of them.
    error_count: int = 0
    skip_invalid: bool = False
    # Values not written because the desk holds the field for billing (FieldHold).
    conflicts: list[Conflict] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged

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
        if self.unchanged:
            text += f", {self.unchanged:,} unchanged"
        if self.error_count:
            text += f", {_count(self.error_count, 'invalid row')} skipped"
        if self.conflicts:
            text += (
                f", {_count(len(self.conflicts), 'value')} kept as the desk set them "
                "(conflicts with billing, listed below and in the admin)"
            )
        return text + "."

    def __str__(self) -> str:
        lines = [self.summary(), *(str(error) for error in self.errors)]
        lines += [f"conflict: {conflict}" for conflict in self.conflicts]
        if self.errors_not_listed:
            lines.append(f"… and {_count(self.errors_not_listed, 'more invalid row')}.")
        return "\n".join(lines)


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


# --- Reading --------------------------------------------------------------------------------


@contextmanager
def open_text(file: TextIO | str | os.PathLike[str]) -> Iterator[TextIO]:
    if isinstance(file, str | os.PathLike):
        # utf-8-sig drops the byte-order mark that Excel writes, and reads files without one.
        with open(file, encoding="utf-8-sig", newline="") as text:
            yield text
    else:
        yield file


def read_header(reader: Any, allowed: Sequence[Column] = COLUMNS) -> list[Column]:
    """The columns the header row names, in its order, from the ``allowed`` ones; raises
    ImportFileError when it is not a header of such a file."""
    try:
        return _header_columns(reader, {column.name: column for column in allowed})
    except UnicodeDecodeError:
        raise ImportFileError(
            "The file is not UTF-8 text. Export it as CSV UTF-8 and upload it again."
        ) from None
    except csv.Error as exc:
        raise ImportFileError(f"The header line is not valid CSV: {exc}.") from None


def _header_columns(reader: Any, by_name: dict[str, Column]) -> list[Column]:
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
        visible(name) or f"(empty name in column {i})"
        for i, name in enumerate(names, 1)
        if name not in by_name
    ]
    if unknown:
        raise ImportFileError(
            f"Unknown columns: {', '.join(unknown)}. The file is refused as a whole. "
            f"Allowed columns: {', '.join(by_name)}."
        )
    missing = [
        column.name for column in by_name.values() if column.required and column.name not in names
    ]
    if missing:
        raise ImportFileError(f"Required columns missing from the header: {', '.join(missing)}.")
    return [by_name[name] for name in names]


def validated_rows(
    reader: Any,
    columns: list[Column],
    parsers: Sequence[Parser],
    report: ImportReport,
    progress: Callable[[int], None] | None,
    *,
    once_per_account: bool = True,
) -> Iterator[tuple[int, tuple[Any, ...]]]:
    """Yield the line and the values of every valid row, in header order (each cell read by
    its column's parser in ``parsers``); record the bad ones in the report.

    ``once_per_account``: an account number may appear on one row only. An import keyed by more
    than the account (usage: account and month) leaves that check to its writer.
    """
    names = [column.name for column in columns]
    width = len(columns)
    account_index = names.index("account_number")
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
            if once_per_account and account and len(account) <= 32:
                # Even a bad row claims its account number: the file contradicts itself about
                # that subscriber, so a later row for it is not taken at face value either.
                first = seen.setdefault(account, line)
                if first != line:
                    problems.append(f"account_number: {account} is already on line {first}")
            if problems:
                report.add_error(line, account, "; ".join(problems))
            else:
                yield line, values
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
    report; unless ``skip_invalid`` is set, any bad row means nothing is written. When rows
    were created, their churn risk is asked for after commit (scored on arrival).
    """
    started = time.perf_counter()
    report = ImportReport(skip_invalid=skip_invalid)
    with open_text(file) as text:
        reader = csv.reader(text)
        columns = read_header(reader)
        fields = [subscriber_field(column.field) for column in columns]
        with transaction.atomic():
            plans = dict(Plan.objects.values_list("code", "id"))
            parsers = [
                plan_parser(plans) if column.name == "plan_code" else column.parse
                for column in columns
            ]
            writer = writer_for(fields)
            with writer:
                for _line, values in validated_rows(reader, columns, parsers, report, progress):
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
                report.conflicts = writer.conflicts
                if report.created:
                    arrivals_score_after_commit()
    report.seconds = time.perf_counter() - started
    return report
