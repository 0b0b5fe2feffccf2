"""Nightly scoring: every active subscriber scored by the active version, with reasons, version
and day; run twice, the same; open cases reprioritised; new arrivals scored."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from retention.models import CancellationCase, RiskModel
from retention.risk.rules import rules_weights
from retention.risk.services import risk_score, risk_score_arrivals, risk_train
from retention.risk.tasks import nightly_churn_risk, score_arrivals
from subscribers.models import Subscriber, TimelineEvent
from tests.factories import CaseFactory, PlanFactory, SubscriberFactory, TimelineEventFactory

pytestmark = pytest.mark.django_db

NIGHT = "2026-12-04 02:00Z"  # 04:00 in Riga
TODAY = date(2026, 12, 4)


def _stormy(**fields: object) -> Subscriber:
    """A subscriber with three outages last week and a price rise in spring, paying what a new
    customer pays."""
    fields.setdefault("plan", PlanFactory.create(code="flat", new_customer_price=Decimal("29.99")))
    subscriber = SubscriberFactory.create(signup_date=date(2019, 3, 1), **fields)
    for days in (2, 4, 6):
        TimelineEventFactory.create(
            subscriber=subscriber,
            kind=TimelineEvent.Kind.OUTAGE,
            occurred_at=timezone.now() - timedelta(days=days),
            data={"minutes": 120},
        )
    TimelineEventFactory.create(
        subscriber=subscriber,
        kind=TimelineEvent.Kind.PRICE_CHANGE,
        occurred_at=timezone.now() - timedelta(days=200),
        data={"from": "24.99", "to": "29.99"},
    )
    return subscriber


def _scores() -> list[tuple[object, ...]]:
    return list(
        Subscriber.objects.order_by("pk").values_list(
            "pk",
            "churn_risk",
            "churn_risk_reasons",
            "churn_risk_version",
            "churn_risk_kind",
            "churn_risk_scored_on",
        )
    )


def test_the_nightly_run_scores_every_active_subscriber_once_however_often_it_runs():
    with time_machine.travel(NIGHT, tick=False):
        plan = PlanFactory.create(code="flat", new_customer_price=Decimal("29.99"))
        stormy = _stormy(plan=plan)
        quiet = SubscriberFactory.create(
            plan=plan, signup_date=date(2019, 3, 1), promo_ends_on=None
        )
        suspended = SubscriberFactory.create(plan=plan, status=Subscriber.Status.SUSPENDED)
        gone = SubscriberFactory.create(plan=plan, status=Subscriber.Status.CANCELLED)

        nightly_churn_risk()
        first = _scores()
        nightly_churn_risk()

    assert _scores() == first
    model = RiskModel.objects.get()  # with no version yet, the rules made one: and only one
    assert (model.version, model.kind, model.is_active) == (1, "rules", True)
    by_pk = {row[0]: row[1:] for row in first}
    assert by_pk[gone.pk] == (0, [], None, "", None)  # not scored: nobody computed a score
    for scored in (stormy, quiet, suspended):
        assert by_pk[scored.pk][2:] == (1, "rules", TODAY)
    # 3 base + 3 outages at 8 + 6 outage hours + 2 a euro of the 5.00 rise (capped at 20)
    assert by_pk[stormy.pk][0] == 3 + 24 + 6 + 10
    assert by_pk[stormy.pk][1] == [
        {"code": "risk.outages_30d", "params": {"count": 3, "hours": "6.0"}},
        {"code": "risk.price_rises", "params": {"count": 1, "amount": "5.00"}},
        {"code": "risk.outages_90d", "params": {"count": 3, "hours": "6.0"}},
    ]
    assert by_pk[quiet.pk][:2] == (3, [])


def test_the_nightly_run_reprioritises_open_cases_by_the_new_score():
    with time_machine.travel(NIGHT, tick=False):
        stormy = _stormy()
        case = CaseFactory.create(subscriber=stormy, process_by=TODAY + timedelta(days=14))
        before = case.priority

        nightly_churn_risk()

    case.refresh_from_db()
    stormy.refresh_from_db()
    assert stormy.churn_risk == 43
    assert ["churn risk", 43 // 2] in case.priority_explained
    assert case.priority != before


def test_scoring_uses_the_active_version_and_names_it():
    with time_machine.travel(NIGHT, tick=False):
        subscriber = _stormy()
        RiskModel.objects.create(version=7, kind="rules", weights=rules_weights())
        active = RiskModel.objects.create(
            version=8, kind="rules", is_active=True, weights=rules_weights()
        )
        risk_score(today=TODAY)

    subscriber.refresh_from_db()
    assert (subscriber.churn_risk_version, subscriber.churn_risk_kind) == (active.version, "rules")


def test_a_new_subscriber_is_scored_on_arrival_and_only_the_unscored_are():
    with time_machine.travel(NIGHT, tick=False):
        old = SubscriberFactory.create()
        risk_score(today=TODAY - timedelta(days=1))
        newcomer = _stormy()

        score_arrivals()

    newcomer.refresh_from_db()
    old.refresh_from_db()
    assert (newcomer.churn_risk_scored_on, newcomer.churn_risk) == (TODAY, 43)
    assert old.churn_risk_scored_on == TODAY - timedelta(days=1)  # left for the nightly run
    assert risk_score_arrivals(today=TODAY) == 0


def test_training_with_too_little_history_makes_a_rule_based_version_that_says_why():
    with time_machine.travel(NIGHT, tick=False):
        subscriber = _stormy()
        CaseFactory.create(
            subscriber=SubscriberFactory.create(), status=CancellationCase.Status.NEW
        )
        model = risk_train(today=TODAY)
        risk_score(today=TODAY)

    assert model.kind == RiskModel.Kind.RULES and model.is_active
    assert model.note["code"] == "risk.model.too_little_history"
    assert model.weights == rules_weights()
    subscriber.refresh_from_db()
    assert subscriber.churn_risk_kind == "rules"


def test_a_second_training_is_a_new_version_and_the_old_one_is_kept():
    with time_machine.travel(NIGHT, tick=False):
        first = risk_train(today=TODAY)
        second = risk_train(today=TODAY)

    assert second.version == first.version + 1
    first.refresh_from_db()
    assert (first.is_active, second.is_active) == (False, True)


def test_arrivals_are_scored_a_batch_at_a_time_until_none_is_left():
    with time_machine.travel(NIGHT, tick=False):
        newcomers = [SubscriberFactory.create() for _ in range(5)]

        assert risk_score_arrivals(today=TODAY, batch=2) == 5

    assert not Subscriber.objects.filter(
        pk__in=[s.pk for s in newcomers], churn_risk_scored_on__isnull=True
    ).exists()
