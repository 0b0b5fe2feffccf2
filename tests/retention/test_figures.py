"""The dashboard's figures against a desk whose right answers are counted by hand: March 2026
in Riga, seven closed cases, two later cancellations (the ``desk`` fixture and its table are in
tests/retention/conftest.py)."""

from datetime import UTC, date, timedelta
from decimal import Decimal

import pytest
import time_machine

from offers.models import CounterOffer
from retention.dashboard import figures
from retention.dashboard import queries as dashboard
from retention.dashboard.filters import Filters
from retention.models import (
    CancellationCase,
    CaseOutcome,
    DailyFigure,
    LoyaltySnapshot,
)
from subscribers.models import Subscriber
from tests.factories import SubscriberFactory, offer_template
from tests.retention.conftest import closed_case, riga

pytestmark = pytest.mark.django_db

Status = CancellationCase.Status
MARCH = Filters(start=date(2026, 3, 1), end=date(2026, 3, 31), grain="day", period="custom")


def refresh_march():
    figures.figures_refresh_range(first=date(2026, 3, 1), last=date(2026, 3, 31))


def later_cancellation(subscriber, owner, reason, opened, closed):
    return closed_case(
        subscriber=subscriber,
        owner=owner,
        channel=CancellationCase.Channel.WEB,
        reason=reason,
        opened=opened,
        contacted=opened + timedelta(minutes=20),
        closed=closed,
        status=Status.CANCELLED,
    )


# --- One outcome per closed case ----------------------------------------------------------------


def test_each_closed_case_gets_one_outcome_with_its_figures(desk):
    refresh_march()
    assert CaseOutcome.objects.count() == 7
    one = CaseOutcome.objects.get(case=desk["cases"][1])
    assert (one.status, one.offer_kind, one.retained_revenue, one.concession_cost) == (
        "saved",
        "percent_discount",
        Decimal("29.99"),
        Decimal("60.00"),
    )
    assert (one.first_contact_seconds, one.sla_met, one.outbound_contacts) == (600, True, 1)
    assert (one.team, one.segment, one.region) == (desk["teams"][0], "residential", "Rīga")
    assert one.discount_ends == date(2026, 9, 1)
    two = CaseOutcome.objects.get(case=desk["cases"][2])
    assert (two.sla_met, two.refused_contacts, two.retained_revenue) == (False, 1, 0)


def test_the_closing_day_is_the_desks_day_not_utcs(desk):
    refresh_march()
    four = CaseOutcome.objects.get(case=desk["cases"][4])
    assert four.closed_at.astimezone(UTC).date() == date(2026, 3, 2)
    assert four.closed_on == date(2026, 3, 3)
    assert (four.auto_processed, four.agent, four.team, four.first_contact_seconds) == (
        True,
        None,
        None,
        None,
    )


def test_a_declined_offer_is_no_concession(desk):
    case = desk["cases"][2]
    CounterOffer.objects.create(
        subscriber=case.subscriber,
        case=case,
        template=offer_template("t-x", "one_time_credit"),
        status=CounterOffer.Status.DECLINED,
        kind="one_time_credit",
        monthly_concession=0,
        counted_months=0,
        one_time_concession=10,
        total_cost=10,
        new_monthly_price=29.99,
        proposer=desk["ann"],
        auto_approved=True,
        decided_at=case.closed_at,
        valid_until=case.closed_at,
    )
    refresh_march()
    assert CaseOutcome.objects.get(case=case).concession_cost == 0


# --- The period's figures ------------------------------------------------------------------


def test_march_totals_are_the_hand_counted_ones(desk):
    refresh_march()
    whole = dashboard.total(dashboard.series(MARCH))
    assert (whole.closed, whole.saved, whole.cancelled, whole.withdrawn) == (7, 3, 3, 1)
    assert whole.save_rate == pytest.approx(3 / 7)
    assert whole.retained_revenue == Decimal("89.97")  # 3 saves of €29.99 a month
    assert whole.concession_cost == Decimal("150.00")
    assert whole.cost_per_save == Decimal("50.00")
    assert whole.net_retained == Decimal("89.97") * 12 - Decimal("150.00")
    assert whole.auto_processed == 1
    # First contact: 10 min, 2 h, 30 min, never, 5 h, 27 h, 5 min.
    assert (whole.contacted, whole.never_contacted) == (6, 1)
    assert whole.first_contact_seconds == 600 + 7200 + 1800 + 18000 + 97200 + 300
    assert (whole.fc_15m, whole.fc_1h, whole.fc_4h, whole.fc_1d, whole.fc_later) == (2, 1, 1, 1, 1)
    assert whole.sla_met == 3 and whole.sla_rate == pytest.approx(3 / 7)
    assert whole.refused_contacts == 3
    assert (whole.port_outs, whole.port_outs_recontacted) == (1, 1)
    assert whole.port_out_recontact_rate == 1.0


def test_days_weeks_and_months(desk):
    refresh_march()
    days = dashboard.series(MARCH)
    assert len(days) == 31
    assert [(r.key, r.figures.closed) for r in days if r.figures.closed] == [
        ("2026-03-02", 2),
        ("2026-03-03", 2),
        ("2026-03-16", 3),
    ]
    weeks = dashboard.series(Filters(**{**MARCH.__dict__, "grain": "week"}))
    # 1 March is a Sunday: its week starts on 23 February, shown from 1 March.
    assert [(r.key, r.figures.closed) for r in weeks] == [
        ("2026-03-01", 0),
        ("2026-03-02", 4),
        ("2026-03-09", 0),
        ("2026-03-16", 3),
        ("2026-03-23", 0),
        ("2026-03-30", 0),
    ]
    assert weeks[1].link == {"period": "custom", "start": "2026-03-02", "end": "2026-03-08"}
    months = dashboard.series(
        Filters(start=date(2026, 2, 1), end=date(2026, 4, 30), grain="month", period="custom")
    )
    assert [(r.key, r.figures.closed, r.figures.saved) for r in months] == [
        ("2026-02-01", 0, 0),
        ("2026-03-01", 7, 3),
        ("2026-04-01", 0, 0),
    ]


def test_an_empty_period_has_zeros_and_no_rates(desk):
    refresh_march()
    empty = Filters(start=date(2025, 1, 1), end=date(2025, 1, 31), period="custom")
    whole = dashboard.total(dashboard.series(empty))
    assert whole.closed == 0
    for rate in (
        "save_rate",
        "cost_per_save",
        "first_contact_average",
        "sla_rate",
        "port_out_recontact_rate",
        "rechurn_90_rate",
        "rechurn_after_discount_rate",
        "auto_rate",
    ):
        assert getattr(whole, rate) is None, rate
    assert whole.net_retained == 0
    assert dashboard.breakdown(empty, "agent") == []


def by(filters, dimension):
    return {r.label: r.figures for r in dashboard.breakdown(filters, dimension)}


def test_breakdowns(desk):
    refresh_march()
    reasons = by(MARCH, "reason")
    assert {k: (f.closed, f.saved) for k, f in reasons.items()} == {
        "Price": (5, 2),
        desk["quality"].label: (2, 1),
    }
    agents = by(MARCH, "agent")
    assert {k: (f.closed, f.saved) for k, f in agents.items()} == {
        desk["ann"].get_full_name(): (2, 1),
        desk["bob"].get_full_name(): (2, 0),
        desk["cid"].get_full_name(): (2, 2),
        "Nobody (processed at the deadline)": (1, 0),
    }
    teams = by(MARCH, "team")
    assert {k: (f.closed, f.saved, f.concession_cost) for k, f in teams.items()} == {
        "A": (4, 1, Decimal("60.00")),
        "B": (2, 2, Decimal("90.00")),
        "No team": (1, 0, 0),
    }
    assert {k: f.closed for k, f in by(MARCH, "channel").items()} == {
        "Phone": 2,
        "Web": 2,
        "Port-out notice": 1,
        "E-mail": 1,
        "Shop": 1,
    }
    offers = by(MARCH, "offer_kind")
    assert {k: (f.saved, f.concession_cost) for k, f in offers.items()} == {
        "No offer accepted": (0, 0),
        "Percentage discount for N months": (2, Decimal("90.00")),
        "Plan change": (1, Decimal("60.00")),
    }
    assert {k: f.closed for k, f in by(MARCH, "segment").items()} == {
        "Residential": 5,
        "Small business": 1,
        "Corporate": 1,
    }
    assert {k: f.closed for k, f in by(MARCH, "region").items()} == {
        "Rīga": 4,
        "Kurzeme": 2,
        "Latgale": 1,
    }


def test_filters_narrow_every_figure(desk):
    refresh_march()
    team_a = desk["teams"][0]
    only_a = Filters(**{**MARCH.__dict__, "team": team_a.pk})
    assert dashboard.source_of(only_a) == "daily"
    assert dashboard.total(dashboard.series(only_a)).closed == 4
    assert {k: f.closed for k, f in by(only_a, "agent").items()} == {
        desk["ann"].get_full_name(): 2,
        desk["bob"].get_full_name(): 2,
    }
    # Two filters, or an agent: counted from the outcomes.
    a_price = Filters(**{**MARCH.__dict__, "team": team_a.pk, "reason": desk["price"].pk})
    assert dashboard.source_of(a_price) == "outcomes"
    assert dashboard.total(dashboard.series(a_price)).closed == 3
    just_ann = Filters(**{**MARCH.__dict__, "agent": desk["ann"].pk})
    assert dashboard.source_of(just_ann) == "outcomes"
    assert dashboard.total(dashboard.series(just_ann)).saved == 1
    # By agent within one reason has no daily rows either.
    price = Filters(**{**MARCH.__dict__, "reason": desk["price"].pk})
    assert dashboard.source_of(price, "agent") == "outcomes"
    assert {k: f.closed for k, f in by(price, "agent").items()} == {
        desk["ann"].get_full_name(): 1,
        desk["bob"].get_full_name(): 2,
        desk["cid"].get_full_name(): 1,
        "Nobody (processed at the deadline)": 1,
    }


def test_daily_rows_and_outcomes_give_the_same_answers(desk, monkeypatch):
    """Every scope with daily rows, every breakdown: the sums equal the outcomes' counts."""
    refresh_march()
    team_a = desk["teams"][0]
    cases = [
        MARCH,
        Filters(**{**MARCH.__dict__, "team": team_a.pk}),
        Filters(**{**MARCH.__dict__, "reason": desk["price"].pk}),
        Filters(**{**MARCH.__dict__, "channel": "phone"}),
        Filters(**{**MARCH.__dict__, "offer_kind": "percent_discount"}),
        Filters(**{**MARCH.__dict__, "segment": "residential"}),
        Filters(**{**MARCH.__dict__, "region": "Rīga"}),
    ]

    def answers():
        found = []
        for filters in cases:
            found.append([(r.key, r.figures) for r in dashboard.series(filters)])
            for dimension in figures.DIMENSIONS:
                found.append([(r.key, r.figures) for r in dashboard.breakdown(filters, dimension)])
        return found

    daily = answers()
    monkeypatch.setattr(dashboard, "_rollup", lambda filters, dimension: None)
    assert answers() == daily


# --- Re-churn ---------------------------------------------------------------------------------


def test_a_later_cancellation_marks_the_earlier_save_and_its_days_figures(desk):
    refresh_march()
    assert dashboard.total(dashboard.series(MARCH)).rechurned_90 == 0
    later_cancellation(
        desk["subs"][1], desk["bob"], desk["price"], riga(4, 20, 10), riga(4, 25, 10)
    )
    done = figures.figures_refresh(day=date(2026, 4, 25))
    assert done.days_touched == (date(2026, 3, 2),)
    one = CaseOutcome.objects.get(case=desk["cases"][1])
    assert (one.rechurned_on, one.rechurned_90, one.rechurned_after_discount) == (
        date(2026, 4, 20),
        True,
        False,
    )
    whole = dashboard.total(dashboard.series(MARCH))
    assert (whole.rechurned_90, whole.rechurn_90_rate) == (1, pytest.approx(1 / 3))
    # The later case is April's cancellation, not March's.
    assert whole.cancelled == 3


def test_cancelled_after_the_discount_ended(desk):
    later_cancellation(
        desk["subs"][7], desk["cid"], desk["price"], riga(6, 15, 10), riga(6, 20, 10)
    )
    # Computed in any order: the save's day after the cancellation's.
    figures.figures_refresh(day=date(2026, 6, 20))
    refresh_march()
    seven = CaseOutcome.objects.get(case=desk["cases"][7])
    assert (seven.rechurned_90, seven.rechurned_after_discount) == (False, True)
    whole = dashboard.total(dashboard.series(MARCH))
    assert (whole.discount_saves, whole.rechurned_after_discount) == (2, 1)
    assert whole.rechurn_after_discount_rate == 0.5
    offers = by(MARCH, "offer_kind")
    assert offers["Percentage discount for N months"].rechurned_after_discount == 1
    assert by(MARCH, "agent")[desk["cid"].get_full_name()].rechurned_after_discount == 1


def test_a_cancellation_before_the_save_is_no_rechurn(desk):
    # Subscriber 1 had been cancelled in January, before March's save.
    later_cancellation(
        desk["subs"][1], desk["bob"], desk["price"], riga(1, 10, 10), riga(1, 12, 10)
    )
    figures.figures_refresh(day=date(2026, 1, 12))
    refresh_march()
    assert CaseOutcome.objects.get(case=desk["cases"][1]).rechurned_on is None


# --- Idempotence and the tick -----------------------------------------------------------------


def test_computing_a_day_twice_changes_nothing(desk):
    refresh_march()
    before = sorted(
        DailyFigure.objects.values_list("day", "scope", "dimension", "key", "closed", "saved")
    )
    outcomes = CaseOutcome.objects.count()
    refresh_march()
    after = sorted(
        DailyFigure.objects.values_list("day", "scope", "dimension", "key", "closed", "saved")
    )
    assert (after, CaseOutcome.objects.count()) == (before, outcomes)


def test_daily_rows_hold_each_scope_once(desk):
    refresh_march()
    day = DailyFigure.objects.filter(day=date(2026, 3, 2))
    assert day.get(scope="", dimension="").closed == 2
    assert day.get(scope=f"team:{desk['teams'][0].pk}", dimension="").closed == 2
    # No breakdown by agent inside a reason's scope: the outcomes answer that.
    assert not day.filter(scope__startswith="reason:", dimension="agent").exists()
    assert day.filter(scope__startswith="team:", dimension="agent").exists()


def test_the_tick_computes_today_and_yesterday_once_after_it_ended(desk):
    with time_machine.travel(riga(3, 2, 17), tick=False):
        done = figures.figures_tick()
    assert [d.day for d in done] == [date(2026, 3, 1), date(2026, 3, 2)] or [
        d.day for d in done
    ] == [date(2026, 3, 2)]
    assert DailyFigure.objects.get(day=date(2026, 3, 2), scope="", dimension="").closed == 2
    with time_machine.travel(riga(3, 3, 0, 10), tick=False):
        done = figures.figures_tick()
        assert [d.day for d in done] == [date(2026, 3, 2), date(2026, 3, 3)]
    with time_machine.travel(riga(3, 3, 0, 15), tick=False):
        done = figures.figures_tick()
        assert [d.day for d in done] == [date(2026, 3, 3)]
    assert LoyaltySnapshot.objects.filter(day=date(2026, 3, 3)).exists()


# --- Loyalty and campaigns -----------------------------------------------------------------


def test_loyalty_counts_who_pays_above_the_new_customer_price(desk):
    from retention.dashboard import loyalty as dashboard

    plan = desk["plan"]  # new customers pay €19.99
    Subscriber.objects.all().update(status=Subscriber.Status.CANCELLED)
    SubscriberFactory.create(plan=plan, monthly_price=Decimal("29.99"), segment="residential")
    SubscriberFactory.create(plan=plan, monthly_price=Decimal("24.99"), segment="residential")
    SubscriberFactory.create(plan=plan, monthly_price=Decimal("19.99"), segment="residential")
    SubscriberFactory.create(plan=plan, monthly_price=Decimal("35.99"), segment="corporate")
    with time_machine.travel(riga(3, 20, 12), tick=False):
        figures.loyalty_snapshot_take()
        figures.loyalty_snapshot_take()  # again the same day: replaced, not added
    found = dashboard.loyalty(MARCH)
    assert found.day == date(2026, 3, 20)
    assert (found.active, found.overpaying, found.overpayment) == (4, 3, Decimal("31.00"))
    assert {r.key: (r.active, r.overpaying) for r in found.rows} == {
        "corporate": (1, 1),
        "residential": (3, 2),
    }
    assert dashboard.loyalty(Filters(**{**MARCH.__dict__, "segment": "corporate"})).overpayment == (
        Decimal("16.00")
    )
    # Before the first count there is nothing to show.
    assert dashboard.loyalty(Filters(start=date(2026, 1, 1), end=date(2026, 1, 31))).day is None


def test_the_command_computes_a_range_and_refuses_a_backward_one(desk):
    from django.core.management import CommandError, call_command

    call_command("figures", "--since", "2026-03-01", "--until", "2026-03-31", stdout=None)
    assert CaseOutcome.objects.count() == 7
    with pytest.raises(CommandError):
        call_command("figures", "--since", "2026-03-31", "--until", "2026-03-01")
    with pytest.raises(CommandError):
        call_command("figures", "--since", "March")


def test_the_beat_task_runs_the_tick(desk):
    from retention.dashboard.tasks import figures_tick

    with time_machine.travel(riga(3, 16, 20), tick=False):
        figures_tick()
    assert DailyFigure.objects.get(day=date(2026, 3, 16), scope="", dimension="").closed == 3


def test_a_save_keeps_the_revenue_paid_before_whatever_the_offer(desk):
    """Free months leave €0 to pay for a while; the save still kept what was paid before, and the
    months given away are the concession's cost."""
    case = desk["cases"][1]
    CounterOffer.objects.filter(case=case).update(
        kind="free_months", new_monthly_price=0, price_before=Decimal("35.00")
    )
    refresh_march()
    assert CaseOutcome.objects.get(case=case).retained_revenue == Decimal("35.00")
    CounterOffer.objects.filter(case=case).update(price_before=None, monthly_concession=5)
    figures.figures_refresh(day=date(2026, 3, 2))
    # Without the price before (older offers): the new price plus the monthly concession.
    assert CaseOutcome.objects.get(case=case).retained_revenue == Decimal("5.00")


def test_a_save_stays_with_the_team_that_made_it(desk):
    refresh_march()
    team_b = desk["teams"][1]
    desk["ann"].team = team_b
    desk["ann"].save()
    refresh_march()
    assert CaseOutcome.objects.get(case=desk["cases"][1]).team == desk["teams"][0]
    assert {k: f.closed for k, f in by(MARCH, "team").items()}["A"] == 4
