"""The dashboard's tables as CSV files, streamed, with no cell a spreadsheet would run.

A thin exporter over django-tables2's ``Table.as_values()``. The library's ``TableExport`` does
not serve: it needs tablib (not a dependency of ours), builds the whole file in memory before
it answers (the cases behind a figure are read in chunks as the file streams), and writes text
as it is, formulas included.
"""

import csv
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

import django_tables2 as tables
from django.http import StreamingHttpResponse


class _Echo:
    """csv.writer writes into this and gets the line back, so rows stream one at a time."""

    def write(self, value: str) -> str:
        return value


# A cell is a number or text; only text can smuggle in a formula.
Number = int | float | Decimal
Cell = Number | str
# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The unit a number of each kind is written in, named in its column's header.
UNITS = {"percent": " (%)", "money": " (EUR)", "seconds": " (min)"}


def csv_cell(value: Any) -> Cell:
    """A cell as a spreadsheet may open it without running anything.

    Text that starts like a formula (a subscriber named ``=HYPERLINK(…)``, a region ``-2+3``)
    gets a leading single quote, which spreadsheets take as "this is text", as OWASP advises.
    Numbers are written as they are, negative ones included: they come as numbers, never as
    text, so a figure stays a figure. Anything else (a lazy translation, say) is text. Every
    export writes its cells through here (stream_csv).
    """
    if isinstance(value, Number) and not isinstance(value, bool):
        return value
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_value(value: Any, kind: str) -> Cell:
    """A figure of the dashboard as a cell: a number in the unit the header names."""
    if value is None:
        return ""
    if kind == "percent":
        return Decimal(f"{value * 100:.1f}")
    if kind == "money":
        return Decimal(f"{Decimal(value):.2f}")
    if kind == "seconds":
        return Decimal(f"{value / 60:.1f}")
    if kind != "text" and isinstance(value, Number) and not isinstance(value, bool):
        return value
    return str(value)


def stream_csv(
    filename: str, header: Iterable[Any], rows: Iterable[Iterable[Any]]
) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # so spreadsheet programs read the file as UTF-8
        yield writer.writerow([csv_cell(cell) for cell in header])
        for row in rows:
            yield writer.writerow([csv_cell(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def table_csv(table: tables.Table, filename: str) -> StreamingHttpResponse:
    """``table`` as a CSV file: the rows of ``as_values()`` (each column's ``value``), read as
    the response streams. A column may name its header in the file apart from the page's (the
    file says the unit of its numbers): its ``export_header``."""
    values = table.as_values()
    shown = next(values)
    exported = [c for c in table.columns.iterall() if not c.column.exclude_from_export]
    # In the language of the request, read now: the rows stream after the view returns.
    header = [
        str(getattr(c.column, "export_header", None) or name)
        for c, name in zip(exported, shown, strict=True)
    ]
    return stream_csv(filename, header, values)
