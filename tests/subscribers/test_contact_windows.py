from datetime import UTC, datetime

import pytest

from subscribers.selectors import contact_windows
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db


def windows_at(subscriber, when):
    return {w.channel: w for w in contact_windows(subscriber=subscriber, now=when)}


def test_weekday_inside_hours_every_channel_is_allowed():
    subscriber = SubscriberFactory.create(time_zone="Europe/Riga")
    # Tuesday 2026-11-24 10:00 UTC is 12:00 in Riga.
    windows = windows_at(subscriber, datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    assert all(w.allowed for w in windows.values())


def test_late_evening_is_quiet_until_nine_next_morning_local_time():
    subscriber = SubscriberFactory.create(time_zone="Europe/Riga")
    # Tuesday 19:30 UTC = 21:30 Riga: after 20:00, next allowed Wednesday 09:00 Riga.
    phone = windows_at(subscriber, datetime(2026, 11, 24, 19, 30, tzinfo=UTC))["phone"]
    assert not phone.allowed
    assert phone.reason == "quiet_hours"
    assert phone.next_allowed_at.isoformat() == "2026-11-25T09:00:00+02:00"


def test_friday_evening_waits_for_the_weekend_opening_at_ten():
    subscriber = SubscriberFactory.create(time_zone="Europe/Riga")
    # Friday 2026-11-27 20:30 Riga → Saturday 10:00.
    phone = windows_at(subscriber, datetime(2026, 11, 27, 18, 30, tzinfo=UTC))["phone"]
    assert phone.next_allowed_at.isoformat() == "2026-11-28T10:00:00+02:00"


def test_the_subscribers_own_time_zone_counts_not_the_agents():
    london = SubscriberFactory.create(time_zone="Europe/London")
    riga = SubscriberFactory.create(time_zone="Europe/Riga")
    # 07:30 UTC on a Tuesday: 07:30 in London (quiet), 09:30 in Riga (allowed).
    when = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)
    assert not windows_at(london, when)["phone"].allowed
    assert windows_at(riga, when)["phone"].allowed


def test_do_not_contact_is_per_channel_and_never_opens():
    subscriber = SubscriberFactory.create(do_not_email=True)
    windows = windows_at(subscriber, datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    assert windows["email"].reason == "do_not_contact"
    assert windows["email"].next_allowed_at is None
    assert windows["phone"].allowed


def test_no_phone_number_means_no_call_or_sms():
    subscriber = SubscriberFactory.create(phone="")
    windows = windows_at(subscriber, datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    assert windows["phone"].reason == "no_address"
    assert windows["sms"].reason == "no_address"
