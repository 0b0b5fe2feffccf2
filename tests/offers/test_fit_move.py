"""The move to the plan that fits: a catalogue plan change whose plan comes from each
subscriber's tariff fit, ranked first when it saves them money, priced by the cost rules of
any plan change, proposed and approved under the usual authority.

Catalogue and usage: tests/subscribers/fit_catalogue.py. Tiers, per month / one offer / 12
months: agent 10/60/120, manager 25/300/500, lead 60/1000/1500.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from offers import lifecycle, services
from offers.authority import authority_for
from offers.exceptions import InvalidTerms
from offers.models import CounterOffer, OfferKind, OfferTemplate
from offers.pricing import Terms, offer_cost, terms_for, terms_validate
from offers.selectors import offer_choices, tariff_fit_for_offer
from subscribers.fit_selectors import tariff_fit_get
from subscribers.models import TariffFit
from tests.factories import offer_template
from tests.subscribers.fit_catalogue import fit_move_template, priced_catalogue, user_with_usage

pytestmark = pytest.mark.django_db

D = Decimal
Status = CounterOffer.Status
NOW = datetime(2026, 6, 16, 8, 0, tzinfo=UTC)  # a Tuesday, 11:00 in Riga
TODAY = date(2026, 6, 16)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def plans(db):
    return priced_catalogue()


@pytest.fixture
def move(db):
    return fit_move_template()


@pytest.fixture
def others(db):
    """Offers the move is ranked against: the loyalty tariff (catalogue position 10), a
    discount, and a technician visit for quality."""
    return {
        "loyalty": OfferTemplate.objects.get(code="loyalty-tariff"),
        "discount": offer_template(
            "fixed-5-12", OfferKind.FIXED_DISCOUNT, amount=D("5"), months=12, position=1
        ),
        "fix": OfferTemplate.objects.get(code="technician-visit"),
    }


def builder(subscriber, user, reason=""):
    return offer_choices(
        subscriber=subscriber,
        reason_category=reason,
        authority=authority_for(user),
        conceded=D(0),
        fit=tariff_fit_get(subscriber=subscriber, today=TODAY),
    )


def codes(choices):
    return [choice.template.code for choice in choices]


def test_the_migration_puts_the_move_in_the_catalogue(move):
    assert move.kind == OfferKind.PLAN_CHANGE
    assert move.to_fitting_plan and move.new_plan is None and move.is_active
    assert move.name_lv and move.name_ru


@pytest.mark.parametrize("kind", ["light", "heavy"])
def test_a_move_that_saves_them_money_is_ranked_first(agent, tiers, plans, move, others, kind):
    subscriber = user_with_usage(plans, kind, TODAY)
    choices = builder(subscriber, agent, reason="price")
    assert codes(choices)[0] == "plan-that-fits"
    first = choices[0]
    assert first.why_first == "Fits how they use it"
    target = {"light": "stundas30", "heavy": "fibre100"}[kind]
    assert first.cost.new_plan == plans[target]


def test_for_a_quality_reason_the_fixes_stay_ahead_of_the_move(agent, tiers, plans, move, others):
    subscriber = user_with_usage(plans, "light", TODAY)
    ranked = codes(builder(subscriber, agent, reason="quality"))
    assert ranked.index("technician-visit") < ranked.index("plan-that-fits")
    assert ranked.index("plan-that-fits") < ranked.index("fixed-5-12")


def test_a_light_users_move_is_priced_by_the_plan_change_rules(agent, tiers, plans, move):
    subscriber = user_with_usage(plans, "light", TODAY)
    choice = next(c for c in builder(subscriber, agent) if c.template == move)
    # Their price 29.99 against Stundas 30's 8.40 for new customers, counted over 12 months as
    # any permanent plan change: over an agent's 10 a month, within a manager's.
    assert choice.cost.monthly == D("21.59")
    assert choice.cost.total == D("259.08")
    assert choice.cost.new_monthly_price == D("8.40")
    assert choice.cost.permanent
    assert not choice.within_authority and choice.proposable
    assert choice.fit_note == "With their usage: about €8.40 a month instead of €29.99."
    assert choice.description == "Stundas 30 at €8.40 a month"


def test_a_heavy_users_move_to_a_flat_rate_concedes_nothing_on_the_fee(agent, plans, move):
    subscriber = user_with_usage(plans, "heavy", TODAY)
    fit = tariff_fit_for_offer(subscriber_id=subscriber.pk)
    terms = terms_for(move, subscriber, fit)
    # Fibre 100's fee (19.99) is more than their metered fee (8.40): "that plan would not cost
    # them less" is the rule of an ordinary plan change, not of the move, whose fit counted
    # their extra hours (23.40 a month).
    terms_validate(terms, subscriber, fit=fit)
    cost = offer_cost(terms=terms, subscriber=subscriber)
    assert (cost.monthly, cost.total, cost.new_monthly_price) == (D("0"), D("0"), D("19.99"))
    with pytest.raises(InvalidTerms, match="would not cost the subscriber less"):
        terms_validate(Terms(OfferKind.PLAN_CHANGE, new_plan=plans["fibre100"]), subscriber)


def test_a_shared_account_is_shown_the_move_not_first_and_told_it_may_cost_more(
    agent, tiers, plans, move, others
):
    subscriber = user_with_usage(plans, "shared", TODAY)
    choices = builder(subscriber, agent, reason="price")
    assert codes(choices)[0] != "plan-that-fits"
    choice = next(c for c in choices if c.template == move)
    assert choice.why_first == ""
    assert choice.cost.new_plan == plans["biz10"]
    assert choice.cost.total == D("0")  # the fee is more than they pay: nothing conceded
    assert choice.fit_note == (
        "Holds the 7 people on the line; it may cost them more: about €53.00 a month with "
        "their usage instead of €29.99."
    )


@pytest.mark.parametrize("months", [0, 2])
def test_a_subscriber_without_a_fit_gets_no_such_offer(agent, tiers, plans, move, months):
    subscriber = user_with_usage(plans, "light", TODAY, months=months)
    assert not TariffFit.objects.filter(subscriber=subscriber).exists()
    assert "plan-that-fits" not in codes(builder(subscriber, agent))
    with pytest.raises(InvalidTerms, match="No plan fits how this subscriber uses the service"):
        services.offer_propose(subscriber=subscriber, template=move, proposer=agent)


def test_a_subscriber_whose_plan_fits_gets_no_such_offer(agent, tiers, plans, move):
    subscriber = user_with_usage(plans, "fits", TODAY)
    assert TariffFit.objects.get(subscriber=subscriber).verdict == "fits"
    assert "plan-that-fits" not in codes(builder(subscriber, agent))
    with pytest.raises(InvalidTerms):
        services.offer_propose(subscriber=subscriber, template=move, proposer=agent)


def test_a_plan_withdrawn_since_the_fit_is_not_offered(agent, tiers, plans, move):
    subscriber = user_with_usage(plans, "light", TODAY)
    plans["stundas30"].is_sold = False
    plans["stundas30"].save()
    assert "plan-that-fits" not in codes(builder(subscriber, agent))


def test_an_agent_proposes_the_move_and_it_waits_for_a_manager(agent, manager, tiers, plans, move):
    subscriber = user_with_usage(plans, "light", TODAY)
    offer = services.offer_propose(subscriber=subscriber, template=move, proposer=agent)
    assert offer.status == Status.PENDING
    assert offer.kind == OfferKind.PLAN_CHANGE and offer.to_fitting_plan
    assert offer.new_plan == plans["stundas30"]
    assert (offer.monthly_concession, offer.total_cost) == (D("21.59"), D("259.08"))
    assert offer.history.get(action="proposed").data["to_fitting_plan"] is True
    approved = services.offer_approve(offer=offer, actor=manager, note="fair")
    assert approved.status == Status.APPROVED
    # Accepted, it moves them: the plan and the new-customer fee.
    lifecycle.offer_present(offer=approved, actor=agent)
    lifecycle.offer_accept(offer=approved, actor=agent)
    subscriber.refresh_from_db()
    assert subscriber.plan == plans["stundas30"]
    assert subscriber.monthly_price == D("8.40")


def test_a_manager_proposing_a_shared_move_has_it_approved_at_once(manager, tiers, plans, move):
    subscriber = user_with_usage(plans, "shared", TODAY)
    offer = services.offer_propose(subscriber=subscriber, template=move, proposer=manager)
    assert offer.status == Status.APPROVED and offer.auto_approved
    assert offer.new_plan == plans["biz10"] and offer.new_monthly_price == D("45.00")


def test_the_move_keeps_the_plan_its_fit_chose_when_amended(agent, manager, tiers, plans, move):
    subscriber = user_with_usage(plans, "heavy", TODAY)
    offer = services.offer_propose(subscriber=subscriber, template=move, proposer=agent)
    assert offer.status == Status.APPROVED  # concedes nothing: within anyone's authority
    subscriber2 = user_with_usage(plans, "light", TODAY)
    pending = services.offer_propose(subscriber=subscriber2, template=move, proposer=agent)
    amended = services.offer_amend(
        offer=pending,
        actor=manager,
        terms=Terms(OfferKind.PLAN_CHANGE, new_plan=plans["stundas30"], months=6, fitting=True),
        note="six months first",
    )
    assert amended.status == Status.APPROVED and amended.months == 6
    assert amended.total_cost == D("129.54")
    with pytest.raises(InvalidTerms, match="The plan that fits this subscriber is Stundas 30"):
        terms_validate(
            Terms(OfferKind.PLAN_CHANGE, new_plan=plans["gb50"], fitting=True),
            subscriber2,
            fit=tariff_fit_for_offer(subscriber_id=subscriber2.pk),
        )


def test_the_catalogue_row_names_no_plan(move):
    with pytest.raises(InvalidTerms, match="leave the new plan empty"):
        terms_validate(
            Terms(OfferKind.PLAN_CHANGE, new_plan=move.new_plan or _plan(), fitting=True)
        )
    with pytest.raises(InvalidTerms, match="Only a plan change"):
        terms_validate(Terms(OfferKind.FIXED_DISCOUNT, amount=D(5), months=1, fitting=True))


def _plan():
    return priced_catalogue()["fibre100"]
