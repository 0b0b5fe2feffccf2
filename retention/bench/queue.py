"""The queue the benchmark measures: the scale's open cases from ``cases_seed``, reused from run
to run. A run only tops up what is missing and puts claimed seed cases back in the queue, so
every run measures the same queue."""

import time
from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet

from retention.bench.results import Log
from retention.bench.scale import HEAVY, SEED, Scale
from retention.bench.tables import set_table_note, table_note, vacuum_tables
from retention.bench.users import BENCH_AGENT
from retention.cases.opening import Intake, case_open
from retention.cases.selectors import cases_open
from retention.demo.cases import cases_seed
from retention.demo.world import heavy_account_numbers
from retention.models import CancellationCase, CaseHistory
from subscribers.models import Subscriber, TimelineEvent

SEED_SOURCE = "seed"  # what cases_seed writes in CancellationCase.source
_CASES_MARK = "cases_seed:"


def heavy_queryset() -> QuerySet[Subscriber]:
    """The heavy subscribers, whose timelines are thousands of pages long."""
    return Subscriber.objects.filter(account_number__in=heavy_account_numbers(HEAVY))


def heavy_subscribers() -> list[int]:
    """The heavy subscribers' keys, in order."""
    return list(heavy_queryset().order_by("pk").values_list("pk", flat=True))


def seed_cases_release() -> int:
    """Put seed cases that claims took (this benchmark's, an interrupted run's) back in the
    queue, unclaimed: one UPDATE, so every run measures the same queue. Their history keeps
    the claims. The bench agent's cases stay theirs: they are the offer builder's (see
    ensure_builder_cases), kept from run to run."""
    return (
        CancellationCase.objects.filter(
            source=SEED_SOURCE, status=CancellationCase.Status.IN_PROGRESS, owner__isnull=False
        )
        .exclude(owner__username=BENCH_AGENT)
        .update(owner=None, claimed_at=None, status=CancellationCase.Status.NEW)
    )


def ensure_cases(scale: Scale, *, log: Log) -> dict[str, Any]:
    """Make the queue hold the scale's open cases, opening only what is missing.

    The first heavy subscriber always has one, opened through the intake service if
    cases_seed passed them over, so the case page can be measured with a long timeline.
    """
    released = seed_cases_release()
    if released:
        log(f"Released {released:,} claimed seed cases back to the queue.")
    opened = _heavy_case()
    missing = scale.cases - cases_open().filter(source=SEED_SOURCE).count()
    table = CancellationCase._meta.db_table
    created = _seed_missing(missing, log=log) if missing > 0 else 0
    tables = [table, CaseHistory._meta.db_table, TimelineEvent._meta.db_table]
    # VACUUM cannot run in a transaction. After the claims' UPDATEs of earlier runs it clears
    # the dead rows, after seeding it sets the visibility map; ANALYZE gives the planner the
    # queue's real size.
    vacuum_tables(tables if missing > 0 else [table])
    total = cases_open().count()
    seeding = table_note(table, _CASES_MARK) or {}
    if missing <= 0:
        log(
            f"Reusing the queue's {total:,} open cases "
            f"({seeding.get('created', 0):,} opened by cases_seed in "
            f"{seeding.get('seconds', 0):.0f} s when seeded)."
        )
    return {
        "open": total,
        "seeded": created,
        "opened_by_service": opened,
        "released": released,
        "reused": not created and not opened,
        "last_seeding": seeding,
    }


def _heavy_case() -> int:
    """Open a case for the first heavy subscriber unless one has one; how many were opened."""
    heavy = heavy_subscribers()
    if cases_open().filter(subscriber_id__in=heavy).exists():
        return 0
    case_open(
        subscriber=Subscriber.objects.get(pk=heavy[0]),
        intake=Intake(channel=CancellationCase.Channel.WEB, source=SEED_SOURCE),
        actor=None,
    )
    return 1


def _seed_missing(missing: int, *, log: Log) -> int:
    log(f"Opening {missing:,} cases with cases_seed…")
    start = time.perf_counter()
    created = cases_seed(count=missing, seed=SEED)
    seconds = time.perf_counter() - start
    if created < missing:
        raise RuntimeError(f"cases_seed opened {created:,} of {missing:,} cases")
    log(f"  {created:,} cases opened in {seconds:.1f} s ({created / seconds:,.0f} cases/s).")
    set_table_note(
        CancellationCase._meta.db_table,
        _CASES_MARK,
        {
            "created": created,
            "seconds": round(seconds, 1),
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )
    return created
