"""Two requests assigning one case at once (the case opening and its builder, say) write one
row and answer the same arm."""

import pytest

from retention.experiments.assignment import experiment_assign_case
from retention.models import ExperimentAssignment
from tests.factories import CaseFactory
from tests.retention.experiments.helpers import price_reason
from tests.threads import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_assignments_of_one_case_at_once_write_one_row_and_agree(experiment):
    reason = price_reason()
    for _ in range(5):  # a few rounds: the race is won differently each time
        case = CaseFactory.create(reason=reason)
        arms: list[int] = []

        def assign(case=case, arms=arms):
            assignment = experiment_assign_case(case=case)
            assert assignment is not None
            arms.append(assignment.arm_id)

        assert run_at_once(assign, assign, assign) == []
        assert ExperimentAssignment.objects.filter(case=case).count() == 1
        assert len(arms) == 3 and len(set(arms)) == 1
