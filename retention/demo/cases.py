"""Open demo and benchmark cancellation cases for the queue, deterministic for a seed.

Cases are built with the same deadline and priority formulas as the intake service
(retention.cases.priority) and written in bulk (retention.demo.bulk): opening 100,000 cases one
by one through the service would take many minutes and prove nothing the service's own tests
don't. The desk's past, closed cases, is retention.demo.history's.
"""

import heapq
import math
import random
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from offers.models import ReasonCategory
from retention.cases.priority import case_priority, process_by_date
from retention.demo.bulk import insert
from retention.demo.phrases import names
from retention.demo.propensity import OUTAGE_REASON, PRICE_REASON, Propensity
from retention.models import CancellationCase, CancellationReason, CaseHistory, User
from subscribers.desk_calendar import first_contact_due
from subscribers.models import Subscriber, TimelineEvent

CHUNK = 5_000
COMPETITORS = ["Tele2", "Bite", "LMT", "Baltcom", ""]


def cases_seed(*, count: int, seed: int = 7, owner: User | None = None, owned: int = 0) -> int:
    """Open ``count`` cases for active subscribers without one; ``owned`` of them for ``owner``.

    Who asks to leave follows their story, as in the history (retention.demo.propensity).
    Opening times spread over the last five days, so some first contacts are overdue and some
    process-by dates are near. Returns how many cases were created.
    """
    rng = random.Random(seed)
    reasons = list(CancellationReason.objects.filter(is_active=True))
    now = timezone.now()
    today = timezone.localdate(now)
    propensity = Propensity(_candidates(now), first=today, last=today)
    chosen = _chosen(rng, propensity, count, today.toordinal())
    created = 0
    for start in range(0, len(chosen), CHUNK):
        picks = chosen[start : start + CHUNK]
        subscribers = Subscriber.objects.in_bulk([propensity.ids[k] for k in picks])
        cases = [
            _opened(
                rng,
                subscribers[propensity.ids[k]],
                _reason(rng, reasons, propensity.drivers(k, today.toordinal())),
                now=now,
                today=today,
            )
            for k in picks
        ]
        if owner is not None and owned > 0:
            mine = cases[:owned]
            owned -= len(mine)
            for case in mine:
                case.owner, case.claimed_at = owner, now
                case.status = CancellationCase.Status.IN_PROGRESS
        _write(cases)
        created += len(cases)
    return created


def _candidates(now: datetime) -> QuerySet[Subscriber]:
    """Active subscribers without an open case, nor a case closed in the last five days (its
    open period could overlap the new one's)."""
    taken = CancellationCase.objects.filter(
        Q(status__in=CancellationCase.OPEN_STATUSES) | Q(closed_at__gt=now - timedelta(days=5))
    ).values("subscriber_id")
    return (
        Subscriber.objects.filter(status=Subscriber.Status.ACTIVE)
        .exclude(pk__in=taken)
        .order_by("pk")
    )


def _chosen(rng: random.Random, propensity: Propensity, count: int, day: int) -> list[int]:
    """``count`` candidates drawn without replacement, each as likely as their weight says
    (the smallest of exponential clocks that run at the weights' rates), in random order."""
    clocks = [
        -math.log(1.0 - rng.random()) / propensity.weight(k, day)
        for k in range(len(propensity.ids))
    ]
    chosen = heapq.nsmallest(count, range(len(clocks)), key=clocks.__getitem__)
    rng.shuffle(chosen)
    return chosen


def _reason(
    rng: random.Random, reasons: list[CancellationReason], drivers: tuple[bool, bool]
) -> CancellationReason | None:
    """Any active reason, leaning to the service after an outage and to the price after a
    price shock."""
    if not reasons:
        return None
    outage, price = drivers
    if not (outage or price):
        return rng.choice(reasons)
    lean: dict[str, float] = {
        ReasonCategory.QUALITY: OUTAGE_REASON if outage else 1.0,
        ReasonCategory.PRICE: PRICE_REASON if price else 1.0,
    }
    return rng.choices(reasons, [lean.get(r.category, 1.0) for r in reasons])[0]


def _opened(
    rng: random.Random,
    subscriber: Subscriber,
    reason: CancellationReason | None,
    *,
    now: datetime,
    today: date,
) -> CancellationCase:
    channels = [c for c, _ in CancellationCase.Channel.choices]
    channel = rng.choices(channels, weights=[40, 25, 15, 10, 10])[0]
    opened = now - timedelta(minutes=rng.randint(5, 5 * 24 * 60))
    opened_day = timezone.localdate(opened)
    port_out = channel == CancellationCase.Channel.PORT_OUT
    requested = (
        opened_day + timedelta(days=rng.randint(2, 30)) if rng.random() < 0.6 or port_out else None
    )
    process_by = max(
        process_by_date(opened=opened_day, requested_end=requested, port_out=port_out), today
    )
    priority = case_priority(
        subscriber=subscriber, process_by=process_by, port_out=port_out, today=today
    )
    return CancellationCase(
        subscriber=subscriber,
        channel=channel,
        reason=reason,
        reason_detail="",
        competitor=rng.choice(COMPETITORS) if port_out or rng.random() < 0.3 else "",
        requested_end_date=requested,
        process_by=process_by,
        first_contact_due=first_contact_due(opened),
        priority=priority.score,
        priority_explained=priority.explained,
        opened_at=opened,
        source="seed",
    )


def _write(cases: list[CancellationCase]) -> None:
    """The cases, their first history row, and the request on each subscriber's timeline."""
    with transaction.atomic():
        insert(cases)
        insert(
            [
                CaseHistory(
                    case=case, at=case.opened_at, action=CaseHistory.Action.OPENED, to_status="new"
                )
                for case in cases
            ]
        )
        insert([_request_event(case) for case in cases])


def _request_event(case: CancellationCase) -> TimelineEvent:
    return TimelineEvent(
        subscriber_id=case.subscriber_id,
        kind=TimelineEvent.Kind.PORT_OUT
        if case.is_port_out
        else TimelineEvent.Kind.CANCELLATION_REQUEST,
        occurred_at=case.opened_at,
        source="seed",
        code="case.requested_reason" if case.reason else "case.requested",
        params={"channel": case.channel} | ({"reason": names(case.reason)} if case.reason else {}),
        data={"case": case.pk, "channel": case.channel},
    )
