"""Events for billing and other systems: what they must act on, written with the decision.

Each decision that changes what a subscriber is billed (an offer accepted, a cancellation
processed or withdrawn, equipment asked back or returned) calls ``outbound_event_record`` inside
its own transaction, so the event exists exactly when the decision does: a transactional outbox.
Nothing here sends anything: after commit it asks for delivery (retention/billing), which
reads the rows.

The payload is defined once, by the schemas below: the services build it through them (so a
payload always matches its schema) and the OpenAPI document lists them as the webhooks a
receiver gets (README, "Events for billing"). A change that a receiver could misread gets a new
``version``; adding an optional field does not.
"""

import uuid
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Schema
from pydantic import ConfigDict, Field, create_model

from retention.core import broker
from retention.core.refusals import WrongState
from subscribers.models import Equipment, FieldHold, OutboundEvent, Plan, Subscriber

Type = OutboundEvent.Type
VERSION = 1
# The task that delivers events (retention/billing/tasks.py), asked for by name after commit.
DELIVER_TASK = "retention.tasks.billing_deliver"


class SubscriberRef(Schema):
    id: int
    account_number: str


class PriceChange(Schema):
    """Built with ``PriceChange.model_validate({"from": …, "to": …})``; written with
    ``from`` and ``to``."""

    model_config = ConfigDict(populate_by_name=True)

    before: Decimal = Field(alias="from")
    after: Decimal = Field(alias="to")


class PlanChange(Schema):
    model_config = ConfigDict(populate_by_name=True)

    before: str = Field(alias="from")
    after: str = Field(alias="to")


class Deferral(Schema):
    amount: Decimal = Field(description="What the subscriber owed when the offer was accepted.")
    days: int
    until: date


class Split(Schema):
    amount: Decimal = Field(description="What the subscriber owed when the offer was accepted.")
    instalments: int
    monthly: Decimal = Field(
        description="Each instalment, rounded to the cent; the last one "
        "takes what rounding left over."
    )


class Pause(Schema):
    starts_on: date
    resume_on: date = Field(description="The service resumes on this day (a pause.resumed event).")
    fee: Decimal = Field(description="The monthly fee while paused; 0 when free.")
    price_after: Decimal = Field(description="The monthly price from the resume on.")


class OfferAccepted(Schema):
    subscriber: SubscriberRef
    offer: int
    case: int | None = Field(description="Empty for a proactive offer.")
    kind: str
    starts_on: date
    until: date | None = Field(description="Empty where the change is permanent.")
    monthly_price: PriceChange | None = Field(description="Where the price changes.")
    plan: PlanChange | None = Field(description="Plan codes, where the plan changes.")
    one_time_credit: Decimal | None = Field(description="A credit to the balance, once.")
    deferral: Deferral | None
    split: Split | None
    pause: Pause | None = Field(default=None, description="A pause of the service.")


class PauseResumed(Schema):
    subscriber: SubscriberRef
    offer: int
    case: int | None
    resumed_on: date
    monthly_price: PriceChange = Field(description="From the fee while paused back to the price.")


class CancellationProcessed(Schema):
    subscriber: SubscriberRef
    case: int | None
    effective_date: date = Field(description="The service stops at the end of this day.")
    billing_ends_on: date = Field(description="Nothing is billed after this day.")


class CancellationWithdrawn(Schema):
    subscriber: SubscriberRef
    case: int


class Item(Schema):
    serial: str
    kind: str


class EquipmentReturnRequested(Schema):
    subscriber: SubscriberRef
    due_on: date = Field(description="Billing never waits for the return.")
    items: list[Item]


class EquipmentReturned(Schema):
    subscriber: SubscriberRef
    item: Item
    returned_on: date
    method: str


class InstalmentDue(Schema):
    number: int
    due_on: date
    amount: Decimal
    paid: Decimal


class HardshipHold(Schema):
    """The subscriber keeps a hardship arrangement: no late fee and no suspension for the
    arrangement's debt until ``until`` (sent when it starts, and again when it recovers)."""

    subscriber: SubscriberRef
    arrangement: int
    offer: int
    kind: str = Field(description="deferral or split")
    owed: Decimal = Field(description="What the subscriber owed when the offer was accepted.")
    until: date = Field(description="The last instalment's due date plus the grace days.")
    instalments: list[InstalmentDue]


class HardshipReleased(Schema):
    """The hold is over: ``completed`` (everything paid), ``broken`` (an instalment was not
    paid within the grace days) or ``refused`` (billing refused the offer, so there is no
    arrangement); billing's usual rules apply again."""

    subscriber: SubscriberRef
    arrangement: int
    offer: int
    reason: Literal["completed", "broken", "refused"]
    outstanding: Decimal = Field(description="What is still unpaid of the arrangement.")


# Each type with the schema of its ``data``.
DATA: dict[str, type[Schema]] = {
    Type.OFFER_ACCEPTED: OfferAccepted,
    Type.CANCELLATION_PROCESSED: CancellationProcessed,
    Type.CANCELLATION_WITHDRAWN: CancellationWithdrawn,
    Type.EQUIPMENT_RETURN_REQUESTED: EquipmentReturnRequested,
    Type.EQUIPMENT_RETURNED: EquipmentReturned,
    Type.PAUSE_RESUMED: PauseResumed,
    Type.HARDSHIP_HOLD: HardshipHold,
    Type.HARDSHIP_RELEASED: HardshipReleased,
}


class Envelope(Schema):
    """What a receiver gets, as the Standard Webhooks payload: ``id`` is also the
    ``webhook-id`` header."""

    id: uuid.UUID
    type: str
    version: int
    timestamp: datetime


def subscriber_ref(subscriber: Subscriber) -> SubscriberRef:
    return SubscriberRef(id=subscriber.pk, account_number=subscriber.account_number)


def item_of(equipment: Equipment) -> Item:
    return Item(serial=equipment.serial, kind=equipment.kind)


def outbound_event_record(
    *,
    type: str,
    data: Schema,
    holds: dict[str, Any] | None = None,
    before: dict[str, Any] | None = None,
) -> OutboundEvent:
    """The event of a decision being made. Call inside the decision's transaction: outside one
    the event could outlive a decision that failed, or be lost with one that succeeded.

    ``holds``: the subscriber's fields the decision changed, with the desk's new values. Until
    billing confirms the event they are held (``FieldHold``): the import and pushed events do
    not overwrite them. A later decision's hold on a field replaces an earlier one. ``before``:
    the same fields' values before the decision, which a refusal puts back (``holds_refused``)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("an outbound event is written inside the decision's transaction")
    if not isinstance(data, DATA[type]):
        raise TypeError(f"{type} carries {DATA[type].__name__}, not {data.__class__.__name__}")
    subscriber: SubscriberRef = data.subscriber  # type: ignore[attr-defined]
    # The subscriber's row stays locked to the end of the decision's transaction, so a later
    # event of the same subscriber gets a higher id and commits after this one: per subscriber,
    # id order is the order delivery keeps. (Most decisions hold the lock already.)
    Subscriber.objects.select_for_update().filter(pk=subscriber.id).values_list("pk").first()
    now = timezone.now()
    envelope = Envelope(id=uuid.uuid4(), type=type, version=VERSION, timestamp=now)
    payload = {
        **envelope.model_dump(mode="json"),
        "data": data.model_dump(mode="json", by_alias=True),
    }
    event = OutboundEvent.objects.create(
        event_id=envelope.id,
        type=type,
        version=VERSION,
        subscriber_id=subscriber.id,
        payload=payload,
        created_at=now,
    )
    if holds:
        fields = list(holds)
        FieldHold.objects.filter(
            subscriber_id=subscriber.id, field__in=fields, released_at__isnull=True
        ).update(released_at=now, released_because=FieldHold.Released.SUPERSEDED)
        FieldHold.objects.bulk_create(
            FieldHold(
                subscriber_id=subscriber.id,
                field=field,
                value=held_value(value),
                before=held_value((before or {}).get(field)),
                event=event,
                created_at=now,
            )
            for field, value in holds.items()
        )
    # A lost message only delays the event to the next tick; the row is what counts.
    transaction.on_commit(lambda: broker.enqueue(DELIVER_TASK))
    return event


def held_value(value: Any) -> str | None:
    """A field's value as a hold and a conflict keep it: text, a plan by its code."""
    if value is None:
        return None
    if hasattr(value, "code"):
        return str(value.code)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def holds_release(*, event: OutboundEvent, because: str) -> int:
    """Billing answered ``event``: its fields are billing's again (the next import or pushed
    event may set them)."""
    return FieldHold.objects.filter(event=event, released_at__isnull=True).update(
        released_at=timezone.now(), released_because=because
    )


def holds_refused(*, event: OutboundEvent) -> dict[str, tuple[Any, Any]]:
    """Billing refused ``event``: its held fields are billing's again, and each one the desk
    still shows as the decision set it goes back to its value before the decision (billing
    never took the new one). A field a later decision changed keeps that decision's value.
    Returns what went back: {field: (the desk's value, the value now)}."""
    now = timezone.now()
    holds = list(
        FieldHold.objects.select_for_update().filter(event=event, released_at__isnull=True)
    )
    FieldHold.objects.filter(pk__in=[hold.pk for hold in holds]).update(
        released_at=now, released_because=FieldHold.Released.REFUSED
    )
    if not holds:
        return {}
    subscriber = Subscriber.objects.select_for_update().get(pk=event.subscriber_id)
    restored: dict[str, tuple[Any, Any]] = {}
    for hold in holds:
        name = hold.field
        if name not in RESTORABLE or held_value(getattr(subscriber, name)) != hold.value:
            continue
        value = RESTORABLE[name](hold.before)
        if value is None and not Subscriber._meta.get_field(name).null:
            continue  # nothing to go back to (a hold written before holds kept it)
        restored[name] = (getattr(subscriber, name), value)
        setattr(subscriber, name, value)
    if restored:
        subscriber.save(update_fields=[*restored, "updated_at"])
    return restored


def _plan(code: str | None) -> Plan | None:
    return Plan.objects.filter(code=code).first() if code else None


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _amount(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


# The fields an offer's acceptance changes, from a hold's text back to the field's value. (A
# cancellation's status is not put back: its case is closed, and its owner is reminded.)
RESTORABLE: dict[str, Callable[[Any], Any]] = {
    FieldHold.Field.MONTHLY_PRICE: _amount,
    FieldHold.Field.PLAN: _plan,
    FieldHold.Field.PROMO_ENDS_ON: _day,
    FieldHold.Field.BALANCE: _amount,
}


def hold_release(*, hold: FieldHold, actor: Any) -> FieldHold:
    """An admin resolves a conflict: the field is billing's again, whatever billing answers
    later. The hold keeps who released it and when."""
    with transaction.atomic():
        locked = FieldHold.objects.select_for_update().get(pk=hold.pk)
        if locked.released_at is not None:
            raise WrongState(_("This field is not held any more."))
        locked.released_at = timezone.now()
        locked.released_because = FieldHold.Released.ADMIN
        locked.released_by = actor
        locked.save(update_fields=["released_at", "released_because", "released_by"])
    return locked


def openapi_webhooks(components: dict[str, Any]) -> dict[str, Any]:
    """The events as OpenAPI 3.1 webhooks: what an endpoint registered for them receives, one
    POST per event. Their schemas join ``components`` (the API document's schemas)."""
    webhooks = {}
    for event_type, data in DATA.items():
        name = f"{data.__name__}Event"
        model = create_model(
            name,
            __base__=Envelope,
            type=(Literal[event_type], ...),  # type: ignore[arg-type]
            data=(data, ...),
        )
        found = model.model_json_schema(ref_template="#/components/schemas/{model}", by_alias=True)
        components.update(found.pop("$defs", {}))
        components[name] = found
        webhooks[str(event_type)] = {
            "post": {
                "summary": str(Type(event_type).label),
                "description": (
                    "Signed as Standard Webhooks sign: the webhook-id header is the payload's "
                    "id, which a receiver uses to drop a repeat."
                ),
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                    },
                },
                "responses": {"2XX": {"description": "Received; any other answer is retried."}},
            }
        }
    return webhooks
