"""An offer no authority tier covers: the builder says so, and proposing it is refused with the
same sentence, measured against the highest tier rather than the proposer's own limits."""

from decimal import Decimal

import pytest

from offers import services
from offers.authority import authority_for, tier_covering, tier_covering_among, tiers_all
from offers.exceptions import BeyondEveryAuthority
from offers.models import CounterOffer, OfferKind
from offers.selectors import offer_choices
from subscribers.models import Subscriber
from tests.factories import SubscriberFactory, offer_template

pytestmark = pytest.mark.django_db

D = Decimal
BEYOND = (
    "Nobody's authority covers this offer, not even the highest tier's (Retention lead): "
    "€199.99 a month is over the €60.00 limit."
)


@pytest.fixture
def corporate(db) -> Subscriber:
    return SubscriberFactory.create(segment=Subscriber.Segment.CORPORATE, monthly_price=D("199.99"))


@pytest.fixture
def free_month(db):
    return offer_template("free-month", OfferKind.FREE_MONTHS, months=1)


def choice(choices, code):
    return next(c for c in choices if c.template.code == code)


def test_the_builder_says_who_could_approve_each_offer(agent, tiers, corporate, free_month):
    fixed = offer_template("fixed-5-12", OfferKind.FIXED_DISCOUNT, amount=D("5"), months=12)
    big = offer_template("discount-30-3", OfferKind.PERCENT_DISCOUNT, percent=D("30"), months=3)
    choices = offer_choices(
        subscriber=corporate,
        reason_category="price",
        authority=authority_for(agent),
        conceded=D("0"),
    )
    within, needs_approval, beyond = (
        choice(choices, fixed.code),
        choice(choices, big.code),  # €60.00 a month: the lead's limit exactly
        choice(choices, free_month.code),
    )
    assert (within.within_authority, within.proposable) == (True, True)
    assert (needs_approval.within_authority, needs_approval.proposable) == (False, True)
    assert (beyond.within_authority, beyond.proposable) == (False, False)
    assert beyond.beyond_everyone == BEYOND
    # What nobody may approve comes after everything that can be proposed.
    assert choices[-1] is beyond


def test_proposing_an_offer_nobody_may_approve_says_so_and_not_the_agents_limits(
    agent, tiers, corporate, free_month
):
    with pytest.raises(BeyondEveryAuthority) as refused:
        services.offer_propose(subscriber=corporate, template=free_month, proposer=agent)
    assert str(refused.value) == BEYOND
    assert "€10.00" not in str(refused.value)  # the agent's own monthly limit
    assert not CounterOffer.objects.exists()


@pytest.mark.parametrize(
    ("monthly", "total", "cumulative"),
    [
        ("10", "60", "120"),
        ("10.01", "60", "120"),
        ("25", "300", "500"),
        ("25", "301", "500"),
        ("60", "1000", "1500"),
        ("60", "1000", "1500.01"),
        ("0", "0", "0"),
    ],
)
def test_the_builder_finds_the_same_tier_as_the_service(tiers, monthly, total, cumulative):
    figures = {"monthly": D(monthly), "total": D(total), "cumulative": D(cumulative)}
    found = tier_covering(
        monthly=figures["monthly"], total=figures["total"], cumulative=figures["cumulative"]
    )
    assert tier_covering_among(tiers_all(), **figures) == found
