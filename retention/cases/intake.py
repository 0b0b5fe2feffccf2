"""Intake of cancellation requests from other systems: billing's API calls and import files.

Both take the same items (``CaseIn``: one validation for both) and open every case through
``retention.cases.case_open``, the one way a case is opened. Semantics of a batch (the items of
one API call, or the rows of one file):

- Every item is validated, and its subscriber, reason and external id are looked up (one query
  each for the whole batch) before any case is opened, so that every problem is reported at once.
  A NUL character in any of its texts (PostgreSQL cannot store one) is such a problem.
- By default a batch with any rejected item opens nothing: bad input changes nothing. With
  ``skip_invalid`` the good items are opened and the others reported.
- Idempotent by ``(source, external_id)``: an item whose id was seen before (or earlier in the
  batch) is a ``duplicate`` and changes nothing; its content is not compared.
- A port-out notice for a subscriber with an open case is ``merged`` into it (the switch date
  binds that case); any other request for such a subscriber is ``already_open``: the open case
  already holds it. Neither is an error.
- Rejected: ``invalid``, ``unknown_subscriber``, ``subscriber_cancelled`` (a subscriber who has
  already left). A subscriber found cancelled only while opening still rejects the whole batch
  unless ``skip_invalid``: the cases are opened inside one transaction, rolled back then.
"""

import csv
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import IO, Annotated, Any

from django.db import transaction
from django.utils import timezone
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from retention.cases.opening import (
    CaseAlreadyOpen,
    Intake,
    RequestedEndTooLate,
    case_open,
    requested_end_problem,
)
from retention.core.refusals import WrongState
from retention.models import CancellationCase, CancellationReason
from subscribers.ingestion import OccurredAt
from subscribers.models import Subscriber
from subscribers.text import FieldError, has_nul, nul_errors

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
# Values per "IN (…)" lookup: one query for any API batch, and well under the bound parameters
# SQLite (32,766) and PostgreSQL (65,535) take, however long an import file is.
LOOKUP_CHUNK = 10_000
SUBSCRIBER_LEFT = "The subscriber has already left"


# --- One item: the fields both the API and the import take ---------------------------------


CHANNEL_VALUES = [str(channel.value) for channel in CancellationCase.Channel]


def _channel(value: str) -> str:
    if value not in CHANNEL_VALUES:
        raise PydanticCustomError(
            "channel", "Should be one of: {channels}", {"channels": ", ".join(CHANNEL_VALUES)}
        )
    return value


def _iso_date_only(value: Any) -> Any:
    # As for datetimes: pydantic would take a number as a Unix timestamp, which is a sender bug.
    if not isinstance(value, str | date):
        raise PydanticCustomError("date_type", "Input should be an ISO-8601 date, e.g. 2026-03-31")
    return value


# The enum is for the OpenAPI schema only; the validator is what enforces it.
Channel = Annotated[
    str, AfterValidator(_channel), Field(json_schema_extra={"enum": CHANNEL_VALUES})
]
Text = Annotated[str, StringConstraints(strip_whitespace=True)]


class CaseIn(BaseModel):
    """One cancellation request, as billing sends it or as a row of an import file.

    The reason, if given, must be an active one; a port-out notice must carry its switch date
    as requested_end_date.
    """

    # Each field is checked here; the two rules above need the database or more than one
    # field, and are checked by _rule_errors.

    # A misspelt field ("reson") is an error, not data silently dropped.
    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(
        min_length=1,
        max_length=100,
        description="The sender's id of the request; sending it again is a no-op.",
    )
    account_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = Field(
        max_length=32, description="The subscriber's account number in billing."
    )
    channel: Channel = Field(description="How the subscriber asked; port_out is a port-out notice.")
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] | None = Field(
        default=None, max_length=40, description="Code of an active cancellation reason."
    )
    reason_detail: Text | None = Field(
        default=None, max_length=2000, description="In the subscriber's words."
    )
    competitor: Text | None = Field(default=None, max_length=100)
    requested_end_date: Annotated[date, BeforeValidator(_iso_date_only)] | None = Field(
        default=None,
        description="When the subscriber wants to leave; for port_out the switch date, required. "
        "At most a year after the day they asked.",
    )
    requested_at: OccurredAt | None = Field(
        default=None,
        description="When the subscriber asked, with a UTC offset; deadlines count from it. "
        "Default: now.",
    )


# --- Results -----------------------------------------------------------------------------------


class CaseItemStatus(StrEnum):
    CREATED = "created"
    DUPLICATE = "duplicate"
    MERGED = "merged"
    ALREADY_OPEN = "already_open"
    INVALID = "invalid"
    UNKNOWN_SUBSCRIBER = "unknown_subscriber"
    SUBSCRIBER_CANCELLED = "subscriber_cancelled"


REJECTED = frozenset(
    {
        CaseItemStatus.INVALID,
        CaseItemStatus.UNKNOWN_SUBSCRIBER,
        CaseItemStatus.SUBSCRIBER_CANCELLED,
    }
)


@dataclass(frozen=True)
class CaseItemResult:
    index: int  # position in the batch, from 0
    external_id: str | None
    status: CaseItemStatus
    case: int | None = None  # the case that holds the request; None when rejected
    errors: tuple[FieldError, ...] = ()
    line: int | None = None  # in the import file, where the row starts (the header is line 1)

    @property
    def rejected(self) -> bool:
        return self.status in REJECTED


@dataclass(frozen=True)
class IntakeResult:
    """What happened to every item of a batch, in the order they were sent."""

    items: list[CaseItemResult]

    def _count(self, *statuses: CaseItemStatus) -> int:
        return sum(1 for item in self.items if item.status in statuses)

    @property
    def created(self) -> int:
        return self._count(CaseItemStatus.CREATED)

    @property
    def duplicates(self) -> int:
        return self._count(CaseItemStatus.DUPLICATE)

    @property
    def merged(self) -> int:
        return self._count(CaseItemStatus.MERGED)

    @property
    def already_open(self) -> int:
        return self._count(CaseItemStatus.ALREADY_OPEN)

    @property
    def rejected(self) -> int:
        return self._count(*REJECTED)


class CaseImportReport(IntakeResult):
    """An import's result: ``items`` are the rows of the file, each with its ``line``."""


class CaseBatchRejected(Exception):
    """Some requests of an API batch were rejected, so no case was opened."""

    def __init__(self, *, items: list[CaseItemResult], total: int) -> None:
        self.items = items
        self.total = total
        super().__init__(
            f"{len(items)} of {total} cancellation requests were rejected, so no case was "
            "opened. Correct them and send the batch again, or send it with "
            "?skip_invalid=true to open the others."
        )


class CaseImportRejected(Exception):
    """The file, or some of its rows, are bad, so nothing was imported.

    ``rows`` lists the rejected rows with their line numbers; it is empty when the file as a
    whole is refused (its header, its encoding).
    """

    def __init__(self, message: str, *, rows: Sequence[CaseItemResult] = ()) -> None:
        super().__init__(message)
        self.rows = list(rows)


class _Rejected(Exception):
    def __init__(self, items: list[CaseItemResult]) -> None:
        self.items = items


# --- The services ------------------------------------------------------------------------------


def cancellations_ingest(*, source: str, items: Sequence[Any], skip_invalid: bool) -> IntakeResult:
    """Open cases for a batch of requests pushed by ``source`` (see the module docstring).

    ``items`` are the requests as decoded from JSON, not yet validated. Raises
    ``CaseBatchRejected`` when a request is rejected and ``skip_invalid`` is false.
    """
    try:
        return IntakeResult(items=_intake(source=source, items=items, skip_invalid=skip_invalid))
    except _Rejected as exc:
        raise CaseBatchRejected(items=exc.items, total=len(items)) from None


def cases_import_csv(*, file: IO[bytes], skip_invalid: bool = False) -> CaseImportReport:
    """Open cases for the rows of a CSV file (UTF-8, with or without BOM; header row first).

    The columns are ``CSV_COLUMNS``, of which ``CSV_REQUIRED_COLUMNS`` must be there; an empty
    cell is a missing value. Raises ``CaseImportRejected`` when the file is refused, or when a
    row is rejected and ``skip_invalid`` is false; nothing is imported then.
    """
    rows, lines = _read_csv(file)
    try:
        items = _intake(source=IMPORT_SOURCE, items=rows, skip_invalid=skip_invalid)
    except _Rejected as exc:
        bad = [replace(item, line=lines[item.index]) for item in exc.items]
        raise CaseImportRejected(
            f"{len(bad)} of {len(rows)} rows were rejected, so nothing was imported.", rows=bad
        ) from None
    return CaseImportReport(items=[replace(item, line=lines[item.index]) for item in items])


# --- Validating a batch ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Openable:
    index: int
    item: CaseIn
    subscriber: Subscriber
    reason: CancellationReason | None


def _intake(*, source: str, items: Sequence[Any], skip_invalid: bool) -> list[CaseItemResult]:
    results, openable = _classify(source=source, items=items)
    rejected = sorted((r for r in results.values() if r.rejected), key=lambda r: r.index)
    if rejected and not skip_invalid:
        raise _Rejected(rejected)
    if not skip_invalid and openable:
        # All or nothing: a rejection found while opening rolls back the cases opened before it.
        with transaction.atomic():
            opened = _open_all(source=source, openable=openable)
            rejected = sorted((r for r in opened.values() if r.rejected), key=lambda r: r.index)
            if rejected:
                raise _Rejected(rejected)
        results.update(opened)
    else:
        # Each case in its own transaction (case_open's): a subscriber who turns out to have
        # left is reported, and the others are opened all the same.
        results.update(_open_all(source=source, openable=openable))
    # A repeat within the batch holds the same case as the request it repeats.
    for index, result in results.items():
        if result.status == CaseItemStatus.DUPLICATE and result.case is None:
            first = next(o.index for o in openable if o.item.external_id == result.external_id)
            results[index] = replace(result, case=results[first].case)
    return [results[index] for index in range(len(items))]


def _classify(
    *, source: str, items: Sequence[Any]
) -> tuple[dict[int, CaseItemResult], list[_Openable]]:
    """Validate every item; the results so far, and the items to open, in batch order.

    The queries are the same whatever the items: subscribers, reasons and known external ids,
    each looked up once for the whole batch.
    """
    results: dict[int, CaseItemResult] = {}
    parsed: list[tuple[int, CaseIn]] = []
    for index, raw in enumerate(items):
        if isinstance(raw, _MalformedRow):
            results[index] = CaseItemResult(
                index, raw.external_id, CaseItemStatus.INVALID, errors=raw.errors
            )
            continue
        # Before the schema: a NUL must not reach a query (the lookups below) either.
        errors = nul_errors(raw)
        try:
            item = CaseIn.model_validate(raw)
        except PydanticValidationError as exc:
            errors += _field_errors(exc)
        if errors:
            results[index] = CaseItemResult(
                index, _raw_external_id(raw), CaseItemStatus.INVALID, errors=tuple(errors)
            )
        else:
            parsed.append((index, item))

    subscribers = _subscribers_by_account(numbers={item.account_number for _, item in parsed})
    reasons = _reasons_by_code(codes={item.reason for _, item in parsed if item.reason})
    known = _cases_by_external_id(source=source, ids={item.external_id for _, item in parsed})

    openable: list[_Openable] = []
    first_of: set[str] = set()
    now = timezone.now()
    for index, item in parsed:
        errors = _rule_errors(item, reasons, now)
        subscriber = subscribers.get(item.account_number)
        if subscriber is None:
            errors.append(FieldError("account_number", "No subscriber has this account number"))
            # Unknown subscriber only when that is all that is wrong with the item.
            status = (
                CaseItemStatus.INVALID if len(errors) > 1 else CaseItemStatus.UNKNOWN_SUBSCRIBER
            )
            results[index] = CaseItemResult(index, item.external_id, status, errors=tuple(errors))
        elif errors:
            results[index] = CaseItemResult(
                index, item.external_id, CaseItemStatus.INVALID, errors=tuple(errors)
            )
        elif item.external_id in known:
            results[index] = CaseItemResult(
                index, item.external_id, CaseItemStatus.DUPLICATE, case=known[item.external_id]
            )
        elif item.external_id in first_of:
            # The first occurrence in the batch is the one opened, as a resend would be.
            results[index] = CaseItemResult(index, item.external_id, CaseItemStatus.DUPLICATE)
        elif subscriber.status == Subscriber.Status.CANCELLED:
            # case_open would refuse it too; found here, it rejects the batch before any opening.
            error = FieldError("account_number", SUBSCRIBER_LEFT)
            results[index] = CaseItemResult(
                index, item.external_id, CaseItemStatus.SUBSCRIBER_CANCELLED, errors=(error,)
            )
        else:
            first_of.add(item.external_id)
            reason = reasons.get(item.reason) if item.reason else None
            openable.append(_Openable(index, item, subscriber, reason))
    return results, openable


def _rule_errors(
    item: CaseIn, reasons: Mapping[str, CancellationReason], now: datetime
) -> list[FieldError]:
    errors = []
    if item.reason:
        reason = reasons.get(item.reason)
        if reason is None:
            errors.append(FieldError("reason", "No cancellation reason has this code"))
        elif not reason.is_active:
            errors.append(FieldError("reason", "This cancellation reason is no longer in use"))
    if item.channel == CancellationCase.Channel.PORT_OUT and item.requested_end_date is None:
        errors.append(FieldError("requested_end_date", "A port-out notice needs the switch date"))
    if item.requested_end_date is not None:
        # The day the case is opened on, as _open passes it to case_open, which checks again.
        asked_on = timezone.localdate(_asked_at(item, now))
        problem = requested_end_problem(requested_end=item.requested_end_date, asked_on=asked_on)
        if problem:
            errors.append(FieldError("requested_end_date", problem))
    return errors


def _raw_external_id(raw: Any) -> str | None:
    """The external id of an invalid item, to help the sender find it, when it is usable."""
    value = raw.get("external_id") if isinstance(raw, dict) else None
    usable = isinstance(value, str) and 0 < len(value) <= 100 and not has_nul(value)
    return value if usable else None


def _field_errors(exc: PydanticValidationError) -> list[FieldError]:
    return list(
        FieldError(".".join(str(part) for part in error["loc"]) or None, error["msg"])
        for error in exc.errors(include_url=False)
    )


def _chunks(values: set[str]) -> Iterator[list[str]]:
    ordered = sorted(values)
    for start in range(0, len(ordered), LOOKUP_CHUNK):
        yield ordered[start : start + LOOKUP_CHUNK]


def _subscribers_by_account(*, numbers: set[str]) -> dict[str, Subscriber]:
    # Only what classifying needs: case_open locks and reloads the subscriber anyway.
    found: dict[str, Subscriber] = {}
    for chunk in _chunks(numbers):
        for subscriber in Subscriber.objects.filter(account_number__in=chunk).only(
            "id", "account_number", "status"
        ):
            found[subscriber.account_number] = subscriber
    return found


def _reasons_by_code(*, codes: set[str]) -> dict[str, CancellationReason]:
    if not codes:
        return {}
    return {reason.code: reason for reason in CancellationReason.objects.filter(code__in=codes)}


def _cases_by_external_id(*, source: str, ids: set[str]) -> dict[str, int]:
    """Case ids by external id for those already seen from ``source`` (its unique index)."""
    found: dict[str, int] = {}
    for chunk in _chunks(ids):
        rows = CancellationCase.objects.filter(source=source, external_id__in=chunk)
        for external_id, pk in rows.values_list("external_id", "id"):
            if external_id:  # always, by the filter; the column is nullable
                found[external_id] = pk
    return found


# --- Opening -----------------------------------------------------------------------------------


def _open_all(*, source: str, openable: list[_Openable]) -> dict[int, CaseItemResult]:
    now = timezone.now()
    results = {}
    # In subscriber order (stable, so a subscriber's requests keep their batch order): each
    # case_open locks its subscriber until our transaction ends, and two batches that lock
    # the same subscribers in the same order cannot deadlock each other.
    for entry in sorted(openable, key=lambda entry: entry.subscriber.pk):
        results[entry.index] = _open(source=source, entry=entry, now=now)
    return results


def _open(*, source: str, entry: _Openable, now: datetime) -> CaseItemResult:
    item = entry.item
    intake = Intake(
        channel=item.channel,
        reason=entry.reason,
        reason_detail=item.reason_detail or "",
        competitor=item.competitor or "",
        requested_end_date=item.requested_end_date,
        source=source,
        external_id=item.external_id,
    )
    try:
        case = case_open(
            subscriber=entry.subscriber, intake=intake, actor=None, now=_asked_at(item, now)
        )
    except CaseAlreadyOpen as exc:
        return CaseItemResult(
            entry.index, item.external_id, CaseItemStatus.ALREADY_OPEN, case=exc.case.pk
        )
    except RequestedEndTooLate as exc:
        # _classify checked it already; should the two ever disagree, this is a bad date, not
        # the subscriber who left that the WrongState below stands for.
        error = FieldError("requested_end_date", str(exc))
        return CaseItemResult(
            entry.index, item.external_id, CaseItemStatus.INVALID, errors=(error,)
        )
    except WrongState:
        error = FieldError("account_number", SUBSCRIBER_LEFT)
        return CaseItemResult(
            entry.index, item.external_id, CaseItemStatus.SUBSCRIBER_CANCELLED, errors=(error,)
        )
    if case.source == source and case.external_id == item.external_id:
        # Opened now (or, if a concurrent batch carried the same id, found by case_open).
        return CaseItemResult(entry.index, item.external_id, CaseItemStatus.CREATED, case=case.pk)
    # A port-out notice whose switch date now binds the subscriber's open case.
    return CaseItemResult(entry.index, item.external_id, CaseItemStatus.MERGED, case=case.pk)


def _asked_at(item: CaseIn, now: datetime) -> datetime:
    # Deadlines count from when the subscriber asked; a sender's clock a little ahead of ours
    # (allowed up to a day) must not open a case in the future.
    return min(item.requested_at, now) if item.requested_at else now


# --- Reading an import file --------------------------------------------------------------------


@dataclass(frozen=True)
class _MalformedRow:
    external_id: str | None
    errors: tuple[FieldError, ...]


def _read_csv(file: IO[bytes]) -> tuple[list[dict[str, str] | _MalformedRow], list[int]]:
    """The rows as items (empty cells left out), and the line each row starts on."""
    reader = csv.reader(_decoded_lines(file))
    rows: list[dict[str, str] | _MalformedRow] = []
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
                rows.append(_MalformedRow(_raw_external_id(values), (error,)))
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
