"""A priced catalogue and subscribers whose usage makes each verdict, for the tests of the pages
and offers that show the tariff fit (and for browser tests: plain functions, no fixtures).

New-customer prices; every plan sold to residential subscribers but "biz10":

    fibre300   flat             300 Mbit/s  24.99 (list 29.99)
    fibre100   flat             100 Mbit/s  19.99
    stundas30  metered by time   50 Mbit/s   8.40  30 h included, 0.60 an extra hour, cap 15.00
    gb50       metered by GB    100 Mbit/s  10.00  50 GB included, 0.40 an extra GB
    biz10      business         300 Mbit/s  45.00  5 users included, 4.00 an extra one

By hand, every month alike:

- light: fibre300 at 29.99, 12 h and 5 GB on 2 devices (needs 50 Mbit/s): stundas30 costs
  8.40, saves 21.59 (fibre100 19.99, gb50 10.00).
- heavy: stundas30 at 8.40, 200 h and 150 GB on 2 devices: 8.40 + 170 x 0.60 capped at 15.00
  = 23.40; fibre100 19.99 saves 3.41 (gb50 10 + 100 x 0.40 = 50.00, fibre300 24.99).
- shared: a small business of 7 on fibre300 at 29.99, 10 devices (needs 250 Mbit/s): only
  biz10 holds them, 45 + 2 x 4.00 = 53.00, 23.01 a month more.
- fits: fibre100 at 19.99 with 150 h and 300 GB on 3 devices (needs 75): gb50 would cost
  10 + 250 x 0.40, stundas30 is too slow; nothing else is cheaper.
"""

from datetime import date
from decimal import Decimal
from importlib import import_module

from django.apps import apps as django_apps

from offers.models import OfferTemplate
from subscribers.fit import fit_window, fits_compute
from subscribers.models import Plan, Subscriber
from tests.factories import PlanFactory, SubscriberFactory, UsageFactory

D = Decimal


def priced_catalogue() -> dict[str, Plan]:
    def plan(code: str, name: str, kind: str, mbps: int, price: str, **pricing: object) -> Plan:
        return PlanFactory.create(
            code=code,
            name=name,
            kind=kind,
            download_mbps=mbps,
            list_price=D(pricing.pop("list_price", price)),  # type: ignore[arg-type]
            new_customer_price=D(price),
            **pricing,
        )

    return {
        "fibre300": plan("fibre300", "Fibre 300", "flat", 300, "24.99", list_price="29.99"),
        "fibre100": plan("fibre100", "Fibre 100", "flat", 100, "19.99"),
        "stundas30": plan(
            "stundas30",
            "Stundas 30",
            "metered_time",
            50,
            "8.40",
            included_hours=30,
            extra_hour_price=D("0.60"),
            extras_cap=D("15.00"),
        ),
        "gb50": plan(
            "gb50",
            "GB 50",
            "metered_volume",
            100,
            "10.00",
            included_gb=50,
            extra_gb_price=D("0.40"),
        ),
        "biz10": plan(
            "biz10",
            "Biznes 10",
            "business",
            300,
            "45.00",
            included_seats=5,
            extra_seat_price=D("4.00"),
            sold_to_residential=False,
            sold_to_small_business=True,
            sold_to_corporate=True,
        ),
    }


# name: (own plan, own price, segment, (hours, GB down, GB up, devices, people))
USERS = {
    "light": ("fibre300", "29.99", "residential", ("12.0", "4", "1", 2, 1)),
    "heavy": ("stundas30", "8.40", "residential", ("200.0", "140", "10", 2, 1)),
    "shared": ("fibre300", "29.99", "small_business", ("300.0", "350", "50", 10, 7)),
    "fits": ("fibre100", "19.99", "residential", ("150.0", "280", "20", 3, 1)),
}


def window_months(today: date) -> list[date]:
    start, end = fit_window(today)
    months = []
    while start < end:
        months.append(start)
        start = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return months


def user_with_usage(
    plans: dict[str, Plan], kind: str, today: date, months: int = 12, **fields: object
) -> Subscriber:
    """A subscriber of this kind with ``months`` months of usage up to last month, and their
    fit computed as the nightly run would."""
    plan, price, segment, (hours, down, up, devices, people) = USERS[kind]
    subscriber = SubscriberFactory.create(
        plan=plans[plan], monthly_price=D(price), segment=segment, **fields
    )
    for period in window_months(today)[-months:] if months else []:
        UsageFactory.create(
            subscriber=subscriber,
            period=period,
            hours_online=D(hours),
            gb_down=D(down),
            gb_up=D(up),
            peak_devices=devices,
            people=people,
        )
    fits_compute(today=today, subscriber_ids=[subscriber.pk])
    return subscriber


def fit_move_template() -> OfferTemplate:
    """The catalogue's move to the plan that fits, as its migration writes it (transactional
    tests flush what migrations loaded)."""
    import_module("offers.migrations.0008_plan_that_fits_row").load(django_apps, None)
    return OfferTemplate.objects.get(code="plan-that-fits")
