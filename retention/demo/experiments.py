"""The demo's experiment: the loyalty tariff against 20 % off for 6 months and a holdout, for
price cases of subscribers of more than three years, running since the demo history began, so
the experiments page shows figures. Development data only.

It is started before the history is written (``experiment_demo_start``), so the history works
the cases in its slot as their arms say (retention.demo.history_contacts: the holdout gets no
offer unless the subscriber asks, an arm's case its offer, each saving with its own chance);
then ``experiment_demo_assign`` writes their assignments, with the offer each case got."""

from datetime import datetime

from django.db import transaction

from offers.models import CounterOffer, OfferTemplate
from retention.core.roles import Role
from retention.experiments.assignment import arm_index, case_in_slot, case_key, draw_for
from retention.experiments.services import ArmSpec, Slot, experiment_start
from retention.models import CancellationCase, Experiment, ExperimentAssignment, User

DEMO_NAME = "Price, over 3 years: loyalty tariff vs 20 % for 6 months"


def experiment_seed(*, started: datetime) -> Experiment | None:
    """Start the demo experiment as of ``started`` and assign the cases opened since."""
    experiment = experiment_demo_start(started=started)
    if experiment is not None:
        experiment_demo_assign(experiment=experiment)
    return experiment


def experiment_demo_start(*, started: datetime, seed: int = 7) -> Experiment | None:
    """Start the demo experiment as of ``started``; None when an experiment exists already
    (idempotent) or the catalogue lacks its offers. Its seed follows the demo's ``seed``, so
    the history written with it is the same for the same seed."""
    if Experiment.objects.exists():
        return None
    templates = {
        t.code: t
        for t in OfferTemplate.objects.filter(code__in=["loyalty-tariff", "discount-20-6"])
    }
    manager = User.objects.filter(groups__name=Role.MANAGER).order_by("pk").first()
    if len(templates) < 2 or manager is None:
        return None
    experiment = experiment_start(
        name=DEMO_NAME,
        slot=Slot(reason_category="price", min_tenure_months=37),
        arms=[
            ArmSpec(templates["loyalty-tariff"], 40),
            ArmSpec(templates["discount-20-6"], 40),
            ArmSpec(None, 20),
        ],
        actor=manager,
        now=started,
    )
    experiment.seed = f"demo{seed:028d}"
    Experiment.objects.filter(pk=experiment.pk).update(seed=experiment.seed)
    return experiment


def experiment_demo_assign(*, experiment: Experiment) -> int:
    """Assign the cases opened since the experiment started that are in its slot, with the
    first offer each got and whether it was the arm's, in one pass; returns how many."""
    started = experiment.started_at
    with transaction.atomic():
        arms = list(experiment.arms.all())
        weights = [a.weight for a in arms]
        cases = CancellationCase.objects.filter(
            opened_at__gte=started, reason__category="price"
        ).select_related("reason", "subscriber")
        first_offer: dict[int, tuple[int, datetime]] = {}
        for case_id, template_id, at in (
            CounterOffer.objects.filter(case__in=cases, template__isnull=False)
            .order_by("-proposed_at")
            .values_list("case_id", "template_id", "proposed_at")
        ):
            first_offer[case_id] = (template_id, at)  # the earliest wins: newest first
        rows = []
        for case in cases:
            if not case_in_slot(experiment=experiment, case=case):
                continue
            key = case_key(case.pk)
            draw = draw_for(seed=experiment.seed, key=key)
            arm = arms[arm_index(weights=weights, draw=draw)]
            offered = first_offer.get(case.pk)
            rows.append(
                ExperimentAssignment(
                    experiment=experiment,
                    arm=arm,
                    case=case,
                    subscriber_id=case.subscriber_id,
                    key=key,
                    draw=draw,
                    assigned_at=case.opened_at,
                    offered_template_id=offered[0] if offered else None,
                    offered_at=offered[1] if offered else None,
                    followed=(offered[0] == arm.template_id) if offered else None,
                )
            )
        ExperimentAssignment.objects.bulk_create(rows, ignore_conflicts=True, batch_size=5_000)
    return len(rows)
