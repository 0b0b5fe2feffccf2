from datetime import UTC, datetime, time, timedelta

import pytest

from subscribers.models import ContactHours, ContactPolicy, TimelineEvent
from subscribers.selectors import contact_decisions, contact_policy_get
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db


def decide(subscriber, when):
    return {d.channel: d for d in contact_decisions(subscriber=subscriber, now=when)}


def contacted(subscriber, when, direction="outbound"):
    TimelineEvent.objects.create(
        subscriber=subscriber,
        kind=TimelineEvent.Kind.CONTACT,
        occurred_at=when,
        summary="Called",
        data={"direction": direction, "channel": "phone"},
    )


def test_the_default_policy_comes_from_the_migration():
    policy = contact_policy_get()
    assert policy.max_outbound == 2 and policy.period == timedelta(days=7)
    assert policy.hours["phone"].weekday == (time(9), time(20))
    assert policy.hours["sms"].weekend == (time(10), time(18))


def test_weekday_inside_hours_every_channel_is_allowed():
    subscriber = SubscriberFactory.create(time_zone="Europe/Riga")
    # Tuesday 2026-11-24 10:00 UTC is 12:00 in Riga.
    assert all(
        d.allowed for d in decide(subscriber, datetime(2026, 11, 24, 10, 0, tzinfo=UTC)).values()
    )


def test_late_evening_is_quiet_until_nine_next_morning_local_time():
    subscriber = SubscriberFactory.create(time_zone="Europe/Riga")
    # Tuesday 19:30 UTC = 21:30 Riga: after 20:00, next allowed Wednesday 09:00 Riga.
    phone = decide(subscriber, datetime(2026, 11, 24, 19, 30, tzinfo=UTC))["phone"]
    assert (phone.allowed, phone.reason) == (False, "quiet_hours")
    assert phone.next_allowed_at.isoformat() == "2026-11-25T09:00:00+02:00"
    assert "Quiet hours" in phone.message and "09:00" in phone.message


def test_friday_evening_waits_for_the_weekend_opening_at_ten():
    subscriber = SubscriberFactory.create(time_zone="Europe/Riga")
    phone = decide(subscriber, datetime(2026, 11, 27, 18, 30, tzinfo=UTC))["phone"]
    assert phone.next_allowed_at.isoformat() == "2026-11-28T10:00:00+02:00"


def test_the_subscribers_own_time_zone_counts_not_the_agents():
    london = SubscriberFactory.create(time_zone="Europe/London")
    riga = SubscriberFactory.create(time_zone="Europe/Riga")
    # 07:30 UTC on a Tuesday: 07:30 in London (quiet), 09:30 in Riga (allowed).
    when = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)
    assert not decide(london, when)["phone"].allowed
    assert decide(riga, when)["phone"].allowed


def test_the_next_opening_across_the_spring_dst_change_is_nine_local_time():
    subscriber = SubscriberFactory.create(time_zone="Europe/Riga")
    # Saturday 2026-03-28 21:00 Riga (UTC+2); clocks go forward that night. Sunday opens at
    # 10:00 local, which is 07:00 UTC (UTC+3).
    phone = decide(subscriber, datetime(2026, 3, 28, 19, 0, tzinfo=UTC))["phone"]
    assert phone.next_allowed_at.isoformat() == "2026-03-29T10:00:00+03:00"
    assert phone.next_allowed_at.astimezone(UTC).hour == 7


def test_do_not_contact_is_per_channel_and_never_opens():
    subscriber = SubscriberFactory.create(do_not_email=True)
    decisions = decide(subscriber, datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    assert decisions["email"].reason == "do_not_contact"
    assert decisions["email"].next_allowed_at is None
    assert decisions["phone"].allowed


def test_no_phone_number_means_no_call_or_sms():
    subscriber = SubscriberFactory.create(phone="")
    decisions = decide(subscriber, datetime(2026, 11, 24, 10, 0, tzinfo=UTC))
    assert decisions["phone"].reason == "no_address"
    assert decisions["sms"].reason == "no_address"


def test_over_the_cap_every_channel_waits_until_the_oldest_contact_leaves_the_window():
    subscriber = SubscriberFactory.create(time_zone="Europe/Riga")
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # Tuesday 12:00 Riga
    contacted(subscriber, now - timedelta(days=6, hours=1))  # Wed 18 Nov 11:00 Riga
    contacted(subscriber, now - timedelta(days=1))
    decisions = decide(subscriber, now)
    assert {d.reason for d in decisions.values()} == {"over_cap"}
    # The first contact leaves the 7-day window on Wed 25 Nov 11:00 Riga, inside hours.
    assert decisions["sms"].next_allowed_at.isoformat() == "2026-11-25T11:00:00+02:00"


def test_inbound_contacts_and_old_contacts_do_not_count_towards_the_cap():
    subscriber = SubscriberFactory.create()
    now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    contacted(subscriber, now - timedelta(hours=2), direction="inbound")
    contacted(subscriber, now - timedelta(hours=1), direction="inbound")
    contacted(subscriber, now - timedelta(days=8))
    contacted(subscriber, now - timedelta(days=9))
    assert decide(subscriber, now)["phone"].allowed


def test_the_admin_can_change_hours_and_cap():
    ContactHours.objects.filter(channel="phone").update(weekday_start=time(12))
    ContactPolicy.objects.update(max_outbound=1)
    subscriber = SubscriberFactory.create()
    now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # 10:00 Riga
    decisions = decide(subscriber, now)
    assert decisions["phone"].reason == "quiet_hours"
    assert decisions["email"].allowed
    contacted(subscriber, now - timedelta(days=1))
    assert decide(subscriber, now)["email"].reason == "over_cap"
