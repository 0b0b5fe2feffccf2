"""Starting and stopping experiments, and recording what the agent proposed on an assigned case.

At most one running experiment takes any one case: two running experiments' slots never
overlap (reason, segments and tenure all overlapping), checked under one lock per start.
"""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from offers.models import OfferTemplate
from retention.core.refusals import Conflict, InvalidInput, WrongState
from retention.core.roles import Role, require_role
from retention.models import (
    CancellationCase,
    Experiment,
    ExperimentArm,
    ExperimentAssignment,
    ExperimentHistory,
    User,
)

Status = Experiment.Status


@dataclass(frozen=True)
class Slot:
    reason_category: str = ""  # "" = any reason
    segments: tuple[str, ...] = ()  # () = every segment
    min_tenure_months: int = 0
    max_tenure_months: int | None = None  # None = no limit


@dataclass(frozen=True)
class ArmSpec:
    template: OfferTemplate | None  # None = the holdout
    weight: int


def slots_overlap(a: Slot, b: Slot) -> bool:
    """Whether some case could be in both slots."""
    if a.reason_category and b.reason_category and a.reason_category != b.reason_category:
        return False
    if a.segments and b.segments and not set(a.segments) & set(b.segments):
        return False
    upper_a = a.max_tenure_months if a.max_tenure_months is not None else float("inf")
    upper_b = b.max_tenure_months if b.max_tenure_months is not None else float("inf")
    return max(a.min_tenure_months, b.min_tenure_months) <= min(upper_a, upper_b)


def slot_of(experiment: Experiment) -> Slot:
    return Slot(
        experiment.reason_category,
        tuple(experiment.segments),
        experiment.min_tenure_months,
        experiment.max_tenure_months,
    )


def arms_problem(arms: Sequence[ArmSpec]) -> str | None:
    """What is wrong with the arms, or None: at least one offer, one holdout at most, each
    offer once, each share 1-100 %, the shares adding up to 100 %."""
    offers = [arm.template.pk for arm in arms if arm.template is not None]
    if not offers:
        return _("An experiment needs at least one offer arm.")
    if len(arms) < 2:
        return _("An experiment needs at least two arms: two offers, or an offer and a holdout.")
    if len(set(offers)) != len(offers):
        return _("Each offer can be one arm only.")
    if sum(1 for arm in arms if arm.template is None) > 1:
        return _("An experiment has one holdout at most.")
    if any(not 1 <= arm.weight <= 100 for arm in arms):
        return _("Each arm's share is from 1 to 100 %.")
    total = sum(arm.weight for arm in arms)
    if total != 100:
        return _("The arms' shares add up to %(total)s %%; they must add up to 100 %%.") % {
            "total": total
        }
    return None


def _lock_starts() -> None:
    # Two managers starting overlapping experiments at once would each see no other running
    # one; this serialises starts (PostgreSQL; SQLite serialises writers anyway).
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('retention.experiment_start'))")


def experiment_start(
    *,
    name: str,
    slot: Slot,
    arms: Sequence[ArmSpec],
    actor: User,
    audience: str = Experiment.Audience.CASES,
    now: datetime | None = None,
) -> Experiment:
    """Start an experiment on a slot of ``audience``: cases, or outreach recipients (for
    whom no reason applies). Refused when a running one of the same audience overlaps."""
    require_role(actor, Role.MANAGER)
    now = now or timezone.now()
    name = " ".join(name.split())
    if not name:
        raise InvalidInput(_("Give the experiment a name."))
    if slot.max_tenure_months is not None and slot.max_tenure_months < slot.min_tenure_months:
        raise InvalidInput(_("The tenure's upper bound is below its lower bound."))
    if audience not in Experiment.Audience.values:
        raise InvalidInput(_("Choose cases or outreach recipients."))
    if audience == Experiment.Audience.OUTREACH and slot.reason_category:
        raise InvalidInput(_("A reason applies to cases only: choose any reason for outreach."))
    problem = arms_problem(arms)
    if problem:
        raise InvalidInput(problem)
    with transaction.atomic():
        _lock_starts()
        for other in Experiment.objects.filter(status=Status.RUNNING, audience=audience):
            if slots_overlap(slot, slot_of(other)):
                raise Conflict(
                    _(
                        "The experiment “%(name)s” is already running on an overlapping slot: "
                        "stop it first, or choose another reason, segment or tenure."
                    )
                    % {"name": other.name}
                )
        experiment = Experiment.objects.create(
            name=name,
            audience=audience,
            reason_category=slot.reason_category,
            segments=list(slot.segments),
            min_tenure_months=slot.min_tenure_months,
            max_tenure_months=slot.max_tenure_months,
            status=Status.RUNNING,
            seed=secrets.token_hex(16),
            started_at=now,
            started_by=actor,
        )
        ExperimentArm.objects.bulk_create(
            ExperimentArm(
                experiment=experiment, template=arm.template, weight=arm.weight, position=i
            )
            for i, arm in enumerate(arms)
        )
        ExperimentHistory.objects.create(
            experiment=experiment,
            actor=actor,
            at=now,
            action=ExperimentHistory.Action.STARTED,
            to_status=Status.RUNNING,
        )
    return experiment


def experiment_stop(
    *, experiment: Experiment, actor: User, note: str = "", now: datetime | None = None
) -> Experiment:
    """Stop assigning cases; those assigned keep their arm and still count."""
    require_role(actor, Role.MANAGER)
    now = now or timezone.now()
    with transaction.atomic():
        experiment = Experiment.objects.select_for_update().get(pk=experiment.pk)
        if experiment.status != Status.RUNNING:
            raise WrongState(_("This experiment is stopped already."))
        experiment.status, experiment.stopped_at, experiment.stopped_by = Status.STOPPED, now, actor
        experiment.save(update_fields=["status", "stopped_at", "stopped_by"])
        ExperimentHistory.objects.create(
            experiment=experiment,
            actor=actor,
            at=now,
            action=ExperimentHistory.Action.STOPPED,
            from_status=Status.RUNNING,
            to_status=Status.STOPPED,
            note=note,
        )
    return experiment


def assignment_record_proposal(
    *, case: CancellationCase, template: OfferTemplate, now: datetime | None = None
) -> ExperimentAssignment | None:
    """The first offer proposed on an assigned case, and whether it was the arm's (for the
    holdout, any offer is a deviation), also once the experiment has stopped. Called inside the
    proposal's transaction, the case locked; later proposals leave the first one standing."""
    assignments = list(
        ExperimentAssignment.objects.select_for_update(of=("self",))
        .select_related("arm")
        .filter(case_id=case.pk, offered_template__isnull=True)
    )
    for assignment in assignments:  # one, unless an earlier experiment took the case too
        assignment.offered_template = template
        assignment.offered_at = now or timezone.now()
        assignment.followed = assignment.arm.template_id == template.pk
        assignment.save(update_fields=["offered_template", "offered_at", "followed"])
    return assignments[-1] if assignments else None
