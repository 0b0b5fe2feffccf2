"""Property tests of the contact policy over time zones, weekends and DST changes."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from subscribers.models import Subscriber
from subscribers.selectors import DEFAULT_HOURS, Policy, contact_decisions

POLICY = Policy(
    max_outbound=2,
    period=timedelta(days=7),
    hours=dict.fromkeys(("phone", "email", "sms"), DEFAULT_HOURS),
)
ZONES = [
    "Europe/Riga",
    "Europe/London",
    "America/New_York",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Chatham",
]
# Across several DST changes in both hemispheres.
instants = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)).map(
    lambda d: d.replace(tzinfo=UTC)
)


def subscriber(zone: str) -> Subscriber:
    # Unsaved: the policy is pure given the subscriber, the time, the policy and recent contacts.
    return Subscriber(time_zone=zone, phone="+37120000000", email="a@example.lv")


def allowed_hours(local: datetime) -> tuple[time, time]:
    return DEFAULT_HOURS.on(local)


def decide(zone: str, now: datetime, recent: list[datetime] | None = None):
    decisions = contact_decisions(
        subscriber=subscriber(zone), now=now, policy=POLICY, recent=recent or []
    )
    return {d.channel: d for d in decisions}


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(zone=st.sampled_from(ZONES), now=instants)
def test_allowed_exactly_inside_local_hours(zone, now):
    local = now.astimezone(ZoneInfo(zone))
    start, end = allowed_hours(local)
    inside = start <= local.time() < end
    assert decide(zone, now)["phone"].allowed == inside


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(zone=st.sampled_from(ZONES), now=instants)
def test_the_next_allowed_moment_is_the_first_opening_after_now(zone, now):
    phone = decide(zone, now)["phone"]
    if phone.allowed:
        return
    nxt = phone.next_allowed_at
    assert nxt is not None and nxt > now
    local = nxt.astimezone(ZoneInfo(zone))
    start, _ = allowed_hours(local)
    # It is an opening: the start of that day's allowed hours, local wall time.
    assert local.time() == start
    # And it is the first one: nothing in between is allowed (checked every 30 minutes).
    probe = now + timedelta(minutes=30)
    while probe < nxt:
        assert not decide(zone, probe)["phone"].allowed
        probe += timedelta(minutes=30)
    assert nxt - now < timedelta(days=3)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(
    zone=st.sampled_from(ZONES),
    now=instants,
    ages=st.lists(st.integers(min_value=1, max_value=7 * 24 * 60 - 1), min_size=0, max_size=4),
)
def test_the_cap_allows_at_most_two_contacts_in_any_seven_days(zone, now, ages):
    recent = sorted(now - timedelta(minutes=a) for a in ages)
    phone = decide(zone, now, recent)["phone"]
    if len(recent) >= 2:
        assert not phone.allowed and phone.reason == "over_cap"
        # When it opens again, the window holds fewer than two of these contacts.
        assert phone.next_allowed_at is not None
        # In absolute time: seven days back from a zoned time would be wall-clock arithmetic.
        window_start = phone.next_allowed_at.astimezone(UTC) - POLICY.period
        assert sum(1 for r in recent if r > window_start) < 2
    else:
        assert phone.reason != "over_cap"


@pytest.mark.parametrize(
    ("zone", "now", "expected"),
    [
        # Riga, the autumn change (03:00 → 03:00 again at 25 Oct 2026, Sunday): opens at 10:00 EET.
        ("Europe/Riga", datetime(2026, 10, 24, 20, 0, tzinfo=UTC), "2026-10-25T10:00:00+02:00"),
        # New York, the spring change (8 March 2026): Saturday night → Sunday 10:00 EDT.
        ("America/New_York", datetime(2026, 3, 8, 3, 0, tzinfo=UTC), "2026-03-08T10:00:00-04:00"),
    ],
)
def test_openings_across_dst_changes(zone, now, expected):
    phone = decide(zone, now)["phone"]
    assert phone.next_allowed_at is not None
    assert phone.next_allowed_at.isoformat() == expected
