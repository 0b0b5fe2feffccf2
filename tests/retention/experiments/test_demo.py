"""The demo history honours the demo experiment: the holdout gets no offer unless the
subscriber asks, an arm's case mostly the arm's offer, and the arms save differently."""

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from retention.dashboard.figures import desk_today, figures_refresh_range
from retention.demo.experiments import experiment_demo_assign, experiment_demo_start
from retention.demo.history import history_seed
from retention.experiments.selectors import experiment_figures
from retention.models import ExperimentAssignment
from tests.retention.test_history_seed import staff, subscribers  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db
DAYS = 150


def test_the_demo_history_works_each_case_as_its_arm_says(subscribers, staff):  # noqa: F811
    first_day = desk_today() - timedelta(days=DAYS)
    started = datetime.combine(first_day, time.min, tzinfo=timezone.get_current_timezone())
    experiment = experiment_demo_start(started=started, seed=5)
    assert experiment is not None
    history_seed(days=DAYS, per_day=30, seed=5, agents=staff)
    assigned = experiment_demo_assign(experiment=experiment)
    assert assigned == ExperimentAssignment.objects.count() > 0
    assert experiment_demo_assign(experiment=experiment) == assigned  # again: nothing new
    assert ExperimentAssignment.objects.count() == assigned
    figures_refresh_range(first=first_day, last=desk_today())
    rows = ExperimentAssignment.objects.select_related("arm")
    holdout = [a for a in rows if a.arm.template_id is None]
    offered = [a for a in rows if a.arm.template_id is not None]
    # The holdout's cases got an offer only when the subscriber asked (recorded: not followed).
    assert all(a.followed is False for a in holdout if a.offered_template_id)
    assert sum(1 for a in holdout if a.offered_template_id) <= 0.2 * len(holdout)
    proposed = [a for a in offered if a.offered_template_id]
    followed = sum(1 for a in proposed if a.followed)
    assert 0.75 * len(proposed) <= followed < len(proposed) + 1
    figures = experiment_figures(experiment=experiment, min_closed=1)
    by_code = {f.arm.template.code if f.arm.template else "holdout": f for f in figures.arms}
    loyalty, twenty, held = by_code["loyalty-tariff"], by_code["discount-20-6"], by_code["holdout"]
    assert loyalty.save_rate is not None and twenty.save_rate is not None
    assert held.save_rate is not None
    assert loyalty.save_rate > twenty.save_rate > held.save_rate  # at this seed
    assert loyalty.verdict == twenty.verdict == "better"
