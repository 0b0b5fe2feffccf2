"""Outreach at provider speed, end to end: real Celery worker processes sending a campaign to
the local provider sinks running in the test's process (SMS over https, e-mail over SMTP).

A worker killed with ``kill -9`` in the middle of a chunk has handed part of it to the provider
and marked none of it: after the sweep another worker sends those again under the same keys,
which the provider counts as duplicates of one delivery, not as new messages. Two workers
sending one campaign keep together to the channel's rate, kept in their shared Redis.
"""

import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Count

from retention.core.broker import enqueue
from retention.models import OutreachCampaign, OutreachMessage, User
from retention.outreach import services as outreach
from retention.outreach.services import OUTREACH_WORK
from retention.sinks import SmsSink, SmtpSink
from retention.sinks.tls import self_signed_certificate, server_context
from subscribers.models import TimelineEvent
from tests.retention.outreach.helpers import draft, subscribers_at_noon, unfinished
from tests.retention.workers import (
    Fleet,
    RedisServer,
    every_second,
    kill,
    publishing_to,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MState = OutreachMessage.State
SINK_TOKEN = "sink-token"
Sink = SmsSink | SmtpSink


@pytest.fixture
def fleet(redis_url: str, tmp_path: Path) -> Iterator[Fleet]:
    """Workers and beats on a Redis of this test's own (their broker, and the rate limit's
    buckets they share); all stopped by process id when the test ends."""
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        with publishing_to(server.url):
            started = Fleet(server, tmp_path)
            try:
                yield started
            finally:
                started.stop_all()
    finally:
        server.stop()


@pytest.fixture
def sms_provider(tmp_path: Path) -> Iterator[tuple[SmsSink, dict[str, str]]]:
    """The SMS sink over https, and the environment that points a worker's SMS at it and
    makes it trust the sink's certificate."""
    cert, key = self_signed_certificate(tmp_path)
    with SmsSink(ssl_context=server_context(cert, key), token=SINK_TOKEN) as sink:
        yield (
            sink,
            {
                "SMS_BACKEND": "http",
                "SMS_HTTP_URL": sink.url,
                "SMS_HTTP_TOKEN": SINK_TOKEN,
                "SSL_CERT_FILE": str(cert),
            },
        )


@pytest.fixture
def smtp_provider() -> Iterator[tuple[SmtpSink, dict[str, str]]]:
    with SmtpSink() as sink:
        yield (
            sink,
            {
                "EMAIL_BACKEND": "smtp",
                "EMAIL_HOST": sink.host,
                "EMAIL_PORT": str(sink.port),
            },
        )


def key_of(channel: str, pk: int) -> str:
    """A message's key as the provider sees it: the Idempotency-Key, or the Message-ID."""
    if channel == "sms":
        return f"outreach-{pk}"
    return f"<outreach-{pk}@{settings.DEFAULT_FROM_EMAIL.rsplit('@', 1)[-1]}>"


def campaign_to_all(manager: User, channel: str) -> OutreachCampaign:
    campaign = draft(manager, channel=channel, subject="Better terms for you")
    # Launched: the worker is asked for the work when this commits.
    return outreach.campaign_launch(campaign=campaign, actor=manager)


def contacts_per_subscriber(campaign: OutreachCampaign) -> dict[int, int]:
    contacts = (
        TimelineEvent.objects.filter(
            kind=TimelineEvent.Kind.CONTACT, data__direction="outbound", data__campaign=campaign.pk
        )
        .values("subscriber_id")
        .annotate(n=Count("pk"))
    )
    return {row["subscriber_id"]: row["n"] for row in contacts}


def ready(worker_log: Callable[[], str]) -> Callable[[], bool]:
    return lambda: " ready." in worker_log()


# --- A worker killed in the middle of a chunk ---------------------------------------------------

KILL_CAMPAIGN = 300
# Sixty messages a chunk through four lanes at 100 ms a message: a chunk is sent for about a
# second and a half before it is marked, long enough to be killed in the middle of it. The
# claim timeout only has to outlast one chunk of the new worker's.
KILL_ENV = {
    "OUTREACH_CHUNK": "60",
    "SEND_CONCURRENCY": "4",
    "OUTBOX_CLAIM_TIMEOUT_SECONDS": "5",
}


@pytest.mark.parametrize("channel", ["sms", "email"])
def test_a_worker_killed_mid_chunk_leaves_nothing_lost_and_the_resend_has_the_same_keys(
    request, fleet, manager, channel: str
):
    sink, sink_env = request.getfixturevalue(
        "sms_provider" if channel == "sms" else "smtp_provider"
    )
    sink.configure(latency_ms=100)
    env = {**KILL_ENV, **sink_env}
    worker_a = fleet.worker("worker-a", **env)
    subscribers = subscribers_at_noon(KILL_CAMPAIGN)
    campaign = campaign_to_all(manager, channel)
    messages = OutreachMessage.objects.filter(campaign=campaign)

    def received_unmarked() -> set[int]:
        """Messages the provider has, whose rows are still claimed: sent, not yet marked."""
        claimed = messages.filter(state=MState.SENDING).values_list("pk", flat=True)
        have = set(sink.keys)
        return {pk for pk in claimed if key_of(channel, pk) in have}

    # Mid-campaign (a chunk sent and marked already) and mid-chunk (the provider has some of
    # the chunk now claimed).
    wait_until(
        lambda: sink.unique >= 80 and bool(received_unmarked()),
        timeout=60,
        every=0.02,
        failure=lambda: f"the sink has {sink.unique} messages\n" + fleet.tails(),
    )
    kill(worker_a)
    left_claimed = set(messages.filter(state=MState.SENDING).values_list("pk", flat=True))
    had_before_the_kill = received_unmarked()
    assert had_before_the_kill, "the chunk was marked before the kill"
    assert messages.filter(state=MState.SENT).exists(), "killed in the first chunk"
    assert sink.unique < KILL_CAMPAIGN, "the campaign finished before the kill"

    # A new worker, and a beat whose outreach tick sweeps the dead worker's claims back once
    # they are older than the claim timeout and asks for the rest of the work.
    every_second("retention.tasks.outreach_tick")
    fleet.worker("worker-b", **env)
    fleet.beat("beat", **env)
    wait_until(
        lambda: unfinished(campaign) == 0,
        timeout=90,
        every=0.25,
        failure=lambda: (
            f"{unfinished(campaign)} messages not sent, the sink has {sink.unique}\n"
            + fleet.tails()
        ),
    )

    pks = set(messages.values_list("pk", flat=True))
    keys = sink.keys
    # Every message reached the provider under its own key, and no other key did.
    assert set(keys) == {key_of(channel, pk) for pk in pks}
    assert sink.unique == KILL_CAMPAIGN
    # The ones the dead worker had handed over were sent again, under the same key: the
    # provider saw them twice and delivered them once. Nothing else was sent twice.
    # (A request the dead worker had written whole may have reached the provider just after
    # the kill: the dead worker's claimed rows bound what may be twice, not the count.)
    twice = {key for key, n in keys.items() if n > 1}
    assert sink.duplicates == len(twice) > 0
    assert max(keys.values()) == 2
    assert {key_of(channel, pk) for pk in had_before_the_kill} <= twice
    assert twice <= {key_of(channel, pk) for pk in left_claimed}
    # Claimed again after the sweep: one more try each.
    assert set(messages.filter(pk__in=left_claimed).values_list("attempts", flat=True)) == {2}
    assert dict(Counter(messages.values_list("state", flat=True))) == {MState.SENT: KILL_CAMPAIGN}
    assert contacts_per_subscriber(campaign) == {s.pk: 1 for s in subscribers}
    print(
        f"\n{channel}: kill -9 with {len(left_claimed)} claimed, {len(had_before_the_kill)} of "
        f"them at the provider already; {sink.duplicates} duplicates dropped there"
    )


# --- The rate limit, kept by two workers together -----------------------------------------------

RATE = 20  # SMS a second
WINDOW = 60.0  # seconds
# More than the window can take, so sending never runs dry inside it.
RATE_CAMPAIGN = 1_400


def test_two_workers_sending_one_campaign_keep_together_to_the_channels_rate(
    fleet, manager, sms_provider
):
    sink, sink_env = sms_provider
    env = {**sink_env, "SEND_RATE_SMS": str(RATE)}
    workers = [fleet.worker(f"worker-{n}", **env) for n in (1, 2)]
    for worker in workers:
        wait_until(ready(worker.output), timeout=60, failure=worker.tail)
    subscribers_at_noon(RATE_CAMPAIGN)
    campaign = campaign_to_all(manager, "sms")
    # One outreach task per worker: the first creates the messages, then a second one is asked
    # for (each worker runs one task at a time and takes no second message while busy).
    wait_until(
        lambda: OutreachMessage.objects.filter(campaign=campaign).count() == RATE_CAMPAIGN,
        timeout=60,
        failure=fleet.tails,
    )
    assert enqueue(OUTREACH_WORK, campaign.pk)
    wait_until(lambda: bool(sink.arrivals), timeout=30, failure=fleet.tails)
    t0 = sink.arrivals[0]
    wait_until(lambda: time.monotonic() > t0 + WINDOW + 1, timeout=WINDOW + 30, failure=fleet.tails)
    fleet.stop_all()

    in_window = sum(1 for at in sink.arrivals if t0 <= at < t0 + WINDOW)
    # The bucket lets one second's worth go at once after a quiet spell (the burst: RATE - 1
    # slots beyond the steady ones; GCRA allows at most 1 + (WINDOW + burst time) * RATE in
    # any window, 1,220 here), then one every 1/RATE seconds. Arrivals lag their slots by the
    # send itself and a lane's wake-up: up to a second of that is allowed for on top. Fewer
    # than 90 % would be workers stalling, not the limit.
    steady = int(RATE * WINDOW)
    assert steady * 0.9 <= in_window <= steady + RATE + RATE, in_window
    # Both workers sent: each ran an outreach task of the campaign.
    for worker in workers:
        assert f"Task {OUTREACH_WORK}[" in worker.output(), worker.tail()
    # Nothing went wrong on the way: no message was retried or failed.
    sent = OutreachMessage.objects.filter(campaign=campaign, state=MState.SENT).count()
    assert sink.unique == sink.snapshot()["requests"] >= sent
    assert not OutreachMessage.objects.filter(
        campaign=campaign, state__in=[MState.FAILED, MState.DEFERRED]
    ).exists()
    print(f"\n{in_window} SMS in {WINDOW:.0f} s from two workers at {RATE}/s")
