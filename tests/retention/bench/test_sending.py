"""The bench's sending figure: worker processes send a campaign's messages to the local sinks,
and a run counts only when the sink received exactly the messages the workers marked sent."""

from collections.abc import Iterator
from datetime import datetime

import pytest
from django.utils import timezone

from retention.bench.outreach import outreach_moment
from retention.bench.report import render
from retention.bench.results import Results
from retention.bench.scale import SCALES
from retention.bench.sending import (
    Sinks,
    bench_sinks,
    run_plan,
    run_workers,
    send_run,
    with_ratios,
)
from retention.models import OutreachCampaign, OutreachMessage
from retention.outreach.audience import campaign_fan_out
from subscribers.models import Subscriber
from tests.factories import SubscriberFactory
from tests.retention.outreach.helpers import draft

MState = OutreachMessage.State


@pytest.fixture
def sinks() -> Iterator[Sinks]:
    with bench_sinks() as running:
        yield running


def running_campaign(manager, subscribers: int) -> tuple[OutreachCampaign, datetime]:
    """A campaign fanned out over ``subscribers`` new subscribers, running at the bench's
    moment (a Tuesday at 10:00 UTC, inside every subscriber's allowed hours)."""
    SubscriberFactory.create_batch(subscribers)
    moment = outreach_moment(timezone.localdate())
    campaign = draft(manager, channel="sms")
    OutreachCampaign.objects.filter(pk=campaign.pk).update(
        state=OutreachCampaign.State.RUNNING, launched_at=moment
    )
    campaign_fan_out(campaign=campaign, now=moment)
    return campaign, moment


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_worker_processes_send_each_message_once_to_the_sink(manager, sinks: Sinks):
    campaign, moment = running_campaign(manager, 40)
    run = send_run(campaign.pk, moment, sinks, channel="sms", latency_ms=0, workers=2, messages=30)
    assert (run["claimed"], run["sent"], run["failed"]) == (30, 30, 0)
    assert sinks.sms.unique == 30 and sinks.sms.duplicates == 0
    assert sinks.smtp.snapshot()["delivered"] == 0
    assert OutreachMessage.objects.filter(campaign=campaign, state=MState.SENT).count() == 30
    # The claim, the marks and the chunk's reads: a few queries a chunk, not a few a message.
    assert 0 < run["queries_per_message"] < 1
    assert len(run["worker_seconds"]) == 2 and run["messages_per_second"] > 0

    OutreachCampaign.objects.filter(pk=campaign.pk).update(channel="email")
    by_mail = send_run(
        campaign.pk, moment, sinks, channel="email", latency_ms=0, workers=1, messages=10
    )
    assert (by_mail["claimed"], by_mail["sent"]) == (10, 10)
    assert sinks.smtp.unique == 10 and sinks.sms.snapshot()["delivered"] == 0
    assert not OutreachMessage.objects.filter(campaign=campaign, state=MState.PENDING).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_whose_messages_the_sink_refused_raises_instead_of_giving_a_figure(
    manager, sinks: Sinks
):
    campaign, moment = running_campaign(manager, 5)
    # Every number refused for good (400 "invalid number"): each message fails.
    sinks.sms.configure(refused_numbers=set(Subscriber.objects.values_list("phone", flat=True)))
    with pytest.raises(RuntimeError, match="failed"):
        send_run(campaign.pk, moment, sinks, channel="sms", latency_ms=0, workers=1, messages=5)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_with_the_wrong_token_sends_nothing_and_raises(manager, sinks: Sinks):
    campaign, moment = running_campaign(manager, 5)
    sinks.sms.configure(token="another")  # the workers' token is now refused: 401, deferred
    with pytest.raises(RuntimeError, match="nothing was sent"):
        send_run(campaign.pk, moment, sinks, channel="sms", latency_ms=0, workers=1, messages=5)


def test_a_worker_that_cannot_start_fails_the_run_with_what_it_said():
    nowhere = {"DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere", "TESTING": "true"}
    moment = outreach_moment(timezone.localdate())
    with pytest.raises(RuntimeError, match="before it could get ready") as raised:
        run_workers(1, moment, [5, 5], env=nowhere, timeout=30)
    assert "OperationalError" in str(raised.value)


def test_every_run_gets_its_share_of_fewer_pending_messages_than_planned():
    quick = run_plan(subscribers=20_000, pending=1_000_000)
    assert len(quick) == 8
    assert {(c, lat, w) for c, lat, w, _ in quick} == {
        (c, lat, w) for c in ("email", "sms") for lat in (0, 50) for w in (1, 2)
    }
    full = run_plan(subscribers=1_000_000, pending=1_000_000)
    assert [m for *_, m in quick] == [m // 4 for *_, m in full]
    short = run_plan(subscribers=1_000_000, pending=3_900)
    assert sum(m for *_, m in short) <= 3_900
    assert all(m > 0 for *_, m in short)


def test_the_report_divides_two_workers_by_one_of_the_same_run_only():
    runs = with_ratios(
        [
            sending_run("sms", 0, 1, 500.0),
            sending_run("sms", 0, 2, 900.0),
            sending_run("email", 50, 2, 400.0),  # its one-worker run is missing
        ]
    )
    assert runs[1]["versus_one_worker"] == 1.8
    assert "versus_one_worker" not in runs[0] and "versus_one_worker" not in runs[2]
    results = Results(scale=SCALES["quick"], data={})
    results.outreach["send"] = {"chunk": 200, "lanes": 16, "at": "", "runs": runs}
    rows = [line for line in render(results).splitlines() if line.startswith(("  SMS", "  e-"))]
    assert len(rows) == 3
    assert "×1.80" in rows[1]
    assert "×" not in rows[0] and "×" not in rows[2]


def sending_run(channel: str, latency_ms: int, workers: int, per_second: float) -> dict:
    return {
        "channel": channel,
        "latency_ms": latency_ms,
        "workers": workers,
        "claimed": 1000,
        "sent": 1000,
        "skipped": 0,
        "deferred": 0,
        "seconds": 1000 / per_second,
        "messages_per_second": per_second,
        "sent_per_second": per_second,
        "queries_per_message": 0.05,
        "connections": 16,
    }
