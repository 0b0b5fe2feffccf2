"""Demo and benchmark cancellation cases, deterministic for a seed.

Cases are built with the same deadline and priority formulas as the intake service
(retention.priority) and written in bulk: opening 100,000 cases one by one through the
service would take many minutes and prove nothing the service's own tests don't. On
PostgreSQL the rows go in with COPY, like the subscriber loader's (DESIGN.md section 7).
"""

import random
from collections.abc import Sequence
from datetime import timedelta

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
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
        .order_by("pk")
    )
    # get_channel_display() once per channel rather than once per case.
    channel_names = {str(c): str(label).lower() for c, label in CancellationCase.Channel.choices}
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
        cases = []
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
        if owner is not None and owned > 0:
            mine = cases[:owned]
            owned -= len(mine)
            for case in mine:
                case.owner, case.claimed_at = owner, now
                case.status = CancellationCase.Status.IN_PROGRESS
        with transaction.atomic():
            _insert(cases)
            _insert(
                [
                    CaseHistory(
                        case=case,
                        at=case.opened_at,
                        action=CaseHistory.Action.OPENED,
                        to_status="new",
                    )
                    for case in cases
                ]
            )
            _insert(
                [
                    TimelineEvent(
                        subscriber_id=case.subscriber_id,
                        kind=TimelineEvent.Kind.PORT_OUT
                        if case.is_port_out
                        else TimelineEvent.Kind.CANCELLATION_REQUEST,
                        occurred_at=case.opened_at,
                        source="seed",
                        summary=f"Asked to cancel by {channel_names[case.channel]}",
                        data={"case": case.pk, "channel": case.channel},
                    )
                    for case in cases
                ]
            )
        created += len(cases)
    return created


def _insert(objs: Sequence[models.Model]) -> None:
    """``bulk_create`` for new rows of one model, primary keys set on the objects.

    On PostgreSQL the same values go in with one COPY: bulk_create spends most of its time
    in Python preparing each value of each row, about a minute for 100,000 cases with their
    history and timeline events.
    """
    if not objs:
        return
    model = type(objs[0])
    # The connection itself, not django.db.connection: its proxy costs a lookup per value.
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        model._default_manager.db_manager(db.alias).bulk_create(objs, batch_size=1000)
        return
    meta = model._meta
    fields = meta.concrete_fields
    quote = db.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    with db.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own cursor, for copy()
        # Keys drawn from the table's identity sequence, as the inserts would have drawn them.
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [quote(meta.db_table), meta.pk.column, len(objs)],
        )
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk
        with cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                # What bulk_create's compiler does with each value: pre_save, then prepare.
                copy.write_row([f.get_db_prep_save(f.pre_save(obj, True), db) for f in fields])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = db.alias
