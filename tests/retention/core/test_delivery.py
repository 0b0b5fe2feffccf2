"""What a provider's ``Retry-After`` comes to (retention.core.delivery.retry_after_seconds):
seconds, or an HTTP date from now; never negative, never more than an hour, and nothing at all
when it cannot be read."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import time_machine

from retention.core.delivery import retry_after_seconds

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
