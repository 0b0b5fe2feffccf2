"""Two nightly scorings and a training at once (a nightly run started twice while an admin
retrains) all finish; one version is active and every active subscriber has one score."""

from datetime import date

import pytest

from retention.models import RiskModel
from retention.risk.services import risk_score, risk_train
from subscribers.models import Subscriber
from tests.factories import SubscriberFactory
from tests.threads import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TODAY = date(2026, 6, 15)


def test_two_scorings_and_a_training_at_once_leave_one_active_version_and_every_score():
    for _ in range(40):
        SubscriberFactory.create()

    errors = run_at_once(
        lambda: risk_score(today=TODAY),
        lambda: risk_score(today=TODAY),
        lambda: risk_train(today=TODAY),
    )

    assert errors == []
    assert RiskModel.objects.filter(is_active=True).count() == 1
    assert not Subscriber.objects.filter(churn_risk_scored_on__isnull=True).exists()
    assert set(Subscriber.objects.values_list("churn_risk_version", flat=True)) <= set(
        RiskModel.objects.values_list("version", flat=True)
    )


def test_two_first_scorings_at_once_make_one_rule_based_version():
    for _ in range(10):
        SubscriberFactory.create()

    errors = run_at_once(lambda: risk_score(today=TODAY), lambda: risk_score(today=TODAY))

    assert errors == []
    assert RiskModel.objects.count() == 1
