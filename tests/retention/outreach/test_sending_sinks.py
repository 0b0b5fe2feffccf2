"""Outreach sending to the local provider sinks over real sockets (an SMTP server, an https SMS
API): what becomes of each message when the provider throttles, drops the connection or
refuses, and that in the end every message reaches it exactly once, by its key.

``outreach_send`` runs in the test's process; the clock stands at Tuesday 2026-12-01 10:00 UTC
(12:00 in Riga) and is travelled to the due times. The sinks count what they received by key
(an SMS's Idempotency-Key, an e-mail's Message-ID): a lost message is a key missing there, a
resend under a new key is a key too many, and a resend under the same key is a duplicate the
provider drops.
"""

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import redis
import time_machine
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from retention.core import ratelimit
from retention.core.ratelimit import KEY, Bucket, RedisBucket, channel_rate
from retention.models import OutreachCampaign, OutreachMessage, User
from retention.notifications.services import CLAIM_TIMEOUT
from retention.outreach import services
from retention.outreach.audience import campaign_fan_out
from retention.outreach.sending import SendResult, outreach_send, outreach_sweep, retry_wait
from retention.sinks import SmsSink, SmtpSink
from subscribers.models import TimelineEvent
from tests.factories import PlanFactory, SubscriberFactory
from tests.retention.outreach.helpers import NOW, draft
from tests.retention.workers import wait_until

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "no_broker")]

MState = OutreachMessage.State
Sink = SmsSink | SmtpSink


@pytest.fixture(autouse=True)
def sending(settings) -> None:
    settings.SEND_RATES = {"email": 0, "sms": 0}
    settings.SEND_RETRY_BASE = 30
    settings.SEND_MAX_ATTEMPTS = 6
    settings.SEND_LONGEST_WAIT = 10


@pytest.fixture(autouse=True)
def own_buckets(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> Iterator[None]:
    """The channels' shared buckets in Redis, as in production, under keys of this test's own:
    a provider's Retry-After held here holds no other test back. Only these keys are deleted."""
    client = redis.Redis.from_url(redis_url)
    prefix = f"test-{uuid.uuid4().hex}"

    def bucket_for(channel: str) -> Bucket:
        return RedisBucket(f"{prefix}-{channel}", channel_rate(channel), client)

    monkeypatch.setattr(ratelimit, "bucket_for", bucket_for)
    yield
    client.delete(*(KEY.format(channel=f"{prefix}-{channel}") for channel in ("email", "sms")))
    client.close()


def campaign_of(manager: User, channel: str, count: int, **subscriber: Any) -> OutreachCampaign:
    """A running campaign with one pending message to each of ``count`` new subscribers."""
    plan = PlanFactory.create()
    SubscriberFactory.create_batch(count, plan=plan, **subscriber)
    campaign = draft(manager, channel=channel, subject="Better terms for you")
    services.campaign_launch(campaign=campaign, actor=manager)
    campaign_fan_out(campaign=campaign)
    assert OutreachMessage.objects.filter(campaign=campaign).count() == count
    return campaign


def sink_for(request: pytest.FixtureRequest, channel: str) -> Sink:
    sink: Sink = request.getfixturevalue("sms_to_sink" if channel == "sms" else "email_to_sink")
    return sink


def key_of(channel: str, pk: int) -> str:
    """A message's key as the provider sees it: the Idempotency-Key, or the Message-ID."""
    if channel == "sms":
        return f"outreach-{pk}"
    domain = django_settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1]
    return f"<outreach-{pk}@{domain}>"


def messages(campaign: OutreachCampaign):
    return OutreachMessage.objects.filter(campaign=campaign).order_by("pk")


def states(campaign: OutreachCampaign) -> dict[str, int]:
    return dict(Counter(messages(campaign).values_list("state", flat=True)))


def contacts_per_message(campaign: OutreachCampaign) -> dict[int, int]:
    """Outbound contacts the campaign wrote on the timelines, by the message they say."""
    events = TimelineEvent.objects.filter(
        kind=TimelineEvent.Kind.CONTACT, data__direction="outbound", data__campaign=campaign.pk
    )
    return dict(Counter(data["message"] for data in events.values_list("data", flat=True)))


def unfinished(campaign: OutreachCampaign):
    return messages(campaign).filter(state__in=[MState.PENDING, MState.DEFERRED, MState.SENDING])


def send_until_done(
    campaign: OutreachCampaign, clock: time_machine.Traveller, *, rounds: int = 8
) -> int:
    """Send, then travel to the earliest due time of what was deferred and send again, until
    nothing is left; the rounds it took."""
    for done in range(1, rounds + 1):
        outreach_send(campaign_id=campaign.pk)
        earliest: datetime | None = (
            unfinished(campaign).order_by("due_at").values_list("due_at", flat=True).first()
        )
        if earliest is None:
            return done
        clock.move_to(max(earliest, timezone.now()))
    raise AssertionError(f"after {rounds} rounds still unfinished: {states(campaign)}")


def assert_each_delivered_once(campaign: OutreachCampaign, sink: Sink, channel: str) -> None:
    """Every message reached the provider under its own key, and no other key did; every row
    is sent, with exactly one contact on its subscriber's timeline."""
    pks = list(messages(campaign).values_list("pk", flat=True))
    assert set(sink.keys) == {key_of(channel, pk) for pk in pks}
    assert sink.unique == len(pks)
    assert states(campaign) == {MState.SENT: len(pks)}
    assert contacts_per_message(campaign) == dict.fromkeys(pks, 1)


# --- The backoff ----------------------------------------------------------------------------


def test_a_retry_waits_the_base_doubling_with_each_try(settings):
    settings.SEND_RETRY_BASE = 30

    waits = [retry_wait(attempts=n, retry_after=None) for n in (1, 2, 3, 4)]

    assert waits == [timedelta(seconds=s) for s in (30, 60, 120, 240)]


def test_a_retry_waits_the_providers_retry_after_when_that_is_longer(settings):
    settings.SEND_RETRY_BASE = 30

    assert retry_wait(attempts=1, retry_after=90) == timedelta(seconds=90)
    assert retry_wait(attempts=1, retry_after=2) == timedelta(seconds=30)
    assert retry_wait(attempts=3, retry_after=90) == timedelta(seconds=120)


def test_a_retry_never_waits_more_than_an_hour(settings):
    settings.SEND_RETRY_BASE = 30

    assert retry_wait(attempts=20, retry_after=None) == timedelta(hours=1)
    assert retry_wait(attempts=1, retry_after=86_400) == timedelta(hours=1)


# --- 429 and Retry-After --------------------------------------------------------------------


def test_messages_a_provider_throttles_wait_for_its_retry_after_then_go_once_each(
    request, manager, clock, settings
):
    # Our own backoff is shorter than the provider's Retry-After: the wait must be the latter.
    settings.SEND_RETRY_BASE = 1
    sink = sink_for(request, "sms")
    assert isinstance(sink, SmsSink)
    campaign = campaign_of(manager, "sms", 30)
    sink.throttle(requests=5, retry_after=2)

    result = outreach_send(campaign_id=campaign.pk)

    assert (result.sent, result.deferred, result.failed) == (25, 5, 0)
    throttled = messages(campaign).filter(state=MState.DEFERRED)
    assert {(m.due_at, m.attempts, m.error) for m in throttled} == {
        (NOW + timedelta(seconds=2), 1, "sms_busy 429 rate limited")
    }
    assert sink.snapshot()["throttled"] == 5
    throttled_pks = set(throttled.values_list("pk", flat=True))
    # Not a moment before the provider said.
    clock.move_to(NOW + timedelta(seconds=1.9))
    assert outreach_send(campaign_id=campaign.pk).claimed == 0

    clock.move_to(NOW + timedelta(seconds=2))
    assert outreach_send(campaign_id=campaign.pk).sent == 5

    assert_each_delivered_once(campaign, sink, "sms")
    assert sink.duplicates == 0
    assert set(messages(campaign).filter(attempts=2).values_list("pk", flat=True)) == throttled_pks


# --- Dropped connections --------------------------------------------------------------------


@pytest.mark.parametrize(
    "after_receiving", [False, True], ids=["dropped-unread", "dropped-after-receiving"]
)
@pytest.mark.parametrize("channel", ["sms", "email"])
def test_a_provider_dropping_connections_loses_no_message_and_a_resend_has_the_same_key(
    request, manager, clock, channel: str, after_receiving: bool
):
    sink = sink_for(request, channel)
    sink.configure(drop_every=4, drop_after_receiving=after_receiving)
    campaign = campaign_of(manager, channel, 24)

    send_until_done(campaign, clock)

    dropped = sink.snapshot()["dropped"]
    assert dropped >= 24 // 4
    assert_each_delivered_once(campaign, sink, channel)
    if after_receiving:
        # Each dropped message had reached the provider, and was sent again under its own key:
        # one duplicate per drop, and not one key more.
        assert sink.duplicates == dropped
    else:
        assert sink.duplicates == 0


# --- Refusals, temporary and for good -------------------------------------------------------

TEMPORARY: dict[str, tuple[dict[str, Any], str]] = {
    "email": ({"error_rate": 1.0, "error_kind": "temporary"}, "smtp_deferred 451 4.3.0 Temporary"),
    "sms": ({"error_rate": 1.0}, "sms_error 500 provider failure (sink)"),
}


@pytest.mark.parametrize("channel", ["email", "sms"], ids=["smtp-451", "sms-500"])
def test_a_temporary_refusal_defers_with_a_doubling_wait_then_sends_when_the_provider_recovers(
    request, manager, clock, channel: str
):
    sink = sink_for(request, channel)
    refusal, reason = TEMPORARY[channel]
    sink.configure(**refusal)
    campaign = campaign_of(manager, channel, 3)

    assert outreach_send(campaign_id=campaign.pk).deferred == 3
    first_due = NOW + timedelta(seconds=30)
    assert {(m.state, m.due_at, m.attempts) for m in messages(campaign)} == {
        (MState.DEFERRED, first_due, 1)
    }
    assert all(m.error.startswith(reason) for m in messages(campaign))
    clock.move_to(first_due)
    assert outreach_send(campaign_id=campaign.pk).deferred == 3
    second_due = first_due + timedelta(seconds=60)
    assert set(messages(campaign).values_list("due_at", "attempts")) == {(second_due, 2)}

    sink.configure(error_rate=0.0)
    clock.move_to(second_due - timedelta(seconds=1))
    assert outreach_send(campaign_id=campaign.pk).claimed == 0
    clock.move_to(second_due)
    assert outreach_send(campaign_id=campaign.pk).sent == 3

    assert_each_delivered_once(campaign, sink, channel)
    assert set(messages(campaign).values_list("attempts", "error")) == {(3, "")}


@pytest.mark.parametrize("channel", ["email", "sms"], ids=["smtp-550", "sms-400"])
def test_a_refusal_for_good_fails_the_message_with_the_providers_reason_and_is_never_retried(
    request, manager, clock, channel: str
):
    sink = sink_for(request, channel)
    campaign = campaign_of(manager, channel, 3)
    if isinstance(sink, SmtpSink):
        sink.configure(error_rate=1.0, error_kind="permanent")
        reason = "smtp_refused 550 5.1.1 Mailbox unavailable (sink)"
    else:
        phones = messages(campaign).values_list("subscriber__phone", flat=True)
        sink.configure(refused_numbers=set(phones))
        reason = "sms_refused 400 invalid number"

    assert outreach_send(campaign_id=campaign.pk).failed == 3

    assert set(messages(campaign).values_list("state", "error", "attempts")) == {
        (MState.FAILED, reason, 1)
    }
    tried = sink.snapshot()["messages" if channel == "email" else "requests"]
    assert tried == 3
    clock.move_to(NOW + timedelta(hours=2))
    assert outreach_send(campaign_id=campaign.pk).claimed == 0
    assert sink.snapshot()["messages" if channel == "email" else "requests"] == tried
    assert sink.unique == 0
    assert contacts_per_message(campaign) == {}


def test_a_wrong_sms_token_defers_the_campaign_instead_of_failing_it_and_a_right_one_sends(
    request, manager, clock, settings
):
    sink = sink_for(request, "sms")
    right = settings.SMS_HTTP_TOKEN
    settings.SMS_HTTP_TOKEN = "expired-token"
    campaign = campaign_of(manager, "sms", 3)

    assert outreach_send(campaign_id=campaign.pk).deferred == 3

    # The credentials, not the messages: they wait, with what the provider said.
    assert {(m.state, m.error) for m in messages(campaign)} == {
        (MState.DEFERRED, "sms_credentials 401 bad token")
    }
    settings.SMS_HTTP_TOKEN = right
    clock.move_to(NOW + timedelta(seconds=30))
    assert outreach_send(campaign_id=campaign.pk).sent == 3
    assert_each_delivered_once(campaign, sink, "sms")


@pytest.mark.parametrize("channel", ["email", "sms"])
def test_a_message_still_refused_after_the_last_try_fails_with_the_reason_and_the_tries(
    request, manager, clock, settings, channel: str
):
    settings.SEND_MAX_ATTEMPTS = 3
    sink = sink_for(request, channel)
    refusal, reason = TEMPORARY[channel]
    sink.configure(**refusal)
    campaign = campaign_of(manager, channel, 2)

    assert send_until_done(campaign, clock) == 3

    # Failed with the provider's last answer; the row keeps how many tries it had.
    failed = list(messages(campaign))
    assert {(m.state, m.attempts) for m in failed} == {(MState.FAILED, 3)}
    assert all(m.error.startswith(reason) for m in failed)
    tried = sink.snapshot()["messages" if channel == "email" else "requests"]
    assert tried == 2 * 3
    clock.move_to(NOW + timedelta(hours=2))
    assert outreach_send(campaign_id=campaign.pk).claimed == 0
    assert sink.unique == 0


def test_a_message_the_contact_policy_held_back_has_used_none_of_its_tries(
    request, manager, clock, settings
):
    settings.SEND_MAX_ATTEMPTS = 2
    sink = sink_for(request, "sms")
    sink.configure(error_rate=1.0)
    campaign = campaign_of(manager, "sms", 1, time_zone="America/New_York")  # 05:00 there

    assert outreach_send(campaign_id=campaign.pk).deferred == 1  # quiet hours: not sent
    message = messages(campaign).get()
    assert (message.attempts, sink.snapshot()["requests"]) == (0, 0)
    clock.move_to(message.due_at)
    assert outreach_send(campaign_id=campaign.pk).deferred == 1  # the provider's first 500

    retried = messages(campaign).get()
    assert (retried.attempts, retried.due_at) == (1, message.due_at + timedelta(seconds=30))
    sink.configure(error_rate=0.0)
    clock.move_to(retried.due_at)
    assert outreach_send(campaign_id=campaign.pk).sent == 1
    assert_each_delivered_once(campaign, sink, "sms")


# --- A chunk that outlives its claim --------------------------------------------------------


def worker(send: Callable[[], SendResult], results: list[SendResult]) -> threading.Thread:
    """``send`` in a thread of its own (a worker), its result noted in ``results``."""

    def run() -> None:
        try:
            results.append(send())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_a_chunk_that_outlived_its_claim_leaves_the_row_to_the_worker_that_claimed_it_next(
    request, manager
):
    sink = sink_for(request, "sms")
    campaign = campaign_of(manager, "sms", 1)
    message = messages(campaign).get()
    # Worker A's try: the provider will refuse it, two seconds after it arrives.
    sink.configure(error_rate=1.0, latency_ms=2000)
    a_results: list[SendResult] = []
    worker_a = worker(lambda: outreach_send(campaign_id=campaign.pk, now=NOW), a_results)
    wait_until(
        lambda: sink.snapshot()["requests"] == 1, timeout=10, failure=lambda: str(sink.snapshot())
    )

    # Long after, as far as the claim goes: the sweep takes the row back, and worker B claims
    # it and sends it again; the provider takes it this time, five seconds after it arrives.
    sink.configure(error_rate=0.0, latency_ms=5000)
    later = NOW + CLAIM_TIMEOUT + timedelta(minutes=1)
    assert outreach_sweep(now=later) == 1
    b_results: list[SendResult] = []
    worker_b = worker(lambda: outreach_send(campaign_id=campaign.pk, now=later), b_results)
    wait_until(
        lambda: sink.snapshot()["requests"] == 2, timeout=10, failure=lambda: str(sink.snapshot())
    )
    assert worker_a.is_alive(), "worker A marked its chunk before worker B claimed the row"
    for thread in (worker_a, worker_b):
        thread.join(timeout=30)
        assert not thread.is_alive()

    # A heard "500, try later", but the row was B's by then: B's "sent" is what it says.
    assert ([r.deferred for r in a_results], [r.sent for r in b_results]) == ([1], [1])
    sent = messages(campaign).get()
    assert (sent.state, sent.sent_at, sent.attempts, sent.error) == (MState.SENT, later, 2, "")
    assert contacts_per_message(campaign) == {message.pk: 1}
    assert sink.keys == {key_of("sms", message.pk): 1}
