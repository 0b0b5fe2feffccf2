from decimal import Decimal

import pytest

from offers.models import OfferKind
from retention.core.roles import Role
from tests.factories import authority_tier, offer_template, user_with_role

# Short names for the fixtures below and for the tests that import them.
tier, template = authority_tier, offer_template

D = Decimal


@pytest.fixture
def lead(db, tiers):
    return user_with_role(Role.MANAGER, tiers["lead"].group, username="lead")


@pytest.fixture
def manager2(db):
    return user_with_role(Role.MANAGER, username="manager2")


@pytest.fixture
def catalogue(db):
    """Templates with known costs for a subscriber paying €29.99 (new-customer price €19.99)."""
    return {
        # 5 x 12 = 60: exactly the agent's total limit.
        "fixed": template("fixed-5-12", OfferKind.FIXED_DISCOUNT, amount=D("5"), months=12),
        # 9.00 x 12 = 108: over the agent's total, within a manager's.
        "big": template("discount-30-12", OfferKind.PERCENT_DISCOUNT, percent=D("30"), months=12),
        # 29.99 a month: over the agent's and the manager's monthly limit, within the lead's.
        "free": template("free-month", OfferKind.FREE_MONTHS, months=1),
        "loyalty": template("loyalty-tariff", OfferKind.PLAN_CHANGE),
        "fix": template(
            "technician-visit",
            OfferKind.SERVICE_FIX,
            amount=D("40"),
            reason_categories=["quality"],
        ),
        "deferral": template("payment-deferral-30", OfferKind.PAYMENT_DEFERRAL, days=30),
    }
