"""Every state change of a counter-offer (offers.services), and the offer builder.

The offers here are proactive (no case): tests/offers/test_saves.py covers offers on a case.
Tiers, per month / one offer / 12 months: agent 10/60/120, manager 25/300/500, lead
60/1000/1500. The subscribers pay €29.99 for a plan a new customer gets for €19.99.
"""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from offers import lifecycle, services
from offers.authority import authority_for
from offers.exceptions import (
    BeyondEveryAuthority,
    InvalidTerms,
    OutsideAuthority,
)
from offers.models import CounterOffer, OfferHistory, OfferKind, OfferTemplate
from offers.pricing import Terms
from offers.selectors import offer_choices
from retention.core.refusals import WrongState
from subscribers.models import Subscriber, TimelineEvent
from tests.factories import PlanFactory, SubscriberFactory, UserFactory, user_with_role

pytestmark = pytest.mark.django_db

D = Decimal
Status = CounterOffer.Status
Action = OfferHistory.Action
Event = TimelineEvent.Kind
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Riga
TODAY = date(2026, 12, 1)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def subscriber():
    return SubscriberFactory.create(promo_ends_on=date(2024, 6, 1))


def catalogue_offer(code, kind, **terms):
    return OfferTemplate.objects.create(code=code, name_en=code, kind=kind, **terms)


def history(offer):
    return list(
        offer.history.order_by("at", "pk").values_list("action", "from_status", "to_status")
    )


def timeline(subscriber):
    return list(subscriber.events.order_by("pk").values_list("kind", flat=True))


def propose(subscriber, template, proposer, note=""):
    return services.offer_propose(
        subscriber=subscriber, template=template, proposer=proposer, note=note
    )


def presented(offer, agent):
    return lifecycle.offer_present(offer=offer, actor=agent)


# --- Proposing ------------------------------------------------------------------------------------


def test_an_offer_within_the_proposers_authority_is_approved_by_the_rules_not_the_proposer(
    agent, subscriber, catalogue
):
    offer = propose(subscriber, catalogue["fixed"], agent, note="Loyal for five years")
    offer.refresh_from_db()
    assert offer.status == Status.APPROVED
    assert offer.auto_approved
    assert offer.decided_by is None  # never "by" the proposer
    assert offer.decided_at == NOW
    assert offer.valid_until == NOW + timedelta(days=3)
    assert (offer.proposer, offer.proposal_note) == (agent, "Loyal for five years")
    assert history(offer) == [
        (Action.PROPOSED, "", Status.PENDING),
        (Action.AUTO_APPROVED, Status.PENDING, Status.APPROVED),
    ]
    assert list(offer.history.values_list("actor", flat=True)) == [agent.pk, None]
    assert timeline(subscriber) == [Event.OFFER_PROPOSED, Event.OFFER_APPROVED]


def test_an_offer_over_the_proposers_authority_waits_for_the_lowest_tier_that_covers_it(
    agent, tiers, catalogue
):
    for_a_manager = propose(SubscriberFactory.create(), catalogue["big"], agent)
    for_the_lead = propose(SubscriberFactory.create(), catalogue["free"], agent)
    assert (for_a_manager.status, for_a_manager.routed_tier) == (Status.PENDING, tiers["manager"])
    assert (for_the_lead.status, for_the_lead.routed_tier) == (Status.PENDING, tiers["lead"])
    assert for_a_manager.decided_at is None and not for_a_manager.auto_approved
    assert for_a_manager.valid_until == NOW + timedelta(days=3)
    assert history(for_a_manager) == [(Action.PROPOSED, "", Status.PENDING)]
    assert timeline(for_a_manager.subscriber) == [Event.OFFER_PROPOSED]


def test_an_offer_nobody_may_approve_is_refused_and_nothing_is_saved(agent, subscriber, tiers):
    too_much = catalogue_offer("perk-61", OfferKind.LOYALTY_PERK, amount=D("61"), months=1)
    with pytest.raises(BeyondEveryAuthority, match="Nobody's authority covers this offer"):
        propose(subscriber, too_much, agent)
    assert not CounterOffer.objects.exists()
    assert not OfferHistory.objects.exists()
    assert timeline(subscriber) == []


def test_only_agents_and_managers_make_offers(subscriber, catalogue):
    stranger = UserFactory.create(username="stranger")
    with pytest.raises(OutsideAuthority, match="Only agents and managers"):
        propose(subscriber, catalogue["fixed"], stranger)


def test_a_subscriber_who_is_leaving_gets_no_offer(agent, catalogue):
    leaving = SubscriberFactory.create(status=Subscriber.Status.CANCELLING)
    with pytest.raises(WrongState, match="leaving"):
        propose(leaving, catalogue["fixed"], agent)


def test_an_offer_the_subscriber_is_not_eligible_for_is_refused(agent, catalogue):
    newcomer = SubscriberFactory.create(signup_date=TODAY - timedelta(days=100))
    with pytest.raises(InvalidTerms, match="not eligible"):
        propose(newcomer, catalogue["free"], agent)  # a free month needs 12 months' tenure


def test_one_proactive_offer_under_way_per_subscriber(agent, subscriber, catalogue):
    propose(subscriber, catalogue["fixed"], agent)
    with pytest.raises(WrongState, match="already under way"):
        propose(subscriber, catalogue["loyalty"], agent)
    assert subscriber.offers.count() == 1


# --- Deciding -------------------------------------------------------------------------------------


def test_agent_cannot_approve_an_offer(agent, subscriber, catalogue):
    colleague = user_with_role(*agent.groups.all(), username="colleague")
    offer = propose(subscriber, catalogue["big"], agent)
    for anyone in (agent, colleague):
        with pytest.raises(OutsideAuthority, match="Only managers decide offers"):
            services.offer_approve(offer=offer, actor=anyone)
    offer.refresh_from_db()
    assert offer.status == Status.PENDING


def test_a_manager_cannot_approve_their_own_offer_above_their_tier_but_the_lead_can(
    manager, lead, subscriber, catalogue
):
    offer = propose(subscriber, catalogue["free"], manager)  # €29.99 a month: over a manager
    assert offer.status == Status.PENDING
    with pytest.raises(OutsideAuthority, match="Nobody approves their own offer"):
        services.offer_approve(offer=offer, actor=manager)
    offer = services.offer_approve(offer=offer, actor=lead, note="Five years with us")
    assert (offer.status, offer.decided_by) == (Status.APPROVED, lead)


def test_a_manager_cannot_approve_beyond_their_tier_but_the_lead_can(
    agent, manager, lead, subscriber, catalogue
):
    offer = propose(subscriber, catalogue["free"], agent)
    with pytest.raises(
        OutsideAuthority, match=re.escape("€29.99 a month is over the €25.00 limit")
    ):
        services.offer_approve(offer=offer, actor=manager)
    offer.refresh_from_db()
    assert offer.status == Status.PENDING
    assert services.offer_approve(offer=offer, actor=lead).status == Status.APPROVED


def test_approving_records_who_decided_when_and_why(agent, manager, subscriber, catalogue, clock):
    offer = propose(subscriber, catalogue["big"], agent)
    clock.shift(timedelta(hours=1))
    services.offer_approve(offer=offer, actor=manager, note="Worth keeping")
    offer.refresh_from_db()
    assert (offer.status, offer.decided_by, offer.decided_for) == (Status.APPROVED, manager, None)
    assert offer.decided_at == NOW + timedelta(hours=1)
    assert offer.decision_note == "Worth keeping"
    assert not offer.auto_approved
    assert offer.valid_until == NOW + timedelta(hours=1, days=3)  # three days to present it
    approved = offer.history.get(action=Action.APPROVED)
    assert (approved.actor, approved.from_status, approved.to_status, approved.note) == (
        manager,
        Status.PENDING,
        Status.APPROVED,
        "Worth keeping",
    )
    assert timeline(subscriber) == [Event.OFFER_PROPOSED, Event.OFFER_APPROVED]
    assert subscriber.events.get(kind=Event.OFFER_APPROVED).actor == manager


def test_rejecting_needs_a_note(agent, manager, subscriber, catalogue):
    offer = propose(subscriber, catalogue["big"], agent)
    with pytest.raises(InvalidTerms, match="Say why the offer is rejected"):
        services.offer_reject(offer=offer, actor=manager, note="  ")
    offer.refresh_from_db()
    assert offer.status == Status.PENDING
    assert history(offer) == [(Action.PROPOSED, "", Status.PENDING)]


def test_rejecting_records_who_and_why(agent, manager, subscriber, catalogue):
    offer = propose(subscriber, catalogue["big"], agent)
    services.offer_reject(offer=offer, actor=manager, note="Try the loyalty tariff first")
    offer.refresh_from_db()
    assert (offer.status, offer.decided_by) == (Status.REJECTED, manager)
    assert offer.decision_note == "Try the loyalty tariff first"
    assert history(offer)[-1] == (Action.REJECTED, Status.PENDING, Status.REJECTED)
    assert timeline(subscriber) == [Event.OFFER_PROPOSED, Event.OFFER_REJECTED]


def test_a_second_decision_is_refused_and_names_who_decided_first(
    agent, manager, manager2, subscriber, catalogue
):
    manager.first_name, manager.last_name = "Ilze", "Bērziņa"
    manager.save()
    offer = propose(subscriber, catalogue["big"], agent)
    services.offer_approve(offer=offer, actor=manager)
    second_decisions = [
        lambda: services.offer_approve(offer=offer, actor=manager2),
        lambda: services.offer_reject(offer=offer, actor=manager2, note="Too generous"),
        lambda: services.offer_amend(
            offer=offer,
            actor=manager2,
            terms=Terms(OfferKind.PERCENT_DISCOUNT, percent=D("20"), months=12),
            note="Less",
        ),
    ]
    for decide in second_decisions:
        with pytest.raises(WrongState, match="Ilze Bērziņa already decided this offer"):
            decide()
    offer.refresh_from_db()
    assert (offer.status, offer.decided_by) == (Status.APPROVED, manager)
    assert offer.history.filter(action__in=[Action.APPROVED, Action.REJECTED]).count() == 1


def test_an_offer_approved_by_the_rules_cannot_be_decided_again(
    agent, manager, subscriber, catalogue
):
    offer = propose(subscriber, catalogue["fixed"], agent)
    with pytest.raises(WrongState, match="no longer waiting for approval"):
        services.offer_reject(offer=offer, actor=manager, note="No")


# --- Amending -------------------------------------------------------------------------------------


@pytest.fixture
def generous(agent, subscriber):
    """€30 a month for a year (€360): beyond a manager on both counts, so it waits for the lead."""
    template = catalogue_offer("tv-perk-30", OfferKind.LOYALTY_PERK, amount=D("30"), months=12)
    return propose(subscriber, template, agent)


def test_a_manager_may_amend_an_offer_down_into_their_authority(manager, generous):
    assert generous.routed_tier.name == "Retention lead"
    terms = Terms(OfferKind.LOYALTY_PERK, amount=D("20"), months=12)
    offer = services.offer_amend(offer=generous, actor=manager, terms=terms, note="€20 is enough")
    offer.refresh_from_db()
    assert (offer.status, offer.decided_by) == (Status.APPROVED, manager)
    assert (offer.amount, offer.monthly_concession, offer.total_cost) == (
        D("20.00"),
        D("20.00"),
        D("240.00"),
    )
    amended = offer.history.get(action=Action.AMENDED)
    assert (amended.actor, amended.from_status, amended.to_status, amended.note) == (
        manager,
        Status.PENDING,
        Status.APPROVED,
        "€20 is enough",
    )
    assert amended.data["before"]["amount"] == "30.00"
    assert amended.data["before"]["total_cost"] == "360.00"
    assert amended.data["after"]["amount"] == "20"
    assert amended.data["after"]["total_cost"] == "240.00"
    assert Event.OFFER_APPROVED in timeline(offer.subscriber)


def test_amending_beyond_the_approvers_authority_is_refused_and_changes_nothing(manager, generous):
    terms = Terms(OfferKind.LOYALTY_PERK, amount=D("26"), months=12)
    with pytest.raises(
        OutsideAuthority, match=re.escape("€26.00 a month is over the €25.00 limit")
    ):
        services.offer_amend(offer=generous, actor=manager, terms=terms, note="A bit less")
    generous.refresh_from_db()
    assert (generous.status, generous.amount, generous.total_cost) == (
        Status.PENDING,
        D("30.00"),
        D("360.00"),
    )
    assert generous.decided_by is None
    assert history(generous) == [(Action.PROPOSED, "", Status.PENDING)]


def test_a_manager_cannot_amend_an_offer_up_beyond_their_authority(
    agent, manager, subscriber, catalogue
):
    offer = propose(subscriber, catalogue["big"], agent)  # €108, within a manager
    terms = Terms(OfferKind.PERCENT_DISCOUNT, percent=D("50"), months=24)  # €15 x 24 = €360
    with pytest.raises(
        OutsideAuthority, match=re.escape("€360.00 in total is over the €300.00 limit")
    ):
        services.offer_amend(offer=offer, actor=manager, terms=terms, note="More")
    offer.refresh_from_db()
    assert (offer.status, offer.percent, offer.total_cost) == (
        Status.PENDING,
        D("30.00"),
        D("108.00"),
    )


def test_an_amendment_keeps_the_kind_and_needs_a_note_and_sensible_terms(manager, generous):
    with pytest.raises(InvalidTerms, match="keeps the kind"):
        services.offer_amend(
            offer=generous,
            actor=manager,
            terms=Terms(OfferKind.ONE_TIME_CREDIT, amount=D("20")),
            note="A credit instead",
        )
    with pytest.raises(InvalidTerms, match="Say why the terms were changed"):
        services.offer_amend(
            offer=generous,
            actor=manager,
            terms=Terms(OfferKind.LOYALTY_PERK, amount=D("20"), months=12),
            note="",
        )
    with pytest.raises(InvalidTerms, match="between 1 and 24 months"):
        services.offer_amend(
            offer=generous,
            actor=manager,
            terms=Terms(OfferKind.LOYALTY_PERK, amount=D("20"), months=36),
            note="Longer, cheaper",
        )
    generous.refresh_from_db()
    assert generous.status == Status.PENDING


# --- Presenting and answering --------------------------------------------------------------------


def test_only_an_approved_offer_can_be_presented(agent, subscriber, catalogue):
    offer = propose(subscriber, catalogue["big"], agent)
    with pytest.raises(WrongState, match="Only an approved offer can be presented"):
        presented(offer, agent)


def test_presenting_gives_the_subscriber_a_week_to_answer(agent, subscriber, catalogue, clock):
    offer = propose(subscriber, catalogue["fixed"], agent)
    clock.shift(timedelta(hours=2))
    offer = presented(offer, agent)
    assert offer.status == Status.PRESENTED
    assert offer.presented_at == NOW + timedelta(hours=2)
    assert offer.valid_until == NOW + timedelta(hours=2, days=7)
    assert history(offer)[-1] == (Action.PRESENTED, Status.APPROVED, Status.PRESENTED)
    assert timeline(subscriber)[-1] == Event.OFFER_PRESENTED


def test_an_offer_not_presented_in_time_cannot_be_presented(agent, subscriber, catalogue, clock):
    offer = propose(subscriber, catalogue["fixed"], agent)
    clock.shift(timedelta(days=3))
    with pytest.raises(WrongState, match="expired"):
        presented(offer, agent)


def test_the_answer_needs_the_offer_presented_and_still_valid(agent, subscriber, catalogue, clock):
    offer = propose(subscriber, catalogue["fixed"], agent)
    with pytest.raises(WrongState, match="Present the offer before recording the answer"):
        lifecycle.offer_accept(offer=offer, actor=agent)
    presented(offer, agent)
    clock.shift(timedelta(days=7))
    with pytest.raises(WrongState, match="expired"):
        lifecycle.offer_accept(offer=offer, actor=agent)
    with pytest.raises(WrongState, match="expired"):
        lifecycle.offer_decline(offer=offer, actor=agent)


def test_accepting_a_discount_applies_the_new_price_until_it_ends(agent, subscriber, catalogue):
    offer = presented(propose(subscriber, catalogue["fixed"], agent), agent)
    offer = lifecycle.offer_accept(offer=offer, actor=agent, note="Happy to stay")
    subscriber.refresh_from_db()
    assert subscriber.monthly_price == D("24.99")
    assert subscriber.promo_ends_on == date(2027, 12, 1)
    offer.refresh_from_db()
    assert offer.status == Status.ACCEPTED
    assert (offer.price_before, offer.runs_until, offer.applied_at) == (
        D("29.99"),
        date(2027, 12, 1),
        NOW,
    )
    assert (offer.answered_at, offer.answer_note) == (NOW, "Happy to stay")
    assert history(offer)[-1] == (Action.ACCEPTED, Status.PRESENTED, Status.ACCEPTED)
    assert timeline(subscriber)[-2:] == [Event.PRICE_CHANGE, Event.OFFER_ACCEPTED]
    price_change = subscriber.events.get(kind=Event.PRICE_CHANGE)
    assert price_change.data == {
        "offer": offer.pk,
        "from": "29.99",
        "to": "24.99",
        "until": "2027-12-01",
    }
    # Stored as a phrase, said in the reader's language: here the tests' English.
    assert price_change.code == "offer.price_changed_until"
    assert "€29.99 → €24.99 a month until 01.12.2027" in price_change.text


def test_accepting_the_loyalty_tariff_lowers_the_price_for_good(
    agent, manager, subscriber, catalogue
):
    subscriber.promo_ends_on = date(2027, 2, 1)  # a promotion still running
    subscriber.save()
    plan = subscriber.plan
    offer = propose(subscriber, catalogue["loyalty"], agent)  # €10 x 12: a manager's
    offer = services.offer_approve(offer=offer, actor=manager)
    offer = lifecycle.offer_accept(offer=presented(offer, agent), actor=agent)
    subscriber.refresh_from_db()
    assert subscriber.monthly_price == D("19.99")
    assert subscriber.plan == plan  # the same plan, at the new-customer price
    assert offer.runs_until is None
    # The new price has no end, so no end date may linger to trigger a "discount ending" review.
    assert subscriber.promo_ends_on is None
    assert timeline(subscriber)[-2:] == [Event.PRICE_CHANGE, Event.OFFER_ACCEPTED]
    assert not subscriber.events.filter(kind=Event.PLAN_CHANGE).exists()


def test_accepting_a_move_to_another_plan_changes_plan_and_price(agent, subscriber):
    cheaper = PlanFactory.create(code="fibre-200", name="Fibre 200", new_customer_price=D("24.99"))
    template = catalogue_offer("move-200", OfferKind.PLAN_CHANGE, new_plan=cheaper)
    offer = propose(subscriber, template, agent)  # €5 x 12 = €60: within the agent's
    old_plan = subscriber.plan
    lifecycle.offer_accept(offer=presented(offer, agent), actor=agent)
    subscriber.refresh_from_db()
    assert (subscriber.plan, subscriber.monthly_price) == (cheaper, D("24.99"))
    plan_change = subscriber.events.get(kind=Event.PLAN_CHANGE)
    assert plan_change.data == {"offer": offer.pk, "from": old_plan.code, "to": "fibre-200"}


def test_accepting_a_speed_upgrade_moves_to_the_faster_plan_at_the_same_price(
    agent, manager, subscriber
):
    faster = PlanFactory.create(
        code="fibre-1000", download_mbps=1000, new_customer_price=D("39.99")
    )
    template = catalogue_offer("upgrade-1000", OfferKind.SPEED_UPGRADE, new_plan=faster)
    offer = propose(subscriber, template, agent)  # €10 x 12 = €120: a manager's
    offer = services.offer_approve(offer=offer, actor=manager)
    lifecycle.offer_accept(offer=presented(offer, agent), actor=agent)
    subscriber.refresh_from_db()
    assert (subscriber.plan, subscriber.monthly_price) == (faster, D("29.99"))
    assert timeline(subscriber)[-2:] == [Event.PLAN_CHANGE, Event.OFFER_ACCEPTED]
    assert not subscriber.events.filter(kind=Event.PRICE_CHANGE).exists()


def test_accepting_a_credit_lowers_the_balance(agent):
    subscriber = SubscriberFactory.create(balance=D("40.00"))
    template = catalogue_offer("credit-15", OfferKind.ONE_TIME_CREDIT, amount=D("15"))
    offer = propose(subscriber, template, agent)
    lifecycle.offer_accept(offer=presented(offer, agent), actor=agent)
    subscriber.refresh_from_db()
    assert (subscriber.balance, subscriber.monthly_price) == (D("25.00"), D("29.99"))
    assert timeline(subscriber)[-1] == Event.OFFER_ACCEPTED
    assert not subscriber.events.filter(kind=Event.PRICE_CHANGE).exists()


def test_accepting_a_deferral_records_when_the_payment_is_due(agent, catalogue):
    subscriber = SubscriberFactory.create(balance=D("59.98"), arrears=D("29.99"))
    offer = propose(subscriber, catalogue["deferral"], agent)
    assert offer.total_cost == D("0.00") and offer.auto_approved
    offer = lifecycle.offer_accept(offer=presented(offer, agent), actor=agent)
    subscriber.refresh_from_db()
    assert offer.runs_until == TODAY + timedelta(days=30)
    assert (subscriber.balance, subscriber.monthly_price) == (D("59.98"), D("29.99"))


def test_declining_leaves_the_subscriber_as_they_were(agent, subscriber, catalogue):
    before = Subscriber.objects.values().get(pk=subscriber.pk)
    offer = presented(propose(subscriber, catalogue["fixed"], agent), agent)
    offer = lifecycle.offer_decline(offer=offer, actor=agent, note="Moving to a competitor")
    assert Subscriber.objects.values().get(pk=subscriber.pk) == before
    assert (offer.status, offer.answered_at, offer.applied_at) == (Status.DECLINED, NOW, None)
    assert history(offer)[-1] == (Action.DECLINED, Status.PRESENTED, Status.DECLINED)
    declined = subscriber.events.get(kind=Event.OFFER_DECLINED)
    assert declined.text.endswith("— Moving to a competitor")


# --- Ending --------------------------------------------------------------------------------------


def test_withdrawing_needs_a_reason_and_a_live_offer(agent, subscriber, catalogue):
    offer = propose(subscriber, catalogue["fixed"], agent)
    with pytest.raises(InvalidTerms, match="Say why the offer is withdrawn"):
        lifecycle.offer_withdraw(offer=offer, actor=agent, note="")
    offer = lifecycle.offer_withdraw(offer=offer, actor=agent, note="A better fit exists")
    assert offer.status == Status.WITHDRAWN
    assert history(offer)[-1] == (Action.WITHDRAWN, Status.APPROVED, Status.WITHDRAWN)
    assert timeline(subscriber)[-1] == Event.OFFER_WITHDRAWN
    with pytest.raises(WrongState, match=r"(?i)already withdrawn"):
        lifecycle.offer_withdraw(offer=offer, actor=agent, note="Again")


def test_an_offer_expires_only_once_its_time_has_run_out(agent, subscriber, catalogue, clock):
    offer = propose(subscriber, catalogue["fixed"], agent)
    clock.shift(timedelta(days=3) - timedelta(seconds=1))
    assert lifecycle.offer_expire(offer=offer) is False
    clock.shift(timedelta(seconds=1))
    assert lifecycle.offer_expire(offer=offer) is True
    assert lifecycle.offer_expire(offer=offer) is False  # the second sweep finds it settled
    offer.refresh_from_db()
    assert offer.status == Status.EXPIRED
    expired = offer.history.get(action=Action.EXPIRED)
    assert (expired.actor, expired.from_status, expired.text) == (
        None,
        Status.APPROVED,
        "not presented in time",
    )
    assert timeline(subscriber)[-1] == Event.OFFER_EXPIRED


def test_every_step_of_an_offer_is_in_its_history_and_on_the_timeline(
    agent, manager, subscriber, catalogue
):
    offer = propose(subscriber, catalogue["big"], agent)
    offer = services.offer_approve(offer=offer, actor=manager)
    offer = lifecycle.offer_accept(offer=presented(offer, agent), actor=agent)
    assert history(offer) == [
        (Action.PROPOSED, "", Status.PENDING),
        (Action.APPROVED, Status.PENDING, Status.APPROVED),
        (Action.PRESENTED, Status.APPROVED, Status.PRESENTED),
        (Action.ACCEPTED, Status.PRESENTED, Status.ACCEPTED),
    ]
    assert list(offer.history.order_by("pk").values_list("actor", flat=True)) == [
        agent.pk,
        manager.pk,
        agent.pk,
        agent.pk,
    ]
    assert timeline(subscriber) == [
        Event.OFFER_PROPOSED,
        Event.OFFER_APPROVED,
        Event.OFFER_PRESENTED,
        Event.PRICE_CHANGE,
        Event.OFFER_ACCEPTED,
    ]


# --- The offer builder ----------------------------------------------------------------------------


def builder(subscriber, reason, agent, conceded="0"):
    return offer_choices(
        subscriber=subscriber,
        reason_category=reason,
        authority=authority_for(agent),
        conceded=D(conceded),
    )


def codes(choices):
    return [choice.template.code for choice in choices]


def test_the_builder_puts_service_fixes_first_when_the_service_is_the_problem(agent, catalogue):
    choices = builder(SubscriberFactory.create(), "quality", agent)
    assert [c.template.kind for c in choices[:2]] == [OfferKind.SERVICE_FIX] * 2
    assert choices[0].template == catalogue["fix"]
    assert choices[0].why_first == "Suits the reason"


def test_the_builder_puts_deferral_and_split_payment_first_for_hardship(agent, catalogue):
    owing = SubscriberFactory.create(balance=D("59.98"))
    choices = builder(owing, "hardship", agent)
    assert [c.template.kind for c in choices[:3]] == [
        OfferKind.PAYMENT_DEFERRAL,
        OfferKind.SPLIT_PAYMENT,
        OfferKind.ONE_TIME_CREDIT,
    ]
    assert all(c.cost.total == D("0.00") and c.within_authority for c in choices[:2])


def test_the_builder_offers_no_deferral_to_someone_who_owes_nothing(agent, catalogue):
    choices = builder(SubscriberFactory.create(balance=D("0.00")), "hardship", agent)
    kinds = {c.template.kind for c in choices}
    assert OfferKind.PAYMENT_DEFERRAL not in kinds and OfferKind.SPLIT_PAYMENT not in kinds


def test_the_builder_puts_the_loyalty_tariff_first_for_someone_paying_above_new_customers(
    agent, catalogue
):
    choices = builder(SubscriberFactory.create(monthly_price=D("29.99")), "price", agent)
    assert choices[0].template == catalogue["loyalty"]
    assert choices[0].why_first == "Pays more than a new customer"
    assert choices[0].cost.new_monthly_price == D("19.99")


def test_the_builder_puts_the_loyalty_tariff_after_the_fixes_for_the_reason(agent, catalogue):
    choices = builder(SubscriberFactory.create(), "quality", agent)
    fixes = [c for c in choices if c.template.kind == OfferKind.SERVICE_FIX]
    assert choices[len(fixes)].template == catalogue["loyalty"]


def test_the_builder_leaves_out_the_loyalty_tariff_for_someone_paying_the_new_customer_price(
    agent, catalogue
):
    choices = builder(SubscriberFactory.create(monthly_price=D("19.99")), "price", agent)
    assert catalogue["loyalty"].code not in codes(choices)
    assert all(c.why_first == "" for c in choices)


def test_the_builder_leaves_out_offers_the_subscriber_is_not_eligible_for(agent, catalogue):
    catalogue_offer(
        "business-bundle",
        OfferKind.FIXED_DISCOUNT,
        amount=D("5"),
        months=6,
        segments=[Subscriber.Segment.CORPORATE],
    )
    catalogue_offer("retired", OfferKind.FIXED_DISCOUNT, amount=D("5"), months=6, is_active=False)
    newcomer = SubscriberFactory.create(signup_date=TODAY - timedelta(days=200))
    offered = codes(builder(newcomer, "price", agent))
    assert "fixed-5-12" in offered
    assert "technician-visit" not in offered  # for a quality reason only
    assert "free-month" not in offered  # 12 months' tenure
    assert "loyalty-tariff" not in offered  # 12 months' tenure
    assert "business-bundle" not in offered  # corporate only
    assert "retired" not in offered  # no longer in the catalogue
    corporate = SubscriberFactory.create(segment=Subscriber.Segment.CORPORATE)
    assert "business-bundle" in codes(builder(corporate, "price", agent))


def test_the_builder_says_which_offers_are_beyond_the_agents_authority(agent, catalogue):
    choices = {c.template.code: c for c in builder(SubscriberFactory.create(), "price", agent)}
    assert choices["fixed-5-12"].within_authority
    assert not choices["discount-30-12"].within_authority
    assert choices["discount-30-12"].over == ["€108.00 in total is over the €60.00 limit"]
    # What the subscriber was conceded this year counts too.
    nearly_spent = builder(SubscriberFactory.create(), "price", agent, conceded="61")
    assert not {c.template.code: c for c in nearly_spent}["fixed-5-12"].within_authority
