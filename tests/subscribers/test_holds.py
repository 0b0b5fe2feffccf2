"""No silent overwrite: what a desk decision changed waits for billing's confirmation, and
neither the import nor a pushed event undoes it meanwhile; pushed events set the subscriber's
own fields where they carry them, once.

Runs on SQLite and on PostgreSQL (the import's two writers).
"""

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction

from subscribers import outbound
from subscribers.importing import import_subscribers_csv
from subscribers.models import FieldConflict, FieldHold, OutboundEvent, Subscriber
from tests.factories import PlanFactory, SubscriberFactory
from tests.ingestion import event, post_events

pytestmark = pytest.mark.django_db

D = Decimal
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
HEADER = "account_number,name,plan_code,monthly_price,signup_date,region"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def decided(subscriber: Subscriber, price: str) -> OutboundEvent:
    """The desk set a new price with a decision billing has not confirmed."""
    with transaction.atomic():
        subscriber.monthly_price = D(price)
        subscriber.save(update_fields=["monthly_price"])
        return outbound.outbound_event_record(
            type=OutboundEvent.Type.CANCELLATION_WITHDRAWN,
            data=outbound.CancellationWithdrawn(
                subscriber=outbound.subscriber_ref(subscriber), case=1
            ),
            holds={"monthly_price": D(price)},
        )


def row(subscriber: Subscriber, price: str) -> str:
    return (
        f"{subscriber.account_number},{subscriber.name},{subscriber.plan.code},{price},"
        f"{subscriber.signup_date.isoformat()},{subscriber.region}"
    )


def test_an_import_keeps_a_held_price_and_reports_the_conflict():
    held, free = SubscriberFactory.create_batch(2, monthly_price=D("29.99"))
    decided(held, "24.99")
    report = import_subscribers_csv(
        file=io.StringIO("\n".join([HEADER, row(held, "29.99"), row(free, "31.00")]) + "\n")
    )
    held.refresh_from_db()
    free.refresh_from_db()
    assert (held.monthly_price, free.monthly_price) == (D("24.99"), D("31.00"))
    assert report.updated == 2
    (conflict,) = report.conflicts
    assert (conflict.account_number, conflict.field) == (held.account_number, "monthly_price")
    assert (conflict.incoming, conflict.kept) == ("29.99", "24.99")
    assert "kept" in str(report) and held.account_number in str(report)
    stored = FieldConflict.objects.get()
    assert (stored.source, stored.field, stored.subscriber_id) == (
        "import",
        "monthly_price",
        held.pk,
    )


def test_an_import_of_the_desks_own_value_is_no_conflict():
    held = SubscriberFactory.create(monthly_price=D("29.99"))
    decided(held, "24.99")
    report = import_subscribers_csv(file=io.StringIO(f"{HEADER}\n{row(held, '24.99')}\n"))
    assert report.conflicts == []
    assert not FieldConflict.objects.exists()


def test_once_billing_answers_the_import_sets_the_field_again():
    held = SubscriberFactory.create(monthly_price=D("29.99"))
    event_row = decided(held, "24.99")
    assert outbound.holds_release(event=event_row, because=FieldHold.Released.APPLIED) == 1
    import_subscribers_csv(file=io.StringIO(f"{HEADER}\n{row(held, '27.00')}\n"))
    held.refresh_from_db()
    assert held.monthly_price == D("27.00")


def test_a_later_decision_replaces_the_earlier_hold():
    held = SubscriberFactory.create(monthly_price=D("29.99"))
    decided(held, "24.99")
    decided(held, "19.99")
    live = FieldHold.objects.get(released_at__isnull=True)
    assert live.value == "19.99"
    assert FieldHold.objects.filter(released_because="superseded").count() == 1


def test_a_payment_lowers_balance_and_arrears_once(api_client, subscriber):
    Subscriber.objects.filter(pk=subscriber.pk).update(balance=D("50.00"), arrears=D("20.00"))
    paid = event(7, data={"amount": "30.00"}, occurred_at="2026-11-30T09:00:00+02:00")
    assert post_events(api_client, [paid]).status_code == 200
    assert post_events(api_client, [paid]).json()["items"][0]["status"] == "duplicate"
    subscriber.refresh_from_db()
    assert (subscriber.balance, subscriber.arrears) == (D("20.00"), D("0.00"))


def test_a_price_change_sets_the_price_unless_a_newer_one_is_stored(api_client, subscriber):
    newer = event(
        1,
        kind="price_change",
        data={"from": "29.99", "to": "32.00"},
        occurred_at="2026-11-30T09:00:00+02:00",
    )
    late = event(
        2,
        kind="price_change",
        data={"from": "25.00", "to": "29.99"},
        occurred_at="2026-10-01T09:00:00+02:00",
    )
    post_events(api_client, [newer])
    post_events(api_client, [late])
    subscriber.refresh_from_db()
    assert subscriber.monthly_price == D("32.00")


def test_a_plan_change_sets_plan_and_price(api_client, subscriber):
    fast = PlanFactory.create(code="fibre-1000")
    change = event(
        3,
        kind="plan_change",
        data={"plan": "fibre-1000", "price": "39.99"},
        occurred_at="2026-11-30T09:00:00+02:00",
    )
    assert post_events(api_client, [change]).status_code == 200
    subscriber.refresh_from_db()
    assert (subscriber.plan_id, subscriber.monthly_price) == (fast.pk, D("39.99"))


def test_suspension_and_reactivation_set_the_status(api_client, subscriber):
    suspended = event(4, kind="suspended", data={}, occurred_at="2026-11-29T09:00:00+02:00")
    post_events(api_client, [suspended])
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.SUSPENDED
    back = event(5, kind="reactivated", data={}, occurred_at="2026-11-30T09:00:00+02:00")
    post_events(api_client, [back])
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE


def test_a_held_price_is_kept_and_the_answer_says_so(api_client, subscriber):
    decided(subscriber, "24.99")
    change = event(
        6,
        kind="price_change",
        data={"from": "24.99", "to": "29.99"},
        occurred_at="2026-11-30T09:00:00+02:00",
    )
    response = post_events(api_client, [change])
    assert response.status_code == 200
    assert response.json()["items"][0]["conflicts"] == ["monthly_price"]
    subscriber.refresh_from_db()
    assert subscriber.monthly_price == D("24.99")
    conflict = FieldConflict.objects.get()
    assert (conflict.source, conflict.incoming, conflict.kept) == ("billing", "29.99", "24.99")


@pytest.mark.parametrize(
    "data",
    [{"amount": "lots"}, {"amount": "1.234"}, {"amount": "NaN"}, {"amount": True}],
)
def test_a_payment_with_a_bad_amount_is_refused_and_changes_nothing(api_client, subscriber, data):
    before = Subscriber.objects.get(pk=subscriber.pk).balance
    response = post_events(api_client, [event(8, data=data)])
    assert response.status_code == 400
    assert response.json()["items"][0]["errors"][0]["field"] == "data.amount"
    assert Subscriber.objects.get(pk=subscriber.pk).balance == before


def test_a_plan_change_to_an_unknown_plan_is_refused(api_client, subscriber):
    change = event(9, kind="plan_change", data={"plan": "nope"})
    response = post_events(api_client, [change])
    assert response.status_code == 400
    assert response.json()["items"][0]["errors"][0]["field"] == "data.plan"


def test_signup_date_is_untouched_by_holds():
    # A file column the desk never holds is written as before.
    held = SubscriberFactory.create(monthly_price=D("29.99"), signup_date=date(2020, 1, 1))
    decided(held, "24.99")
    changed = row(held, "24.99").replace("2020-01-01", "2019-05-05")
    import_subscribers_csv(file=io.StringIO(f"{HEADER}\n{changed}\n"))
    held.refresh_from_db()
    assert held.signup_date == date(2019, 5, 5)
