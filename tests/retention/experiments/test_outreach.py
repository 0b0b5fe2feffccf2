"""An outreach experiment: a campaign's recipients in its slot are assigned at the fan-out, stably
(the draw of ``subscriber:<id>``); the holdout gets no message; an arm's offer replaces the
campaign's in what is sent and what the link accepts; the page's figures by hand."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse

from offers.models import CounterOffer, OfferKind
from retention.core.refusals import InvalidInput
from retention.experiments.assignment import arm_index, draw_for, experiment_assign_case
from retention.experiments.selectors import outreach_figures
from retention.experiments.services import ArmSpec, Slot, experiment_start
from retention.models import Experiment, ExperimentAssignment, OutreachMessage
from retention.outreach import services as outreach
from retention.outreach.audience import campaign_fan_out
from retention.outreach.links import message_token
from retention.outreach.replies import outreach_respond
from retention.outreach.selectors import message_offer
from retention.outreach.sending import outreach_send, outreach_sweep
from subscribers.models import Subscriber
from tests.factories import CaseFactory, SubscriberFactory, offer_template

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # Tuesday, 12:00 in Riga
State = OutreachMessage.State
OUTREACH = Experiment.Audience.OUTREACH
BODY = "Hello {name}! {offer}: {price} → {new_price}. {link}"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def sms_folder(settings, tmp_path) -> Path:
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    return tmp_path / "sms"


@pytest.fixture
def campaign_offer(tiers):
    return offer_template("campaign-3", OfferKind.FIXED_DISCOUNT, amount=D("3"), months=12)


@pytest.fixture
def recipients_experiment(lead, loyalty, twenty, tiers):
    """Residential subscribers of at least three years: loyalty 40 %, 20 % off 40 %, holdout."""
    return experiment_start(
        name="Outreach, loyal",
        slot=Slot(segments=("residential",), min_tenure_months=36),
        arms=[ArmSpec(loyalty, 40), ArmSpec(twenty, 40), ArmSpec(None, 20)],
        audience=OUTREACH,
        actor=lead,
    )


def fanned_out(manager, template, name="Loyal customers"):
    values = {
        "name": name,
        "template": template,
        "channel": "sms",
        "not_contacted_days": 0,
        "body_lv": BODY,
        "body_ru": BODY,
        "body_en": BODY,
    }
    campaign = outreach.campaign_create(actor=manager, values=values)
    campaign = outreach.campaign_launch(campaign=campaign, actor=manager)
    campaign_fan_out(campaign=campaign)
    return campaign


def snapshot(campaign):
    assignments = set(
        ExperimentAssignment.objects.values_list("pk", "subscriber_id", "key", "arm_id", "draw")
    )
    messages = set(
        OutreachMessage.objects.filter(campaign=campaign).values_list(
            "pk", "subscriber_id", "arm_id", "template_id", "state", "skip_reason"
        )
    )
    return assignments, messages


def arm_of(message):
    return message.arm if message.arm_id else None


def test_the_fan_out_assigns_each_recipient_in_the_slot_by_the_draw_and_again_changes_nothing(
    manager, campaign_offer, recipients_experiment
):
    subscribers = SubscriberFactory.create_batch(40)
    business = SubscriberFactory.create(segment=Subscriber.Segment.SMALL_BUSINESS)
    new = SubscriberFactory.create(signup_date=NOW.date() - timedelta(days=400))
    campaign = fanned_out(manager, campaign_offer)
    arms = list(recipients_experiment.arms.all())
    weights = [a.weight for a in arms]
    seed = recipients_experiment.seed
    for subscriber in subscribers:
        assignment = ExperimentAssignment.objects.get(subscriber=subscriber)
        draw = draw_for(seed=seed, key=f"subscriber:{subscriber.pk}")
        assert (assignment.key, assignment.draw, assignment.case_id) == (
            f"subscriber:{subscriber.pk}",
            draw,
            None,
        )
        arm = arms[arm_index(weights=weights, draw=draw)]
        assert assignment.arm == arm
        message = OutreachMessage.objects.get(campaign=campaign, subscriber=subscriber)
        assert message.arm == arm
        if arm.is_holdout:
            assert (message.state, message.skip_reason, message.template) == (
                State.SKIPPED,
                "holdout",
                None,
            )
        else:
            assert (message.state, message.template) == (State.PENDING, arm.template)
            assert message.offer_template == arm.template
    # Every arm has someone in 40 draws at this seed? Not necessarily: the arms seen are a
    # subset of the experiment's, each recipient in exactly one.
    assert ExperimentAssignment.objects.count() == 40
    for outside in (business, new):
        message = OutreachMessage.objects.get(campaign=campaign, subscriber=outside)
        assert (message.arm, message.template, message.state) == (None, None, State.PENDING)
        assert message.offer_template == campaign_offer
    before = snapshot(campaign)
    assert campaign_fan_out(campaign=campaign) == 0
    assert snapshot(campaign) == before


def test_a_second_campaign_keeps_each_recipients_arm(
    manager, campaign_offer, recipients_experiment
):
    SubscriberFactory.create_batch(20)
    first = fanned_out(manager, campaign_offer)
    second = fanned_out(manager, campaign_offer, name="Again")
    assert ExperimentAssignment.objects.count() == 20
    arms_first = dict(
        OutreachMessage.objects.filter(campaign=first).values_list("subscriber_id", "arm_id")
    )
    arms_second = dict(
        OutreachMessage.objects.filter(campaign=second).values_list("subscriber_id", "arm_id")
    )
    assert arms_first == arms_second


def held_and_offered(manager, campaign_offer):
    """A campaign with at least one held-out and one offered recipient."""
    SubscriberFactory.create_batch(30)
    campaign = fanned_out(manager, campaign_offer)
    held = OutreachMessage.objects.filter(campaign=campaign, skip_reason="holdout")
    offered = OutreachMessage.objects.filter(campaign=campaign, arm__template__isnull=False)
    assert held.exists() and offered.exists()
    return campaign, held, offered


def test_held_out_recipients_are_never_sent_by_the_sender_or_the_sweep(
    manager, campaign_offer, recipients_experiment, sms_folder
):
    campaign, held, offered = held_and_offered(manager, campaign_offer)
    held_ids = set(held.values_list("pk", flat=True))
    result = outreach_send(campaign_id=campaign.pk, now=NOW)
    assert result.sent == offered.count()
    later = NOW + timedelta(hours=1)
    outreach_sweep(now=later)
    outreach_send(campaign_id=campaign.pk, now=later)
    campaign_fan_out(campaign=campaign, now=later)
    outreach_send(campaign_id=campaign.pk, now=later)
    sent_files = {p.name for p in sms_folder.iterdir()}
    assert not {f"outreach-{pk}.json" for pk in held_ids} & sent_files
    assert set(
        OutreachMessage.objects.filter(pk__in=held_ids).values_list("state", "attempts")
    ) == {(State.SKIPPED, 0)}


def test_the_campaign_page_shows_the_held_out_recipients(
    client, manager, campaign_offer, recipients_experiment
):
    campaign, held, _offered = held_and_offered(manager, campaign_offer)
    client.force_login(manager)
    page = client.get(reverse("campaign", args=[campaign.pk])).content.decode()
    assert f"held out by an experiment: no message: {held.count()}" in page


def test_an_arms_offer_is_the_one_sent_shown_and_accepted_through_the_link(
    client, manager, campaign_offer, recipients_experiment, twenty, sms_folder
):
    campaign, _held, _offered = held_and_offered(manager, campaign_offer)
    outreach_send(campaign_id=campaign.pk, now=NOW)
    message = OutreachMessage.objects.filter(campaign=campaign, template=twenty).first()
    assert message is not None
    sms = json.loads((sms_folder / f"outreach-{message.pk}.json").read_text(encoding="utf-8"))
    body = sms["body"]
    assert twenty.label in body and campaign_offer.label not in body
    assert "€23,99" in body  # 20 % off €29.99, as Latvian writes it
    url = reverse("outreach_link", args=[message_token(message)])
    page = client.get(url).content.decode()
    assert twenty.label in page and campaign_offer.label not in page
    client.post(url, {"response": "accepted"})
    offer = CounterOffer.objects.get(subscriber_id=message.subscriber_id)
    assert (offer.template, offer.status) == (twenty, CounterOffer.Status.ACCEPTED)
    message.refresh_from_db()
    assert message_offer(message) == offer
    assert Subscriber.objects.get(pk=message.subscriber_id).monthly_price == D("23.99")


def test_an_outreach_experiment_takes_no_reason_and_no_cases(lead, loyalty, tiers):
    with pytest.raises(InvalidInput):
        experiment_start(
            name="With a reason",
            slot=Slot(reason_category="price"),
            arms=[ArmSpec(loyalty, 90), ArmSpec(None, 10)],
            audience=OUTREACH,
            actor=lead,
        )
    experiment_start(
        name="Outreach",
        slot=Slot(),
        arms=[ArmSpec(loyalty, 90), ArmSpec(None, 10)],
        audience=OUTREACH,
        actor=lead,
    )
    # The same slot for cases does not overlap an outreach experiment: another audience.
    cases = experiment_start(
        name="Cases", slot=Slot(), arms=[ArmSpec(loyalty, 90), ArmSpec(None, 10)], actor=lead
    )
    assignment = experiment_assign_case(case=CaseFactory.create())
    assert assignment is not None and assignment.experiment == cases


# --- The figures, by hand -----------------------------------------------------------------------


def test_the_outreach_figures_equal_a_hand_computed_example(
    manager, lead, loyalty, campaign_offer, clock
):
    """Assigned 100 days ago: loyalty 40 recipients, 10 accepted (€24.99 each now, €60 each),
    2 asked for a call, 4 of the 40 opened a case within 90 days; the holdout 40 recipients,
    12 opened a case within 90 days (and 3 more after 90 days: not counted).

    Loyalty: acceptance 10/40 = 25 %; retained 10 * €24.99 = €249.90; cost per acceptance €60;
    asked to cancel 4/40 = 10 %; holdout 12/40 = 30 %. Difference -0.20;
    se = sqrt(0.1 * 0.9 / 40 + 0.3 * 0.7 / 40) = sqrt(0.0075) = 0.0866025;
    95 %: -0.20 +/- 1.959964 * 0.0866025 = [-0.369738, -0.030262]."""
    clock.move_to(NOW - timedelta(days=100))
    experiment = experiment_start(
        name="Hand",
        slot=Slot(),
        arms=[ArmSpec(loyalty, 50), ArmSpec(None, 50)],
        audience=OUTREACH,
        actor=lead,
    )
    # The arms by hand, not by draw: the figures count what is stored.
    loyal_arm, holdout = list(experiment.arms.all())
    values = {"name": "c", "template": campaign_offer, "channel": "sms", "not_contacted_days": 0}
    campaign = outreach.campaign_create(actor=manager, values={**values, "body_en": BODY})
    start = NOW - timedelta(days=100)
    for n in range(80):
        arm = loyal_arm if n < 40 else holdout
        subscriber = SubscriberFactory.create()
        ExperimentAssignment.objects.create(
            experiment=experiment,
            arm=arm,
            subscriber=subscriber,
            key=f"subscriber:{subscriber.pk}",
            draw=0.5,
            assigned_at=start,
        )
        message = OutreachMessage.objects.create(
            campaign=campaign,
            subscriber=subscriber,
            due_at=start,
            arm=arm,
            template=arm.template,
            state=State.SKIPPED if arm.is_holdout else State.SENT,
            skip_reason="holdout" if arm.is_holdout else "",
        )
        if n < 10:
            outreach_respond(message=message, response="accepted")
        elif n < 12:
            outreach_respond(message=message, response="call")
        if n in range(36, 40) or n in range(40, 52):
            CaseFactory.create(subscriber=subscriber, opened_at=start + timedelta(days=30))
        if n in range(52, 55):
            CaseFactory.create(subscriber=subscriber, opened_at=start + timedelta(days=95))
    clock.move_to(NOW)
    figures = outreach_figures(experiment=experiment, min_closed=30)
    loyal, held = figures.arms
    assert (loyal.recipients, loyal.responded, loyal.accepted) == (40, 12, 10)
    assert loyal.acceptance_rate == 0.25
    assert loyal.retained_revenue == D("249.90")
    assert loyal.cost_per_acceptance == D("60.00")
    assert (loyal.asked_to_cancel, loyal.old_enough, loyal.cancel_rate) == (4, 40, 0.1)
    assert (held.recipients, held.accepted, held.asked_to_cancel, held.old_enough) == (
        40,
        0,
        12,
        40,
    )
    assert held.cancel_rate == 0.3
    interval = loyal.versus_holdout
    assert interval is not None
    assert interval.difference == pytest.approx(-0.20)
    assert interval.low == pytest.approx(-0.369738, abs=1e-6)
    assert interval.high == pytest.approx(-0.030262, abs=1e-6)
    assert loyal.verdict == "fewer"
    assert outreach_figures(experiment=experiment, min_closed=41).arms[0].verdict == "too_small"


@pytest.mark.parametrize("size", [10, 40])
def test_the_outreach_experiment_page_query_count_is_constant(
    manager_client, manager, campaign_offer, recipients_experiment, django_assert_num_queries, size
):
    SubscriberFactory.create_batch(size)
    campaign = fanned_out(manager, campaign_offer)
    outreach_send(campaign_id=campaign.pk, now=NOW)
    # session, user, roles; the experiment (+ who started it), its arms with their offers, its
    # history and who made each change; the recipients (one aggregate), the answers (one)
    with django_assert_num_queries(10):
        response = manager_client.get(reverse("experiment", args=[recipients_experiment.pk]))
    assert response.status_code == 200
    assert 'data-figure="recipients"' in response.content.decode()
