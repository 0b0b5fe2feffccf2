"""Assigning cases to an experiment's arms: at random, stably and auditably.

The draw is a pure function of the experiment's seed and a key naming the case::

    digest = sha256(f"{seed}:{key}")          key = f"case:{case.pk}"
    draw   = int(digest[:13], 16) / 16**13    a number in [0, 1), exact in a float
    arm    = the first arm, in the experiment's order, whose cumulative share in % exceeds
             draw * 100

So assigning again always gives the same arm, anyone can recompute an assignment from the seed
shown on the experiment's page, and no arm's share can drift with the order cases arrive in.
The row is written once (a unique key per experiment; a concurrent writer finds the other's).
"""

import hashlib
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import Exists
from django.utils import timezone

from retention.models import (
    CancellationCase,
    Experiment,
    ExperimentAssignment,
)

HEX_DIGITS = 13  # 52 bits: the quotient is exact in a double


def case_key(case_id: int) -> str:
    return f"case:{case_id}"


def draw_for(*, seed: str, key: str) -> float:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()
    return int(digest[:HEX_DIGITS], 16) / 16**HEX_DIGITS


def arm_index(*, weights: Sequence[int], draw: float) -> int:
    """The arm whose cumulative share (weights in %, in order) first exceeds ``draw``."""
    point = draw * 100
    cumulative = 0
    for index, weight in enumerate(weights):
        cumulative += weight
        if point < cumulative:
            return index
    return len(weights) - 1  # weights sum to 100, so only a rounding edge gets here


def tenure_fits(experiment: Experiment, months: int) -> bool:
    if months < experiment.min_tenure_months:
        return False
    return experiment.max_tenure_months is None or months <= experiment.max_tenure_months


def case_in_slot(*, experiment: Experiment, case: CancellationCase) -> bool:
    """Whether the case (its reason and subscriber loaded) is in the experiment's slot: its
    reason's category, the subscriber's segment, and their tenure on the day it was opened."""
    category = case.reason.category if case.reason_id and case.reason else ""
    if experiment.reason_category and experiment.reason_category != category:
        return False
    subscriber = case.subscriber
    if experiment.segments and subscriber.segment not in experiment.segments:
        return False
    opened = timezone.localdate(case.opened_at)
    return tenure_fits(experiment, subscriber.tenure_months(today=opened))


def experiments_running_flag() -> Exists:
    """Whether any experiment on cases runs, as an annotation: a page that loads the case anyway
    (``case_get_for_user``) learns it in the same query, so a case page costs nothing more while
    none runs. ``experiment_assign_case`` reads it as ``case.experiments_running``."""
    return Exists(
        Experiment.objects.filter(
            status=Experiment.Status.RUNNING, audience=Experiment.Audience.CASES
        )
    )


def experiment_assignment_of_case(*, case_id: int) -> ExperimentAssignment | None:
    """The case's assignment in a running experiment (at most one: running slots never
    overlap), with its arm's offer and experiment. One query."""
    return (
        ExperimentAssignment.objects.filter(
            case_id=case_id, experiment__status=Experiment.Status.RUNNING
        )
        .select_related("arm__template", "experiment", "offered_template")
        .first()
    )


def experiment_assign_case(
    *, case: CancellationCase, now: datetime | None = None
) -> ExperimentAssignment | None:
    """The case's arm in the running experiment whose slot it is in, assigned now if it has
    none yet; None when no running experiment takes it. Safe to call again and at once from
    two requests: the same row comes back. ``case`` with its reason and subscriber loaded.

    No query while no experiment runs when the case was loaded with ``experiments_running_flag``
    (the case page), one otherwise; two once the case has its arm; the first assignment adds the
    arms and the insert.
    """
    if getattr(case, "experiments_running", None) is False:
        return None  # the case was loaded with the flag: no experiment runs, nothing to read
    running = list(
        Experiment.objects.filter(
            status=Experiment.Status.RUNNING, audience=Experiment.Audience.CASES
        )
    )
    if not running:
        return None
    existing = experiment_assignment_of_case(case_id=case.pk)
    if existing is not None:
        return existing
    experiment = next((e for e in running if case_in_slot(experiment=e, case=case)), None)
    if experiment is None:
        return None
    arms = list(experiment.arms.select_related("template"))
    key = case_key(case.pk)
    draw = draw_for(seed=experiment.seed, key=key)
    arm = arms[arm_index(weights=[a.weight for a in arms], draw=draw)]
    with transaction.atomic():
        # get_or_create under the unique key: of two requests at once, one inserts and the
        # other, on the IntegrityError, reads the row the first wrote; both answer the same arm.
        assignment, _created = ExperimentAssignment.objects.get_or_create(
            experiment=experiment,
            key=key,
            defaults={
                "arm": arm,
                "case": case,
                "subscriber_id": case.subscriber_id,
                "draw": draw,
                "assigned_at": now or timezone.now(),
            },
        )
    assignment.experiment = experiment
    assignment.arm = next(a for a in arms if a.pk == assignment.arm_id)
    return assignment
