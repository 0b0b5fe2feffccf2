"""Intake of cancellation requests from other systems: billing's API calls and import files.

Both take the same items (``CaseIn``: one validation for both; the import reads them from a
file in retention/cases/case_import.py) and open every case through ``case_open``, the one way
a case is opened. A batch (the items of one API call, or the rows of one file) follows the rules
of every batch (subscribers/batches.py: each item validated on its own, NUL checks, all or
nothing unless ``skip_invalid``), and these:

- Every item's subscriber, reason and external id are looked up (one query each for the whole
  batch) before any case is opened, so that every problem is reported at once.
- Idempotent by ``(source, external_id)``: an item whose id was seen before (or earlier in the
  batch) is a ``duplicate`` and changes nothing; its content is not compared.
- A port-out notice for a subscriber with an open case is ``merged`` into it (the switch date
  binds that case); any other request for such a subscriber is ``already_open``: the open case
  already holds it. Neither is an error.
- Rejected: ``invalid``, ``unknown_subscriber``, ``subscriber_cancelled`` (a subscriber who has
  already left). A subscriber found cancelled only while opening still rejects the whole batch
  unless ``skip_invalid``: the cases are opened inside one transaction, rolled back then.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

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
from subscribers.batches import (
    BatchRejected,
    BatchResult,
    ItemResult,
    all_or_nothing,
    items_validate,
)
from subscribers.ingestion import OccurredAt
from subscribers.models import Subscriber
from subscribers.text import FieldError

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


@dataclass(frozen=True)
class CaseItemResult(ItemResult[CaseItemStatus]):
    REJECTED = frozenset(
        {
            CaseItemStatus.INVALID,
            CaseItemStatus.UNKNOWN_SUBSCRIBER,
            CaseItemStatus.SUBSCRIBER_CANCELLED,
        }
    )

    case: int | None = None  # the case that holds the request; None when rejected
    line: int | None = None  # in the import file, where the row starts (the header is line 1)


class IntakeResult(BatchResult[CaseItemResult]):
    """What happened to every item of a batch, in the order they were sent."""

    @property
    def merged(self) -> int:
        return self._count(CaseItemStatus.MERGED)

    @property
    def already_open(self) -> int:
        return self._count(CaseItemStatus.ALREADY_OPEN)


class CaseBatchRejected(BatchRejected[CaseItemResult]):
    """Some requests of a batch were rejected, so no case was opened."""

    noun = "cancellation requests"
    undone = "no case was opened"
    verb = "open"


# --- The services ------------------------------------------------------------------------------


def cancellations_ingest(*, source: str, items: Sequence[Any], skip_invalid: bool) -> IntakeResult:
    """Open cases for a batch of requests pushed by ``source`` (see the module docstring).

    ``items`` are the requests as decoded from JSON, not yet validated. Raises
    ``CaseBatchRejected`` when a request is rejected and ``skip_invalid`` is false.
    """
    return IntakeResult(items=cases_intake(source=source, items=items, skip_invalid=skip_invalid))


# --- Validating a batch ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Openable:
    index: int
    item: CaseIn
    subscriber: Subscriber
    reason: CancellationReason | None


def cases_intake(*, source: str, items: Sequence[Any], skip_invalid: bool) -> list[CaseItemResult]:
    """What happened to each item of a batch from ``source``, in batch order: API calls and
    import files alike. Raises ``CaseBatchRejected`` when an item is rejected and
    ``skip_invalid`` is false (and then no case was opened)."""
    total = len(items)
    results, openable = _classify(source=source, items=items)
    all_or_nothing(
        results.values(), total=total, skip_invalid=skip_invalid, refusal=CaseBatchRejected
    )
    if not skip_invalid and openable:
        # All or nothing: a rejection found while opening rolls back the cases opened before it.
        with transaction.atomic():
            opened = _open_all(source=source, openable=openable)
            all_or_nothing(
                opened.values(), total=total, skip_invalid=False, refusal=CaseBatchRejected
            )
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
    parsed, invalid = items_validate(items, CaseIn)
    results = {
        bad.index: CaseItemResult(
            bad.index, bad.external_id, CaseItemStatus.INVALID, errors=bad.errors
        )
        for bad in invalid
    }

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
