"""An experiment on the price slot, tenure over three years: two offers and a 10 % holdout."""

from decimal import Decimal

import pytest

from offers.models import OfferKind
from retention.core.roles import Role
from retention.experiments.services import ArmSpec, Slot, experiment_start
from tests.factories import offer_template, user_with_role

PRICE_LOYAL = Slot(reason_category="price", min_tenure_months=37)


@pytest.fixture
def loyalty(db):
    return offer_template("exp-loyalty", OfferKind.FIXED_DISCOUNT, amount=Decimal("5"), months=12)


@pytest.fixture
def twenty(db):
    return offer_template(
        "exp-twenty-6", OfferKind.PERCENT_DISCOUNT, percent=Decimal("20"), months=6
    )


@pytest.fixture
def lead(db):
    return user_with_role(Role.MANAGER, username="lead")


@pytest.fixture
def experiment(lead, loyalty, twenty):
    return experiment_start(
        name="Price, loyal",
        slot=PRICE_LOYAL,
        arms=[ArmSpec(loyalty, 45), ArmSpec(twenty, 45), ArmSpec(None, 10)],
        actor=lead,
    )
