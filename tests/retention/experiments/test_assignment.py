"""Assignment: the same arm every time, one row, balanced over many cases, and recomputable."""

import hashlib
from collections import Counter
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from retention.cases import services as cases
from retention.cases.opening import Intake, case_open
from retention.experiments.assignment import (
    arm_index,
    case_key,
    draw_for,
    experiment_assign_case,
)
from retention.experiments.services import ArmSpec, Slot, experiment_start, experiment_stop
from retention.models import CancellationCase, CancellationReason, ExperimentAssignment
from retention.saves import services as saves
from subscribers.models import Subscriber
from tests.factories import CaseFactory, SubscriberFactory
from tests.ingestion import post_cancellations
from tests.retention.experiments.helpers import price_reason


def test_the_draw_is_the_sha256_of_seed_and_key_read_as_a_fraction():
    digest = hashlib.sha256(b"abc123:case:42").hexdigest()
    assert draw_for(seed="abc123", key="case:42") == int(digest[:13], 16) / 16**13
    assert 0 <= draw_for(seed="abc123", key="case:42") < 1


def test_the_arm_is_the_first_whose_cumulative_share_exceeds_the_draw():
    weights = [45, 45, 10]
    assert arm_index(weights=weights, draw=0.0) == 0
    assert arm_index(weights=weights, draw=0.4499) == 0
    assert arm_index(weights=weights, draw=0.45) == 1
    assert arm_index(weights=weights, draw=0.8999) == 1
    assert arm_index(weights=weights, draw=0.9) == 2
    assert arm_index(weights=weights, draw=0.999999) == 2


def test_ten_thousand_draws_fall_within_two_points_of_each_share():
    weights = [45, 45, 10]
    counts = Counter(
        arm_index(weights=weights, draw=draw_for(seed="fixed-seed", key=case_key(n)))
        for n in range(1, 10_001)
    )
    for index, weight in enumerate(weights):
        assert abs(counts[index] / 10_000 * 100 - weight) <= 2, counts


def test_a_case_opened_in_the_slot_is_assigned_at_once(experiment):
    subscriber = SubscriberFactory.create()  # five years a customer
    case = case_open(
        subscriber=subscriber, intake=Intake(channel="web", reason=price_reason()), actor=None
    )
    assignment = ExperimentAssignment.objects.get(case=case)
    assert assignment.experiment == experiment
    assert assignment.key == f"case:{case.pk}"
    assert assignment.draw == draw_for(seed=experiment.seed, key=assignment.key)
    arms = list(experiment.arms.all())
    assert assignment.arm == arms[arm_index(weights=[a.weight for a in arms], draw=assignment.draw)]
    assert assignment.followed is None


def test_assigning_again_returns_the_same_arm_and_writes_nothing(experiment):
    case = CaseFactory.create(reason=price_reason())
    first = experiment_assign_case(case=case)
    again = experiment_assign_case(case=case)
    assert first is not None and again is not None
    assert again.pk == first.pk and again.arm_id == first.arm_id
    assert ExperimentAssignment.objects.count() == 1


def test_a_few_hundred_cases_get_the_arms_the_pure_draw_gives(experiment):
    arms = list(experiment.arms.all())
    weights = [a.weight for a in arms]
    subscriber_cases = CaseFactory.create_batch(300, reason=price_reason())
    for case in subscriber_cases:
        experiment_assign_case(case=case)
    rows = ExperimentAssignment.objects.filter(experiment=experiment)
    assert rows.count() == 300
    for row in rows:
        draw = draw_for(seed=experiment.seed, key=row.key)
        assert row.draw == draw
        assert row.arm_id == arms[arm_index(weights=weights, draw=draw)].pk
    # The seed is fresh each run and the case keys follow the database's sequence, so the shares
    # here are a random sample: bounding them failed about one run in a hundred. The balance is
    # pinned by the 10,000 fixed draws above; here every arm is reached (the 10 % holdout misses
    # all 300 cases with a chance of 0.9**300, about 2e-14).
    shares = Counter(rows.values_list("arm_id", flat=True))
    assert set(shares) == {arm.pk for arm in arms}, shares


@pytest.mark.parametrize(
    "case_fields",
    [
        {"reason": "quality"},  # another reason
        {"tenure_years": 2},  # too new a customer
        {"segment": Subscriber.Segment.CORPORATE},  # another segment, once the slot names one
    ],
)
def test_a_case_outside_the_slot_is_not_assigned(lead, loyalty, case_fields):
    experiment_start(
        name="Residential price",
        slot=Slot(reason_category="price", segments=("residential",), min_tenure_months=37),
        arms=[ArmSpec(loyalty, 90), ArmSpec(None, 10)],
        actor=lead,
    )
    years = case_fields.get("tenure_years", 5)
    subscriber = SubscriberFactory.create(
        segment=case_fields.get("segment", Subscriber.Segment.RESIDENTIAL),
        signup_date=timezone.localdate() - timedelta(days=years * 365 + 10),
    )
    code = case_fields.get("reason", "price")
    reason = CancellationReason.objects.get_or_create(
        code=code, defaults={"category": code, "name_en": code}
    )[0]
    case_open(subscriber=subscriber, intake=Intake(channel="web", reason=reason), actor=None)
    assert not ExperimentAssignment.objects.exists()


def test_a_stopped_experiment_assigns_no_more_cases(experiment, lead):
    experiment_stop(experiment=experiment, actor=lead)
    case = CaseFactory.create(reason=price_reason())
    assert experiment_assign_case(case=case) is None
    assert not ExperimentAssignment.objects.exists()


def test_the_builder_assigns_a_case_opened_before_the_experiment_and_lists_its_arm_first(
    lead, loyalty, twenty, agent_client, agent, tiers
):
    case = CaseFactory.create(reason=price_reason())
    cases.case_claim(case=case, actor=agent)
    experiment_start(
        name="All on twenty",
        slot=Slot(reason_category="price"),
        arms=[ArmSpec(twenty, 99), ArmSpec(loyalty, 1)],  # only draws ≥ 0.99 get the loyalty
        actor=lead,
    )
    response = agent_client.get(reverse("case", args=[case.pk]))
    assignment = ExperimentAssignment.objects.get(case=case)
    arm = assignment.arm.template
    assert arm is not None
    body = response.content.decode()
    assert f"Experiment All on twenty: this case is in arm ‘{arm.label}’." in body
    builder = response.context["offers"].choices
    assert builder[0].template == arm
    agent_client.get(reverse("case", args=[case.pk]))
    assert ExperimentAssignment.objects.count() == 1


def test_a_holdout_case_tells_the_agent_to_make_no_counter_offer(
    lead, loyalty, agent_client, agent, tiers
):
    experiment_start(
        name="Mostly holdout",
        slot=Slot(),
        arms=[ArmSpec(loyalty, 1), ArmSpec(None, 99)],
        actor=lead,
    )
    case = next(
        c
        for c in (CaseFactory.create(reason=price_reason()) for _ in range(20))
        if experiment_assign_case(case=c).arm.is_holdout  # type: ignore[union-attr]
    )
    cases.case_claim(case=case, actor=agent)
    body = agent_client.get(reverse("case", args=[case.pk])).content.decode()
    assert "Holdout: make no counter-offer unless the subscriber asks for one." in body


def test_proposing_records_the_offer_chosen_and_whether_it_followed_the_arm(
    experiment, agent, tiers, loyalty, twenty
):
    followed = deviated = None
    for _ in range(40):
        case = CaseFactory.create(reason=price_reason())
        assignment = experiment_assign_case(case=case)
        assert assignment is not None
        if assignment.arm.is_holdout:
            continue
        cases.case_claim(case=case, actor=agent)
        other = twenty if assignment.arm.template == loyalty else loyalty
        if followed is None:
            assert assignment.arm.template is not None
            saves.case_offer_propose(case=case, template=assignment.arm.template, actor=agent)
            followed = assignment
        elif deviated is None:
            saves.case_offer_propose(case=case, template=other, actor=agent)
            deviated = assignment
        else:
            break
    assert followed is not None and deviated is not None
    followed.refresh_from_db()
    deviated.refresh_from_db()
    assert followed.followed is True and followed.offered_template == followed.arm.template
    assert deviated.followed is False and deviated.offered_template != deviated.arm.template
    assert followed.offered_at is not None


def test_only_the_first_proposal_on_a_case_is_recorded(experiment, agent, tiers, loyalty, twenty):
    case = next(
        c
        for c in (CaseFactory.create(reason=price_reason()) for _ in range(40))
        if not experiment_assign_case(case=c).arm.is_holdout  # type: ignore[union-attr]
    )
    cases.case_claim(case=case, actor=agent)
    assignment = ExperimentAssignment.objects.get(case=case)
    first = assignment.arm.template
    assert first is not None
    offer = saves.case_offer_propose(case=case, template=first, actor=agent)
    saves.offer_withdraw(offer=offer, actor=agent, note="try another")
    other = twenty if first == loyalty else loyalty
    saves.case_offer_propose(case=case, template=other, actor=agent)
    assignment.refresh_from_db()
    assert assignment.offered_template == first and assignment.followed is True
    assert CancellationCase.objects.get(pk=case.pk).status != CancellationCase.Status.NEW


def test_a_case_opened_through_the_api_is_assigned_too(experiment, api_client, subscriber):
    price_reason()
    response = post_cancellations(
        api_client,
        [
            {
                "external_id": "req-1",
                "account_number": "LV-100200",
                "channel": "web",
                "reason": "price",
            }
        ],
    )
    assert response.status_code in (200, 201, 207), response.content
    case = CancellationCase.objects.get(subscriber=subscriber)
    assert ExperimentAssignment.objects.get(case=case).experiment == experiment
