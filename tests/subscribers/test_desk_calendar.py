"""The desk's calendar: desk hours and public holidays drive the first-contact SLA, and the
admin keeps both (with every change recorded and bad input refused)."""

from datetime import UTC, date, datetime, time

import pytest
import time_machine
from django.urls import reverse

from retention.cases.opening import Intake, case_open
from retention.core.refusals import InvalidInput, NotAllowed
from retention.demo.clock import DeskClock
from subscribers.calendar import CalendarChange, DeskDay, DeskHours
from subscribers.desk_calendar import (
    add_desk_hours,
    desk_calendar,
    desk_day_save,
    desk_hours_save,
    first_contact_due,
    package_holidays,
)
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db

# Proclamation Day, Wednesday 18 November 2026, a public holiday in Latvia.
TUESDAY_17_RIGA = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)  # 17:00 in Riga
THURSDAY_11_RIGA = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)


def test_latvias_holidays_come_from_the_package_named_in_each_language():
    names = package_holidays("LV", 2026)[date(2026, 11, 18)]
    assert names["en"] == "Republic of Latvia Proclamation Day"
    assert names["lv"] == "Latvijas Republikas Proklamēšanas diena"
    assert names["ru"]  # the package names it in Russian too
    assert desk_calendar().holiday(date(2026, 11, 18)) == names
    assert desk_calendar().holiday(date(2026, 11, 17)) is None


def test_the_sla_clock_skips_a_latvian_public_holiday():
    # Tuesday 17:00 Riga, the evening before Proclamation Day: one desk hour that day, none on
    # the holiday, the other three on Thursday from 08:00.
    with time_machine.travel(TUESDAY_17_RIGA, tick=False):
        case = case_open(
            subscriber=SubscriberFactory.create(), intake=Intake(channel="web"), actor=None
        )
    assert case.first_contact_due == THURSDAY_11_RIGA


def test_the_sla_clock_skips_the_weekend_and_a_closed_day_the_admin_adds(admin_user):
    friday_17 = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    assert first_contact_due(friday_17) == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # Mon 11:00
    desk_day_save(
        values={"day": date(2026, 11, 30), "kind": DeskDay.Kind.CLOSED, "name": "Training"},
        actor=admin_user,
    )
    assert first_contact_due(friday_17) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # Tue 11:00


def test_a_holiday_the_desk_works_counts_its_hours(admin_user):
    desk_day_save(
        values={
            "day": date(2026, 11, 18),
            "kind": DeskDay.Kind.WORKING,
            "opens": time(10),
            "closes": time(14),
        },
        actor=admin_user,
    )
    # One hour on Tuesday, then three from 10:00 on the holiday the desk works.
    assert first_contact_due(TUESDAY_17_RIGA) == datetime(2026, 11, 18, 11, 0, tzinfo=UTC)
    assert desk_calendar().holiday(date(2026, 11, 18)) is None


def test_changed_desk_hours_apply_at_once(admin_user):
    desk_hours_save(weekday=1, values={"closes": time(20)}, actor=admin_user)
    # Tuesday 17:00: three hours left that day now, the fourth on Thursday.
    assert first_contact_due(TUESDAY_17_RIGA) == datetime(2026, 11, 19, 7, 0, tzinfo=UTC)
    change = CalendarChange.objects.get()
    assert (change.subject, change.changes) == ("weekday 1", {"closes": ["18:00", "20:00"]})
    assert change.actor == admin_user


def test_the_demo_history_clock_agrees_with_the_sla_clock():
    clock = DeskClock(date(2026, 11, 10), date(2026, 12, 31))
    for start in (TUESDAY_17_RIGA, datetime(2026, 12, 23, 14, 0, tzinfo=UTC)):
        ts = clock.add_work(start.timestamp(), 4 * 3600)
        assert ts == add_desk_hours(start, 4).timestamp()


def test_only_an_administrator_changes_the_calendar(agent):
    with pytest.raises(NotAllowed):
        desk_hours_save(weekday=0, values={"opens": time(7)}, actor=agent)
    assert DeskHours.objects.get(weekday=0).opens == time(8)


def test_the_services_refuse_hours_that_close_before_they_open(admin_user):
    with pytest.raises(InvalidInput):
        desk_hours_save(weekday=0, values={"opens": time(18), "closes": time(9)}, actor=admin_user)
    with pytest.raises(InvalidInput):
        desk_day_save(
            values={"day": date(2026, 11, 18), "kind": DeskDay.Kind.WORKING}, actor=admin_user
        )
    assert not DeskDay.objects.exists() and not CalendarChange.objects.exists()


def test_the_calendar_is_read_once_then_cached(django_assert_num_queries):
    with django_assert_num_queries(2):
        desk_calendar()
    with django_assert_num_queries(0):
        for _ in range(50):
            first_contact_due(TUESDAY_17_RIGA)


# --- The admin ------------------------------------------------------------------------------


def test_the_admin_lists_the_coming_public_holidays_with_a_link_to_work_one(admin_client):
    with time_machine.travel(datetime(2026, 11, 1, 10, 0, tzinfo=UTC), tick=False):
        page = admin_client.get(reverse("admin:subscribers_deskday_changelist")).content.decode()
    assert 'data-day="2026-11-18"' in page
    assert "Republic of Latvia Proclamation Day" in page
    assert 'data-day="2028-12-25"' in page  # two more years ahead
    assert "kind=working" in page


def test_an_administrator_edits_desk_hours_and_bad_hours_change_nothing(admin_client):
    url = reverse("admin:subscribers_deskhours_change", args=[DeskHours.objects.get(weekday=0).pk])
    bad = admin_client.post(url, {"is_open": "on", "opens": "18:00", "closes": "09:00"})
    assert bad.status_code == 200
    assert "The desk must close after it opens." in bad.content.decode()
    assert DeskHours.objects.get(weekday=0).closes == time(18)
    assert not CalendarChange.objects.exists()
    good = admin_client.post(url, {"is_open": "on", "opens": "09:00", "closes": "17:00"})
    assert good.status_code == 302
    assert (DeskHours.objects.get(weekday=0).opens, DeskHours.objects.get(weekday=0).closes) == (
        time(9),
        time(17),
    )
    assert CalendarChange.objects.get().changes == {
        "opens": ["08:00", "09:00"],
        "closes": ["18:00", "17:00"],
    }


def test_an_administrator_marks_a_holiday_a_working_day_and_bad_input_is_refused(admin_client):
    url = reverse("admin:subscribers_deskday_add")
    missing = admin_client.post(url, {"day": "2026-11-18", "kind": "working", "name": ""})
    assert missing.status_code == 200
    assert "A working day needs the hours the desk opens." in missing.content.decode()
    backwards = admin_client.post(
        url, {"day": "2026-11-18", "kind": "working", "opens": "14:00", "closes": "10:00"}
    )
    assert "The desk must close after it opens." in backwards.content.decode()
    not_a_date = admin_client.post(url, {"day": "2026-02-30", "kind": "closed"})
    assert not_a_date.status_code == 200
    assert not DeskDay.objects.exists()
    ok = admin_client.post(
        url, {"day": "2026-11-18", "kind": "working", "opens": "10:00", "closes": "14:00"}
    )
    assert ok.status_code == 302
    assert desk_calendar().hours_on(date(2026, 11, 18)) == (time(10), time(14))
    twice = admin_client.post(url, {"day": "2026-11-18", "kind": "closed"})
    assert twice.status_code == 200  # one rule a date
    assert DeskDay.objects.count() == 1
    assert CalendarChange.objects.get().subject == "2026-11-18"


def test_a_deleted_calendar_day_is_recorded_and_the_package_applies_again(admin_client, admin_user):
    day = desk_day_save(
        values={"day": date(2026, 11, 18), "kind": "working", "opens": time(9), "closes": time(12)},
        actor=admin_user,
    )
    response = admin_client.post(
        reverse("admin:subscribers_deskday_delete", args=[day.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert desk_calendar().hours_on(date(2026, 11, 18)) is None
    assert [c.action for c in CalendarChange.objects.order_by("id")] == ["created", "deleted"]


def test_an_agent_may_not_change_the_calendar_in_the_admin(client, agent):
    agent.is_staff = True
    agent.save()
    client.force_login(agent)
    url = reverse("admin:subscribers_deskhours_change", args=[DeskHours.objects.get(weekday=0).pk])
    client.post(url, {"is_open": "on", "opens": "07:00", "closes": "17:00"})
    assert DeskHours.objects.get(weekday=0).opens == time(8)
