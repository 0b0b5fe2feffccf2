"""Open demo and benchmark cancellation cases for the queue, deterministic for a seed.

Cases are built with the same deadline and priority formulas as the intake service
(retention.cases.priority) and written in bulk (retention.demo.bulk): opening 100,000 cases one
by one through the service would take many minutes and prove nothing the service's own tests
don't. The desk's past, closed cases, is retention.demo.history's.
"""

import heapq
import math
import random
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from offers.models import ReasonCategory
from retention.cases.priority import case_priority, process_by_date
from retention.core.roles import Role
from retention.demo.bulk import insert
from retention.demo.phrases import names
from retention.demo.propensity import OUTAGE_REASON, PRICE_REASON, Propensity
from retention.models import (
    CancellationCase,
    CancellationReason,
    CaseHistory,
    ContactAttempt,
    Reminder,
    User,
)
from subscribers.desk_calendar import first_contact_due
from subscribers.models import ContactChannel, Subscriber, TimelineEvent

CHUNK = 5_000
COMPETITORS = ["Tele2", "Bite", "LMT", "Baltcom", ""]


def cases_seed(
    *,
    count: int,
    seed: int = 7,
    owner: User | None = None,
    owned: int = 0,
    agents: list[User] | None = None,
) -> int:
    """Open ``count`` cases for active subscribers without one; ``owned`` of them for ``owner``.

    Who asks to leave follows their story, as in the history (retention.demo.propensity).
    The queue looks like a working desk's: cases opened over the last ten days, more of them
    recent; most whose first contact has fallen due were reached in time by an agent
    (``agents``: every active agent when not given; none, no contacts), a few are late; some of
    those reached asked to be called back; process-by dates spread from tomorrow to two weeks
    ahead. So most clocks are green, some amber and a few red. Returns how many were created.
    """
    rng = random.Random(seed)
    reasons = list(CancellationReason.objects.filter(is_active=True))
    if agents is None:
        agents = list(User.objects.filter(groups__name=Role.AGENT, is_active=True).order_by("pk"))
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
                agents=agents,
            )
            for k in picks
        ]
        if owner is not None and owned > 0:
            mine = cases[:owned]
            owned -= len(mine)
            for case in mine:
                case.owner, case.claimed_at = owner, case.claimed_at or now
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


def _opened_at(rng: random.Random, now: datetime) -> datetime:
    """When a case still open came in: a third in the last eight hours, a quarter in the two
    days before, the rest over the ten days before that (the older a case, the likelier it
    is closed by now, so fewer of those are still open)."""
    roll = rng.random()
    if roll < 0.35:
        minutes = rng.randint(5, 8 * 60)
    elif roll < 0.6:
        minutes = rng.randint(8 * 60, 48 * 60)
    else:
        minutes = rng.randint(48 * 60, 10 * 24 * 60)
    return now - timedelta(minutes=minutes)


def _callback_at(rng: random.Random, after: datetime, before: date) -> datetime | None:
    """A callback the subscriber asked for: one to three days on, in office hours, desk time,
    before the process-by day; None when no such day is left."""
    day = timezone.localdate(after) + timedelta(days=rng.randint(1, 3))
    while day.weekday() >= 5:
        day += timedelta(days=1)
    if day >= before:
        return None
    zone = timezone.get_default_timezone()
    return datetime.combine(day, time(rng.randint(10, 16), rng.choice((0, 15, 30, 45))), zone)


def _opened(
    rng: random.Random,
    subscriber: Subscriber,
    reason: CancellationReason | None,
    *,
    now: datetime,
    today: date,
    agents: list[User],
) -> CancellationCase:
    channels = [c for c, _ in CancellationCase.Channel.choices]
    channel = rng.choices(channels, weights=[40, 25, 15, 10, 10])[0]
    opened = _opened_at(rng, now)
    opened_day = timezone.localdate(opened)
    port_out = channel == CancellationCase.Channel.PORT_OUT
    requested = (
        opened_day + timedelta(days=rng.randint(2, 30)) if rng.random() < 0.6 or port_out else None
    )
    # The deadline sweep has processed every case whose process-by day has come: the ones
    # still open are due tomorrow at the earliest.
    process_by = max(
        process_by_date(opened=opened_day, requested_end=requested, port_out=port_out),
        today + timedelta(days=1),
    )
    priority = case_priority(
        subscriber=subscriber, process_by=process_by, port_out=port_out, today=today
    )
    case = CancellationCase(
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
    # Most cases whose first contact has fallen due were reached in time; a few were not (the
    # red ones). Of the rest, an agent has already called some.
    due = case.first_contact_due
    late = due <= now
    reached = rng.random() < (0.93 if late else 0.3 if now - opened > timedelta(hours=1) else 0)
    if agents and reached:
        latest = min(due, now) - timedelta(minutes=2)
        claimed = opened + (latest - opened) * rng.uniform(0.05, 0.7)
        if claimed < latest:
            case.owner = rng.choice(agents)
            case.claimed_at = claimed
            case.first_contacted_at = claimed + (latest - claimed) * rng.uniform(0.05, 0.9)
            case.status = CancellationCase.Status.IN_PROGRESS
            if rng.random() < 0.3:
                case.callback_at = _callback_at(rng, max(now, case.first_contacted_at), process_by)
    return case


def _write(cases: list[CancellationCase]) -> None:
    """The cases, their history (opened; claimed and contacted for those reached), the first
    contacts, a reminder for each callback, and the request on each subscriber's timeline."""
    Action = CaseHistory.Action
    with transaction.atomic():
        insert(cases)
        history = [
            CaseHistory(case=case, at=case.opened_at, action=Action.OPENED, to_status="new")
            for case in cases
        ]
        reached = [case for case in cases if case.first_contacted_at]
        for case in reached:
            assert case.claimed_at and case.first_contacted_at  # reached: claimed and called
            history += [
                CaseHistory(
                    case=case,
                    at=case.claimed_at,
                    actor=case.owner,
                    action=Action.CLAIMED,
                    from_status="new",
                    to_status="in_progress",
                ),
                CaseHistory(
                    case=case,
                    at=case.first_contacted_at,
                    actor=case.owner,
                    action=Action.CONTACT,
                    from_status="in_progress",
                    to_status="in_progress",
                ),
            ]
        insert(history)
        insert(
            [
                ContactAttempt(
                    case=case,
                    subscriber_id=case.subscriber_id,
                    channel=ContactChannel.PHONE,
                    direction=ContactAttempt.Direction.OUTBOUND,
                    outcome=ContactAttempt.Outcome.CALLBACK_REQUESTED
                    if case.callback_at
                    else ContactAttempt.Outcome.REACHED,
                    at=case.first_contacted_at or case.opened_at,
                    actor=case.owner,
                )
                for case in reached
            ]
        )
        insert(
            [
                Reminder(
                    kind=Reminder.Kind.CALLBACK,
                    key=f"callback:{case.pk}:{case.callback_at.astimezone(UTC):%Y%m%dT%H%M%S}",
                    case=case,
                    due_at=case.callback_at,
                )
                for case in reached
                if case.callback_at
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
