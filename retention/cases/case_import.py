"""Import cancellation requests from a CSV file: its rows are the items of one batch.

A row is what billing would send through the API (``CaseIn``, retention/cases/intake.py), read
from a file: the same validation, the same opening, the same all-or-nothing answer unless
``skip_invalid``. What is the file's own: its encoding and header, refused as a whole, and each
rejected row reported with the line it starts on.
"""

import csv
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import IO

from retention.cases.intake import (
    CaseBatchRejected,
    CaseItemResult,
    IntakeResult,
    cases_intake,
)
from subscribers.batches import MalformedItem, raw_external_id
from subscribers.text import FieldError

# Cases imported from a file are idempotent under this source (API calls use their token's).
IMPORT_SOURCE = "import"
CSV_COLUMNS = (
    "external_id",
    "account_number",
    "channel",
    "reason",
    "reason_detail",
    "competitor",
    "requested_end_date",
    "requested_at",
)
CSV_REQUIRED_COLUMNS = ("external_id", "account_number", "channel")


class CaseImportReport(IntakeResult):
    """An import's result: ``items`` are the rows of the file, each with its ``line``."""


class CaseImportRejected(Exception):
    """The file, or some of its rows, are bad, so nothing was imported.

    ``rows`` lists the rejected rows with their line numbers; it is empty when the file as a
    whole is refused (its header, its encoding).
    """

    def __init__(self, message: str, *, rows: Sequence[CaseItemResult] = ()) -> None:
        super().__init__(message)
        self.rows = list(rows)


def cases_import_csv(*, file: IO[bytes], skip_invalid: bool = False) -> CaseImportReport:
    """Open cases for the rows of a CSV file (UTF-8, with or without BOM; header row first).

    The columns are ``CSV_COLUMNS``, of which ``CSV_REQUIRED_COLUMNS`` must be there; an empty
    cell is a missing value. Raises ``CaseImportRejected`` when the file is refused, or when a
    row is rejected and ``skip_invalid`` is false; nothing is imported then.
    """
    rows, lines = _read_csv(file)
    try:
        items = cases_intake(source=IMPORT_SOURCE, items=rows, skip_invalid=skip_invalid)
    except CaseBatchRejected as exc:
        bad = [replace(item, line=lines[item.index]) for item in exc.items]
        raise CaseImportRejected(
            f"{len(bad)} of {len(rows)} rows were rejected, so nothing was imported.", rows=bad
        ) from None
    return CaseImportReport(items=[replace(item, line=lines[item.index]) for item in items])


# --- Reading the file --------------------------------------------------------------------------


def _read_csv(file: IO[bytes]) -> tuple[list[dict[str, str] | MalformedItem], list[int]]:
    """The rows as items (empty cells left out), and the line each row starts on."""
    reader = csv.reader(_decoded_lines(file))
    rows: list[dict[str, str] | MalformedItem] = []
    lines: list[int] = []
    try:
        header = [name.strip() for name in next(reader, [])]
        _check_header(header)
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue  # a blank line, or a row of empty cells a spreadsheet left behind
            values = {
                name: cell.strip()
                for name, cell in zip(header, cells, strict=False)
                if cell.strip()
            }
            if len(cells) > len(header):
                error = FieldError(
                    None, f"The row has {len(cells)} cells, the header names {len(header)} columns"
                )
                rows.append(MalformedItem(raw_external_id(values), (error,)))
            else:
                rows.append(values)
            lines.append(line)
    except csv.Error as exc:
        raise CaseImportRejected(
            f"Line {reader.line_num} is not valid CSV ({exc}), so nothing was imported."
        ) from None
    return rows, lines


def _decoded_lines(file: IO[bytes]) -> Iterator[str]:
    # Line by line rather than through a TextIOWrapper, so that a bad byte is reported on its
    # line. Line endings are kept, as the csv module wants them.
    for number, raw in enumerate(file, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise CaseImportRejected(
                f"Line {number} is not UTF-8 text, so nothing was imported: save the file as "
                "CSV UTF-8."
            ) from None
        yield line.removeprefix("\ufeff") if number == 1 else line


def _check_header(header: list[str]) -> None:
    columns = ", ".join(CSV_COLUMNS)
    if not any(header):
        raise CaseImportRejected(
            f"The file is empty: its first line must name the columns ({columns})."
        )
    problems = []
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        problems.append("unknown columns: " + ", ".join(repr(name) for name in unknown))
    missing = [name for name in CSV_REQUIRED_COLUMNS if name not in header]
    if missing:
        problems.append("missing columns: " + ", ".join(missing))
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:
        problems.append("columns named twice: " + ", ".join(twice))
    if problems:
        raise CaseImportRejected(
            f"The header (line 1) is wrong ({'; '.join(problems)}), so nothing was imported. "
            f"The columns are: {columns} (the first three required)."
        )
