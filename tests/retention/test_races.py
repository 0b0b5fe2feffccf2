"""The desk's races with real threads on PostgreSQL: agents claiming at once, two people closing
one case, two sweeps, two figure ticks, two loyalty counts."""

import threading
from collections import Counter
from datetime import date

import pytest
from django.utils import timezone

from retention.cases import services as cases
from retention.cases.sweeps import cases_process_overdue
from retention.core.refusals import WrongState
from retention.core.roles import Role
from retention.models import CancellationCase
from tests.factories import CaseFactory, user_with_role
from tests.threads import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_fifty_agents_claiming_two_hundred_cases_each_case_claimed_exactly_once():
    agents = [user_with_role(Role.AGENT, username=f"racer{i}") for i in range(50)]
    CaseFactory.create_batch(200)
    claimed: list[tuple[int, int]] = []
    lock = threading.Lock()

    def agent_work(agent):
        def work():
            while True:
                case = cases.case_claim_next(actor=agent)
                if case is None:
                    return
                with lock:
                    claimed.append((case.pk, agent.pk))

        return work

    errors = run_at_once(*[agent_work(a) for a in agents])
    assert errors == []
    counts = Counter(pk for pk, _ in claimed)
    assert len(counts) == 200 and set(counts.values()) == {1}
    owners = dict(CancellationCase.objects.values_list("pk", "owner_id"))
    assert all(owners[pk] == agent for pk, agent in claimed)
    assert len({agent for _, agent in claimed}) > 1  # the work was really shared


def test_two_people_closing_the_same_case_one_wins_the_other_is_told():
    first = user_with_role(Role.MANAGER, username="m1")
    second = user_with_role(Role.MANAGER, username="m2")
    case = CaseFactory.create()
    cases.case_claim(case=case, actor=first)
    # Both are allowed to act: the owner, and an admin-like manager with no team restriction.
    second.is_superuser = True
    second.save()

    errors = run_at_once(
        *[
            lambda: cases.case_withdraw(case=case, actor=first, note="Stays after all"),
            lambda: cases.case_cancel(case=case, actor=second, effective_date=timezone.localdate()),
        ]
    )
    assert len(errors) == 1
    assert isinstance(errors[0], WrongState)
    assert "already closed" in str(errors[0])
    case.refresh_from_db()
    assert case.status in ("withdrawn", "cancelled")
    closing = case.history.filter(action__in=["withdrawn", "cancelled"])
    assert closing.count() == 1


def test_two_sweeps_at_once_process_each_overdue_case_once():
    CaseFactory.create_batch(30, process_by=date(2020, 1, 1))
    results: list[int] = []
    errors = run_at_once(*[lambda: results.append(cases_process_overdue()) for _ in range(3)])
    assert errors == []
    assert sum(results) == 30
    assert CancellationCase.objects.filter(status="cancelled", auto_processed=True).count() == 30
    assert all(
        c.history.filter(action="auto_cancelled").count() == 1
        for c in CancellationCase.objects.all()
    )


def test_two_ticks_computing_the_same_days_at_once_leave_one_set_of_rows(desk):
    """Two beats (or a beat and ``manage.py figures``) recomputing March at once: each day's
    delete-and-insert is serialised, so no duplicate-key error and the same rows as one run."""
    from retention.dashboard import figures
    from retention.models import CaseOutcome, DailyFigure

    def march():
        figures.figures_refresh_range(first=date(2026, 3, 1), last=date(2026, 3, 31))

    for _ in range(3):
        assert run_at_once(*[march, march, march]) == []
        assert CaseOutcome.objects.count() == 7
        total = DailyFigure.objects.filter(scope="", dimension="")
        assert sum(total.values_list("closed", flat=True)) == 7
        assert sum(total.values_list("saved", flat=True)) == 3


def test_two_loyalty_counts_at_once_leave_one_count(desk):
    """The figures tick and the nightly task may both count today's loyalty at once."""
    from retention.dashboard import figures
    from retention.models import LoyaltySnapshot

    def count():
        figures.loyalty_snapshot_take()

    for _ in range(3):
        assert run_at_once(count, count, count) == []
        rows = LoyaltySnapshot.objects.all()
        assert rows.values("day", "segment", "region").distinct().count() == rows.count() > 0
