"""Services behind the ingestion API: API tokens, and timeline events pushed by billing and network.

Semantics of a batch (``events_ingest``), beyond the rules every batch follows
(subscribers/batches.py: each event validated on its own against ``EventIn``, NUL checks, all
or nothing unless ``skip_invalid``):

- Every event's account number is looked up too: an unknown one rejects the event, so that it
  is reported with the invalid ones (``EventBatchRejected``).
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
from typing import Annotated, Any, ClassVar

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
from pydantic_core import PydanticCustomError

from subscribers.batches import (
    BatchRejected,
    BatchResult,
    ItemResult,
    all_or_nothing,
    items_validate,
)
from subscribers.inbound import data_errors, events_apply
from subscribers.models import ApiToken, Plan, Subscriber, TimelineEvent
from subscribers.text import FieldError

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
class EventResult(ItemResult[ItemStatus]):
    REJECTED: ClassVar[frozenset[str]] = frozenset(
        {ItemStatus.INVALID, ItemStatus.UNKNOWN_SUBSCRIBER}
    )

    # Fields the event would have set but the desk holds for billing (subscribers/inbound.py).
    conflicts: tuple[str, ...] = ()


class IngestResult(BatchResult[EventResult]):
    """What happened to every event of a batch, in the order they were sent."""


class EventBatchRejected(BatchRejected[EventResult]):
    """Some events are invalid or for unknown subscribers, so nothing was stored."""

    noun = "events"
    undone = "nothing was stored"
    verb = "store"


# --- Events: the service -----------------------------------------------------------------------


def events_ingest(*, source: str, items: Sequence[Any], skip_invalid: bool) -> IngestResult:
    """Store a batch of events pushed by ``source`` (see the module docstring for semantics).

    ``items`` are the events as decoded from JSON, not yet validated. Raises
    ``EventBatchRejected`` when an event is rejected and ``skip_invalid`` is false.
    """
    valid, invalid = items_validate(items, EventIn)
    results = {
        bad.index: EventResult(bad.index, bad.external_id, ItemStatus.INVALID, bad.errors)
        for bad in invalid
    }

    subscriber_ids = _subscriber_ids(account_numbers={event.account_number for _, event in valid})
    plans = _plan_codes(event for _, event in valid)
    storable: dict[str, tuple[int, TimelineEvent]] = {}
    now = timezone.now()
    for index, event in valid:
        subscriber_id = subscriber_ids.get(event.account_number)
        wrong = data_errors(event.kind, event.data, plans)
        if wrong:
            results[index] = EventResult(index, event.external_id, ItemStatus.INVALID, tuple(wrong))
        elif subscriber_id is None:
            error = FieldError("account_number", "No subscriber has this account number")
            results[index] = EventResult(
                index, event.external_id, ItemStatus.UNKNOWN_SUBSCRIBER, (error,)
            )
        elif event.external_id in storable:
            # The first occurrence in the batch is the one stored, like a resend would be.
            results[index] = EventResult(index, event.external_id, ItemStatus.DUPLICATE)
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

    all_or_nothing(
        results.values(),
        total=len(items),
        skip_invalid=skip_invalid,
        refusal=EventBatchRejected,
    )

    with transaction.atomic():
        inserted = _insert_new(events=[event for _, event in storable.values()])
        applied = events_apply(
            events=[event for key, (_, event) in storable.items() if key in inserted],
            source=source,
        )
    for external_id, (index, _) in storable.items():
        status = ItemStatus.CREATED if external_id in inserted else ItemStatus.DUPLICATE
        conflicts = applied.conflicts.get(external_id, ())
        results[index] = EventResult(index, external_id, status, conflicts=conflicts)
    return IngestResult(items=[results[index] for index in range(len(items))])


def _plan_codes(events: Any) -> set[str]:
    """The plan codes, if a plan change in the batch names one (one query, or none)."""
    if any(e.kind == TimelineEvent.Kind.PLAN_CHANGE and "plan" in e.data for e in events):
        return set(Plan.objects.values_list("code", flat=True))
    return set()


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
