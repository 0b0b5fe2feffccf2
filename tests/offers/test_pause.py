"""The pause offer: months within the desk's bounds, at most one pause per 12 months, its cost
routed by the authority tiers, the paused fee until the resume date, and the resume itself
reaching billing once.

Tiers, per month / one offer / 12 months: agent 10/60/120, manager 25/300/500, lead
60/1000/1500. The subscribers pay €29.99.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import override_settings

from offers.authority import authority_for
from offers.exceptions import InvalidTerms, PauseTooSoon
from offers.models import BillingState, CounterOffer, OfferHistory, OfferKind
from offers.pauses import pause_resume, pauses_tick
from offers.pricing import Terms, offer_cost, terms_validate
from offers.selectors import offer_choices
from retention.cases.services import case_claim
from retention.core.refusals import WrongState
from retention.models import CancellationReason
from retention.saves import services as saves
from retention.saves.services import Decision
from subscribers.models import OutboundEvent, Subscriber, TimelineEvent
from subscribers.phrases import said
from tests.factories import CaseFactory, offer_template
from tests.threads import run_at_once

pytestmark = pytest.mark.django_db

D = Decimal
Status = CounterOffer.Status
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Riga
TODAY = date(2026, 12, 1)
TWENTY = D("20")


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def pause(db):
    return offer_template(
        "pause-3",
        OfferKind.PAUSE,
        months=3,
        amount=D("0"),
        reason_categories=["moving", "hardship", "not_using", "other"],
    )


def moving_case(agent, **fields):
    reason = CancellationReason.objects.get_or_create(
        code="moving", defaults={"category": "moving", "name_en": "Moving"}
    )[0]
    return case_claim(case=CaseFactory.create(reason=reason, **fields), actor=agent)


def accepted_pause(case, agent, pause, *, months=2, amount=TWENTY, approver=None):
    offer = saves.case_offer_propose(
        case=case, template=pause, actor=agent, months=months, amount=amount
    )
    if offer.status == Status.PENDING:
        offer = saves.offer_decide(offer=offer, actor=approver, decision=Decision.APPROVE)
    offer = saves.offer_present(offer=offer, actor=agent)
    return saves.offer_answer(offer=offer, actor=agent, accepted=True)


# --- The terms ----------------------------------------------------------------------------------


@pytest.mark.parametrize("months", [0, 4])
def test_a_pause_outside_the_bounds_is_refused(months):
    with pytest.raises(InvalidTerms, match="Pause for 1 to 3 months"):
        terms_validate(Terms(kind=OfferKind.PAUSE, months=months, amount=D("0")))


@override_settings(PAUSE_MIN_MONTHS=2, PAUSE_MAX_MONTHS=6)
def test_the_bounds_are_settings():
    terms_validate(Terms(kind=OfferKind.PAUSE, months=6, amount=D("0")))
    with pytest.raises(InvalidTerms, match="Pause for 2 to 6 months"):
        terms_validate(Terms(kind=OfferKind.PAUSE, months=1, amount=D("0")))


def test_a_pause_needs_a_fee_below_the_price(agent, pause):
    subscriber = moving_case(agent).subscriber
    with pytest.raises(InvalidTerms, match="fee while paused"):
        terms_validate(Terms(kind=OfferKind.PAUSE, months=2, amount=None))
    with pytest.raises(InvalidTerms, match="below what the subscriber pays now"):
        terms_validate(Terms(kind=OfferKind.PAUSE, months=2, amount=D("29.99")), subscriber)


def test_the_concession_is_the_price_less_the_fee_for_each_month(agent):
    subscriber = moving_case(agent).subscriber
    cost = offer_cost(
        terms=Terms(kind=OfferKind.PAUSE, months=2, amount=D("5")), subscriber=subscriber
    )
    assert (cost.monthly, cost.months, cost.total, cost.new_monthly_price) == (
        D("24.99"),
        2,
        D("49.98"),
        D("5"),
    )


def test_the_builder_proposes_a_pause_on_the_months_and_fee_the_agent_chose(agent, pause):
    case = moving_case(agent)
    offer = saves.case_offer_propose(
        case=case, template=pause, actor=agent, months=1, amount=D("20")
    )
    assert (offer.months, offer.amount, offer.total_cost) == (1, D("20"), D("9.99"))
    assert offer.status == Status.APPROVED  # 9.99 a month: within the agent's authority


def test_months_out_of_bounds_are_refused_by_the_service(agent, pause):
    with pytest.raises(InvalidTerms, match="Pause for 1 to 3 months"):
        saves.case_offer_propose(
            case=moving_case(agent), template=pause, actor=agent, months=4, amount=D("0")
        )


def test_only_a_pause_takes_the_builders_months_and_fee(agent, tiers):
    other = offer_template("fixed-5-12", OfferKind.FIXED_DISCOUNT, amount=D("5"), months=12)
    with pytest.raises(InvalidTerms, match="Only a pause"):
        saves.case_offer_propose(
            case=moving_case(agent), template=other, actor=agent, months=2, amount=D("1")
        )


def test_a_pause_is_not_for_a_price_complaint(agent, pause):
    case = case_claim(case=CaseFactory.create(), actor=agent)  # reason: price
    with pytest.raises(InvalidTerms, match="not eligible"):
        saves.case_offer_propose(case=case, template=pause, actor=agent, months=2, amount=D("0"))


# --- Routing by the authority tiers ------------------------------------------------------------


def test_a_pause_beyond_the_agents_authority_waits_for_a_manager(agent, manager, pause, tiers):
    offer = saves.case_offer_propose(
        case=moving_case(agent), template=pause, actor=agent, months=2, amount=D("5")
    )
    # 24.99 a month is over the agent's 10, within the manager's 25.
    assert (offer.status, offer.routed_tier) == (Status.PENDING, tiers["manager"])
    offer = saves.offer_decide(offer=offer, actor=manager, decision=Decision.APPROVE)
    assert offer.status == Status.APPROVED


def test_a_free_pause_goes_to_the_lead(agent, pause, tiers):
    offer = saves.case_offer_propose(
        case=moving_case(agent), template=pause, actor=agent, months=2, amount=D("0")
    )
    assert (offer.status, offer.routed_tier) == (Status.PENDING, tiers["lead"])


# --- One pause per 12 months --------------------------------------------------------------------


def resumed_by(clock, when):
    """The clock at ``when``, the pauses tick having run (the service resumed on its day)."""
    clock.move_to(when)
    pauses_tick()


def test_no_other_offer_is_made_while_the_service_is_paused(agent, pause, tiers, clock):
    first = moving_case(agent)
    accepted_pause(first, agent, pause)
    fixed = offer_template("fixed-5-12", OfferKind.FIXED_DISCOUNT, amount=D("5"), months=12)
    subscriber = Subscriber.objects.get(pk=first.subscriber_id)
    with pytest.raises(WrongState, match=r"paused until 01\.02\.2027"):
        saves.offer_propose_proactive(subscriber=subscriber, template=fixed, actor=agent)
    resumed_by(clock, datetime(2027, 2, 1, 8, 0, tzinfo=UTC))
    subscriber.refresh_from_db()
    offer = saves.offer_propose_proactive(subscriber=subscriber, template=fixed, actor=agent)
    assert (offer.status, offer.new_monthly_price) == (Status.APPROVED, D("24.99"))


def test_a_second_pause_within_12_months_is_refused_naming_the_day_it_becomes_possible(
    agent, pause, clock
):
    first = moving_case(agent)
    accepted_pause(first, agent, pause)
    resumed_by(clock, NOW + timedelta(days=200))
    second = moving_case(agent, subscriber=first.subscriber)
    with pytest.raises(PauseTooSoon, match=r"possible from 01\.12\.2027") as refused:
        saves.case_offer_propose(case=second, template=pause, actor=agent, months=1, amount=D("20"))
    assert refused.value.allowed == date(2027, 12, 1)
    assert not CounterOffer.objects.filter(case=second).exists()


def test_a_pause_12_months_and_a_day_later_is_allowed(agent, pause, clock):
    first = moving_case(agent)
    accepted_pause(first, agent, pause)
    resumed_by(clock, datetime(2027, 11, 30, 8, 0, tzinfo=UTC))  # a day short of 12 months
    second = moving_case(agent, subscriber=first.subscriber)
    with pytest.raises(PauseTooSoon):
        saves.case_offer_propose(case=second, template=pause, actor=agent, months=1, amount=D("20"))
    clock.move_to(datetime(2027, 12, 2, 8, 0, tzinfo=UTC))
    offer = saves.case_offer_propose(
        case=second, template=pause, actor=agent, months=1, amount=D("20")
    )
    assert offer.status == Status.APPROVED


def test_the_builder_leaves_the_pause_out_while_another_is_not_allowed(agent, pause, clock):
    first = moving_case(agent)
    subscriber = accepted_pause(first, agent, pause).subscriber

    def codes():
        subscriber.refresh_from_db()
        choices = offer_choices(
            subscriber=subscriber,
            reason_category="moving",
            authority=authority_for(agent),
            conceded=D("0"),
        )
        return [choice.template.code for choice in choices]

    assert codes() == []  # nothing at all while the service is paused
    resumed_by(clock, datetime(2027, 3, 1, 8, 0, tzinfo=UTC))
    assert "pause-3" not in codes() and codes() != []
    clock.move_to(datetime(2027, 12, 2, 8, 0, tzinfo=UTC))
    assert codes()[0] == "pause-3"  # and first, for someone moving


def test_a_pause_billing_refused_does_not_count(agent, pause, clock):
    first = moving_case(agent)
    offer = accepted_pause(first, agent, pause)
    saves.offer_billing_answered(offer_id=offer.pk, applied=False, reason="no", at=NOW)
    assert CounterOffer.objects.get(pk=offer.pk).billing == BillingState.REFUSED
    # The refusal reopened the case: the agent agrees new terms, a pause again among them.
    first.refresh_from_db()
    saves.case_offer_propose(case=first, template=pause, actor=agent, months=1, amount=D("10"))


# --- Accepting and resuming ---------------------------------------------------------------------


def test_accepting_sets_the_paused_fee_until_the_resume_date_and_tells_billing(agent, pause):
    case = moving_case(agent)
    offer = accepted_pause(case, agent, pause, months=2, amount=D("20"))
    subscriber = Subscriber.objects.get(pk=case.subscriber_id)
    assert offer.runs_until == date(2027, 2, 1)
    assert (subscriber.monthly_price, subscriber.paused_until, subscriber.promo_ends_on) == (
        D("20.00"),
        date(2027, 2, 1),
        date(2027, 2, 1),
    )
    event = OutboundEvent.objects.get(type=OutboundEvent.Type.OFFER_ACCEPTED)
    data = event.payload["data"]
    assert data["kind"] == "pause"
    assert data["pause"] == {
        "starts_on": "2026-12-01",
        "resume_on": "2027-02-01",
        "fee": "20.00",
        "price_after": "29.99",
    }
    assert data["monthly_price"] == {"from": "29.99", "to": "20.00"}


def resume_state(subscriber_id):
    subscriber = Subscriber.objects.get(pk=subscriber_id)
    return (
        subscriber.monthly_price,
        subscriber.paused_until,
        OutboundEvent.objects.filter(type=OutboundEvent.Type.PAUSE_RESUMED).count(),
        TimelineEvent.objects.filter(subscriber=subscriber, code="pause.resumed").count(),
    )


def test_the_tick_does_nothing_before_the_resume_date(agent, pause, clock):
    offer = accepted_pause(moving_case(agent), agent, pause)
    clock.move_to(datetime(2027, 1, 31, 21, 0, tzinfo=UTC))  # 23:00 in Riga, the day before
    assert pauses_tick().resumed == 0
    assert resume_state(offer.subscriber_id)[1:] == (date(2027, 2, 1), 0, 0)


def test_the_tick_on_the_resume_date_restores_the_price_once(agent, pause, clock):
    offer = accepted_pause(moving_case(agent), agent, pause, months=2, amount=D("20"))
    clock.move_to(datetime(2027, 2, 1, 0, 30, tzinfo=UTC))
    assert pauses_tick().resumed == 1
    assert pauses_tick().resumed == 0  # run twice: still one
    assert resume_state(offer.subscriber_id) == (D("29.99"), None, 1, 1)
    event = OutboundEvent.objects.get(type=OutboundEvent.Type.PAUSE_RESUMED)
    assert event.payload["data"] == {
        "subscriber": {
            "id": offer.subscriber_id,
            "account_number": offer.subscriber.account_number,
        },
        "offer": offer.pk,
        "case": offer.case_id,
        "resumed_on": "2027-02-01",
        "monthly_price": {"from": "20.00", "to": "29.99"},
    }
    timeline = TimelineEvent.objects.get(subscriber_id=offer.subscriber_id, code="pause.resumed")
    assert "price back to €29.99 a month" in said(timeline)
    assert OfferHistory.objects.filter(offer=offer, action=OfferHistory.Action.RESUMED).count() == 1
    offer.refresh_from_db()
    assert offer.resumed_at == datetime(2027, 2, 1, 0, 30, tzinfo=UTC)


def test_a_subscriber_who_left_during_the_pause_is_not_resumed(agent, pause, clock):
    offer = accepted_pause(moving_case(agent), agent, pause)
    Subscriber.objects.filter(pk=offer.subscriber_id).update(status=Subscriber.Status.CANCELLED)
    clock.move_to(datetime(2027, 2, 2, 8, 0, tzinfo=UTC))
    assert pauses_tick().resumed == 1  # claimed, and nothing to undo
    assert resume_state(offer.subscriber_id)[2:] == (0, 0)


def test_a_pause_billing_refused_never_resumes(agent, pause, clock):
    offer = accepted_pause(moving_case(agent), agent, pause)
    saves.offer_billing_answered(
        offer_id=offer.pk, applied=False, reason="no pauses on this plan", at=NOW
    )
    assert Subscriber.objects.get(pk=offer.subscriber_id).paused_until is None
    clock.move_to(datetime(2027, 2, 2, 8, 0, tzinfo=UTC))
    assert pauses_tick().resumed == 0
    assert resume_state(offer.subscriber_id)[2:] == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_two_ticks_at_once_resume_a_pause_once(agent, pause, tiers, clock):
    offer = accepted_pause(moving_case(agent), agent, pause)
    clock.move_to(datetime(2027, 2, 1, 8, 0, tzinfo=UTC))

    results: list[bool] = []

    def resume():
        results.append(pause_resume(offer_id=offer.pk))

    assert run_at_once(resume, resume) == []
    assert sorted(results) == [False, True]
    assert resume_state(offer.subscriber_id) == (D("29.99"), None, 1, 1)


def test_a_manager_amends_a_pause_within_the_bounds_only(agent, manager, pause, tiers):
    offer = saves.case_offer_propose(
        case=moving_case(agent), template=pause, actor=agent, months=3, amount=D("0")
    )
    assert offer.routed_tier == tiers["lead"]  # 29.99 a month
    with pytest.raises(InvalidTerms, match="Pause for 1 to 3 months"):
        saves.offer_decide(
            offer=offer,
            actor=manager,
            decision=Decision.AMEND,
            note="longer",
            terms=Terms(kind=OfferKind.PAUSE, months=4, amount=D("5")),
        )
    amended = saves.offer_decide(
        offer=offer,
        actor=manager,
        decision=Decision.AMEND,
        note="Two months, €5 a month: within mine",
        terms=Terms(kind=OfferKind.PAUSE, months=2, amount=D("5")),
    )
    assert (amended.status, amended.months, amended.amount, amended.total_cost) == (
        Status.APPROVED,
        2,
        D("5"),
        D("49.98"),
    )
