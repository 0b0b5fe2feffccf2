"""Billing's answers to the events it was sent: applied, or refused with a reason.

``POST /api/v1/events/confirmations`` (retention/billing/api.py) brings a batch of answers,
checked as every intake's batch is (subscribers/batches.py): all or nothing unless
``skip_invalid``. An event takes one answer: the same answer again is a ``duplicate`` and
changes nothing (billing may repeat a call it is unsure of); a different one is a
``conflict``. What an answer does:

- offer accepted: the offer is *applied by billing* (history and timeline say so), or *refused
  by billing*: its saved case reopens (retention.saves.services.offer_billing_answered), the
  subscriber's price, plan, promo end and balance go back to billing's (unless a later
  decision changed them; the timeline says so), and the agent and their managers get a
  reminder at once, to agree new terms;
- cancellation processed: the timeline says billing confirmed it; a refusal reminds the case's
  owner and managers;
- the other events: the timeline says it; a refusal tells the admins.

An accepted offer that billing has not answered for within ``BILLING_CONFIRM_HOURS`` reminds
the agent (``offers_unconfirmed_remind``, from the billing tick).
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Literal

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from ninja import Schema
from pydantic import Field, model_validator

from offers.models import BillingState, CounterOffer
from retention.billing.delivery import tell_admins
from retention.core.refusals import WrongState
from retention.models import CancellationCase, Reminder
from retention.notifications.reminders import reminder_schedule
from retention.saves.services import offer_billing_answered
from subscribers import outbound, phrases
from subscribers.batches import (
    BatchRejected,
    BatchResult,
    ItemResult,
    all_or_nothing,
    items_validate,
)
from subscribers.models import FieldHold, OutboundEvent, TimelineEvent
from subscribers.services import timeline_event_record
from subscribers.text import FieldError

Type = OutboundEvent.Type


class ConfirmationIn(Schema):
    event: uuid.UUID = Field(description="The event's id: its `webhook-id`.")
    result: Literal["applied", "refused"]
    reason: str = Field(
        "",
        max_length=500,
        description="Why billing refused it (required then); a note when it applied it.",
    )

    @model_validator(mode="after")
    def refusal_says_why(self) -> "ConfirmationIn":
        if self.result == "refused" and not self.reason.strip():
            raise ValueError("a refusal needs its reason")
        return self


class ConfirmationStatus(StrEnum):
    RECORDED = "recorded"
    DUPLICATE = "duplicate"
    INVALID = "invalid"
    UNKNOWN_EVENT = "unknown_event"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class ConfirmationItem(ItemResult[ConfirmationStatus]):
    REJECTED: ClassVar[frozenset[str]] = frozenset(
        {ConfirmationStatus.INVALID, ConfirmationStatus.UNKNOWN_EVENT, ConfirmationStatus.CONFLICT}
    )


@dataclass(frozen=True)
class ConfirmationResult(BatchResult[ConfirmationItem]):
    @property
    def recorded(self) -> int:
        return self._count(ConfirmationStatus.RECORDED)


class ConfirmationsRejected(BatchRejected[ConfirmationItem]):
    noun = "confirmations"
    undone = "none was recorded"
    verb = "record"


def confirmations_record(
    *, source: str, items: list[Any], skip_invalid: bool = False
) -> ConfirmationResult:
    """Record billing's answers; see the module's text for what each does."""
    now = timezone.now()
    valid, invalid = items_validate(items, ConfirmationIn)
    results: dict[int, ConfirmationItem] = {
        bad.index: ConfirmationItem(
            bad.index, bad.external_id, ConfirmationStatus.INVALID, bad.errors
        )
        for bad in invalid
    }
    with transaction.atomic():
        wanted = {str(item.event) for _, item in valid}
        events = {
            str(event.event_id): event
            for event in OutboundEvent.objects.select_for_update()
            .select_related("subscriber")
            .filter(event_id__in=wanted)
            .order_by("pk")
        }
        answered: dict[str, str] = {}  # the answer each event takes in this batch
        to_apply: list[tuple[OutboundEvent, ConfirmationIn]] = []
        for index, item in valid:
            key = str(item.event)
            event = events.get(key)
            status = _status(event, item, answered.get(key))
            results[index] = ConfirmationItem(index, key, status, _errors(status))
            if status == ConfirmationStatus.RECORDED and event is not None:
                answered[key] = item.result
                to_apply.append((event, item))
        ordered = [results[index] for index in sorted(results)]
        all_or_nothing(
            ordered, total=len(items), skip_invalid=skip_invalid, refusal=ConfirmationsRejected
        )
        for event, item in to_apply:
            _record(event, item, source=source, now=now)
    return ConfirmationResult(ordered)


def _status(
    event: OutboundEvent | None, item: ConfirmationIn, in_batch: str | None
) -> ConfirmationStatus:
    if event is None:
        return ConfirmationStatus.UNKNOWN_EVENT
    given = in_batch or event.confirmation
    if not given:
        return ConfirmationStatus.RECORDED
    return ConfirmationStatus.DUPLICATE if given == item.result else ConfirmationStatus.CONFLICT


def _errors(status: ConfirmationStatus) -> tuple[FieldError, ...]:
    if status == ConfirmationStatus.UNKNOWN_EVENT:
        return (FieldError("event", "No event has this id."),)
    if status == ConfirmationStatus.CONFLICT:
        return (FieldError("result", "This event was already answered differently."),)
    return ()


def _record(event: OutboundEvent, item: ConfirmationIn, *, source: str, now: datetime) -> None:
    applied = item.result == "applied"
    reason = item.reason.strip()
    event.confirmation = item.result
    event.confirmed_at = now
    event.confirmation_reason = reason
    event.confirmed_by = source
    event.save(
        update_fields=["confirmation", "confirmed_at", "confirmation_reason", "confirmed_by"]
    )
    data = event.payload.get("data", {})
    if event.type == Type.OFFER_ACCEPTED:
        _offer_answered(event, data, applied, reason, now)
        return
    # The fields are billing's to set again. (A refused cancellation keeps the desk's values:
    # its case is closed, and its owner is reminded to sort it out with billing.)
    outbound.holds_release(
        event=event,
        because=FieldHold.Released.APPLIED if applied else FieldHold.Released.REFUSED,
    )
    subscriber = event.subscriber
    if event.type == Type.CANCELLATION_PROCESSED:
        said = (
            phrases.phrase("billing.cancellation_applied", date=data.get("billing_ends_on"))
            if applied
            else phrases.phrase("billing.cancellation_refused", reason=reason)
        )
    else:
        code = "billing.event_applied" if applied else "billing.event_refused"
        said = phrases.phrase(code, type=event.type, reason=reason)
    timeline_event_record(
        subscriber=subscriber,
        kind=TimelineEvent.Kind.BILLING,
        phrase=said,
        actor=None,
        data={"event": str(event.event_id), "case": data.get("case")},
        occurred_at=now,
    )
    if applied:
        return
    case = (
        CancellationCase.objects.filter(pk=data.get("case")).first() if data.get("case") else None
    )
    if event.type == Type.CANCELLATION_PROCESSED and case is not None:
        reminder_schedule(
            kind=Reminder.Kind.BILLING_REFUSED,
            key=f"billing-refused:{event.pk}",
            due_at=now,
            case=case,
            note=reason,
        )
        return
    tell_admins(
        phrases.phrase(
            "notify.billing_event_refused", type=event.type, name=subscriber.name, reason=reason
        ),
        "",
    )


def _offer_answered(
    event: OutboundEvent, data: dict[str, Any], applied: bool, reason: str, now: datetime
) -> None:
    # Locks in the order an acceptance takes them: the case, the offer, then the subscriber.
    try:
        offer = offer_billing_answered(
            offer_id=data["offer"], applied=applied, reason=reason, at=now
        )
    except (WrongState, CounterOffer.DoesNotExist, KeyError):
        offer = None  # an offer accepted before billing was told of offers
    if applied:
        outbound.holds_release(event=event, because=FieldHold.Released.APPLIED)
        return
    # Billing kept its own terms: what the desk shows goes back to them.
    restored = outbound.holds_refused(event=event)
    for field, (was, now_is) in restored.items():
        if field not in RESTORED_SAID:
            continue
        kind, code = RESTORED_SAID[field]
        shown = (was.name, now_is.name) if field == "plan" else (was, now_is)
        timeline_event_record(
            subscriber=event.subscriber,
            kind=kind,
            phrase=phrases.phrase(code, **{"from": shown[0], "to": shown[1]}),
            actor=None,
            data={
                "event": str(event.event_id),
                "from": outbound.held_value(was),
                "to": outbound.held_value(now_is),
            },
            occurred_at=now,
        )
    if offer is not None:
        reminder_schedule(
            kind=Reminder.Kind.BILLING_REFUSED,
            key=f"billing-refused:{event.pk}",
            due_at=now,
            offer=offer,
            case=offer.case,
            note=reason,
        )


# What the timeline says of a field put back after a refusal (the price and plan history).
RESTORED_SAID = {
    "monthly_price": (TimelineEvent.Kind.PRICE_CHANGE, "billing.price_restored"),
    "plan": (TimelineEvent.Kind.PLAN_CHANGE, "billing.plan_restored"),
}


def offers_unconfirmed_remind(*, now: datetime | None = None) -> int:
    """Accepted offers billing has not answered for within BILLING_CONFIRM_HOURS: the agent
    (and their managers) are reminded, once per offer."""
    now = now or timezone.now()
    reminded = Reminder.objects.filter(offer=OuterRef("pk"), kind=Reminder.Kind.BILLING_UNCONFIRMED)
    late = now - timedelta(hours=settings.BILLING_CONFIRM_HOURS)
    count = 0
    for offer in CounterOffer.objects.filter(
        status=CounterOffer.Status.ACCEPTED, billing=BillingState.TOLD, answered_at__lt=late
    ).exclude(Exists(reminded))[:500]:
        reminder_schedule(
            kind=Reminder.Kind.BILLING_UNCONFIRMED,
            key=f"billing-unconfirmed:{offer.pk}",
            due_at=now,
            offer=offer,
            case=offer.case,
        )
        count += 1
    return count
