"""The reminder tick: REMINDERS_DUE process-by reminders due at once, delivered by one pass."""

import time
from datetime import UTC, datetime, timedelta

from retention.bench.results import Log, Results
from retention.bench.tables import analyze
from retention.bench.users import bench_users
from retention.cases.selectors import cases_open
from retention.models import Notification, Reminder
from retention.notifications.reminders import reminders_tick

# Due reminders delivered by one tick.
REMINDERS_DUE = 100_000
REMINDER_KEY = "bench-tick:"
# The bench's reminders fall due in the distant past and its tick runs just after that: the
# tick sees exactly those rows, and the desk's own reminders (the approvals backlog's) are left
# to the real tick.
REMINDERS_DUE_AT = datetime(2000, 1, 4, 9, 0, tzinfo=UTC)


def measure_reminder_tick(results: Results, *, log: Log) -> None:
    """REMINDERS_DUE process-by reminders on the bench agent's open cases, all due at once:
    one reminders_tick pass checks each still matters (the case open, its owner) and delivers
    it as a notification, 500 locked at a time. Then a tick with nothing due."""
    agent, _ = bench_users()
    cases = list(
        cases_open().filter(owner=agent).order_by("pk").values_list("pk", flat=True)[:1000]
    )
    if not cases:
        results.note("Reminder tick not measured: the bench agent has no open cases.", log)
        return
    log(f"Creating {REMINDERS_DUE:,} due reminders on the bench agent's {len(cases):,} cases…")
    create_seconds = _create_due(cases)
    log("Delivering them with one reminders_tick pass…")
    now = REMINDERS_DUE_AT + timedelta(minutes=1)
    start = time.perf_counter()
    tick = reminders_tick(now=now)
    tick_seconds = time.perf_counter() - start
    start = time.perf_counter()
    idle = reminders_tick(now=now)
    idle_ms = (time.perf_counter() - start) * 1000
    delivered, notifications = _check_delivered(idle_notified=idle.notified)
    log(
        f"  {delivered:,} delivered in {tick_seconds:.1f} s "
        f"({delivered / tick_seconds:,.0f} reminders/s); idle tick {idle_ms:.1f} ms."
    )
    results.outreach["tick"] = {
        "due": REMINDERS_DUE,
        "cases": len(cases),
        "create_seconds": round(create_seconds, 2),
        "seconds": round(tick_seconds, 2),
        "reminders_per_second": round(delivered / tick_seconds),
        "notifications": notifications,
        "notified": tick.notified,
        "idle_tick_ms": round(idle_ms, 2),
    }


def _create_due(cases: list[int]) -> float:
    """The due reminders, spread over the cases; seconds it took."""
    start = time.perf_counter()
    Reminder.objects.bulk_create(
        (
            Reminder(
                kind=Reminder.Kind.PROCESS_BY,
                key=f"{REMINDER_KEY}{n}",
                due_at=REMINDERS_DUE_AT,
                case_id=cases[n % len(cases)],
            )
            for n in range(REMINDERS_DUE)
        ),
        batch_size=5000,
    )
    seconds = time.perf_counter() - start
    analyze(Reminder)
    return seconds


def _check_delivered(*, idle_notified: int) -> tuple[int, int]:
    """Every reminder delivered once, as one notification: (delivered, notifications)."""
    delivered = Reminder.objects.filter(
        key__startswith=REMINDER_KEY, state=Reminder.State.SENT
    ).count()
    notifications = Notification.objects.filter(reminder__key__startswith=REMINDER_KEY).count()
    if (delivered, notifications, idle_notified) != (REMINDERS_DUE, REMINDERS_DUE, 0):
        raise RuntimeError(
            f"{delivered:,} reminders delivered, {notifications:,} notifications, "
            f"{idle_notified:,} more on the idle tick, for {REMINDERS_DUE:,} due"
        )
    return delivered, notifications
