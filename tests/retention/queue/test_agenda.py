"""My callbacks today: the day is the agent's own, in his time zone; the overdue ones first."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from retention.core.roles import Role
from retention.models import Team
from retention.queue.selectors import callbacks_today
from tests.factories import CaseFactory, user_with_role

pytestmark = pytest.mark.django_db

# Wednesday 25 November 2026, 21:30 UTC: 23:30 in Riga, already 06:30 on Thursday in Tokyo.
NOW = datetime(2026, 11, 25, 21, 30, tzinfo=UTC)


@pytest.fixture
def people():
    red, blue = Team.objects.create(name="Red"), Team.objects.create(name="Blue")
    return {
        "ann": user_with_role(Role.AGENT, username="ann", team=red, time_zone="Europe/Riga"),
        "taro": user_with_role(Role.AGENT, username="taro", team=red, time_zone="Asia/Tokyo"),
        "meg": user_with_role(Role.MANAGER, username="meg", team=red),
        "cid": user_with_role(Role.AGENT, username="cid", team=blue),
    }


def callback(owner, at: datetime, **fields):
    fields.setdefault("status", "in_progress")
    return CaseFactory.create(owner=owner, callback_at=at, **fields)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_the_day_ends_at_midnight_in_the_agents_own_zone(people):
    ann, taro = people["ann"], people["taro"]
    late_today = callback(ann, utc(25, 21, 50))  # 23:50 in Riga
    callback(ann, utc(25, 22, 10))  # 00:10 on Thursday in Riga: tomorrow
    overdue = callback(ann, utc(24, 9))  # yesterday, not done
    earlier = callback(ann, utc(25, 20))  # 22:00 in Riga, half an hour ago
    callback(ann, utc(25, 21, 45), status="saved", closed_at=NOW)  # closed: no call
    callback(people["cid"], utc(25, 21, 40))  # another agent's
    tokyo_evening = callback(taro, utc(26, 14))  # 23:00 on Thursday in Tokyo
    callback(taro, utc(26, 15, 30))  # 00:30 on Friday in Tokyo
    with time_machine.travel(NOW, tick=False):
        riga = callbacks_today(agent=ann)
        tokyo = callbacks_today(agent=taro)
    assert [c.pk for c in riga.cases] == [overdue.pk, earlier.pk, late_today.pk]
    assert [c.callback_overdue for c in riga.cases] == [True, True, False]  # type: ignore[attr-defined]
    assert riga.overdue == 2 and str(riga.day) == "2026-11-25"
    assert [c.pk for c in tokyo.cases] == [tokyo_evening.pk]
    assert str(tokyo.day) == "2026-11-26"


@pytest.mark.parametrize("count", [2, 20])
def test_the_agenda_page_costs_the_same_queries_at_any_size(
    people, django_assert_num_queries, count
):
    ann = people["ann"]
    for n in range(count):
        callback(ann, utc(25, 10, n))
    client = Client()
    client.force_login(ann)
    # session, user, roles, the callbacks with their subscribers and reasons
    with time_machine.travel(NOW, tick=False), django_assert_num_queries(4):
        response = client.get(reverse("callbacks"))
    page = response.content.decode()
    assert page.count('class="overdue"') == count
    assert "My callbacks today" in page


def test_a_manager_picks_an_agent_of_his_team_and_no_one_else(people, django_assert_num_queries):
    callback(people["taro"], utc(26, 1))
    client = Client()
    client.force_login(people["meg"])
    with time_machine.travel(NOW, tick=False):
        with django_assert_num_queries(5):  # and his team, for the picker
            response = client.get(reverse("callbacks"), {"agent": people["taro"].pk})
        assert response.context["agenda"].agent == people["taro"]
        assert len(response.context["agenda"].cases) == 1
        assert client.get(reverse("callbacks"), {"agent": people["cid"].pk}).status_code == 404
        assert client.get(reverse("callbacks"), {"agent": "x"}).status_code == 404
    agent = Client()
    agent.force_login(people["ann"])
    assert agent.get(reverse("callbacks"), {"agent": people["taro"].pk}).status_code == 404
