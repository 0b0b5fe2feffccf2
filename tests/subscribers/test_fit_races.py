"""Two recomputations of the same subscribers' fits at once (the nightly run and a usage batch,
or a nightly run started twice) both finish, and every subscriber keeps exactly one fit."""

from datetime import date
from decimal import Decimal

import pytest

from subscribers.fit import fits_compute
from subscribers.models import TariffFit
from tests.factories import PlanFactory, SubscriberFactory, UsageFactory
from tests.threads import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TODAY = date(2026, 6, 15)


def test_nightly_run_and_usage_batch_at_once_leave_one_fit_each():
    plan = PlanFactory(code="flat", kind="flat", new_customer_price=Decimal("20.00"))
    subscribers = [SubscriberFactory.create(plan=plan) for _ in range(30)]
    for subscriber in subscribers:
        for month in (3, 4, 5):
            UsageFactory(subscriber=subscriber, period=date(2026, month, 1))
    some = [s.pk for s in subscribers[:10]]

    errors = run_at_once(
        lambda: fits_compute(today=TODAY),
        lambda: fits_compute(today=TODAY),
        lambda: fits_compute(today=TODAY, subscriber_ids=some),
    )

    assert errors == []
    assert TariffFit.objects.count() == 30
