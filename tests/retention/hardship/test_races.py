"""Ticks at once, with real threads on PostgreSQL: each payment is counted once, the
arrangement breaks once, billing is told once."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from offers.models import OfferKind
from retention.core.roles import Role
from retention.hardship.services import hardship_tick
from retention.models import HardshipArrangement, HardshipPayment, Notification
from subscribers.models import OutboundEvent
from tests.factories import offer_template, user_with_role
from tests.retention.hardship.helpers import accepted, pay
from tests.threads import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_three_ticks_at_once_count_each_payment_once_and_break_once(agent, tiers):
    lead = user_with_role(Role.MANAGER, tiers["lead"].group, username="lead")
    with time_machine.travel(NOW, tick=False):
        template = offer_template("split-3", OfferKind.SPLIT_PAYMENT, months=3)
        arrangements = [
            HardshipArrangement.objects.get(
                offer=accepted(agent, lead, template, balance=Decimal("90.00"))[1]
            )
            for _ in range(4)
        ]
    later = datetime(2027, 1, 7, 8, 0, tzinfo=UTC)  # the first instalments missed
    with time_machine.travel(later, tick=False):
        for arrangement in arrangements[:2]:
            pay(arrangement.subscriber, "10.00", later)
        errors = run_at_once(*[lambda: hardship_tick(now=later) for _ in range(3)])
    assert errors == []
    assert HardshipPayment.objects.count() == 2
    assert all(a.status == "broken" for a in HardshipArrangement.objects.all())
    assert OutboundEvent.objects.filter(type="hardship.released").count() == 4
    assert Notification.objects.filter(code="notify.hardship_broken").count() == 4
    paid = sorted(
        HardshipArrangement.objects.get(pk=a.pk).instalments.get(number=1).paid
        for a in arrangements
    )
    assert paid == [Decimal("0.00"), Decimal("0.00"), Decimal("10.00"), Decimal("10.00")]
