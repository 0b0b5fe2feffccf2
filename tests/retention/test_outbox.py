"""The outbox rules one at a time (README, "Reminders, notifications and outreach");
tests/retention/test_exactly_once.py shows them with real workers, a broker that goes away and
processes killed mid-send."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from offers.models import OfferKind
from retention.core.messaging import AlreadySent, FileSmsBackend, Outgoing
from retention.models import OutreachCampaign, OutreachMessage
from retention.notifications.services import CLAIM_TIMEOUT
from retention.outreach.sending import outreach_send, outreach_sweep
from subscribers.models import ContactChannel, TimelineEvent
from tests.factories import SubscriberFactory, offer_template
from tests.retention.workers import ROOT, free_port

MState = OutreachMessage.State
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # a Tuesday, noon in Riga

ENQUEUE_WITHOUT_BROKER = """
import time
import django
django.setup()
from retention.core.broker import enqueue
started = time.monotonic()
published = enqueue("retention.tasks.heartbeat")
print(published, time.monotonic() - started)
"""


def test_enqueue_gives_up_at_once_without_raising_when_the_broker_is_unreachable(tmp_path):
    # A process of its own, configured like production for a Redis broker on a port nobody
    # listens on (this test process may be configured for the embedded broker).
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "retention.settings",
        "TESTING": "true",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0",
        "VAR_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", ENQUEUE_WITHOUT_BROKER],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    published, seconds = done.stdout.split()
    assert published == "False"
    # Connection refused, one immediate retry: well under a second (kombu's default 2 s pause
    # before the retry is turned off in settings).
    assert float(seconds) < 1.5, f"enqueue waited {float(seconds):.1f} s for the broker"
    assert "broker unavailable" in done.stderr  # logged, for whoever wonders about the delay


@pytest.fixture
def campaign(manager):
    template = offer_template(
        "outreach-5-12", OfferKind.FIXED_DISCOUNT, amount=Decimal(5), months=12
    )
    return OutreachCampaign.objects.create(
        name="Loyalty",
        created_by=manager,
        template=template,
        channel=ContactChannel.SMS,
        state=OutreachCampaign.State.RUNNING,
        launched_at=NOW - timedelta(hours=1),
        fanned_out_at=NOW - timedelta(hours=1),
        not_contacted_days=0,
        body_lv="{name}: {offer} {link}",
        body_ru="{name}: {offer} {link}",
        body_en="{name}: {offer} {link}",
    )


def message(campaign, **fields) -> OutreachMessage:
    return OutreachMessage.objects.create(
        campaign=campaign,
        subscriber=SubscriberFactory.create(),
        due_at=NOW - timedelta(hours=1),
        **fields,
    )


def test_the_sweep_returns_what_a_dead_worker_left_claimed_and_nothing_else(db, campaign):
    stale = message(
        campaign, state=MState.SENDING, claimed_at=NOW - CLAIM_TIMEOUT - timedelta(seconds=1)
    )
    working = message(
        campaign, state=MState.SENDING, claimed_at=NOW - CLAIM_TIMEOUT + timedelta(seconds=1)
    )
    sent = message(campaign, state=MState.SENT, claimed_at=NOW - timedelta(days=1))

    assert outreach_sweep(now=NOW) == 1
    assert outreach_sweep(now=NOW) == 0
    states = {m.pk: m.state for m in OutreachMessage.objects.all()}
    assert states == {stale.pk: MState.PENDING, working.pk: MState.SENDING, sent.pk: MState.SENT}


def test_the_file_backend_sends_a_key_once(settings, tmp_path):
    settings.SMS_FILE_PATH = str(tmp_path)
    FileSmsBackend().send(Outgoing("outreach-1", "+37120000001", "first"))
    with pytest.raises(AlreadySent):
        FileSmsBackend().send(Outgoing("outreach-1", "+37120000001", "second"))

    # One file for the key, holding the first message; no temporary file left behind.
    assert [p.name for p in tmp_path.iterdir()] == ["outreach-1.json"]
    assert json.loads((tmp_path / "outreach-1.json").read_text())["body"] == "first"


def test_a_message_sent_before_a_crash_is_marked_sent_without_a_second_send(
    db, campaign, settings, tmp_path
):
    settings.SMS_BACKEND, settings.SMS_FILE_PATH = "file", str(tmp_path)
    crashed = message(campaign, state=MState.PENDING)  # the sweep put it back
    key = f"outreach-{crashed.pk}"
    FileSmsBackend().send(Outgoing(key, crashed.subscriber.phone, "sent, then the worker died"))

    result = outreach_send(campaign_id=campaign.pk, now=NOW)

    assert (result.sent, result.claimed) == (1, 1)
    crashed.refresh_from_db()
    assert (crashed.state, crashed.sent_at, crashed.attempts) == (MState.SENT, NOW, 1)
    assert [p.name for p in tmp_path.iterdir()] == [f"{key}.json"]
    assert (
        json.loads((tmp_path / f"{key}.json").read_text())["body"] == "sent, then the worker died"
    )
    assert (
        TimelineEvent.objects.filter(
            subscriber=crashed.subscriber, kind=TimelineEvent.Kind.CONTACT, data__message=crashed.pk
        ).count()
        == 1
    )
    # Asked again (a repeated task message): nothing left to claim, nothing sent.
    assert outreach_send(campaign_id=campaign.pk, now=NOW).claimed == 0
