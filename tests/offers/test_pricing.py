"""What an offer costs and what the subscriber would pay (offers.pricing).

Every subscriber here pays €29.99 a month for a plan a new customer gets for €19.99.
"""

from datetime import date
from decimal import Decimal

import pytest

from offers.exceptions import InvalidTerms
from offers.models import OfferKind
from offers.pricing import Terms, add_months, offer_cost, terms_validate
from tests.factories import PlanFactory, SubscriberFactory

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def subscriber():
    return SubscriberFactory.create(monthly_price=D("29.99"), balance=D("0.00"))


@pytest.fixture
def faster_plan():
    return PlanFactory.create(code="fibre-1000", download_mbps=1000, new_customer_price=D("39.99"))


def figures(cost):
    return (cost.monthly, cost.months, cost.one_time, cost.total, cost.new_monthly_price)


# --- Cost and new price of every kind ----------------------------------------------------------


def test_a_percentage_discount_costs_the_rounded_monthly_discount_times_the_months(subscriber):
    cost = offer_cost(
        terms=Terms(OfferKind.PERCENT_DISCOUNT, percent=D("30"), months=12), subscriber=subscriber
    )
    # 30 % of €29.99 is €8.997, rounded half up to €9.00.
    assert figures(cost) == (D("9.00"), 12, D("0.00"), D("108.00"), D("20.99"))
    assert cost.new_plan is None and not cost.permanent


def test_a_fixed_discount_costs_the_amount_times_the_months(subscriber):
    cost = offer_cost(
        terms=Terms(OfferKind.FIXED_DISCOUNT, amount=D("5"), months=12), subscriber=subscriber
    )
    assert figures(cost) == (D("5"), 12, D("0.00"), D("60.00"), D("24.99"))


def test_a_fixed_discount_above_the_price_is_capped_at_the_price(subscriber):
    cost = offer_cost(
        terms=Terms(OfferKind.FIXED_DISCOUNT, amount=D("40"), months=2), subscriber=subscriber
    )
    assert figures(cost) == (D("29.99"), 2, D("0.00"), D("59.98"), D("0.00"))


def test_free_months_cost_the_whole_price_for_each_month(subscriber):
    cost = offer_cost(terms=Terms(OfferKind.FREE_MONTHS, months=2), subscriber=subscriber)
    assert figures(cost) == (D("29.99"), 2, D("0.00"), D("59.98"), D("0.00"))


def test_the_loyalty_tariff_is_permanent_and_counted_over_twelve_months(subscriber):
    cost = offer_cost(terms=Terms(OfferKind.PLAN_CHANGE), subscriber=subscriber)
    assert figures(cost) == (D("10.00"), 12, D("0.00"), D("120.00"), D("19.99"))
    assert cost.permanent
    assert cost.new_plan is None  # the same plan, at the new-customer price


def test_a_permanent_move_to_another_plan_is_counted_over_twelve_months(subscriber):
    cheaper = PlanFactory.create(code="fibre-200", new_customer_price=D("24.99"))
    cost = offer_cost(terms=Terms(OfferKind.PLAN_CHANGE, new_plan=cheaper), subscriber=subscriber)
    assert figures(cost) == (D("5.00"), 12, D("0.00"), D("60.00"), D("24.99"))
    assert cost.new_plan == cheaper and cost.permanent


def test_a_plan_change_for_some_months_counts_only_those_months(subscriber):
    cheaper = PlanFactory.create(code="fibre-200", new_customer_price=D("24.99"))
    cost = offer_cost(
        terms=Terms(OfferKind.PLAN_CHANGE, new_plan=cheaper, months=6), subscriber=subscriber
    )
    assert figures(cost) == (D("5.00"), 6, D("0.00"), D("30.00"), D("24.99"))
    assert not cost.permanent


def test_a_speed_upgrade_keeps_the_price_and_costs_what_a_new_customer_pays_more(
    subscriber, faster_plan
):
    cost = offer_cost(
        terms=Terms(OfferKind.SPEED_UPGRADE, new_plan=faster_plan), subscriber=subscriber
    )
    assert figures(cost) == (D("10.00"), 12, D("0.00"), D("120.00"), D("29.99"))
    assert cost.new_plan == faster_plan and cost.permanent


def test_a_speed_upgrade_for_some_months_counts_only_those_months(subscriber, faster_plan):
    cost = offer_cost(
        terms=Terms(OfferKind.SPEED_UPGRADE, new_plan=faster_plan, months=3),
        subscriber=subscriber,
    )
    assert figures(cost) == (D("10.00"), 3, D("0.00"), D("30.00"), D("29.99"))
    assert not cost.permanent


@pytest.mark.parametrize(
    "terms",
    [Terms(OfferKind.PAYMENT_DEFERRAL, days=30), Terms(OfferKind.SPLIT_PAYMENT, months=3)],
    ids=["deferral", "split payment"],
)
def test_deferral_and_split_payment_move_payments_and_cost_nothing(terms, subscriber):
    cost = offer_cost(terms=terms, subscriber=subscriber)
    assert figures(cost) == (D("0.00"), 0, D("0.00"), D("0.00"), D("29.99"))


def test_a_one_time_credit_costs_its_amount_once(subscriber):
    cost = offer_cost(terms=Terms(OfferKind.ONE_TIME_CREDIT, amount=D("15")), subscriber=subscriber)
    assert figures(cost) == (D("0.00"), 0, D("15"), D("15.00"), D("29.99"))


def test_a_service_fix_costs_what_the_fix_costs_us(subscriber):
    cost = offer_cost(terms=Terms(OfferKind.SERVICE_FIX, amount=D("40")), subscriber=subscriber)
    assert figures(cost) == (D("0.00"), 0, D("40"), D("40.00"), D("29.99"))


def test_a_loyalty_perk_costs_its_monthly_value_and_leaves_the_price(subscriber):
    cost = offer_cost(
        terms=Terms(OfferKind.LOYALTY_PERK, amount=D("5"), months=12), subscriber=subscriber
    )
    assert figures(cost) == (D("5"), 12, D("0.00"), D("60.00"), D("29.99"))


# --- Terms that make no sense are refused with a reason ----------------------------------------


@pytest.mark.parametrize(
    ("terms", "reason"),
    [
        (Terms("bogus"), "Unknown offer kind"),
        (Terms(OfferKind.PERCENT_DISCOUNT, percent=D("10"), months=0), "between 1 and 24 months"),
        (Terms(OfferKind.FIXED_DISCOUNT, amount=D("5"), months=25), "between 1 and 24 months"),
        (Terms(OfferKind.PLAN_CHANGE, months=25), "at most 24 months"),
        (Terms(OfferKind.PERCENT_DISCOUNT, months=6), "percentage above 0"),
        (Terms(OfferKind.PERCENT_DISCOUNT, percent=D("0"), months=6), "percentage above 0"),
        (Terms(OfferKind.PERCENT_DISCOUNT, percent=D("100.01"), months=6), "up to 100"),
        (Terms(OfferKind.FIXED_DISCOUNT, amount=D("0"), months=6), "amount above zero"),
        (Terms(OfferKind.ONE_TIME_CREDIT), "amount above zero"),
        (Terms(OfferKind.LOYALTY_PERK, amount=D("-1"), months=6), "amount above zero"),
        (Terms(OfferKind.SERVICE_FIX), "what the service fix costs"),
        (Terms(OfferKind.SERVICE_FIX, amount=D("-0.01")), "what the service fix costs"),
        (Terms(OfferKind.PAYMENT_DEFERRAL, days=0), "Defer by 1 to 90 days"),
        (Terms(OfferKind.PAYMENT_DEFERRAL, days=91), "Defer by 1 to 90 days"),
        (Terms(OfferKind.SPLIT_PAYMENT, months=1), "2 to 12 monthly instalments"),
        (Terms(OfferKind.SPLIT_PAYMENT, months=13), "2 to 12 monthly instalments"),
        (Terms(OfferKind.SPEED_UPGRADE), "needs the faster plan"),
    ],
    ids=lambda value: value.kind if isinstance(value, Terms) else "",
)
def test_terms_that_make_no_sense_are_refused(terms, reason):
    with pytest.raises(InvalidTerms, match=reason):
        terms_validate(terms)


def test_terms_that_make_sense_pass():
    terms_validate(Terms(OfferKind.PERCENT_DISCOUNT, percent=D("100"), months=24))
    terms_validate(Terms(OfferKind.SERVICE_FIX, amount=D("0")))
    terms_validate(Terms(OfferKind.PAYMENT_DEFERRAL, days=90))
    terms_validate(Terms(OfferKind.SPLIT_PAYMENT, months=12))


def test_a_speed_upgrade_must_be_faster_than_the_subscribers_plan(subscriber):
    same_speed = PlanFactory.create(code="fibre-300b", download_mbps=subscriber.plan.download_mbps)
    with pytest.raises(InvalidTerms, match="not faster"):
        terms_validate(Terms(OfferKind.SPEED_UPGRADE, new_plan=same_speed), subscriber)


def test_no_loyalty_tariff_for_a_subscriber_who_already_pays_the_new_customer_price(subscriber):
    subscriber.monthly_price = D("19.99")
    with pytest.raises(InvalidTerms, match="already pays the new-customer price"):
        terms_validate(Terms(OfferKind.PLAN_CHANGE), subscriber)


@pytest.mark.parametrize(
    "terms",
    [Terms(OfferKind.PAYMENT_DEFERRAL, days=30), Terms(OfferKind.SPLIT_PAYMENT, months=3)],
    ids=["deferral", "split payment"],
)
def test_nothing_to_defer_or_split_for_a_subscriber_who_owes_nothing(terms, subscriber):
    with pytest.raises(InvalidTerms, match="owes nothing"):
        terms_validate(terms, subscriber)
    subscriber.balance = D("45.00")
    terms_validate(terms, subscriber)


# --- End dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # a leap year
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2027, 1, 31), 2, date(2027, 3, 31)),  # a short month on the way does not stick
        (date(2026, 8, 31), 12, date(2027, 8, 31)),
        (date(2026, 12, 31), 24, date(2028, 12, 31)),
    ],
)
def test_add_months_keeps_the_day_or_takes_the_last_day_of_a_shorter_month(day, months, expected):
    assert add_months(day, months) == expected
