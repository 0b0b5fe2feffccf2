"""Billing events delivered as Standard Webhooks (retention/billing/delivery.py): signed, fanned
out to the endpoints that want them, in order per subscriber, retried with a doubling wait for
three days, an endpoint that keeps failing disabled, and each event applied once although a
worker may die mid-send.

A real receiver answers on a port of its own (conftest.py); the clock is frozen and travelled.
"""

import json
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from retention.billing import delivery
from retention.billing.delivery import (
    Answer,
    deliveries_claim,
    deliveries_due,
    deliveries_fan_out,
    deliveries_work,
    delivery_record,
    retry_delay,
    webhook_send,
)
from retention.billing.services import delivery_redeliver, endpoint_enable
from retention.billing.tasks import billing_deliver, billing_tick
from retention.core.roles import Role
from retention.models import (
    DeliveryAttempt,
    EndpointHistory,
    EventDelivery,
    Notification,
    WebhookEndpoint,
)
from retention.models.billing import webhook_secret_new
from subscribers.models import OutboundEvent, Subscriber
from subscribers.outbound import DELIVER_TASK
from tests.factories import SubscriberFactory, user_with_role
from tests.retention.billing.conftest import NOW, SLOW, Type, processed, withdrawn, work_until
from tests.retention.workers import free_port
from tests.threads import run_at_once

pytestmark = pytest.mark.django_db

State = EventDelivery.State
SECOND = timedelta(seconds=1)
HOUR = timedelta(hours=1)


def delivery_of(event: OutboundEvent, endpoint: WebhookEndpoint) -> EventDelivery:
    return EventDelivery.objects.get(event=event, endpoint=endpoint)


@pytest.fixture
def people(db):
    """Who is told when billing cannot be reached: the admins, a superuser among them; not the
    agent, the manager, or an admin who left."""
    return {
        "admin": user_with_role(Role.ADMIN, username="ilze"),
        "superuser": user_with_role(username="root", is_staff=True, is_superuser=True),
        "agent": user_with_role(Role.AGENT, username="agent"),
        "manager": user_with_role(Role.MANAGER, username="manager"),
        "gone": user_with_role(Role.ADMIN, username="gone", is_active=False),
    }


def told(code: str) -> Counter[str]:
    return Counter(
        Notification.objects.filter(code=code).values_list("recipient__username", flat=True)
    )


# --- Signature --------------------------------------------------------------------------------


def test_a_delivery_is_signed_as_standard_webhooks_say_with_the_event_id_and_its_payload(
    receiver, endpoint
):
    event = withdrawn(SubscriberFactory.create())

    assert deliveries_work().delivered == 1

    (request,) = receiver.received
    # What a receiver does: verify the body it got with the headers it got.
    assert Webhook(endpoint.secret).verify(request.body, request.headers) == event.payload
    assert request.webhook_id == str(event.event_id) == event.payload["id"]
    assert request.payload == event.payload
    assert request.headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    assert request.headers["content-type"] == "application/json"
    sent = delivery_of(event, endpoint)
    assert (sent.state, sent.attempts, sent.delivered_at, sent.first_attempt_at) == (
        State.DELIVERED,
        1,
        NOW,
        NOW,
    )
    (attempt,) = sent.log.all()
    assert (attempt.succeeded, attempt.status_code, attempt.error, attempt.at) == (
        True,
        200,
        "",
        NOW,
    )
    assert attempt.response_excerpt == "received"


def test_a_receiver_with_another_secret_or_a_changed_body_rejects_the_request(receiver, endpoint):
    withdrawn(SubscriberFactory.create())
    deliveries_work()
    (request,) = receiver.received

    with pytest.raises(WebhookVerificationError):
        Webhook(webhook_secret_new()).verify(request.body, request.headers)
    changed = json.dumps({**request.payload, "type": "offer.accepted"}).encode()
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(changed, request.headers)


# --- Fan-out ----------------------------------------------------------------------------------


def test_only_the_endpoints_that_want_the_type_get_a_delivery(receiver):
    wants = WebhookEndpoint.objects.create(
        name="Withdrawals", url=receiver.url, event_types=[Type.CANCELLATION_WITHDRAWN]
    )
    other = WebhookEndpoint.objects.create(
        name="Cancellations", url=receiver.url, event_types=[Type.CANCELLATION_PROCESSED]
    )
    both = WebhookEndpoint.objects.create(
        name="Both",
        url=receiver.url,
        event_types=[Type.CANCELLATION_PROCESSED, Type.CANCELLATION_WITHDRAWN],
    )
    subscriber = SubscriberFactory.create()
    event = withdrawn(subscriber)
    cancelled = processed(subscriber)

    assert deliveries_fan_out() == 2
    assert deliveries_fan_out() == 0  # each event once
    assert set(EventDelivery.objects.values_list("event", "endpoint")) == {
        (event.pk, wants.pk),
        (event.pk, both.pk),
        (cancelled.pk, other.pk),
        (cancelled.pk, both.pk),
    }
    assert set(OutboundEvent.objects.values_list("fanned_out_at", flat=True)) == {NOW}


def test_an_endpoint_registered_after_the_event_gets_none_of_it(receiver, clock):
    withdrawn(SubscriberFactory.create())
    clock.shift(timedelta(minutes=1))
    WebhookEndpoint.objects.create(name="Late", url=receiver.url, event_types=list(Type.values))

    assert deliveries_work().claimed == 0
    assert not EventDelivery.objects.exists()
    assert receiver.received == []
    later = withdrawn(SubscriberFactory.create())  # one made after it was registered does go
    assert deliveries_work().delivered == 1
    assert receiver.ids == [str(later.event_id)]


def test_a_disabled_endpoint_keeps_its_deliveries_and_is_sent_them_when_enabled(
    receiver, endpoint, people, asked, django_capture_on_commit_callbacks
):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False)
    subscriber = SubscriberFactory.create()
    first, second = withdrawn(subscriber, case=1), withdrawn(subscriber, case=2)

    assert deliveries_work().claimed == 0
    assert not deliveries_due()
    assert receiver.received == []
    waiting = EventDelivery.objects.filter(endpoint=endpoint).order_by("event_id")
    assert [(d.event_id, d.state, d.attempts) for d in waiting] == [
        (first.pk, State.PENDING, 0),
        (second.pk, State.PENDING, 0),
    ]

    with django_capture_on_commit_callbacks(execute=True):
        endpoint_enable(endpoint=endpoint, actor=people["admin"])
    assert asked == [DELIVER_TASK]
    assert deliveries_work().delivered == 1
    assert deliveries_work().delivered == 1
    assert receiver.ids == [str(first.event_id), str(second.event_id)]


# --- Per-subscriber order ---------------------------------------------------------------------


def test_a_subscribers_later_event_is_not_claimed_while_the_first_is_retried_and_others_go_on(
    receiver, endpoint, clock
):
    a, b = SubscriberFactory.create_batch(2)
    a1, b1, a2, b2 = withdrawn(a, 1), withdrawn(b, 1), withdrawn(a, 2), withdrawn(b, 2)
    receiver.answers[str(a1.event_id)] = [500]

    deliveries_work()  # a1 fails, b1 goes
    deliveries_work()  # b2 goes; a2 waits for a1
    assert deliveries_work().claimed == 0
    assert receiver.ids == [str(e.event_id) for e in (a1, b1, b2)]
    retried = delivery_of(a1, endpoint)
    assert (retried.state, retried.attempts) == (State.PENDING, 1)
    held = delivery_of(a2, endpoint)
    assert (held.claim, held.first_attempt_at, held.attempts) == (None, None, 0)

    clock.move_to(retried.next_attempt_at - SECOND)  # a2 is long due, but a1 is not yet
    assert deliveries_claim() == []

    clock.move_to(retried.next_attempt_at)
    deliveries_work()  # a1 succeeds this time
    assert delivery_of(a2, endpoint).claim is None  # claimed only once a1 has arrived
    deliveries_work()
    assert receiver.ids[3:] == [str(a1.event_id), str(a2.event_id)]
    assert set(EventDelivery.objects.values_list("state", flat=True)) == {State.DELIVERED}


def test_a_failed_delivery_holds_the_subscribers_later_events_until_it_is_redelivered(
    receiver, endpoint, clock, people
):
    a, b = SubscriberFactory.create_batch(2)
    a1, a2 = withdrawn(a, 1), withdrawn(a, 2)
    receiver.answers[str(a1.event_id)] = 500

    work_until(clock, NOW + 80 * HOUR)
    assert delivery_of(a1, endpoint).state == State.FAILED
    b1 = withdrawn(b)  # another subscriber's event goes meanwhile
    work_until(clock, NOW + 90 * HOUR)
    assert delivery_of(b1, endpoint).state == State.DELIVERED
    held = delivery_of(a2, endpoint)
    assert (held.state, held.claim, held.attempts) == (State.PENDING, None, 0)
    assert str(a2.event_id) not in receiver.ids

    del receiver.answers[str(a1.event_id)]  # billing fixed its end
    delivery_redeliver(delivery=delivery_of(a1, endpoint), actor=people["admin"])
    work_until(clock, NOW + 91 * HOUR)
    assert [i for i in receiver.ids if i != str(b1.event_id)][-2:] == [
        str(a1.event_id),
        str(a2.event_id),
    ]
    assert delivery_of(a2, endpoint).state == State.DELIVERED


def test_each_subscriber_receives_their_events_in_the_order_of_their_ids(receiver, endpoint, clock):
    subscribers = SubscriberFactory.create_batch(3)
    events = [withdrawn(s, case) for case in range(1, 5) for s in subscribers]
    # Each subscriber's second event is refused twice before it is taken.
    for s in subscribers:
        second = [e for e in events if e.subscriber_id == s.pk][1]
        receiver.answers[str(second.event_id)] = [500, 503]

    work_until(clock, NOW + HOUR)

    assert set(EventDelivery.objects.values_list("state", flat=True)) == {State.DELIVERED}
    by_id = {str(e.event_id): e for e in events}
    for s in subscribers:
        seen = [by_id[i].pk for i in receiver.ids if by_id[i].subscriber_id == s.pk]
        ids = sorted(e.pk for e in events if e.subscriber_id == s.pk)
        assert seen == [ids[0], ids[1], ids[1], ids[1], ids[2], ids[3]]


# --- Retries ----------------------------------------------------------------------------------


@pytest.fixture(params=["500", "timeout", "refused"])
def failing(request, receiver, endpoint, settings):
    """The endpoint failing one way; what its attempts log."""
    if request.param == "500":
        receiver.status = 500
        return {"status_code": 500, "error": "", "excerpt": "<b>down</b> for maintenance"}
    if request.param == "timeout":
        settings.BILLING_READ_TIMEOUT = 0.3
        receiver.status = SLOW
        return {"status_code": None, "error": "timeout", "excerpt": "", "at_least_ms": 300}
    endpoint.url = f"http://127.0.0.1:{free_port()}/billing/events"  # nobody listens
    endpoint.save()
    return {"status_code": None, "error": "ConnectError", "excerpt": ""}


def test_a_failure_is_logged_and_tried_again_only_after_a_doubling_wait(
    failing, receiver, endpoint, clock
):
    event = withdrawn(SubscriberFactory.create())
    tried_at = NOW
    for attempts, wait in enumerate((30, 60, 120), start=1):
        assert deliveries_work().claimed == 1

        retried = delivery_of(event, endpoint)
        attempt = retried.log.latest("id")
        assert (attempt.at, attempt.succeeded, attempt.status_code) == (
            tried_at,
            False,
            failing["status_code"],
        )
        assert attempt.error.startswith(failing["error"])
        assert attempt.response_excerpt == failing["excerpt"]
        assert failing.get("at_least_ms", 0) <= attempt.latency_ms < 5000
        assert (retried.state, retried.attempts, retried.first_attempt_at) == (
            State.PENDING,
            attempts,
            NOW,
        )
        assert (retried.claim, retried.leased_until) == (None, None)
        waited = retried.next_attempt_at - tried_at
        assert timedelta(seconds=wait / 2) <= waited <= timedelta(seconds=wait)

        clock.move_to(retried.next_attempt_at - SECOND)
        assert deliveries_work().claimed == 0  # not before it is due
        tried_at = retried.next_attempt_at
        clock.move_to(tried_at)

    assert DeliveryAttempt.objects.count() == 3
    if failing["error"] != "ConnectError":
        assert receiver.ids == [str(event.event_id)] * 3


def test_the_wait_doubles_from_thirty_seconds_to_six_hours_less_up_to_half_at_random(
    monkeypatch,
):
    waits = [30, 60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600, 21600]
    for attempts, wait in enumerate(waits, start=1):
        for _ in range(20):
            assert wait / 2 <= retry_delay(attempts).total_seconds() <= wait
    monkeypatch.setattr(delivery.random, "uniform", lambda low, high: low)
    assert [retry_delay(n).total_seconds() for n in (1, 2, 11, 40)] == [15, 30, 10800, 10800]
    monkeypatch.setattr(delivery.random, "uniform", lambda low, high: high)
    assert [retry_delay(n).total_seconds() for n in (1, 2, 11, 40)] == [30, 60, 21600, 21600]


def test_after_seventy_two_hours_of_failures_the_delivery_fails_and_each_admin_is_told_once(
    receiver, endpoint, clock, people
):
    receiver.status = 500
    event = withdrawn(SubscriberFactory.create())

    work_until(clock, NOW + 72 * HOUR - SECOND)
    still = delivery_of(event, endpoint)
    assert still.state == State.PENDING
    assert not Notification.objects.exists()

    work_until(clock, NOW + 79 * HOUR)  # the next try comes within six hours

    failed = delivery_of(event, endpoint)
    last, before = failed.log.order_by("-at")[:2]
    assert before.at < NOW + 72 * HOUR <= last.at
    assert (failed.state, failed.attempts) == (State.FAILED, failed.log.count())
    assert failed.attempts > 15
    assert told("billing.delivery_failed") == {"ilze": 1, "root": 1}
    note = Notification.objects.filter(code="billing.delivery_failed").first()
    assert note is not None
    assert note.url == reverse("admin:retention_eventdelivery_change", args=[failed.pk])
    assert note.params == {
        "event": str(event.event_id),
        "type": Type.CANCELLATION_WITHDRAWN,
        "endpoint": "Billing",
        "attempts": failed.attempts,
        "reason": "HTTP 500",
    }

    tries = len(receiver.received)
    work_until(clock, NOW + 100 * HOUR)
    assert len(receiver.received) == tries  # no more tries, and nobody told twice
    assert told("billing.delivery_failed") == {"ilze": 1, "root": 1}


# --- Disabling an endpoint that keeps failing -------------------------------------------------


def test_an_endpoint_failing_without_a_break_for_five_days_is_disabled_and_admins_are_told(
    receiver, endpoint, clock, people
):
    receiver.status = 500
    withdrawn(SubscriberFactory.create())
    work_until(clock, NOW + 60 * HOUR)
    withdrawn(SubscriberFactory.create())  # retried to 132 h, failing all the way

    work_until(clock, NOW + 120 * HOUR - SECOND)
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.failing_since) == (True, NOW)
    assert not EndpointHistory.objects.exists()

    work_until(clock, NOW + 127 * HOUR)

    endpoint.refresh_from_db()
    assert not endpoint.enabled
    (disabled,) = EndpointHistory.objects.all()
    assert (disabled.action, disabled.actor, disabled.code) == (
        EndpointHistory.Action.DISABLED,
        None,
        "billing.endpoint_disabled",
    )
    assert disabled.params == {"endpoint": "Billing", "since": NOW.isoformat()}
    assert disabled.at >= NOW + 120 * HOUR
    assert told("billing.endpoint_disabled") == {"ilze": 1, "root": 1}

    tries = len(receiver.received)
    work_until(clock, NOW + 200 * HOUR)
    assert len(receiver.received) == tries  # nothing is sent to a disabled endpoint
    assert EventDelivery.objects.filter(state=State.PENDING).count() == 1  # its event waits


def test_a_success_in_between_starts_the_failing_time_again(receiver, endpoint, clock, people):
    receiver.status = 500
    withdrawn(SubscriberFactory.create())
    deliveries_work()
    endpoint.refresh_from_db()
    assert endpoint.failing_since == NOW

    clock.move_to(NOW + 60 * HOUR)
    ok = withdrawn(SubscriberFactory.create())
    receiver.answers[str(ok.event_id)] = 200
    while deliveries_work().claimed:  # the success, and the due retry of the first
        pass
    assert delivery_of(ok, endpoint).state == State.DELIVERED

    # From 100 h the first event fails for good, and a new one fails to 172 h: more than
    # 120 h after the first failure, but not after the success.
    clock.move_to(NOW + 100 * HOUR)
    withdrawn(SubscriberFactory.create())
    work_until(clock, NOW + 180 * HOUR)

    endpoint.refresh_from_db()
    assert endpoint.enabled
    assert endpoint.failing_since == NOW + 100 * HOUR
    assert not EndpointHistory.objects.exists()
    assert told("billing.endpoint_disabled") == {}


# --- A worker that dies mid-send --------------------------------------------------------------


def test_a_delivery_whose_worker_died_is_sent_again_after_the_lease_and_delivered_once(
    receiver, endpoint, clock, settings
):
    event = withdrawn(SubscriberFactory.create())
    deliveries_fan_out()
    (claimed,) = deliveries_claim()
    dead = EventDelivery.objects.get(pk=claimed)
    assert dead.claim is not None
    assert dead.leased_until == NOW + timedelta(seconds=settings.BILLING_LEASE_SECONDS)
    # The worker sends, and dies before it records the answer.
    assert webhook_send(endpoint, event, at=NOW).succeeded

    clock.move_to(dead.leased_until - SECOND)
    assert deliveries_claim() == []
    assert deliveries_work().claimed == 0

    clock.move_to(dead.leased_until + SECOND)
    assert deliveries_work().delivered == 1

    assert receiver.ids == [str(event.event_id)] * 2  # the receiver drops the repeat by its id
    sent = delivery_of(event, endpoint)
    assert (sent.state, sent.attempts, sent.first_attempt_at) == (State.DELIVERED, 1, NOW)
    assert list(sent.log.values_list("succeeded", flat=True)) == [True]
    assert deliveries_work().claimed == 0

    # The dead worker's answer, recorded late, is logged and changes nothing.
    late = Answer(status_code=200, error="", latency_ms=40, excerpt="received")
    assert delivery_record(delivery_id=sent.pk, claim=dead.claim, at=NOW, answer=late) == (
        State.DELIVERED
    )
    again = delivery_of(event, endpoint)
    assert (again.state, again.attempts, again.delivered_at) == (
        State.DELIVERED,
        1,
        sent.delivered_at,
    )
    assert again.log.count() == 2


def test_a_late_record_of_a_claim_taken_over_is_logged_and_leaves_the_delivery_to_its_holder(
    receiver, endpoint, clock, settings
):
    event = withdrawn(SubscriberFactory.create())
    deliveries_fan_out()
    (claimed,) = deliveries_claim()
    old_claim = EventDelivery.objects.get(pk=claimed).claim
    assert old_claim is not None
    clock.shift(timedelta(seconds=settings.BILLING_LEASE_SECONDS + 1))
    assert deliveries_claim() == [claimed]
    holder = delivery_of(event, endpoint)
    assert holder.claim not in (None, old_claim)

    failed = Answer(status_code=None, error="timeout", latency_ms=10_000, excerpt="")
    assert (
        delivery_record(delivery_id=claimed, claim=old_claim, at=NOW, answer=failed)
        == State.PENDING
    )
    after = delivery_of(event, endpoint)
    assert (after.claim, after.leased_until, after.attempts, after.next_attempt_at) == (
        holder.claim,
        holder.leased_until,
        0,
        holder.next_attempt_at,
    )
    assert after.log.count() == 1
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None  # a stale answer says nothing of the endpoint now

    ok = Answer(status_code=204, error="", latency_ms=12, excerpt="")
    assert holder.claim is not None
    assert delivery_record(delivery_id=claimed, claim=holder.claim, at=NOW, answer=ok) == (
        State.DELIVERED
    )


# --- Workers claiming at once -----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_workers_claiming_at_once_never_share_a_delivery_or_a_subscriber():
    endpoints = [
        WebhookEndpoint.objects.create(
            name=name, url="http://127.0.0.1:9/hook", event_types=list(Type.values)
        )
        for name in ("Billing", "Ledger")
    ]
    subscribers = SubscriberFactory.create_batch(10)
    for case in (1, 2):
        for s in subscribers:
            withdrawn(s, case)
    deliveries_fan_out()
    assert EventDelivery.objects.count() == 40
    claims: list[list[int]] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(20):  # enough for all 20 claimable, in threes; bounded should leases fail
            ids = deliveries_claim(limit=3)
            if not ids:
                return
            with lock:
                claims.append(ids)

    assert run_at_once(*[worker] * 4) == []

    claimed = [pk for ids in claims for pk in ids]
    assert len(claimed) == len(set(claimed))  # no delivery claimed twice
    pairs = list(EventDelivery.objects.filter(pk__in=claimed).values_list("endpoint", "subscriber"))
    assert len(pairs) == len(set(pairs)) == 20  # one per subscriber and endpoint, each one
    earliest = {
        min(EventDelivery.objects.filter(endpoint=e, subscriber=s).values_list("pk", flat=True))
        for e in endpoints
        for s in subscribers
    }
    assert set(claimed) == earliest
    assert all(len(ids) <= 3 for ids in claims)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_later_event_waits_while_another_worker_is_still_fanning_out_the_earlier_one(receiver):
    WebhookEndpoint.objects.create(name="Billing", url=receiver.url, event_types=list(Type.values))
    subscriber = SubscriberFactory.create()
    first = withdrawn(subscriber, 1)
    fanned, go_on = threading.Event(), threading.Event()

    def other_worker() -> None:
        try:
            with transaction.atomic():  # its fan-out has the first event, not yet committed
                deliveries_fan_out()
                fanned.set()
                go_on.wait(30)
        finally:
            connection.close()

    worker = threading.Thread(target=other_worker)
    worker.start()
    try:
        assert fanned.wait(30)
        second = withdrawn(subscriber, 2)
        deliveries_work()  # fans out the second event, but must not send it before the first
    finally:
        go_on.set()
        worker.join(30)
    while deliveries_work().claimed:
        pass

    assert receiver.ids == [str(first.event_id), str(second.event_id)]


# --- The tick and the task --------------------------------------------------------------------


def test_the_tick_asks_for_delivery_only_when_something_is_due(
    receiver, endpoint, clock, asked, settings
):
    billing_tick()
    assert asked == []  # nothing at all

    event = withdrawn(SubscriberFactory.create())
    billing_tick()
    assert asked == [DELIVER_TASK]  # an event not fanned out yet (its message was lost)

    receiver.status = 500
    deliveries_work()
    later = withdrawn(Subscriber.objects.get(pk=event.subscriber_id))
    deliveries_fan_out()
    asked.clear()
    billing_tick()
    # Its retry is not due yet, and the subscriber's later event waits behind it.
    assert asked == []
    assert delivery_of(later, endpoint).next_attempt_at <= timezone.now()

    clock.move_to(delivery_of(event, endpoint).next_attempt_at)
    billing_tick()
    assert asked == [DELIVER_TASK]

    # A worker holds it now (its lease runs): nothing more for another worker to claim.
    assert deliveries_claim() == [delivery_of(event, endpoint).pk]
    asked.clear()
    billing_tick()
    assert asked == []
    clock.move_to(timezone.now() + timedelta(seconds=settings.BILLING_LEASE_SECONDS + 1))
    billing_tick()
    assert asked == [DELIVER_TASK]  # the worker died: the lease ran out

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False)
    asked.clear()
    billing_tick()
    assert asked == []  # due, but to a disabled endpoint


def test_the_deliver_task_delivers_everything_due_in_chunks(receiver, endpoint, settings, asked):
    settings.BILLING_CHUNK = 4
    subscribers = SubscriberFactory.create_batch(5)
    for case in (1, 2):
        for s in subscribers:
            withdrawn(s, case)

    billing_deliver()

    assert EventDelivery.objects.filter(state=State.DELIVERED).count() == 10
    assert len(receiver.received) == 10
    assert asked == []  # done within its slice: nothing handed on
