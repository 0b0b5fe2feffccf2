"""The demo and benchmark history: closed cases as the desk would have left them."""

from collections import Counter, defaultdict
from datetime import datetime, timedelta
from io import StringIO
from itertools import pairwise

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum
from django.utils import timezone

from offers.models import CounterOffer
from retention.cases.priority import process_by_date
from retention.core.roles import Role
from retention.dashboard.figures import desk_today, figures_refresh_range
from retention.demo.cases import cases_seed
from retention.demo.history import HISTORY_SOURCE, history_seed
from retention.models import (
    CancellationCase,
    CaseHistory,
    CaseOutcome,
    ContactAttempt,
    DailyFigure,
    Team,
    User,
)
from subscribers.desk_calendar import add_desk_hours
from subscribers.models import TimelineEvent
from tests.factories import user_with_role

Status = CancellationCase.Status
Action = CaseHistory.Action
DAYS, PER_DAY = 60, 10

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscribers():
    call_command(
        "seed_demo",
        subscribers=600,
        events_per_subscriber=0,
        heavy=0,
        no_progress=True,
        stdout=StringIO(),
    )


@pytest.fixture
def staff(tiers):
    """Four agents in two teams, a manager and a retention lead to approve what agents may not."""
    teams = [Team.objects.create(name=name) for name in ("North", "South")]
    agents = [
        user_with_role(Role.AGENT, username=f"history-agent-{n}", team=teams[n % 2])
        for n in range(4)
    ]
    user_with_role(tiers["manager"].group, username="history-manager")
    user_with_role(tiers["manager"].group, tiers["lead"].group, username="history-lead")
    return agents


def history(agents: list[User], *, days: int = DAYS, seed: int = 3) -> int:
    return history_seed(days=days, per_day=PER_DAY, seed=seed, agents=agents)


def written() -> list[tuple[object, ...]]:
    """The generated cases as comparable values, without keys."""
    return list(
        CancellationCase.objects.filter(source=HISTORY_SOURCE)
        .order_by("opened_at", "subscriber_id")
        .values_list(
            "subscriber_id",
            "channel",
            "reason_id",
            "status",
            "owner_id",
            "opened_at",
            "first_contacted_at",
            "closed_at",
            "auto_processed",
            "offers__kind",
            "offers__total_cost",
        )
    )


def in_order(*times: datetime | None) -> bool:
    """Every time is there, none before the one before it."""
    present = [t for t in times if t is not None]
    return len(present) == len(times) and all(a <= b for a, b in pairwise(present))


def erase_history() -> None:
    CounterOffer.objects.filter(case__source=HISTORY_SOURCE).delete()
    CancellationCase.objects.filter(source=HISTORY_SOURCE).delete()
    TimelineEvent.objects.filter(source=HISTORY_SOURCE).delete()


def test_the_same_seed_writes_the_same_history(subscribers, staff):
    created = history(staff)
    first = written()
    erase_history()

    assert history(staff) == created
    assert written() == first
    erase_history()
    history(staff, seed=4)
    assert written() != first


def test_about_per_day_cases_close_each_day_saved_cancelled_or_withdrawn(subscribers, staff):
    created = history(staff)

    cases = CancellationCase.objects.filter(source=HISTORY_SOURCE)
    assert cases.count() == created
    assert 0.7 * DAYS * PER_DAY <= created <= 1.3 * DAYS * PER_DAY
    statuses = Counter(cases.values_list("status", flat=True))
    assert set(statuses) == {Status.SAVED, Status.CANCELLED, Status.WITHDRAWN}
    assert 0.25 <= statuses[Status.SAVED] / created <= 0.45
    assert 0.40 <= statuses[Status.CANCELLED] / created <= 0.65
    assert 0.03 <= statuses[Status.WITHDRAWN] / created <= 0.25
    assert 0.01 <= cases.filter(auto_processed=True).count() / created <= 0.08
    # Every agent worked cases; the cases processed at the deadline mostly had no contact,
    # many of them nobody's.
    assert set(cases.values_list("owner_id", flat=True)) - {None} == {a.pk for a in staff}
    auto = cases.filter(auto_processed=True)
    assert auto.filter(first_contacted_at__isnull=True).count() > auto.count() / 2
    assert auto.filter(owner__isnull=True).count() > auto.count() / 4
    assert not cases.filter(owner__isnull=True, auto_processed=False).exists()
    # Closed within the days asked for, ending yesterday.
    today = desk_today()
    days = {timezone.localdate(case.closed_at) for case in cases}
    assert min(days) == today - timedelta(days=DAYS)
    assert max(days) < today
    events = TimelineEvent.objects.filter(source=HISTORY_SOURCE)
    assert events.count() == created


def test_every_save_has_one_accepted_offer_within_the_rules(subscribers, staff):
    history(staff)

    saved = CancellationCase.objects.filter(source=HISTORY_SOURCE, status=Status.SAVED)
    assert saved.exists()
    assert not saved.annotate(n=Count("offers")).exclude(n=1).exists()
    assert not CounterOffer.objects.exclude(case__status=Status.SAVED).exists()
    offers = CounterOffer.objects.select_related("case", "template")
    kinds: Counter[str] = Counter()
    for offer in offers:
        case = offer.case
        assert case is not None
        kinds[offer.kind] += 1
        assert offer.status == CounterOffer.Status.ACCEPTED
        assert offer.kind == offer.template.kind
        assert offer.proposer_id == case.owner_id
        assert offer.subscriber_id == case.subscriber_id
        assert offer.decided_at is not None
        assert offer.auto_approved != (offer.decided_by_id is not None)
        assert offer.decided_by_id != offer.proposer_id
        assert in_order(
            case.first_contacted_at,
            offer.proposed_at,
            offer.decided_at,
            offer.presented_at,
            offer.answered_at,
        )
        assert offer.answered_at == offer.applied_at == case.closed_at
        assert in_order(offer.answered_at, offer.valid_until, offer.deadline)
        assert offer.answered_at != offer.valid_until
        assert offer.total_cost >= 0
        assert offer.price_before is not None
        assert offer.new_monthly_price <= offer.price_before
        assert (offer.runs_until is not None) == bool(offer.months or offer.days)
    assert len(kinds) >= 5
    decided = offers.filter(auto_approved=False)
    assert decided.exists()
    assert offers.filter(auto_approved=True).exists()
    assert set(decided.values_list("decided_by__username", flat=True)) <= {
        "history-manager",
        "history-lead",
    }


def test_times_are_in_order_and_deadlines_follow_the_intake_formulas(subscribers, staff):
    history(staff)

    cases = CancellationCase.objects.filter(source=HISTORY_SOURCE)
    contacts = defaultdict(list)
    for contact in ContactAttempt.objects.filter(case__source=HISTORY_SOURCE):
        contacts[contact.case_id].append(contact)
    closing = dict(
        CaseHistory.objects.filter(case__source=HISTORY_SOURCE)
        .exclude(action__in=[Action.OPENED, Action.CONTACT_REFUSED])
        .values_list("case_id", "action")
    )
    for case in cases:
        opened_on = timezone.localdate(case.opened_at)
        assert case.first_contact_due == add_desk_hours(case.opened_at, 4)
        assert case.process_by == process_by_date(
            opened=opened_on, requested_end=case.requested_end_date, port_out=case.is_port_out
        )
        assert in_order(case.opened_at, case.claimed_at or case.opened_at, case.closed_at)
        assert case.opened_at != case.closed_at
        mine = sorted(c.at for c in contacts[case.pk])
        assert (case.first_contacted_at is None) == (not mine)
        if mine:
            assert case.first_contacted_at == mine[0]
            assert in_order(case.claimed_at, *mine, case.closed_at)
        if case.is_port_out:
            assert len(mine) <= 2
        closed_by = {
            Status.SAVED: Action.SAVED,
            Status.WITHDRAWN: Action.WITHDRAWN,
            Status.CANCELLED: Action.AUTO_CANCELLED if case.auto_processed else Action.CANCELLED,
        }
        assert closing[case.pk] == closed_by[Status(case.status)]
        if case.status == Status.CANCELLED:
            assert case.effective_date is not None
        if case.auto_processed:
            assert case.effective_date == case.process_by
            # The deadline sweep processes a case at the start of its process-by day.
            assert timezone.localdate(case.closed_at) == case.process_by
    assert CaseHistory.objects.filter(
        case__source=HISTORY_SOURCE, action=Action.CONTACT_REFUSED
    ).exists()
    recontacted = (
        ContactAttempt.objects.filter(case__channel="port_out", case__source=HISTORY_SOURCE)
        .values("case")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    ports = cases.filter(channel="port_out", first_contacted_at__isnull=False).count()
    assert recontacted.count() < ports / 5


def test_a_subscriber_never_has_two_cases_open_at_once(subscribers, staff):
    cases_seed(count=40, seed=1)
    history(staff)
    history(staff, seed=5)  # again over the same days: other subscribers, or later times

    periods = defaultdict(list)
    for subscriber_id, opened_at, closed_at in CancellationCase.objects.values_list(
        "subscriber_id", "opened_at", "closed_at"
    ):
        periods[subscriber_id].append((opened_at, closed_at))
    assert any(len(p) > 1 for p in periods.values())
    for spans in periods.values():
        spans.sort(key=lambda span: span[0])
        for (_, closed), (opened, _) in pairwise(spans):
            assert closed is not None
            assert closed < opened


def test_the_figures_see_saves_deadline_processing_and_rechurn(subscribers, staff):
    created = history(staff, days=90)
    today = desk_today()

    figures_refresh_range(first=today - timedelta(days=91), last=today)

    assert CaseOutcome.objects.count() == created
    total = DailyFigure.objects.filter(scope="", dimension="").aggregate(
        closed=Sum("closed"),
        saved=Sum("saved"),
        auto=Sum("auto_processed"),
        rechurned=Sum("rechurned_90"),
        sla_met=Sum("sla_met"),
        recontacted=Sum("port_outs_recontacted"),
    )
    assert total["closed"] == created
    assert 0.25 <= total["saved"] / created <= 0.45
    assert total["auto"] > 0
    assert 0 < total["rechurned"] < total["saved"] / 5
    assert 0.6 <= total["sla_met"] / created <= 0.95
    by_team = DailyFigure.objects.filter(scope="", dimension="team").values("key").distinct()
    assert by_team.count() >= 2


def test_seed_cases_writes_the_demo_history_once(subscribers):
    call_command("demo_users", stdout=StringIO())
    options = {"cases": 5, "history_days": 20, "history_per_day": 6, "if_empty": True}
    out = StringIO()
    call_command("seed_cases", stdout=out, **options)
    history_cases = CancellationCase.objects.filter(source=HISTORY_SOURCE).count()

    call_command("seed_cases", stdout=out, **options)

    assert "closed demo cases" in out.getvalue()
    assert "History exists already" in out.getvalue()
    assert CancellationCase.objects.filter(source=HISTORY_SOURCE).count() == history_cases > 60
    assert CaseOutcome.objects.count() == history_cases
    agents = User.objects.filter(groups__name=Role.AGENT, team__isnull=False)
    assert agents.count() >= 8
    assert not any(agent.has_usable_password() for agent in agents.exclude(username="agent"))
    assert dict(
        User.objects.filter(username__in=["agent", "manager", "lead"]).values_list(
            "username", "team__name"
        )
    ) == {"agent": "Riga", "manager": "Riga", "lead": "Regions"}
