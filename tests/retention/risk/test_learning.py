"""The model learns from the desk's own history: on seeded demo data, whose requests to cancel
depend on the subscribers' stories with noise, it beats the rule-based score on the held-out
months, its figures are honest, and a subscriber with no history gets a sensible score."""

from datetime import date
from io import StringIO

import numpy as np
import pytest
import time_machine
from django.core.management import call_command

from retention.core.roles import Role
from retention.demo.history import history_seed
from retention.models import RiskModel
from retention.risk.services import risk_score, risk_train, scores_of
from retention.risk.signals import FEATURES, Signals
from subscribers.models import Subscriber
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 4)


@pytest.fixture
def seeded(tiers):
    """A small desk with 14 months of history: subscribers with their stories, and the closed
    cases of those months."""
    with time_machine.travel("2026-12-04 03:00Z", tick=False):
        call_command(
            "seed_demo",
            subscribers=4000,
            heavy=0,
            today=TODAY,
            no_progress=True,
            stdout=StringIO(),
        )
        agents = [user_with_role(Role.AGENT, username=f"learning-agent-{n}") for n in range(3)]
        history_seed(days=430, per_day=8, seed=5, agents=agents)
        yield


def test_the_learned_model_beats_the_rules_on_the_months_it_never_saw(seeded):
    with time_machine.travel("2026-12-04 03:00Z", tick=False):
        model = risk_train(today=TODAY)

    assert model.kind == RiskModel.Kind.LEARNED, model.note
    assert model.test_from and model.train_to and model.precision_top10 is not None
    assert model.test_from > model.train_to  # validated by time: held-out months come later
    assert model.rows_test > 1000 and model.positives_test > 30
    assert model.auc is not None and model.rules_auc is not None
    assert model.auc > model.rules_auc + 0.02, (model.auc, model.rules_auc)
    assert model.auc > 0.6, (model.auc, model.rules_auc)
    assert model.precision_top10 > model.positives_test / model.rows_test  # better than chance
    # Calibrated: over the held-out tenths, predicted and observed rates agree within reason.
    predicted = np.array([part["predicted"] for part in model.calibration])
    observed = np.array([part["observed"] for part in model.calibration])
    assert len(model.calibration) == 10
    assert abs(predicted.mean() - observed.mean()) < 0.05
    weights = dict(zip(model.weights["features"], model.weights["coef"], strict=True))
    assert weights["outages_30d"] + weights["outage_hours_30d"] > 0  # outages push it up
    assert weights["misfit_known"] == 0 and weights["usage_known"] == 0


def test_every_active_subscriber_is_scored_and_one_with_no_history_sensibly(seeded):
    with time_machine.travel("2026-12-04 03:00Z", tick=False):
        model = risk_train(today=TODAY)
        risk_score(today=TODAY)

    active = Subscriber.objects.filter(status__in=["active", "suspended"])
    assert not active.filter(churn_risk_scored_on__isnull=True).exists()
    assert set(active.values_list("churn_risk_version", flat=True)) == {model.version}
    risks = np.array(active.values_list("churn_risk", flat=True))
    assert risks.std() > 1  # scores tell subscribers apart

    # A customer of five years with nothing in their story: no reason, a score near the
    # average rate at which quiet subscribers ask to cancel, not 0 and not alarming.
    quiet = np.zeros((1, len(FEATURES)))
    quiet[0, FEATURES.index("tenure_years")] = 5
    quiet[0, FEATURES.index("misfit_eur")] = np.nan
    quiet[0, FEATURES.index("usage_decline_pct")] = np.nan
    scores, reasons = scores_of(model, Signals(np.array([1]), quiet, np.array([np.nan])))
    assert reasons == [[]]
    assert 0 < scores[0] <= np.percentile(risks, 75)
