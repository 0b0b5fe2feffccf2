"""Starting and stopping: who may, what the slot and arms must be, and the history kept."""

import pytest

from retention.core.refusals import Conflict, InvalidInput, NotAllowed, WrongState
from retention.experiments.services import (
    ArmSpec,
    Slot,
    experiment_start,
    experiment_stop,
    slots_overlap,
)
from retention.models import Experiment, ExperimentHistory
from tests.retention.experiments.conftest import PRICE_LOYAL


def test_starting_records_the_seed_the_arms_and_a_history_row(experiment, lead):
    assert experiment.status == Experiment.Status.RUNNING
    assert len(experiment.seed) == 32 and experiment.started_by == lead
    assert [a.weight for a in experiment.arms.all()] == [45, 45, 10]
    assert experiment.arms.all()[2].is_holdout
    row = ExperimentHistory.objects.get(experiment=experiment)
    assert (row.action, row.actor, row.to_status) == ("started", lead, "running")


def test_stopping_records_who_and_when_and_a_history_row(experiment, lead):
    experiment_stop(experiment=experiment, actor=lead, note="enough")
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.STOPPED
    assert experiment.stopped_by == lead and experiment.stopped_at is not None
    row = ExperimentHistory.objects.get(experiment=experiment, action="stopped")
    assert (row.from_status, row.to_status, row.note) == ("running", "stopped", "enough")


def test_a_stopped_experiment_cannot_be_stopped_again(experiment, lead):
    experiment_stop(experiment=experiment, actor=lead)
    with pytest.raises(WrongState):
        experiment_stop(experiment=experiment, actor=lead)
    assert ExperimentHistory.objects.filter(action="stopped").count() == 1


def test_two_experiments_cannot_run_on_overlapping_slots(experiment, lead, loyalty):
    with pytest.raises(Conflict, match="Price, loyal"):
        experiment_start(
            name="Any reason, long tenure",
            slot=Slot(min_tenure_months=60),
            arms=[ArmSpec(loyalty, 50), ArmSpec(None, 50)],
            actor=lead,
        )
    assert Experiment.objects.count() == 1


def test_a_slot_that_does_not_overlap_may_run_alongside(experiment, lead, loyalty):
    experiment_start(
        name="Quality",
        slot=Slot(reason_category="quality"),
        arms=[ArmSpec(loyalty, 50), ArmSpec(None, 50)],
        actor=lead,
    )
    assert Experiment.objects.filter(status="running").count() == 2


def test_once_stopped_its_slot_is_free_again(experiment, lead, loyalty):
    experiment_stop(experiment=experiment, actor=lead)
    experiment_start(
        name="Again", slot=PRICE_LOYAL, arms=[ArmSpec(loyalty, 90), ArmSpec(None, 10)], actor=lead
    )
    assert Experiment.objects.filter(status="running").count() == 1


@pytest.mark.parametrize(
    ("a", "b", "overlap"),
    [
        (Slot(), Slot(reason_category="price"), True),
        (Slot(reason_category="price"), Slot(reason_category="quality"), False),
        (Slot(segments=("residential",)), Slot(segments=("corporate",)), False),
        (Slot(segments=("residential", "corporate")), Slot(segments=("corporate",)), True),
        (Slot(max_tenure_months=36), Slot(min_tenure_months=37), False),
        (Slot(max_tenure_months=37), Slot(min_tenure_months=37), True),
        (Slot(min_tenure_months=12, max_tenure_months=24), Slot(min_tenure_months=20), True),
    ],
)
def test_slots_overlap_when_reason_segments_and_tenure_all_do(a, b, overlap):
    assert slots_overlap(a, b) is overlap
    assert slots_overlap(b, a) is overlap


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ((50, 40), "add up to 90 %"),
        ((60, 50), "add up to 110 %"),
        ((100,), "at least two arms"),
    ],
)
def test_arms_must_add_up_to_one_hundred_and_be_two_or_more(lead, loyalty, weights, message):
    arms = [ArmSpec(loyalty, weights[0])] + [ArmSpec(None, w) for w in weights[1:]]
    with pytest.raises(InvalidInput, match=message):
        experiment_start(name="Bad", slot=PRICE_LOYAL, arms=arms, actor=lead)
    assert not Experiment.objects.exists()


def test_an_experiment_needs_an_offer_arm_and_each_offer_once(lead, loyalty):
    with pytest.raises(InvalidInput, match="at least one offer"):
        experiment_start(
            name="x", slot=PRICE_LOYAL, arms=[ArmSpec(None, 50), ArmSpec(None, 50)], actor=lead
        )
    with pytest.raises(InvalidInput, match="one arm only"):
        experiment_start(
            name="x",
            slot=PRICE_LOYAL,
            arms=[ArmSpec(loyalty, 50), ArmSpec(loyalty, 50)],
            actor=lead,
        )
    assert not Experiment.objects.exists()


def test_an_agent_cannot_start_or_stop_an_experiment(experiment, agent, loyalty):
    with pytest.raises(NotAllowed):
        experiment_start(
            name="Mine",
            slot=Slot(reason_category="quality"),
            arms=[ArmSpec(loyalty, 50), ArmSpec(None, 50)],
            actor=agent,
        )
    with pytest.raises(NotAllowed):
        experiment_stop(experiment=experiment, actor=agent)
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.RUNNING and Experiment.objects.count() == 1
