"""What billing's pushed events change on the subscriber, where their ``data`` carries it.

| kind | data | changes |
|---|---|---|
| payment | ``amount`` | balance down by it, arrears down by it (not below 0) |
| price_change | ``to`` | the monthly price |
| plan_change | ``plan`` (a plan's code), ``price`` | the plan, the monthly price |
| suspended | — | status: suspended (an active subscriber) |
| reactivated | — | status: active (a suspended subscriber) |

An event changes the subscriber once, when it is first stored: a resend is a duplicate and
changes nothing. A price, plan or status is set by the newest event of its kind that the desk
has (by ``occurred_at``): one that arrives late, after a newer one, goes on the timeline only.
Payments add up in any order. A field the desk holds for billing (``FieldHold``: a decision
billing has not confirmed) is not set: the event is stored, and the value is a
``FieldConflict``, reported in the API's answer. The cost per batch is a fixed number of
queries, whatever its size.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from retention.core import broker
from subscribers.models import FieldConflict, FieldHold, Plan, Subscriber, TimelineEvent
from subscribers.outbound import held_value
from subscribers.text import FieldError

Kind = TimelineEvent.Kind
# Which kinds set which field, newest first: a field's value comes from the newest of them.
SETTERS = {
    "monthly_price": (Kind.PRICE_CHANGE, Kind.PLAN_CHANGE),
    "plan": (Kind.PLAN_CHANGE,),
    "status": (Kind.SUSPENDED, Kind.REACTIVATED),
}
EFFECT_KINDS = frozenset({Kind.PAYMENT, *(kind for kinds in SETTERS.values() for kind in kinds)})
MAX_AMOUNT = Decimal("99999999.99")
# The desk's hardship tick (retention/hardship): it counts new payments towards payment
# arrangements. Asked for by name: subscribers may import retention.core, nothing else of it.
HARDSHIP_TASK = "retention.tasks.hardship_tick"


def data_errors(kind: str, data: dict[str, Any], plans: set[str]) -> list[FieldError]:
    """What is wrong with the values an event of ``kind`` would set (none: it may change the
    subscriber). Values it does not carry are no error: the event then changes nothing."""
    errors = []
    for key in MONEY_KEYS.get(kind, ()):
        if key in data and _money(data[key]) is None:
            errors.append(
                FieldError(f"data.{key}", "Should be an amount like 29.99 (at most 2 decimals)")
            )
    if kind == Kind.PLAN_CHANGE and "plan" in data and data["plan"] not in plans:
        errors.append(FieldError("data.plan", "No plan has this code"))
    return errors


# The amounts in an event's data, by kind.
MONEY_KEYS: dict[str, tuple[str, ...]] = {
    Kind.PAYMENT: ("amount",),
    Kind.PRICE_CHANGE: ("to",),
    Kind.PLAN_CHANGE: ("price",),
}


def _money(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    exponent = amount.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -2 or abs(amount) > MAX_AMOUNT:
        return None  # NaN and infinities have a letter for an exponent
    return amount


@dataclass(frozen=True)
class Applied:
    """What a batch's events changed: the fields set on each subscriber, the conflicts by the
    event's external id."""

    changed: int
    conflicts: dict[str, tuple[str, ...]]


def events_apply(*, events: Iterable[TimelineEvent], source: str) -> Applied:
    """Change the subscribers as the newly stored ``events`` say (see the module's text).
    Call in the transaction that stored them."""
    events = [event for event in events if event.kind in EFFECT_KINDS]
    if not events:
        return Applied(0, {})
    ids = {event.subscriber_id for event in events}
    subscribers = {
        s.pk: s for s in Subscriber.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }
    # Payments only add up: what the newest setter is, holds and plans matter to the others.
    setting = any(event.kind != Kind.PAYMENT for event in events)
    newest = _newest_stored(ids) if setting else {}
    holds = (
        {
            (hold.subscriber_id, hold.field): hold
            for hold in FieldHold.objects.filter(subscriber_id__in=ids, released_at__isnull=True)
        }
        if setting
        else {}
    )
    plans = (
        {plan.code: plan for plan in Plan.objects.all()}
        if any(event.kind == Kind.PLAN_CHANGE for event in events)
        else {}
    )
    wanted: dict[tuple[int, str], tuple[datetime, int, Any, TimelineEvent]] = {}
    paid: dict[int, Decimal] = defaultdict(Decimal)
    for event in events:
        for field, value in _sets(event, plans).items():
            if field == "paid":
                paid[event.subscriber_id] += value
                continue
            key = (event.subscriber_id, field)
            order = (event.occurred_at, event.pk or 0)
            if order[0] < newest.get(key, order[0]):
                continue  # a newer event of its kind is stored: it arrived late
            if key not in wanted or order > wanted[key][:2]:
                wanted[key] = (*order, value, event)
    conflicts: dict[str, list[str]] = defaultdict(list)
    recorded: list[FieldConflict] = []
    touched: dict[int, set[str]] = defaultdict(set)
    now = timezone.now()
    for (subscriber_id, field), (_, _, value, event) in wanted.items():
        subscriber = subscribers[subscriber_id]
        hold = holds.get((subscriber_id, field))
        if hold is not None:
            if held_value(value) != hold.value:
                recorded.append(_conflict(subscriber, field, value, hold, source, event, now))
                conflicts[event.external_id or ""].append(field)
            continue
        if field == "status" and not _may_become(subscriber.status, value):
            continue
        setattr(subscriber, field, value)
        touched[subscriber_id].add(field)
    for subscriber_id, amount in paid.items():
        subscriber = subscribers[subscriber_id]
        subscriber.balance -= amount
        subscriber.arrears = max(subscriber.arrears - amount, Decimal("0.00"))
        touched[subscriber_id] |= {"balance", "arrears"}
    changed = [subscribers[pk] for pk in touched]
    if changed:
        fields = sorted(set().union(*touched.values()) | {"updated_at"})
        Subscriber.objects.bulk_update(changed, fields)
    if recorded:
        FieldConflict.objects.bulk_create(recorded)
    if paid:
        # A payment may keep a hardship arrangement; a lost message waits for beat's next tick.
        transaction.on_commit(lambda: broker.enqueue(HARDSHIP_TASK))
    return Applied(len(changed), {key: tuple(value) for key, value in conflicts.items()})


def _sets(event: TimelineEvent, plans: dict[str, Plan]) -> dict[str, Any]:
    data = event.data if isinstance(event.data, dict) else {}
    if event.kind == Kind.PAYMENT:
        amount = _money(data.get("amount"))
        return {"paid": amount} if amount is not None else {}
    if event.kind == Kind.PRICE_CHANGE:
        price = _money(data.get("to"))
        return {"monthly_price": price} if price is not None else {}
    if event.kind == Kind.PLAN_CHANGE:
        sets: dict[str, Any] = {}
        if data.get("plan") in plans:
            sets["plan"] = plans[data["plan"]]
        if _money(data.get("price")) is not None:
            sets["monthly_price"] = _money(data["price"])
        return sets
    if event.kind == Kind.SUSPENDED:
        return {"status": Subscriber.Status.SUSPENDED}
    if event.kind == Kind.REACTIVATED:
        return {"status": Subscriber.Status.ACTIVE}
    return {}


def _may_become(status: str, new: str) -> bool:
    """Suspension is of an active subscriber, reactivation of a suspended one: an event never
    brings back a subscriber who is leaving or has left."""
    if new == Subscriber.Status.SUSPENDED:
        return status == Subscriber.Status.ACTIVE
    return status == Subscriber.Status.SUSPENDED


def _newest_stored(ids: set[int]) -> dict[tuple[int, str], datetime]:
    """When the newest stored event that sets each field of each subscriber happened (the
    batch's own events included: they are stored already)."""
    kinds = {kind for setters in SETTERS.values() for kind in setters}
    newest: dict[tuple[int, str], datetime] = {}
    rows = (
        TimelineEvent.objects.filter(subscriber_id__in=ids, kind__in=kinds)
        .values("subscriber_id", "kind")
        .annotate(last=Max("occurred_at"))
        .order_by()
    )
    for row in rows:
        for field, setters in SETTERS.items():
            if row["kind"] in setters:
                key = (row["subscriber_id"], field)
                newest[key] = max(newest.get(key, row["last"]), row["last"])
    return newest


def _conflict(
    subscriber: Subscriber,
    field: str,
    value: Any,
    hold: FieldHold,
    source: str,
    event: TimelineEvent,
    now: datetime,
) -> FieldConflict:
    return FieldConflict(
        subscriber=subscriber,
        field=field,
        incoming=held_value(value),
        kept=hold.value,
        hold=hold,
        source=source,
        where=f"event {event.external_id}"[:120],
        at=now,
    )
