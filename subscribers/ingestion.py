"""Services behind the ingestion API: API tokens, and timeline events pushed by billing and network.

Semantics of a batch (``events_ingest``):

- Every event is validated on its own against ``EventIn`` and its account number is looked up,
  so that every problem in a batch is reported at once, by the event's index. A NUL character
  anywhere in it (which PostgreSQL cannot store) is such a problem (subscribers/text.py).
- By default a batch with any rejected event stores nothing (``EventBatchRejected``): bad input
  changes nothing. With ``skip_invalid`` the good events are stored and the others reported.
- Storing is idempotent by ``(source, external_id)``: an event already stored, or repeated
  earlier in the same batch, is reported as a duplicate and left as it is (its content is not
  compared). The database's unique constraint decides, so concurrent batches cannot store an
  event twice.
- The cost does not grow in queries with the batch: one query for the subscribers, one INSERT
  per ``INSERT_CHUNK`` events.
"""

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from django.db import connections, router, transaction
from django.db.models import Q
from django.utils import timezone
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from subscribers.models import ApiToken, Subscriber, TimelineEvent
from subscribers.text import FieldError, has_nul, nul_errors

# Clocks of other systems drift and time zones get mixed up, but an event a day ahead is a bug
# in the sender: storing it would pin it to the top of the timeline.
FUTURE_TOLERANCE = timedelta(days=1)
# Writing last_used_at on every call would turn each API read into a write; a minute is precise
# enough to tell a live token from a forgotten one.
LAST_USED_PRECISION = timedelta(minutes=1)
# Rows per INSERT statement: keeps the statement well under PostgreSQL's 65,535 parameters even
# if API_BATCH_LIMIT is raised. The default batch (1,000) is one statement.
INSERT_CHUNK = 1000


# --- API tokens -----------------------------------------------------------------------------


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_token_create(*, name: str, source: str) -> tuple[ApiToken, str]:
    """A new token for a system; returns it with the raw secret, which is not stored anywhere."""
    raw = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name, source=source, token_hash=_token_hash(raw), prefix=raw[:8]
    )
    return token, raw


def api_token_authenticate(*, raw: str) -> ApiToken | None:
    """The active token whose secret is ``raw``, or None.

    Looked up by the SHA-256 of the secret, never by the secret itself: the time a lookup takes
    can then only tell an attacker about hashes, which they cannot steer towards a real token.
    """
    if not raw:
        return None
    token = ApiToken.objects.filter(token_hash=_token_hash(raw), is_active=True).first()
    if token is None:
        return None
    now = timezone.now()
    stale = now - LAST_USED_PRECISION
    if token.last_used_at is None or token.last_used_at < stale:
        # Conditional, so that concurrent calls with one token write the row once a minute.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token


# --- Events: the schema of one event ---------------------------------------------------------


def _iso_datetime_only(value: Any) -> Any:
    # pydantic would also take a number as a Unix timestamp; a sender that means ISO-8601 but
    # sends a number (seconds? milliseconds?) has a bug we should report, not guess around.
    if not isinstance(value, str | datetime):
        raise PydanticCustomError(
            "datetime_type", "Input should be an ISO-8601 date and time with a UTC offset"
        )
    return value


def _not_far_future(value: datetime) -> datetime:
    if value > timezone.now() + FUTURE_TOLERANCE:
        raise PydanticCustomError("datetime_future", "Should not be more than a day in the future")
    return value


EXTERNAL_KIND_VALUES = [str(kind.value) for kind in TimelineEvent.EXTERNAL_KINDS]


def _external_kind(value: str) -> str:
    if value not in EXTERNAL_KIND_VALUES:
        raise PydanticCustomError(
            "kind", "Should be one of: {kinds}", {"kinds": ", ".join(EXTERNAL_KIND_VALUES)}
        )
    return value


# The kinds come from the model, which already lists them; the enum here is for the OpenAPI
# schema only, the validator above is what enforces it.
ExternalKind = Annotated[
    str, AfterValidator(_external_kind), Field(json_schema_extra={"enum": EXTERNAL_KIND_VALUES})
]
OccurredAt = Annotated[
    AwareDatetime, BeforeValidator(_iso_datetime_only), AfterValidator(_not_far_future)
]


class EventIn(BaseModel):
    """One event as a billing or network system sends it.

    A plain pydantic model rather than ``ninja.Schema``: Schema's extras exist to read ORM
    objects for responses, and would let an object with the right attributes pass as input.
    """

    # A misspelt field ("occured_at") is an error, not data silently dropped.
    model_config = ConfigDict(extra="forbid")

    external_id: str = Field(
        min_length=1,
        max_length=100,
        description="The sender's id of the event; sending it again is a no-op.",
    )
    account_number: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = Field(
        max_length=32, description="The subscriber's account number in billing."
    )
    kind: ExternalKind
    occurred_at: OccurredAt = Field(
        description="When it happened: ISO-8601 with a UTC offset, e.g. 2026-03-01T09:30:00+02:00."
    )
    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = Field(
        max_length=300, description="One line that agents read on the timeline."
    )
    data: dict[str, Any] = Field(
        default_factory=dict, description="Structured details (amounts, ticket ids, …)."
    )


# --- Events: results ---------------------------------------------------------------------------


class ItemStatus(StrEnum):
    CREATED = "created"
    DUPLICATE = "duplicate"
    INVALID = "invalid"
    UNKNOWN_SUBSCRIBER = "unknown_subscriber"


@dataclass(frozen=True)
class ItemResult:
    index: int
    external_id: str | None
    status: ItemStatus
    errors: tuple[FieldError, ...] = ()

    @property
    def rejected(self) -> bool:
        return self.status in (ItemStatus.INVALID, ItemStatus.UNKNOWN_SUBSCRIBER)


@dataclass(frozen=True)
class IngestResult:
    """What happened to every event of a batch, in the order they were sent."""

    items: list[ItemResult]

    def _count(self, *statuses: ItemStatus) -> int:
        return sum(1 for item in self.items if item.status in statuses)

    @property
    def created(self) -> int:
        return self._count(ItemStatus.CREATED)

    @property
    def duplicates(self) -> int:
        return self._count(ItemStatus.DUPLICATE)

    @property
    def rejected(self) -> int:
        return self._count(ItemStatus.INVALID, ItemStatus.UNKNOWN_SUBSCRIBER)


class EventBatchRejected(Exception):
    """Some events are invalid or for unknown subscribers, so nothing was stored."""

    def __init__(self, *, items: list[ItemResult], total: int) -> None:
        self.items = items
        self.total = total
        super().__init__(
            f"{len(items)} of {total} events were rejected, so nothing was stored. Correct them "
            "and send the batch again, or send it with ?skip_invalid=true to store the others."
        )


# --- Events: the service -----------------------------------------------------------------------


def events_ingest(*, source: str, items: Sequence[Any], skip_invalid: bool) -> IngestResult:
    """Store a batch of events pushed by ``source`` (see the module docstring for semantics).

    ``items`` are the events as decoded from JSON, not yet validated. Raises
    ``EventBatchRejected`` when an event is rejected and ``skip_invalid`` is false.
    """
    results: dict[int, ItemResult] = {}
    valid: list[tuple[int, EventIn]] = []
    for index, raw in enumerate(items):
        # Before the schema: a NUL must not reach a query (the account number lookup) either.
        errors = nul_errors(raw)
        try:
            event = EventIn.model_validate(raw)
        except PydanticValidationError as exc:
            errors += _field_errors(exc)
        if errors:
            results[index] = ItemResult(
                index, _raw_external_id(raw), ItemStatus.INVALID, tuple(errors)
            )
        else:
            valid.append((index, event))

    subscriber_ids = _subscriber_ids(account_numbers={event.account_number for _, event in valid})
    storable: dict[str, tuple[int, TimelineEvent]] = {}
    now = timezone.now()
    for index, event in valid:
        subscriber_id = subscriber_ids.get(event.account_number)
        if subscriber_id is None:
            error = FieldError("account_number", "No subscriber has this account number")
            results[index] = ItemResult(
                index, event.external_id, ItemStatus.UNKNOWN_SUBSCRIBER, (error,)
            )
        elif event.external_id in storable:
            # The first occurrence in the batch is the one stored, like a resend would be.
            results[index] = ItemResult(index, event.external_id, ItemStatus.DUPLICATE)
        else:
            storable[event.external_id] = (
                index,
                TimelineEvent(
                    subscriber_id=subscriber_id,
                    kind=event.kind,
                    occurred_at=event.occurred_at,
                    source=source,
                    external_id=event.external_id,
                    summary=event.summary,
                    data=event.data,
                    recorded_at=now,
                ),
            )

    rejected = sorted((r for r in results.values() if r.rejected), key=lambda r: r.index)
    if rejected and not skip_invalid:
        raise EventBatchRejected(items=rejected, total=len(items))

    inserted = _insert_new(events=[event for _, event in storable.values()])
    for external_id, (index, _) in storable.items():
        status = ItemStatus.CREATED if external_id in inserted else ItemStatus.DUPLICATE
        results[index] = ItemResult(index, external_id, status)
    return IngestResult(items=[results[index] for index in range(len(items))])


def _raw_external_id(raw: Any) -> str | None:
    """The external id of an invalid event, to help the sender find it, when it is usable."""
    value = raw.get("external_id") if isinstance(raw, dict) else None
    usable = isinstance(value, str) and len(value) <= 100 and not has_nul(value)
    return value if usable else None


def _field_errors(exc: PydanticValidationError) -> list[FieldError]:
    return list(
        FieldError(".".join(str(part) for part in error["loc"]) or None, error["msg"])
        for error in exc.errors(include_url=False)
    )


def _subscriber_ids(*, account_numbers: set[str]) -> dict[str, int]:
    """Subscriber ids by account number, in one query (account_number is unique and indexed)."""
    if not account_numbers:
        return {}
    return dict(
        Subscriber.objects.filter(account_number__in=account_numbers).values_list(
            "account_number", "id"
        )
    )


def _insert_new(*, events: list[TimelineEvent]) -> set[str]:
    """Insert the events whose (source, external_id) is not stored yet; return the inserted ids.

    ``bulk_create(ignore_conflicts=True)`` cannot say which rows it inserted, and checking
    first with a SELECT races with a concurrent batch carrying the same events. So this is
    ``INSERT … ON CONFLICT DO NOTHING RETURNING`` (PostgreSQL, and SQLite since 3.35) against
    the partial unique index ``timeline_event_source_external_id_uniq``: the database decides
    which batch stores an event, and tells each batch what it stored. A concurrent insert of the
    same key waits for the other transaction and then skips the row.
    """
    if not events:
        return set()
    # The same order in every batch: two batches that overlap lock their keys in the same
    # order and cannot deadlock each other.
    events = sorted(events, key=lambda event: event.external_id or "")
    opts = TimelineEvent._meta
    # Every column but the id, as bulk_create would write them.
    fields = [field for field in opts.concrete_fields if not field.primary_key]
    connection = connections[router.db_for_write(TimelineEvent)]
    quote = connection.ops.quote_name
    # (A concrete field always has a column: the condition only tells mypy so.)
    column = {field.name: quote(field.column) for field in fields if field.column}
    columns = ", ".join(column.values())
    source, external_id = column["source"], column["external_id"]
    row_sql = "({})".format(", ".join(["%s"] * len(fields)))
    inserted: set[str] = set()
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for start in range(0, len(events), INSERT_CHUNK):
            chunk = events[start : start + INSERT_CHUNK]
            sql = (
                f"INSERT INTO {quote(opts.db_table)} ({columns}) "
                f"VALUES {', '.join([row_sql] * len(chunk))} "
                f"ON CONFLICT ({source}, {external_id}) WHERE {external_id} IS NOT NULL "
                f"DO NOTHING RETURNING {external_id}"
            )
            params = [
                field.get_db_prep_save(field.pre_save(event, add=True), connection)
                for event in chunk
                for field in fields
            ]
            cursor.execute(sql, params)
            inserted.update(row[0] for row in cursor.fetchall())
    return inserted
