"""Sending a chunk (retention.core.delivery): what a provider's ``Retry-After`` comes to
(seconds, or an HTTP date from now; never negative, never more than an hour, nothing at all when
it cannot be read), and the rate limit kept while Redis does not answer."""

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
import time_machine

from retention.core import delivery, ratelimit
from retention.core.delivery import SENT, deliver, retry_after_seconds
from retention.core.messaging import Outgoing, send_sms
from retention.core.ratelimit import RedisBucket
from tests.retention.workers import free_port

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def http_date(when: datetime) -> str:
    return format_datetime(when, usegmt=True)  # "Tue, 01 Dec 2026 10:00:30 GMT"


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("2", 2.0), (" 120 ", 120.0), ("1.5", 1.5), ("0", 0.0)],
)
def test_retry_after_in_seconds(header: str, seconds: float):
    assert retry_after_seconds(header) == seconds


def test_retry_after_as_an_http_date_is_the_seconds_from_now():
    assert http_date(NOW + timedelta(seconds=30)) == "Tue, 01 Dec 2026 10:00:30 GMT"

    assert retry_after_seconds(http_date(NOW + timedelta(seconds=30)), now=NOW) == 30.0
    # Without a date of its own to compare with, it compares with the clock.
    with time_machine.travel(NOW, tick=False):
        assert retry_after_seconds(http_date(NOW + timedelta(minutes=2))) == 120.0


def test_retry_after_as_a_date_without_a_zone_is_taken_as_utc():
    assert retry_after_seconds("Tue, 01 Dec 2026 10:00:45 -0000", now=NOW) == 45.0


@pytest.mark.parametrize(
    "header", [None, "", "soon", "Tuesday", "1e", "nan", "Tue, 32 Dec 2026 10:00:00 GMT"]
)
def test_retry_after_that_cannot_be_read_is_none(header: str | None):
    assert retry_after_seconds(header, now=NOW) is None


@pytest.mark.parametrize("header", ["-5", "-0.5", http_date(NOW - timedelta(minutes=1))])
def test_retry_after_in_the_past_is_now_never_negative(header: str):
    assert retry_after_seconds(header, now=NOW) == 0.0


@pytest.mark.parametrize("header", ["7200", "86400", "inf", http_date(NOW + timedelta(days=1))])
def test_retry_after_of_more_than_an_hour_is_an_hour(header: str):
    # A provider's typo must not park a campaign for a day.
    assert retry_after_seconds(header, now=NOW) == 3600.0


# --- Redis down -------------------------------------------------------------------------------


@pytest.fixture
def redis_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The shared bucket's Redis refuses every connection (nothing listens on its port); the
    process's own buckets start empty."""
    dead = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    monkeypatch.setattr(
        ratelimit,
        "bucket_for",
        lambda channel: RedisBucket(channel, ratelimit.channel_rate(channel), dead),
    )
    ratelimit.local_bucket.cache_clear()
    yield
    ratelimit.local_bucket.cache_clear()


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits the lanes asked for before sending, noted instead of slept."""
    noted: list[float] = []
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            noted.append(seconds)

    monkeypatch.setattr(delivery, "time", SimpleNamespace(sleep=sleep))
    return noted


def texts(*keys: str) -> list[Outgoing]:
    return [Outgoing(key=key, to="+37120000000", body="Hello") for key in keys]


def test_with_redis_down_one_chunk_after_another_keeps_to_the_rate_in_the_process(
    settings, tmp_path: Path, redis_down, waits: list[float]
):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path)
    settings.SEND_RATES = {"email": 0, "sms": 5}

    assert deliver("sms", texts("a1", "a2", "a3", "a4", "a5")) == [SENT] * 5
    assert waits == []  # the first second's worth goes at once
    assert deliver("sms", texts("b1", "b2", "b3")) == [SENT] * 3

    # The next chunk takes the slots after the first one's, 1/5 s apart; had it a bucket of
    # its own, it would go at once as well: ten in the first second at 5 a second.
    assert sorted(waits) == pytest.approx([0.2, 0.4, 0.6], abs=0.05)


# --- Messages sent on their own ---------------------------------------------------------------


def test_messages_sent_on_their_own_go_at_once_and_the_next_chunk_waits_for_the_slots_they_took(
    settings, tmp_path: Path, waits: list[float]
):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path)
    settings.SEND_RATES = {"email": 0, "sms": 5}

    for key in ("macro-1", "macro-2", "macro-3", "macro-4", "macro-5"):
        send_sms(Outgoing(key=key, to="+37120000000", body="Hello"))
    assert waits == []

    assert deliver("sms", texts("c1", "c2")) == [SENT] * 2
    # The five took the first second's worth of the rate: the chunk's two come 1/5 s apart
    # after them, in Redis's time (which runs on between calls).
    assert sorted(waits) == pytest.approx([0.2, 0.4], abs=0.05)
