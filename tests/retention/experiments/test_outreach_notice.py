"""A best tariff notice takes no part in an outreach experiment: the law asks to tell everyone,
so nobody is held out of it and nobody's notice changes offer."""

import pytest

from retention.experiments.services import ArmSpec, Slot, experiment_start
from retention.models import Experiment, ExperimentAssignment, OutreachMessage
from retention.outreach.notice import notices_nightly
from tests.factories import offer_template
from tests.retention.test_tariff_notice import (  # noqa: F401 - fixtures
    TODAY,
    clock,
    desk,
    plans,
    sms_folder,
    subscriber,
)

pytestmark = pytest.mark.django_db


def test_the_notice_is_not_assigned_held_out_or_changed(desk, plans):  # noqa: F811
    from offers.models import OfferKind

    loyalty = offer_template("exp-loyalty", OfferKind.FIXED_DISCOUNT, amount=5, months=12)
    experiment_start(
        name="Outreach",
        slot=Slot(),
        arms=[ArmSpec(loyalty, 50), ArmSpec(None, 50)],
        audience=Experiment.Audience.OUTREACH,
        actor=desk,
    )
    for _ in range(6):
        subscriber(plans)
    assert notices_nightly(today=TODAY) == 6
    assert not ExperimentAssignment.objects.exists()
    assert set(OutreachMessage.objects.values_list("state", "arm_id", "template_id")) == {
        ("pending", None, None)
    }
