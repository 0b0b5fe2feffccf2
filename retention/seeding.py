"""Demo and benchmark cancellation cases, deterministic for a seed.

Cases are built with the same deadline and priority formulas as the intake service
(retention.priority) and written in bulk: opening 100,000 cases one by one through the
service would take many minutes and prove nothing the service's own tests don't.
"""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from retention.models import CancellationCase, CancellationReason, CaseHistory, User
from retention.priority import add_working_hours, case_priority, process_by_date
from subscribers.models import Subscriber, TimelineEvent

CHUNK = 5_000
COMPETITORS = ["Tele2", "Bite", "LMT", "Baltcom", ""]


def cases_seed(*, count: int, seed: int = 7, owner: User | None = None, owned: int = 0) -> int:
    """Open ``count`` cases for active subscribers without one; ``owned`` of them for ``owner``.

    Opening times spread over the last five days, so some first contacts are overdue and some
    process-by dates are near. Returns how many cases were created.
    """
    rng = random.Random(seed)
    reasons = list(CancellationReason.objects.filter(is_active=True))
    now = timezone.now()
    today = timezone.localdate(now)
    taken = CancellationCase.objects.filter(status__in=CancellationCase.OPEN_STATUSES).values(
        "subscriber_id"
    )
    candidates = (
        Subscriber.objects.filter(status=Subscriber.Status.ACTIVE)
        .exclude(pk__in=taken)
        .select_related("plan")
        .order_by("pk")
    )
    created = 0
    last = 0
    channels = [c for c, _ in CancellationCase.Channel.choices]
    while created < count:
        batch = list(candidates.filter(pk__gt=last)[: min(CHUNK, count - created) * 3])
        if not batch:
            break
        last = batch[-1].pk
        rng.shuffle(batch)
        batch = batch[: count - created]
        cases, events = [], []
        for subscriber in batch:
            channel = rng.choices(channels, weights=[40, 25, 15, 10, 10])[0]
            opened = now - timedelta(minutes=rng.randint(5, 5 * 24 * 60))
            opened_day = timezone.localdate(opened)
            port_out = channel == CancellationCase.Channel.PORT_OUT
            requested = (
                opened_day + timedelta(days=rng.randint(2, 30))
                if rng.random() < 0.6 or port_out
                else None
            )
            process_by = max(
                process_by_date(opened=opened_day, requested_end=requested, port_out=port_out),
                today,
            )
            priority = case_priority(
                subscriber=subscriber, process_by=process_by, port_out=port_out, today=today
            )
            reason = rng.choice(reasons) if reasons else None
            cases.append(
                CancellationCase(
                    subscriber=subscriber,
                    channel=channel,
                    reason=reason,
                    reason_detail="",
                    competitor=rng.choice(COMPETITORS) if port_out or rng.random() < 0.3 else "",
                    requested_end_date=requested,
                    process_by=process_by,
                    first_contact_due=add_working_hours(opened, 4),
                    priority=priority.score,
                    priority_explained=priority.explained,
                    opened_at=opened,
                    source="seed",
                )
            )
        with transaction.atomic():
            CancellationCase.objects.bulk_create(cases, batch_size=1000)
            if owner is not None and owned > 0:
                mine = cases[:owned]
                owned -= len(mine)
                for case in mine:
                    case.owner, case.claimed_at, case.status = (
                        owner,
                        now,
                        CancellationCase.Status.IN_PROGRESS,
                    )
                CancellationCase.objects.bulk_update(mine, ["owner", "claimed_at", "status"])
            CaseHistory.objects.bulk_create(
                [
                    CaseHistory(
                        case=case,
                        at=case.opened_at,
                        action=CaseHistory.Action.OPENED,
                        to_status="new",
                    )
                    for case in cases
                ],
                batch_size=1000,
            )
            for case in cases:
                kind = (
                    TimelineEvent.Kind.PORT_OUT
                    if case.is_port_out
                    else TimelineEvent.Kind.CANCELLATION_REQUEST
                )
                events.append(
                    TimelineEvent(
                        subscriber_id=case.subscriber_id,
                        kind=kind,
                        occurred_at=case.opened_at,
                        source="seed",
                        summary=f"Asked to cancel by {case.get_channel_display().lower()}",
                        data={"case": case.pk, "channel": case.channel},
                    )
                )
            TimelineEvent.objects.bulk_create(events, batch_size=1000)
        created += len(cases)
    return created
