"""The nightly tariff task: every subscriber's fit, computed again each night; run twice, the
same fits."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from retention.models import TariffFitSnapshot
from retention.tariffs.tasks import nightly_tariff_fit
from subscribers.models import TariffFit
from tests.factories import PlanFactory, SubscriberFactory, UsageFactory

pytestmark = pytest.mark.django_db


def _snapshot() -> list[tuple[object, ...]]:
    return list(
        TariffFitSnapshot.objects.order_by("verdict").values_list(
            "day", "verdict", "subscribers", "current_total", "best_total", "overpayment"
        )
    )


def test_nightly_task_computes_every_fit_once_however_often_it_runs():
    flat = PlanFactory.create(
        code="flat", kind="flat", download_mbps=300, new_customer_price=Decimal(30)
    )
    PlanFactory(
        code="hours",
        kind="metered_time",
        download_mbps=50,
        new_customer_price=Decimal(8),
        included_hours=30,
        extra_hour_price=Decimal("0.50"),
    )
    light = SubscriberFactory.create(plan=flat, monthly_price=Decimal(30))
    for month in (9, 10, 11):
        UsageFactory(
            subscriber=light,
            period=date(2026, month, 1),
            hours_online=Decimal(5),
            peak_devices=1,
        )

    with time_machine.travel("2026-12-04 01:15Z", tick=False):
        nightly_tariff_fit()
        first = list(TariffFit.objects.values())
        counted = _snapshot()
        nightly_tariff_fit()

    assert list(TariffFit.objects.values()) == first
    assert _snapshot() == counted
    counted_light = TariffFitSnapshot.objects.get(verdict="light")
    assert (counted_light.day, counted_light.subscribers, counted_light.overpayment) == (
        date(2026, 12, 4),
        1,
        Decimal(22),
    )
    fit = TariffFit.objects.get()
    assert (fit.computed_on, fit.best_plan.code, fit.verdict) == (
        date(2026, 12, 4),
        "hours",
        "light",
    )
