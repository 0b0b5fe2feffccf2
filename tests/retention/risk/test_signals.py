"""The churn signals, read against a timeline built by hand: every window edge, what counts and
what does not, replayed for training and read as of now for scoring."""

import math
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from retention.models import CancellationCase, ContactAttempt
from retention.risk.signals import COLUMN, FEATURES, signals_read
from subscribers.models import Subscriber, TariffFit, TimelineEvent
from tests.factories import (
    CaseFactory,
    PlanFactory,
    SubscriberFactory,
    TimelineEventFactory,
    UsageFactory,
)

pytestmark = pytest.mark.django_db

DAY = date(2026, 12, 1)
AT = datetime(2026, 12, 1, tzinfo=ZoneInfo("Europe/Riga"))
Kind = TimelineEvent.Kind


def _event(subscriber: Subscriber, kind: str, days_before: float, **data: object) -> None:
    TimelineEventFactory.create(
        subscriber=subscriber, kind=kind, occurred_at=AT - timedelta(days=days_before), data=data
    )


def _case(subscriber: Subscriber, opened_days_before: float, status: str, closed: float | None):
    opened = AT - timedelta(days=opened_days_before)
    CaseFactory.create(
        subscriber=subscriber,
        status=status,
        opened_at=opened,
        closed_at=None if closed is None else AT - timedelta(days=closed),
        process_by=opened.date() + timedelta(days=14),
    )


@pytest.fixture
def story() -> Subscriber:
    """One subscriber whose year holds one of everything, some of it just outside a window."""
    plan = PlanFactory.create(code="fibre-300", new_customer_price=Decimal("20.00"))
    subscriber = SubscriberFactory.create(
        plan=plan,
        signup_date=date(2025, 6, 1),
        monthly_price=Decimal("30.00"),
        arrears=Decimal("12.34"),
        promo_ends_on=DAY + timedelta(days=30),
    )
    _event(subscriber, Kind.OUTAGE, 5, minutes="abc")  # counted, its minutes are not
    _event(subscriber, Kind.OUTAGE, 10, minutes=90)
    _event(subscriber, Kind.OUTAGE, 50, minutes="30")
    _event(subscriber, Kind.OUTAGE, 200, minutes=600)  # outside 90 days
    _event(subscriber, Kind.OUTAGE, -1, minutes=60)  # after the day
    _event(subscriber, Kind.TICKET, 20)
    _event(subscriber, Kind.TICKET, 100)  # outside 90 days
    _event(subscriber, Kind.MISSED_PAYMENT, 40)
    _event(subscriber, Kind.PRICE_CHANGE, 100, **{"from": "20.00", "to": "25.50"})
    _event(subscriber, Kind.PRICE_CHANGE, 30, **{"from": "25.50", "to": "24.00"})  # a fall
    _event(subscriber, Kind.PRICE_CHANGE, 400, **{"from": "10.00", "to": "20.00"})  # too old
    _event(subscriber, Kind.PROMO_ENDED, 45)
    _event(subscriber, Kind.PORT_OUT, 200)  # outside 90 days
    _case(subscriber, 300, CancellationCase.Status.SAVED, closed=290)
    _case(subscriber, -20, CancellationCase.Status.NEW, closed=None)  # asks within 60 days
    for days_before in (10, 100):
        ContactAttempt.objects.create(
            subscriber=subscriber,
            channel="phone",
            direction=ContactAttempt.Direction.OUTBOUND,
            outcome=ContactAttempt.Outcome.REFUSED,
            at=AT - timedelta(days=days_before),
        )
    for month in range(12):  # Dec 2025 .. Nov 2026: 9 months of 100 GB, then 3 of 20 GB
        period = date(2025 + (11 + month) // 12, (11 + month) % 12 + 1, 1)
        gb = Decimal(20 if month >= 9 else 100)
        UsageFactory.create(subscriber=subscriber, period=period, gb_down=gb, gb_up=Decimal(0))
    TariffFit.objects.create(
        subscriber=subscriber,
        computed_on=DAY,
        months=12,
        current_cost=Decimal("30.00"),
        best_plan=plan,
        best_cost=Decimal("22.50"),
        saving=Decimal("7.50"),
        verdict="cheaper",
    )
    return subscriber


def _row(signals, subscriber: Subscriber) -> dict[str, float]:
    [n] = [i for i, pk in enumerate(signals.ids) if pk == subscriber.pk]
    return dict(zip(FEATURES, signals.values[n].tolist(), strict=True))


EXPECTED_BOTH = {
    "outages_30d": 2,
    "outage_hours_30d": 1.5,
    "outages_90d": 3,
    "outage_hours_90d": 2.0,
    "tickets_90d": 1,
    "missed_payments_90d": 1,
    "arrears_eur": 12.34,
    "price_rises_12m": 1,
    "price_rise_eur_12m": 5.5,
    "promo_ended_60d": 1,
    "promo_ends_60d": 1,
    "earlier_requests": 1,
    "earlier_saved": 1,
    "port_out_90d": 0,
    "usage_decline_pct": 80.0,
    "usage_known": 1,
    "contacts_refused_90d": 1,
    "misfit_known": 1,
}


def test_scoring_reads_each_signal_as_of_now_with_the_account_and_nightly_fit(story):
    signals = signals_read(day=DAY, at=AT, lo=story.pk, hi=story.pk + 1)
    row = _row(signals, story)

    expected = {
        **EXPECTED_BOTH,
        "loyalty_penalty_eur": 10.0,  # the account's price now: 30.00 against 20.00
        "loyalty_penalty_pct": 50.0,
        "misfit_eur": 7.5,  # the nightly fit
        "tenure_years": 548 / 365.25,
    }
    assert row == pytest.approx(expected)
    assert signals.promo_days.tolist() == [30]
    assert signals.labels is None


def test_training_replays_the_price_of_the_day_the_fit_for_it_and_the_label(story):
    signals = signals_read(day=DAY, at=AT, lo=story.pk, hi=story.pk + 1, training=True)
    row = _row(signals, story)

    expected = {
        **EXPECTED_BOTH,
        "loyalty_penalty_eur": 4.0,  # the newest price change before the day: 24.00
        "loyalty_penalty_pct": 20.0,
        "misfit_eur": 0.0,  # recomputed from the usage: their own plan is the only one
        "tenure_years": 548 / 365.25,
    }
    assert row == pytest.approx(expected)
    assert signals.labels is not None and signals.labels.tolist() == [True]


def test_a_subscriber_with_no_history_has_zeros_and_absent_signals_not_zeros():
    quiet = SubscriberFactory.create(signup_date=date(2020, 1, 1), promo_ends_on=None)
    signals = signals_read(day=DAY, at=AT, lo=quiet.pk, hi=quiet.pk + 1)
    row = _row(signals, quiet)

    assert math.isnan(row.pop("misfit_eur"))
    assert math.isnan(row.pop("usage_decline_pct"))
    assert {name for name, value in row.items() if value} == {
        "tenure_years",
        "loyalty_penalty_eur",  # 29.99 against the factory plan's 19.99
        "loyalty_penalty_pct",
    }
    assert math.isnan(signals.promo_days[0])


def test_training_leaves_out_who_had_a_case_open_had_left_or_had_just_joined(story):
    open_then = SubscriberFactory.create(signup_date=date(2020, 1, 1))
    _case(open_then, 5, CancellationCase.Status.IN_PROGRESS, closed=None)
    gone = SubscriberFactory.create(signup_date=date(2020, 1, 1), billing_ends_on=DAY)
    gone.status = Subscriber.Status.CANCELLED
    gone.save()
    newcomer = SubscriberFactory.create(signup_date=DAY - timedelta(days=10))
    stayed = SubscriberFactory.create(signup_date=date(2020, 1, 1))
    low = min(story.pk, open_then.pk, gone.pk, newcomer.pk, stayed.pk)
    high = max(story.pk, open_then.pk, gone.pk, newcomer.pk, stayed.pk) + 1

    replayed = signals_read(day=DAY, at=AT, lo=low, hi=high, training=True)
    scored = signals_read(day=DAY, at=AT, lo=low, hi=high)

    assert set(replayed.ids.tolist()) == {story.pk, stayed.pk}
    assert replayed.labels is not None and replayed.labels.tolist() == [True, False]
    # Scoring takes everyone who has the service now, whether or not a case is open.
    assert set(scored.ids.tolist()) == {story.pk, open_then.pk, newcomer.pk, stayed.pk}


def test_an_event_whose_amounts_are_not_numbers_counts_without_breaking_the_night(story):
    _event(story, Kind.PRICE_CHANGE, 3, **{"from": "x", "to": {"nested": 1}})
    _event(story, Kind.OUTAGE, 2, minutes=None)
    _event(story, Kind.OUTAGE, 1, minutes="1e999")
    signals = signals_read(day=DAY, at=AT, lo=story.pk, hi=story.pk + 1)

    row = _row(signals, story)
    assert row["outages_30d"] == 4
    assert row["price_rises_12m"] >= 1
    assert all(math.isfinite(value) for value in row.values())


def test_columns_are_named_once():
    assert len(COLUMN) == len(FEATURES)
