"""Usage months pushed by network systems (``POST /api/v1/usage``), and the rules every way in
shares (the API here, the CSV import in subscribers/usage_import.py).

Semantics of a batch (``usage_ingest``), beyond the rules every batch follows
(subscribers/batches.py: each item validated on its own against ``UsageIn``, NUL checks, all or
nothing unless ``skip_invalid``):

- Every item's account number is looked up: an unknown one rejects the item
  (``unknown_subscriber``), reported with the invalid ones.
- A month is stored once per subscriber, idempotent by ``(subscriber, period)``: a new month is
  ``created``, a month sent again with other figures is ``updated`` (the later report replaces
  the earlier one), with the same figures ``unchanged`` (nothing is written). The same month of
  the same subscriber twice in one batch is ``invalid`` (the batch contradicts itself).
- The tariff fits of the subscribers whose usage changed are recomputed in the same
  transaction (subscribers.fit.fits_compute), so the desk never shows a fit older than the
  usage it holds.
- The cost does not grow in queries with the batch: one query for the subscribers, one for the
  months stored, one upsert, and the fit's few statements.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from django.db import transaction
from django.utils import timezone
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from subscribers.batches import (
    BatchRejected,
    BatchResult,
    ItemResult,
    all_or_nothing,
    items_validate,
)
from subscribers.fit import fits_compute
from subscribers.models import Subscriber, Usage
from subscribers.text import FieldError, has_nul
from subscribers.usage import HOURS_IN_A_MONTH

# How far back a month may be reported: three years is more than any fit or churn signal reads,
# and an older month is more likely a wrong year than a late report.
MONTHS_BACK = 36
# Sane maxima: well above any real line (a 1 Gbit/s line busy all month moves about 335,000
# GB), well below what would be a unit mistake (bytes sent as GB).
MAX_GB = Decimal(1_000_000)
MAX_DEVICES = 10_000
MAX_PEOPLE = 10_000
# Figures the upsert writes, and compares to tell an update from a month sent again.
FIGURES = ("gb_down", "gb_up", "hours_online", "peak_devices", "people")


def period_bounds(today: date) -> tuple[date, date]:
    """The first and the last month that may be reported on ``today``: MONTHS_BACK months
    back, up to the month in progress (its figures so far)."""
    latest = today.replace(day=1)
    months = latest.year * 12 + latest.month - 1 - MONTHS_BACK
    return date(months // 12, months % 12 + 1, 1), latest


def period_problem(period: date, today: date) -> str | None:
    """Why a month may not be reported on ``today``, or None."""
    earliest, latest = period_bounds(today)
    if period > latest:
        return "is in the future"
    if period < earliest:
        return f"is more than {MONTHS_BACK} months back (the earliest is {earliest:%Y-%m})"
    return None


# --- The schema of one month ------------------------------------------------------------------


def _period(value: Any) -> date:
    if not isinstance(value, str) or len(value) != 7 or value[4] != "-":
        raise PydanticCustomError("period_format", "Should be a month in the form YYYY-MM")
    try:
        period = date(int(value[:4]), int(value[5:]), 1)
    except ValueError:
        raise PydanticCustomError(
            "period_format", "Should be a month in the form YYYY-MM"
        ) from None
    problem = period_problem(period, timezone.localdate())
    if problem:
        raise PydanticCustomError("period_range", "The month {problem}", {"problem": problem})
    return period


def _number(value: Any) -> Any:
    # pydantic would take true as 1; a sender that sends a boolean for a figure has a bug.
    if isinstance(value, bool):
        raise PydanticCustomError("number_type", "Input should be a number")
    return value


# Constraints (Field) before the validators: so pydantic writes them into the JSON schema as
# JSON Schema keywords (minimum, exclusiveMaximum) rather than as its own names.
Period = Annotated[
    date,
    BeforeValidator(_period),
    WithJsonSchema({"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}$", "examples": ["2026-03"]}),
]
Gigabytes = Annotated[
    Decimal,
    Field(ge=0, lt=MAX_GB, decimal_places=2, description="GB, at most 2 decimals."),
    BeforeValidator(_number),
]
Devices = Annotated[int, Field(ge=0, le=MAX_DEVICES), BeforeValidator(_number)]


class UsageIn(BaseModel):
    """One subscriber's usage in one month, as a network system reports it.

    A plain pydantic model rather than ``ninja.Schema``, as for events (subscribers/ingestion.py).
    """

    # A misspelt field ("gb_dwn") is an error, not data silently dropped.
    model_config = ConfigDict(extra="forbid")

    account_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = Field(
        max_length=32, description="The subscriber's account number in billing."
    )
    period: Period = Field(
        description=f"The month, YYYY-MM: not in the future, at most {MONTHS_BACK} months back."
    )
    gb_down: Gigabytes
    gb_up: Gigabytes
    hours_online: Annotated[
        Decimal,
        Field(ge=0, le=HOURS_IN_A_MONTH, decimal_places=1),
        BeforeValidator(_number),
    ] = Field(description=f"Hours online in the month, 0 to {HOURS_IN_A_MONTH}, 1 decimal.")
    peak_devices: Devices = Field(description="Most devices online at once.")
    people: Annotated[int, Field(ge=1, le=MAX_PEOPLE), BeforeValidator(_number)] = Field(
        default=1, description="People sharing the line: 1 for a household, a business's users."
    )


# --- Results ------------------------------------------------------------------------------------


class UsageStatus(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    INVALID = "invalid"
    UNKNOWN_SUBSCRIBER = "unknown_subscriber"


@dataclass(frozen=True)
class UsageResult(ItemResult[UsageStatus]):
    """A usage month has no id of its own: it is known by its account number and month (each
    null when the item does not carry a usable one)."""

    REJECTED: ClassVar[frozenset[str]] = frozenset(
        {UsageStatus.INVALID, UsageStatus.UNKNOWN_SUBSCRIBER}
    )

    account_number: str | None = None
    period: str | None = None


class UsageIngestResult(BatchResult[UsageResult]):
    """What happened to every month of a batch, in the order they were sent."""

    @property
    def updated(self) -> int:
        return self._count(UsageStatus.UPDATED)

    @property
    def unchanged(self) -> int:
        return self._count(UsageStatus.UNCHANGED)


class UsageBatchRejected(BatchRejected[UsageResult]):
    """Some months are invalid or for unknown subscribers, so nothing was stored."""

    noun = "usage months"
    undone = "nothing was stored"
    verb = "store"


def _raw_key(raw: Any) -> tuple[str | None, str | None]:
    """The account number and month of an invalid item, to help the sender find it, when usable."""
    if not isinstance(raw, dict):
        return None, None
    account, period = raw.get("account_number"), raw.get("period")
    return (
        account.strip() if isinstance(account, str) and _usable(account, 32) else None,
        period if _usable(period, 7) else None,
    )


def _usable(value: Any, max_length: int) -> bool:
    return isinstance(value, str) and 0 < len(value.strip()) <= max_length and not has_nul(value)


# --- The service --------------------------------------------------------------------------------


def usage_ingest(*, items: Sequence[Any], skip_invalid: bool) -> UsageIngestResult:
    """Store a batch of usage months (see the module docstring for semantics).

    ``items`` are the months as decoded from JSON, not yet validated. Raises
    ``UsageBatchRejected`` when a month is rejected and ``skip_invalid`` is false.
    """
    valid, invalid = items_validate(items, UsageIn)
    results: dict[int, UsageResult] = {}
    for bad in invalid:
        account, period = _raw_key(items[bad.index])
        results[bad.index] = UsageResult(
            bad.index, None, UsageStatus.INVALID, bad.errors, account, period
        )

    subscriber_ids = _subscriber_ids({month.account_number for _, month in valid})
    storable: dict[tuple[int, date], tuple[int, UsageIn]] = {}
    for index, month in valid:
        sent = (month.account_number, f"{month.period:%Y-%m}")
        subscriber_id = subscriber_ids.get(month.account_number)
        if subscriber_id is None:
            error = FieldError("account_number", "No subscriber has this account number")
            results[index] = UsageResult(
                index, None, UsageStatus.UNKNOWN_SUBSCRIBER, (error,), *sent
            )
        elif (subscriber_id, month.period) in storable:
            first, _ = storable[(subscriber_id, month.period)]
            error = FieldError(None, f"The same month of this subscriber is item {first}")
            results[index] = UsageResult(index, None, UsageStatus.INVALID, (error,), *sent)
        else:
            storable[(subscriber_id, month.period)] = (index, month)

    all_or_nothing(
        results.values(), total=len(items), skip_invalid=skip_invalid, refusal=UsageBatchRejected
    )

    with transaction.atomic():
        statuses = usage_months_store(
            {key: month.model_dump(include=set(FIGURES)) for key, (_, month) in storable.items()}
        )
        touched = [pk for (pk, _), status in statuses.items() if status != UsageStatus.UNCHANGED]
        if touched:
            fits_compute(today=timezone.localdate(), subscriber_ids=touched)
    for key, (index, month) in storable.items():
        results[index] = UsageResult(
            index, None, statuses[key], (), month.account_number, f"{month.period:%Y-%m}"
        )
    return UsageIngestResult(items=[results[index] for index in range(len(items))])


def _subscriber_ids(account_numbers: set[str]) -> dict[str, int]:
    """Subscriber ids by account number, in one query (account_number is unique and indexed)."""
    if not account_numbers:
        return {}
    return dict(
        Subscriber.objects.filter(account_number__in=account_numbers).values_list(
            "account_number", "id"
        )
    )


def usage_months_store(
    months: dict[tuple[int, date], dict[str, Any]],
) -> dict[tuple[int, date], UsageStatus]:
    """Write the ``months`` (figures by subscriber id and month) that are new or changed; say
    which each was. Call inside a transaction.

    The months already stored are read locked, so that the status told is the one written; a
    month a concurrent batch inserts meanwhile is taken by the upsert's conflict clause (its
    figures replaced, as a later report would), reported ``created``.
    """
    if not months:
        return {}
    # The batch's subscribers by its months: one query; a pair not asked for is ignored.
    stored = {
        (row["subscriber_id"], row["period"]): row
        for row in Usage.objects.filter(
            subscriber_id__in={pk for pk, _ in months}, period__in={period for _, period in months}
        )
        .order_by("subscriber_id", "period")
        .select_for_update()
        .values("subscriber_id", "period", *FIGURES)
    }
    statuses: dict[tuple[int, date], UsageStatus] = {}
    writes: list[Usage] = []
    now = timezone.now()
    # Sorted, so that two batches lock and insert the same months in the same order.
    for key in sorted(months):
        figures = months[key]
        before = stored.get(key)
        if before is None:
            statuses[key] = UsageStatus.CREATED
        elif all(Decimal(before[name]) == Decimal(figures[name]) for name in FIGURES):
            statuses[key] = UsageStatus.UNCHANGED
            continue
        else:
            statuses[key] = UsageStatus.UPDATED
        writes.append(Usage(subscriber_id=key[0], period=key[1], received_at=now, **figures))
    if writes:
        Usage.objects.bulk_create(
            writes,
            update_conflicts=True,
            unique_fields=["subscriber", "period"],
            update_fields=[*FIGURES, "received_at"],
        )
    return statuses
