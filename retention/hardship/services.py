"""Hardship arrangements: a subscriber who cannot pay accepts a payment deferral or a split
payment, and what they owed then becomes a schedule of instalments.

    kept ──(an instalment unpaid past its due date plus the grace days)──> broken
    broken ──(later payments cover every missed instalment)──> kept  (recovered, in history)
    kept / broken ──(everything paid)──> completed
    kept / broken ──(billing refused the offer: it never booked the schedule)──> cancelled

While an arrangement is kept, billing holds late fees and suspension for it: a
``hardship.hold`` event when it starts and when it recovers, a ``hardship.released`` one when it
breaks or completes, each written in the transaction of the change.

Payments arrive as timeline events of kind payment (billing's API and imports). subscribers
cannot call the desk, so an arriving payment asks for the tick after commit, and the tick runs
every few minutes anyway for messages that were lost. A payment is counted once: its
``HardshipPayment`` row is unique per event, written with the instalments it paid.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from offers.models import CounterOffer, OfferKind
from offers.pricing import add_months, split_instalments
from retention.core.refusals import WrongState
from retention.models import (
    ArrangementHistory,
    HardshipArrangement,
    HardshipPayment,
    Instalment,
    Reminder,
    User,
)
from retention.notifications.reminders import offer_agent, reminder_schedule
from retention.notifications.services import notify
from subscribers import outbound, phrases
from subscribers.models import OutboundEvent, Subscriber, TimelineEvent
from subscribers.services import timeline_event_record

Status = HardshipArrangement.Status
Action = ArrangementHistory.Action
State = Instalment.State
KIND_OF_OFFER = {
    OfferKind.PAYMENT_DEFERRAL: HardshipArrangement.Kind.DEFERRAL,
    OfferKind.SPLIT_PAYMENT: HardshipArrangement.Kind.SPLIT,
}
NOTHING = Decimal("0.00")
# Arrangements one tick looks at, oldest first; the next tick takes the rest.
TICK_BATCH = 500


def arrangement_schedule(*, offer: CounterOffer, owed: Decimal, today: date) -> list[Instalment]:
    """The instalments of ``owed``: a deferral's one, on the day it was deferred to; a split
    payment's monthly ones as billing books them (``split_instalments``), the first a month
    after the acceptance and the last on the day the offer runs until."""
    if offer.kind == OfferKind.PAYMENT_DEFERRAL:
        return [
            Instalment(
                number=1, due_on=today + timedelta(days=offer.days), amount=owed, paid=NOTHING
            )
        ]
    amounts = split_instalments(owed, offer.months)
    return [
        Instalment(number=number, due_on=add_months(today, number), amount=amount, paid=NOTHING)
        for number, amount in enumerate(amounts, start=1)
    ]


def arrangement_start(*, offer: CounterOffer, actor: User | None) -> HardshipArrangement | None:
    """The arrangement of a deferral or split payment just accepted; None for another offer,
    or when the subscriber owed nothing (the timeline says so: there is nothing to schedule and
    nothing for billing to hold). Call inside the acceptance's transaction, after it: the
    arrangement exists exactly when the acceptance does."""
    if offer.kind not in KIND_OF_OFFER or offer.status != CounterOffer.Status.ACCEPTED:
        return None
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("an arrangement starts inside the acceptance's transaction")
    now = offer.answered_at or timezone.now()
    # The balance as the acceptance read it, under the same lock: what billing was told.
    subscriber = Subscriber.objects.select_for_update().get(pk=offer.subscriber_id)
    owed = subscriber.balance
    if owed <= 0:
        timeline_event_record(
            subscriber=subscriber,
            kind=TimelineEvent.Kind.BILLING,
            phrase=phrases.phrase("hardship.nothing_owed", offer=offer.pk),
            actor=actor,
            data={"offer": offer.pk, "balance": str(owed)},
            occurred_at=now,
        )
        return None
    newest = TimelineEvent.objects.filter(
        subscriber=subscriber, kind=TimelineEvent.Kind.PAYMENT
    ).aggregate(newest=Max("id"))["newest"]
    arrangement = HardshipArrangement.objects.create(
        subscriber=subscriber,
        payments_after=newest or 0,
        offer=offer,
        case_id=offer.case_id,
        kind=KIND_OF_OFFER[OfferKind(offer.kind)],
        owed=owed,
        grace_days=settings.HARDSHIP_GRACE_DAYS,
        created_at=now,
        status_changed_at=now,
    )
    instalments = arrangement_schedule(offer=offer, owed=owed, today=timezone.localdate(now))
    for instalment in instalments:
        instalment.arrangement = arrangement
    Instalment.objects.bulk_create(instalments)
    said = _started_phrase(arrangement, instalments)
    _history(arrangement, actor, Action.STARTED, "", said=said, at=now)
    _timeline(arrangement, said, actor, now)
    _hold(arrangement, subscriber, instalments)
    return arrangement


def _started_phrase(
    arrangement: HardshipArrangement, instalments: list[Instalment]
) -> dict[str, Any]:
    if arrangement.kind == HardshipArrangement.Kind.DEFERRAL:
        return phrases.phrase("hardship.deferral", owed=arrangement.owed, due=instalments[0].due_on)
    return phrases.phrase(
        "hardship.split",
        owed=arrangement.owed,
        count=len(instalments),
        monthly=instalments[0].amount,
        last=instalments[-1].due_on,
    )


# --- Transitions --------------------------------------------------------------------------------


def _locked(arrangement: HardshipArrangement) -> HardshipArrangement:
    """The subscriber's row first, then the arrangement's: the order in which an acceptance
    and the outbound events lock them, so the tick cannot deadlock against either."""
    Subscriber.objects.select_for_update().filter(pk=arrangement.subscriber_id).first()
    return (
        HardshipArrangement.objects.select_for_update(of=("self",))
        .select_related("subscriber", "offer", "offer__proposer", "case__owner")
        .get(pk=arrangement.pk)
    )


def _instalments(arrangement: HardshipArrangement) -> list[Instalment]:
    return list(
        Instalment.objects.select_for_update().filter(arrangement=arrangement).order_by("number")
    )


def _require(arrangement: HardshipArrangement, *allowed: str) -> None:
    if arrangement.status not in allowed:
        raise WrongState(
            _("The payment arrangement is %(status)s.")
            % {"status": str(arrangement.get_status_display()).lower()}
        )


def _move(
    arrangement: HardshipArrangement,
    actor: User | None,
    action: str,
    to: str,
    said: dict[str, Any],
    now: datetime,
) -> None:
    previous = arrangement.status
    arrangement.status, arrangement.status_changed_at = to, now
    fields = ["status", "status_changed_at"]
    if to in (Status.COMPLETED, Status.CANCELLED):
        arrangement.ended_at = now
        fields.append("ended_at")
    arrangement.save(update_fields=fields)
    _history(arrangement, actor, action, previous, said=said, at=now)
    _timeline(arrangement, said, actor, now)


def arrangement_break(
    *,
    arrangement: HardshipArrangement,
    missed: Instalment,
    actor: User | None = None,
    now: datetime | None = None,
) -> HardshipArrangement:
    """An instalment was not paid within the grace days: billing's hold ends, and the agent who
    made the arrangement is told and gets a callback to agree what happens next."""
    now = now or timezone.now()
    with transaction.atomic():
        arrangement = _locked(arrangement)
        _require(arrangement, Status.KEPT)
        said = phrases.phrase(
            "hardship.broken",
            number=missed.number,
            amount=missed.amount,
            due=missed.due_on,
            grace=arrangement.grace_days,
        )
        _move(arrangement, actor, Action.BROKEN, Status.BROKEN, said, now)
        _released(arrangement, "broken")
        agent = offer_agent(offer=arrangement.offer, case=arrangement.case)
        name = arrangement.subscriber.name
        url = reverse("subscribers:detail", args=[arrangement.subscriber_id])
        notify(
            recipient=agent,
            phrase=phrases.phrase("notify.hardship_broken", name=name, number=missed.number),
            url=url,
        )
        # Tomorrow morning, desk time: a callback about money is no call for the evening.
        morning = datetime.combine(timezone.localdate(now) + timedelta(days=1), time(10))
        reminder_schedule(
            kind=Reminder.Kind.CALLBACK,
            key=f"hardship:{arrangement.pk}:{missed.number}",
            due_at=timezone.make_aware(morning),
            recipient=agent,
            offer=arrangement.offer,
            subscriber=arrangement.subscriber,
        )
    return arrangement


def arrangement_recover(
    *, arrangement: HardshipArrangement, actor: User | None = None, now: datetime | None = None
) -> HardshipArrangement:
    """Every missed instalment is paid after all: the arrangement is kept again, and billing
    holds again."""
    now = now or timezone.now()
    with transaction.atomic():
        arrangement = _locked(arrangement)
        _require(arrangement, Status.BROKEN)
        instalments = _instalments(arrangement)
        if any(i.state == State.MISSED for i in instalments):
            raise WrongState(_("A missed instalment is still unpaid."))
        said = phrases.phrase("hardship.recovered")
        _move(arrangement, actor, Action.RECOVERED, Status.KEPT, said, now)
        _hold(arrangement, arrangement.subscriber, instalments)
    return arrangement


def arrangement_complete(
    *, arrangement: HardshipArrangement, actor: User | None = None, now: datetime | None = None
) -> HardshipArrangement:
    """Everything is paid: the arrangement ends, and so does billing's hold."""
    now = now or timezone.now()
    with transaction.atomic():
        arrangement = _locked(arrangement)
        _require(arrangement, Status.KEPT, Status.BROKEN)
        if any(i.paid < i.amount for i in _instalments(arrangement)):
            raise WrongState(_("An instalment is still unpaid."))
        said = phrases.phrase("hardship.completed", owed=arrangement.owed)
        _move(arrangement, actor, Action.COMPLETED, Status.COMPLETED, said, now)
        _released(arrangement, "completed")
    return arrangement


def arrangement_cancel(
    *,
    arrangement: HardshipArrangement,
    reason: str,
    actor: User | None = None,
    now: datetime | None = None,
) -> HardshipArrangement:
    """Billing refused the deferral or split payment: there is no schedule to keep, and the
    case reopens for the agent to agree new terms (retention.saves). A hold still in force is
    released; a broken arrangement's was released already."""
    now = now or timezone.now()
    with transaction.atomic():
        arrangement = _locked(arrangement)
        _require(arrangement, Status.KEPT, Status.BROKEN)
        held = arrangement.status == Status.KEPT
        said = phrases.phrase("hardship.cancelled", reason=reason)
        _move(arrangement, actor, Action.CANCELLED, Status.CANCELLED, said, now)
        if held:
            _released(arrangement, "refused")
    return arrangement


# --- Payments and the tick ----------------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
    payments: int
    broken: int
    recovered: int
    completed: int


def hardship_tick(*, now: datetime | None = None) -> Tick:
    """Count the payments not counted yet, then settle each open arrangement: completed when
    all is paid, kept again when the missed instalments are, broken when one is past its grace
    days. Each arrangement in its own transaction under its lock, so two ticks at once or a
    tick run twice change nothing twice: the second finds the payments counted and the
    arrangement already moved."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    counted = broken = recovered = completed = 0
    last = 0
    while True:
        # Only the arrangements something can happen to: a payment not counted yet, or an
        # unpaid instalment past its due date (in its grace days, or missed and not marked).
        batch = list(
            _to_settle(today)
            .filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "subscriber_id")[:TICK_BATCH]
        )
        if not batch:
            break
        last = batch[-1][0]
        for pk, subscriber_id in batch:
            done = _settle(HardshipArrangement(pk=pk, subscriber_id=subscriber_id), today, now)
            counted += done.payments
            broken += done.broken
            recovered += done.recovered
            completed += done.completed
    return Tick(payments=counted, broken=broken, recovered=recovered, completed=completed)


def _to_settle(today: date) -> QuerySet[HardshipArrangement]:
    uncounted = TimelineEvent.objects.filter(
        subscriber_id=OuterRef("subscriber_id"),
        kind=TimelineEvent.Kind.PAYMENT,
        id__gt=OuterRef("payments_after"),
    ).exclude(Exists(HardshipPayment.objects.filter(event_id=OuterRef("pk"))))
    overdue = Instalment.objects.filter(
        arrangement=OuterRef("pk"), paid__lt=F("amount"), due_on__lt=today
    ).filter(Q(arrangement__status=Status.KEPT) | ~Q(state=State.MISSED))
    return HardshipArrangement.objects.filter(status__in=HardshipArrangement.OPEN_STATUSES).filter(
        Exists(uncounted) | Exists(overdue)
    )


def _settle(arrangement: HardshipArrangement, today: date, now: datetime) -> Tick:
    """One arrangement, in its own transaction under its lock."""
    counted = broken = recovered = completed = 0
    with transaction.atomic():
        arrangement = _locked(arrangement)
        if arrangement.status in HardshipArrangement.OPEN_STATUSES:
            instalments = _instalments(arrangement)
            counted += _count_payments(arrangement, instalments, now)
            unpaid = [i for i in instalments if i.paid < i.amount]
            missed = [
                i for i in unpaid if i.due_on + timedelta(days=arrangement.grace_days) < today
            ]
            for instalment in missed:
                if instalment.state != State.MISSED:
                    instalment.state = State.MISSED
                    instalment.save(update_fields=["state"])
            if not unpaid:
                arrangement_complete(arrangement=arrangement, now=now)
                completed += 1
            elif arrangement.status == Status.BROKEN and not missed:
                arrangement_recover(arrangement=arrangement, now=now)
                recovered += 1
            elif arrangement.status == Status.KEPT and missed:
                arrangement_break(arrangement=arrangement, missed=missed[0], now=now)
                broken += 1
    return Tick(payments=counted, broken=broken, recovered=recovered, completed=completed)


def _amount(event: TimelineEvent) -> Decimal:
    data = event.data if isinstance(event.data, dict) else {}
    try:
        amount = Decimal(str(data.get("amount", "0")))
    except InvalidOperation:
        return NOTHING
    return amount if amount.is_finite() and amount > 0 else NOTHING


def _count_payments(
    arrangement: HardshipArrangement, instalments: list[Instalment], now: datetime
) -> int:
    """Apply the payments billing reported since the arrangement started to its open
    instalments, earliest due first (a partial payment adds up). Each payment gets its row, so
    the next tick leaves it alone; what is more than the arrangement's debt is not counted."""
    new = (
        TimelineEvent.objects.filter(
            subscriber_id=arrangement.subscriber_id,
            kind=TimelineEvent.Kind.PAYMENT,
            # The balance owed at acceptance had the payments applied before it.
            id__gt=arrangement.payments_after,
        )
        .filter(~Exists(HardshipPayment.objects.filter(event=OuterRef("pk"))))
        .order_by("occurred_at", "id")
    )
    records = []
    for event in new:
        amount = left = _amount(event)
        paid: dict[str, str] = {}
        for instalment in instalments:
            if left <= 0:
                break
            take = min(left, instalment.left)
            if take <= 0:
                continue
            instalment.paid += take
            left -= take
            paid[str(instalment.number)] = str(take)
            fields = ["paid"]
            if instalment.paid == instalment.amount:
                instalment.state = State.PAID
                instalment.paid_on = timezone.localdate(event.occurred_at)
                fields += ["state", "paid_on"]
                said = phrases.phrase(
                    "hardship.paid",
                    number=instalment.number,
                    count=len(instalments),
                    amount=instalment.amount,
                )
                _history(arrangement, None, Action.PAID, arrangement.status, said=said, at=now)
                _timeline(arrangement, said, None, now)
            instalment.save(update_fields=fields)
        records.append(
            HardshipPayment(
                arrangement=arrangement,
                event=event,
                amount=amount,
                counted=amount - left,
                instalments=paid,
                at=now,
            )
        )
    # The unique event: a payment another transaction counted meanwhile fails this one, which
    # then changes nothing, rather than counting it again.
    HardshipPayment.objects.bulk_create(records)
    return len(records)


# --- What each change writes --------------------------------------------------------------------


def _history(
    arrangement: HardshipArrangement,
    actor: User | None,
    action: str,
    previous: str,
    *,
    said: dict[str, Any],
    at: datetime,
) -> None:
    ArrangementHistory.objects.create(
        arrangement=arrangement,
        actor=actor,
        action=action,
        from_status=previous,
        to_status=arrangement.status,
        code=said["code"],
        params=said["params"],
        at=at,
    )


def _timeline(
    arrangement: HardshipArrangement, said: dict[str, Any], actor: User | None, at: datetime
) -> None:
    timeline_event_record(
        subscriber=arrangement.subscriber,
        kind=TimelineEvent.Kind.BILLING,
        phrase=said,
        actor=actor,
        data={"arrangement": arrangement.pk, "offer": arrangement.offer_id},
        occurred_at=at,
    )


def _hold(
    arrangement: HardshipArrangement, subscriber: Subscriber, instalments: list[Instalment]
) -> OutboundEvent:
    last = max(i.due_on for i in instalments)
    return outbound.outbound_event_record(
        type=OutboundEvent.Type.HARDSHIP_HOLD,
        data=outbound.HardshipHold(
            subscriber=outbound.subscriber_ref(subscriber),
            arrangement=arrangement.pk,
            offer=arrangement.offer_id,
            kind=arrangement.kind,
            owed=arrangement.owed,
            until=last + timedelta(days=arrangement.grace_days),
            instalments=[
                outbound.InstalmentDue(
                    number=i.number, due_on=i.due_on, amount=i.amount, paid=i.paid
                )
                for i in instalments
            ],
        ),
    )


def _released(arrangement: HardshipArrangement, reason: str) -> OutboundEvent:
    outstanding = sum((i.left for i in Instalment.objects.filter(arrangement=arrangement)), NOTHING)
    return outbound.outbound_event_record(
        type=OutboundEvent.Type.HARDSHIP_RELEASED,
        data=outbound.HardshipReleased(
            subscriber=outbound.subscriber_ref(arrangement.subscriber),
            arrangement=arrangement.pk,
            offer=arrangement.offer_id,
            reason=reason,  # type: ignore[arg-type]
            outstanding=outstanding,
        ),
    )
