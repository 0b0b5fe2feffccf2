"""Bulk actions from the queue: each ticked case goes through the single-case service, and the
desk says which were done and which were refused and why."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from retention.core.refusals import NotAllowed
from retention.core.roles import Role
from retention.models import CancellationCase, CaseHistory, Team
from retention.queue import services
from tests.factories import CaseFactory, user_with_role

pytestmark = pytest.mark.django_db

# Wednesday 25 November 2026, 10:00 in Riga.
NOW = datetime(2026, 11, 25, 8, tzinfo=UTC)


@pytest.fixture
def people():
    red, blue = Team.objects.create(name="Red"), Team.objects.create(name="Blue")
    return {
        "ann": user_with_role(Role.AGENT, username="ann", team=red),
        "bob": user_with_role(Role.AGENT, username="bob", team=red),
        "meg": user_with_role(Role.MANAGER, username="meg", team=red),
        "cid": user_with_role(Role.AGENT, username="cid", team=blue),
    }


def owned(user, **fields) -> CancellationCase:
    return CaseFactory.create(
        owner=user, status="in_progress", process_by=date(2026, 12, 9), **fields
    )


def test_an_agent_releases_his_cases_and_is_told_why_the_others_stayed(people):
    ann = people["ann"]
    mine, also_mine = owned(ann), owned(ann)
    bobs = owned(people["bob"])
    closed = CaseFactory.create(owner=ann, status="withdrawn", closed_at=NOW)
    outcome = services.cases_release(
        case_ids=[mine.pk, bobs.pk, also_mine.pk, closed.pk, 987654], actor=ann
    )
    assert sorted(c.pk for c in outcome.done) == sorted([mine.pk, also_mine.pk])
    why = {r.case_id: r.message for r in outcome.refused}
    assert "belongs to" in why[bobs.pk]
    assert "closed" in why[closed.pk]
    assert "no such case" in why[987654]
    mine.refresh_from_db()
    bobs.refresh_from_db()
    assert (mine.owner, mine.status) == (None, "new")
    assert bobs.owner == people["bob"]
    assert CaseHistory.objects.filter(action="released").count() == 2


def test_a_manager_releases_his_teams_cases_but_not_another_teams(people):
    reds, blues = owned(people["ann"]), owned(people["cid"])
    outcome = services.cases_release(case_ids=[reds.pk, blues.pk], actor=people["meg"])
    assert [c.pk for c in outcome.done] == [reds.pk]
    assert [r.case_id for r in outcome.refused] == [blues.pk]


def test_a_bulk_note_is_written_on_each_case_allowed(people):
    ann = people["ann"]
    mine, bobs = owned(ann), owned(people["bob"])
    outcome = services.cases_add_note(
        case_ids=[mine.pk, bobs.pk], actor=ann, text="Tariff review next week"
    )
    assert [c.pk for c in outcome.done] == [mine.pk]
    assert CaseHistory.objects.get(action="note").case == mine
    with pytest.raises(Exception, match="empty"):
        services.cases_add_note(case_ids=[mine.pk], actor=ann, text="  ")


def test_a_bulk_callback_is_checked_against_each_cases_deadline(people):
    ann = people["ann"]
    with time_machine.travel(NOW, tick=False):
        later = owned(ann)
        soon = CaseFactory.create(owner=ann, status="in_progress", process_by=date(2026, 11, 26))
        # Friday 27 November, 14:00 in Riga: after the second case's process-by date.
        at = datetime(2026, 11, 27, 12, tzinfo=UTC)
        outcome = services.cases_set_callback(case_ids=[later.pk, soon.pk], actor=ann, at=at)
    assert [c.pk for c in outcome.done] == [later.pk]
    assert "process-by" in outcome.refused[0].message
    later.refresh_from_db()
    soon.refresh_from_db()
    assert later.callback_at == at and soon.callback_at is None


def test_admins_without_a_desk_role_do_no_bulk_work(people):
    boss = user_with_role(username="boss", is_staff=True)
    with pytest.raises(NotAllowed):
        services.cases_release(case_ids=[owned(people["ann"]).pk], actor=boss)


def test_the_bulk_view_reports_each_refusal_and_reads_the_time_in_the_agents_zone(people):
    ann = people["ann"]
    ann.time_zone = "Asia/Tokyo"
    ann.save()
    client = Client()
    client.force_login(ann)
    with time_machine.travel(NOW, tick=False):
        mine, bobs = owned(ann), owned(people["bob"])
        # 21:00 in Tokyo on Thursday 26 November is 14:00 in Riga, within the calling hours.
        response = client.post(
            reverse("queue_bulk"),
            {
                "select": [mine.pk, bobs.pk],
                "action": "callback",
                "callback_at": "2026-11-26T21:00",
                "next": "/queue/?sort=priority",
            },
        )
    assert response["Location"] == "/queue/?sort=priority"
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert texts[0] == "Callback set on 1 case."
    assert "1 case was left as it was:" in texts
    assert any(t.startswith(f"#{bobs.pk} ") and "belongs to" in t for t in texts)
    mine.refresh_from_db()
    assert mine.callback_at == datetime(2026, 11, 26, 12, tzinfo=UTC)


def test_a_bulk_form_missing_what_its_action_needs_changes_nothing(people):
    client = Client()
    client.force_login(people["ann"])
    case = owned(people["ann"])
    for data in (
        {"select": [case.pk], "action": "note", "text": ""},
        {"select": [case.pk], "action": "callback"},
        {"select": [], "action": "release"},
        {"select": ["x"], "action": "release"},
        {"select": [case.pk], "action": "explode"},
    ):
        response = client.post(reverse("queue_bulk"), data)
        assert response.status_code == 302, data
        assert "Nothing was done" in str(next(iter(get_messages(response.wsgi_request))))
    assert client.get(reverse("queue_bulk")).status_code == 405
    case.refresh_from_db()
    assert case.owner == people["ann"]
    assert not CaseHistory.objects.exists()
