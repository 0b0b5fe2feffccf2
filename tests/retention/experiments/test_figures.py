"""The experiment's figures against a hand-counted example.

"Price, loyal" on 30 June 2026, the minimum for a comparison set to 5 closed cases:

    arm      cases  closed  saves  stayed  retained €/month  concessions €  re-churn (saves ≥ 90 d)
    loyalty  12     10      6      7       6 * 29.99=179.94  3*60+3*30=270  1 of 4 (two younger)
    twenty   4      4       2      2       2 * 20.00= 40.00  2*24=48        none old enough
    holdout  10     10      2      2       2 * 29.99= 59.98  0              none old enough

"Stayed" is saved or withdrawn (loyalty's one withdrawn request counts): the holdout makes no
offer, so the arms are compared with it on who stayed. Stay rates: loyalty 7/10 = 70 %,
holdout 2/10 = 20 %: the difference is 50 points, and its Wald 95 % interval is
0.5 ± 1.959964 * sqrt(0.7*0.3/10 + 0.2*0.8/10) = 0.5 ± 1.959964 * 0.1923538
= [0.1229934, 0.8770066]: it leaves out 0, so the loyalty tariff keeps more. Twenty has only
4 closed cases (< 5): too small to tell. Cost per save: loyalty 270/6 = 45.00, twenty 24.00.
Loyalty's agents proposed 3 offers, 2 of them not the arm's; one holdout case got an offer.
"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from retention.experiments.selectors import experiment_figures, wald_difference
from retention.models import CancellationCase, CaseOutcome, ExperimentAssignment
from tests.factories import CaseFactory

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
OLD = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # 121 days before: re-churn is known
YOUNG = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
Status = CancellationCase.Status


def assigned(
    experiment,
    arm,
    status=Status.IN_PROGRESS,
    *,
    closed_at=None,
    revenue="0",
    cost="0",
    rechurned=False,
    proposed=None,
    followed=None,
):
    case = CaseFactory.create(status=status, closed_at=closed_at)
    if status in CancellationCase.CLOSED_STATUSES:
        CaseOutcome.objects.create(
            case=case,
            subscriber=case.subscriber,
            closed_on=closed_at.date(),
            closed_at=closed_at,
            status=status,
            channel=case.channel,
            retained_revenue=Decimal(revenue),
            concession_cost=Decimal(cost),
            rechurned_90=rechurned,
        )
    # The figures count the arm stored, whatever the draw; the draw here is a placeholder.
    ExperimentAssignment.objects.create(
        experiment=experiment,
        arm=arm,
        case=case,
        subscriber=case.subscriber,
        key=f"case:{case.pk}",
        draw=0.5,
        offered_template=proposed,
        followed=followed,
    )


@pytest.fixture
def counted(experiment, loyalty, twenty):
    loyal_arm, twenty_arm, holdout = experiment.arms.all()
    for cost in ("60", "60", "60", "30"):
        assigned(
            experiment,
            loyal_arm,
            Status.SAVED,
            closed_at=OLD,
            revenue="29.99",
            cost=cost,
            rechurned=cost == "30",
        )
    assigned(
        experiment,
        loyal_arm,
        Status.SAVED,
        closed_at=YOUNG,
        revenue="29.99",
        cost="30",
        rechurned=True,
        proposed=twenty,
        followed=False,
    )  # too young to count its re-churn
    assigned(
        experiment,
        loyal_arm,
        Status.SAVED,
        closed_at=YOUNG,
        revenue="29.99",
        cost="30",
        proposed=loyalty,
        followed=True,
    )
    for _ in range(3):
        assigned(experiment, loyal_arm, Status.CANCELLED, closed_at=OLD)
    assigned(
        experiment, loyal_arm, Status.WITHDRAWN, closed_at=YOUNG, proposed=twenty, followed=False
    )
    assigned(experiment, loyal_arm)
    assigned(experiment, loyal_arm)
    for _ in range(2):
        assigned(experiment, twenty_arm, Status.SAVED, closed_at=YOUNG, revenue="20.00", cost="24")
        assigned(experiment, twenty_arm, Status.CANCELLED, closed_at=YOUNG)
    assigned(experiment, holdout, Status.SAVED, closed_at=YOUNG, revenue="29.99")
    assigned(
        experiment,
        holdout,
        Status.SAVED,
        closed_at=YOUNG,
        revenue="29.99",
        proposed=loyalty,
        followed=False,
    )
    for _ in range(8):
        assigned(experiment, holdout, Status.CANCELLED, closed_at=YOUNG)
    return experiment


def test_each_arms_figures_are_the_hand_counted_ones(counted):
    loyal, twenty, holdout = experiment_figures(experiment=counted, now=NOW, min_closed=5).arms
    assert (loyal.cases, loyal.closed, loyal.saves) == (12, 10, 6)
    assert loyal.save_rate == pytest.approx(0.6)
    assert (loyal.stayed, loyal.stay_rate) == (7, pytest.approx(0.7))
    assert loyal.retained_revenue == Decimal("179.94")
    assert loyal.cost_per_save == Decimal("45.00")
    assert (loyal.rechurned, loyal.saves_old_enough) == (1, 4)
    assert loyal.rechurn_rate == pytest.approx(0.25)
    assert (loyal.proposed, loyal.deviations) == (3, 2)
    assert loyal.verdict == "better"
    assert loyal.versus_holdout is not None
    assert loyal.versus_holdout.difference == pytest.approx(0.5)
    assert loyal.versus_holdout.low == pytest.approx(0.1229934)
    assert loyal.versus_holdout.high == pytest.approx(0.8770066)

    assert (twenty.cases, twenty.closed, twenty.saves) == (4, 4, 2)
    assert twenty.retained_revenue == Decimal("40.00") and twenty.cost_per_save == Decimal("24.00")
    assert twenty.rechurn_rate is None  # no save is 90 days old yet
    assert twenty.verdict == "too_small" and twenty.versus_holdout is None

    assert (holdout.cases, holdout.closed, holdout.saves) == (10, 10, 2)
    assert holdout.save_rate == pytest.approx(0.2)
    assert (holdout.stayed, holdout.stay_rate) == (2, pytest.approx(0.2))
    assert holdout.retained_revenue == Decimal("59.98") and holdout.cost_per_save == Decimal("0.00")
    assert (holdout.proposed, holdout.deviations) == (1, 1)


def test_an_interval_that_includes_zero_shows_no_difference_yet():
    # 10/20 against 8/20: 0.1 ± 1.959964 * sqrt(0.5*0.5/20 + 0.4*0.6/20) = 0.1 ± 0.306783
    interval = wald_difference(saves=10, closed=20, base_saves=8, base_closed=20)
    assert interval.low == pytest.approx(-0.206783, abs=1e-6)
    assert interval.high == pytest.approx(0.406783, abs=1e-6)
    assert interval.includes_zero


def test_with_the_default_minimum_of_thirty_every_arm_is_too_small(counted):
    figures = experiment_figures(experiment=counted, now=NOW)
    assert figures.min_closed == 30
    assert [f.verdict for f in figures.arms] == ["too_small", "too_small", ""]


def test_the_experiment_page_shows_the_figures(counted, lead, client, settings):
    settings.EXPERIMENT_MIN_CLOSED = 5
    client.force_login(lead)
    response = client.get(reverse("experiment", args=[counted.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Wald 95 % confidence interval" in body
    assert "Too small to tell" in body
    assert "Keeps more than the holdout" in body
    assert "Stay rate" in body
    assert counted.seed in body
