"""The queue, my cases and the case workspace: roles on the server, fragments, query counts."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from retention.cases import services as cases
from retention.cases.selectors import QueueCursor
from retention.core.roles import Role
from retention.models import CancellationCase, Team
from tests.factories import CaseFactory, SubscriberFactory, UserFactory, user_with_role

pytestmark = pytest.mark.django_db
TUESDAY_NOON_RIGA = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
TUESDAY_22_RIGA = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


# --- Roles ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args", "method"),
    [
        ("queue", [], "get"),
        ("my_cases", [], "get"),
        ("claim_next", [], "post"),
        ("case", ["case"], "get"),
        ("case_claim", ["case"], "post"),
        ("case_contact", ["case"], "post"),
        ("case_cancel", ["case"], "post"),
        ("case_open", ["subscriber"], "get"),
        ("reassign", [], "post"),
    ],
)
def test_users_without_a_desk_role_are_refused_everywhere(client, name, args, method):
    case = CaseFactory.create()
    values = {"case": case.pk, "subscriber": case.subscriber_id}
    client.force_login(UserFactory.create(username="nobody"))
    response = getattr(client, method)(reverse(name, args=[values[a] for a in args]))
    assert response.status_code == 403


@pytest.mark.parametrize("name", ["claim_next", "case_claim", "case_contact", "case_withdraw"])
def test_mutations_are_post_only(agent_client, name):
    case = CaseFactory.create()
    args = [] if name == "claim_next" else [case.pk]
    assert agent_client.get(reverse(name, args=args)).status_code == 405


def test_an_agent_acting_on_another_agents_case_by_id_is_refused_and_nothing_changes(
    agent_client, agent
):
    other = user_with_role(Role.AGENT, username="other")
    case = CaseFactory.create()
    cases.case_claim(case=case, actor=other)
    for name, data in [
        ("case_note", {"text": "sneaky"}),
        ("case_withdraw", {"note": "stays"}),
        ("case_cancel", {"effective_date": timezone.localdate().isoformat()}),
        ("case_contact", {"channel": "phone", "direction": "inbound", "outcome": "reached"}),
        ("case_release", {}),
    ]:
        response = agent_client.post(
            reverse(name, args=[case.pk]), data, headers={"HX-Request": "true"}
        )
        assert response.status_code in (302, 403), name
    case.refresh_from_db()
    assert (case.status, case.owner) == ("in_progress", other)
    assert list(case.history.values_list("action", flat=True)) == ["claimed"]


def test_only_managers_reassign_and_agents_get_no_reassign_controls(agent_client, manager):
    from django.test import Client

    manager_client = Client()
    manager_client.force_login(manager)
    case = CaseFactory.create()
    reassign_button = f'formaction="{reverse("reassign")}"'
    assert reassign_button not in agent_client.get(reverse("queue")).content.decode()
    assert reassign_button in manager_client.get(reverse("queue")).content.decode()
    target = user_with_role(Role.AGENT, username="target")
    response = agent_client.post(
        reverse("reassign"), {"select": [case.pk], "to_user": target.pk, "reason": "x"}
    )
    assert response.status_code == 403
    response = manager_client.post(
        reverse("reassign"), {"select": [case.pk], "to_user": target.pk, "reason": "Balancing load"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.owner == target


@pytest.mark.parametrize(
    ("language", "count", "said"),
    [
        ("en", 1, "1 case reassigned."),
        ("en", 2, "2 cases reassigned."),
        ("lv", 1, "1 lieta nodota citam."),
        ("ru", 2, "2 обращения переданы."),
    ],
)
def test_the_reassign_message_counts_in_the_managers_language(
    manager_client, language, count, said
):
    from django.conf import settings

    chosen = CaseFactory.create_batch(count)
    target = user_with_role(Role.AGENT, username="target")
    manager_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = manager_client.post(
        reverse("reassign"),
        {"select": [c.pk for c in chosen], "to_user": target.pk, "reason": "Balancing load"},
        follow=True,
    )
    assert said in response.content.decode()


def test_reassign_without_a_reason_changes_nothing(manager_client):
    case = CaseFactory.create()
    target = user_with_role(Role.AGENT, username="target")
    manager_client.post(
        reverse("reassign"), {"select": [case.pk], "to_user": target.pk, "reason": ""}
    )
    case.refresh_from_db()
    assert case.owner is None


def test_a_manager_works_the_cases_of_their_team_only():
    north, south = Team.objects.create(name="North"), Team.objects.create(name="South")
    lead = user_with_role(Role.MANAGER, username="lead", team=north)
    mine, theirs = (
        user_with_role(Role.AGENT, username="n-agent", team=north),
        user_with_role(Role.AGENT, username="s-agent", team=south),
    )
    team_case, other_case = CaseFactory.create(), CaseFactory.create()
    cases.case_claim(case=team_case, actor=mine)
    cases.case_claim(case=other_case, actor=theirs)
    from django.test import Client

    client = Client()
    client.force_login(lead)
    ok = client.post(reverse("case_note", args=[team_case.pk]), {"text": "Checked by the lead"})
    assert ok.status_code == 302
    refused = client.post(reverse("case_note", args=[other_case.pk]), {"text": "nope"})
    assert refused.status_code == 403
    assert not other_case.history.filter(action="note").exists()


# --- The queue ----------------------------------------------------------------------------------


def test_claim_next_from_the_queue_opens_the_case(agent_client, agent):
    top = CaseFactory.create(priority=99)
    CaseFactory.create(priority=1)
    response = agent_client.post(reverse("claim_next"))
    assert response["Location"] == reverse("case", args=[top.pk])
    top.refresh_from_db()
    assert top.owner == agent


def test_claim_next_on_an_empty_queue_says_so(agent_client):
    response = agent_client.post(reverse("claim_next"), follow=True)
    assert "no unclaimed case" in response.content.decode()


def test_the_queue_filters_and_marks_overdue_cases(agent_client):
    riga = CaseFactory.create(subscriber=SubscriberFactory.create(region="Rīga"), priority=10)
    CaseFactory.create(subscriber=SubscriberFactory.create(region="Latgale"), priority=20)
    late = CaseFactory.create(
        subscriber=SubscriberFactory.create(region="Latgale"),
        first_contact_due=datetime(2020, 1, 1, tzinfo=UTC),
    )
    response = agent_client.get(reverse("queue"), {"region": "Rīga"})
    assert [c.pk for c in response.context["page"].cases] == [riga.pk]
    response = agent_client.get(reverse("queue"), {"overdue": "on"})
    assert [c.pk for c in response.context["page"].cases] == [late.pk]
    html = agent_client.get(reverse("queue")).content.decode()
    assert re.search(rf'<tr class="clock-red" data-case="{late.pk}"', html)


def test_the_queue_filter_answers_with_the_results_fragment(agent_client):
    CaseFactory.create()
    response = agent_client.get(
        reverse("queue"), {"channel": "web"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert 'id="results"' in html and "<html" not in html


def test_an_unknown_filter_value_is_ignored_with_the_error_shown(agent_client):
    CaseFactory.create()
    response = agent_client.get(reverse("queue"), {"channel": "pigeon"})
    assert response.status_code == 200
    assert response.context["filters"].errors


def test_queue_pages_walk_every_open_case_once_in_order(agent_client, settings):
    settings.QUEUE_PAGE_SIZE = 7
    due = datetime(2026, 11, 24, tzinfo=UTC)
    for i in range(30):
        CaseFactory.create(priority=i % 4, first_contact_due=due + timedelta(minutes=i % 3))
    seen: list[int] = []
    query: dict[str, str] = {}
    while True:
        response = agent_client.get(reverse("queue"), query)
        seen += [c.pk for c in response.context["page"].cases]
        cursor = response.context["page"].next_cursor
        if not cursor:
            break
        query = {"after": cursor}
    expected = list(
        CancellationCase.objects.order_by("-priority", "first_contact_due", "id").values_list(
            "pk", flat=True
        )
    )
    assert seen == expected


@pytest.mark.parametrize("count", [5, 60])
def test_the_queue_query_count_does_not_grow_with_cases(
    agent_client, django_assert_num_queries, count
):
    CaseFactory.create_batch(count)
    cache.clear()
    # session, user, roles, page, counts (one pass), filter choices (reasons, plans, staff),
    # the region list (cached after this), the saved views, their counts (one pass)
    with django_assert_num_queries(11):
        agent_client.get(reverse("queue"))
    # The counts and the regions are cached for a few seconds: 8 while they are fresh.
    with django_assert_num_queries(8):
        agent_client.get(reverse("queue"))


def test_a_deep_queue_page_costs_the_same_queries_as_the_first(
    agent_client, django_assert_num_queries
):
    batch = CaseFactory.create_batch(20)
    agent_client.get(reverse("queue"))
    deep = QueueCursor(batch[3].priority, batch[3].first_contact_due, batch[3].pk).encode()
    # The counts do not depend on the page: the deep page reuses them.
    with django_assert_num_queries(8):
        agent_client.get(reverse("queue"), {"after": deep})


def test_a_forged_queue_cursor_is_404(agent_client):
    assert agent_client.get(reverse("queue"), {"after": "garbage"}).status_code == 404


@pytest.mark.parametrize("count", [1, 15])
def test_my_cases_query_count_is_constant(agent_client, agent, django_assert_num_queries, count):
    for case in CaseFactory.create_batch(count):
        cases.case_claim(case=case, actor=agent)
    # session, user, roles, cases, notifications
    with django_assert_num_queries(5):
        response = agent_client.get(reverse("my_cases"))
    assert len(response.context["cases"]) == count


def test_my_cases_sort_by_a_heading_in_the_same_queries(
    agent_client, agent, django_assert_num_queries
):
    for days in (5, 2, 9):
        case = CaseFactory.create(process_by=date(2026, 12, 20) + timedelta(days=days))
        cases.case_claim(case=case, actor=agent)
    plain = agent_client.get(reverse("my_cases"))
    assert [c.process_by.day for c in plain.context["cases"]] == [22, 25, 29]
    with django_assert_num_queries(5):  # as unsorted: the rows are sorted in memory
        response = agent_client.get(reverse("my_cases"), {"sort": "-process_by"})
    assert [r.record.process_by.day for r in response.context["table"].rows] == [29, 25, 22]
    html = response.content.decode()
    assert 'aria-sort="descending"' in html
    assert 'href="?sort=process_by#queue-table"' in html  # the other way next
    # Neither the checkboxes nor the claim buttons sort; a column that is not there is ignored.
    assert "sort=actions" not in html and "sort=select" not in html
    bad = agent_client.get(reverse("my_cases"), {"sort": "subscriber__plan__secret"})
    assert bad.status_code == 200
    assert [r.record.pk for r in bad.context["table"].rows] == [
        c.pk for c in plain.context["cases"]
    ]


# --- The case workspace -------------------------------------------------------------------------


@pytest.mark.parametrize("events", [3, 40])
def test_the_case_page_query_count_is_constant(
    agent_client, agent, django_assert_num_queries, events
):
    case = CaseFactory.create()
    cases.case_claim(case=case, actor=agent)
    for i in range(events):
        cases.case_add_note(case=case, actor=agent, text=f"note {i}")
    # session, user, roles, case (+subscriber, plan, owner, reason), the subscriber's tariff
    # fit, contact policy, recent contacts, equipment, the conversation (contacts with their
    # messages; history), the outages and tickets (counts; latest), the macros, timeline,
    # reason choices (a port-out case adds one: has its one save contact been made?); the
    # offers panel: the case's offers, the 12-month concessions, the agent's authority tier, the
    # catalogue and every tier (is an offer beyond everyone's authority?); the desk's calendar
    # (its hours and days, two queries the cache then saves).
    with django_assert_num_queries(22):
        response = agent_client.get(reverse("case", args=[case.pk]))
    assert response.status_code == 200


@time_machine.travel(TUESDAY_22_RIGA, tick=False)
def test_the_page_explains_a_blocked_call_and_the_service_refuses_it(agent_client, agent):
    case = CaseFactory.create(subscriber=SubscriberFactory.create(time_zone="Europe/Riga"))
    cases.case_claim(case=case, actor=agent)
    page = agent_client.get(reverse("case", args=[case.pk])).content.decode()
    assert "Quiet hours; allowed from Wed 25 Nov 09:00" in page
    response = agent_client.post(
        reverse("case_contact", args=[case.pk]),
        {"channel": "phone", "direction": "outbound", "outcome": "reached"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert 'id="action-error"' in html and "Quiet hours" in html and "<html" not in html
    assert not case.contacts.exists()


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_logging_a_contact_swaps_the_work_fragment(agent_client, agent):
    case = CaseFactory.create()
    cases.case_claim(case=case, actor=agent)
    response = agent_client.post(
        reverse("case_contact", args=[case.pk]),
        {
            "channel": "phone",
            "direction": "outbound",
            "outcome": "reached",
            "note": "Talked it over",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Talked it over" in response.content.decode()
    assert case.contacts.count() == 1


def test_a_bad_contact_form_is_a_400_and_changes_nothing(agent_client, agent):
    case = CaseFactory.create()
    cases.case_claim(case=case, actor=agent)
    response = agent_client.post(
        reverse("case_contact", args=[case.pk]),
        {"channel": "telegraph"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    assert not case.contacts.exists()


def test_processing_a_cancellation_from_the_page(agent_client, agent):
    case = CaseFactory.create()
    cases.case_claim(case=case, actor=agent)
    today = timezone.localdate()
    data = {"effective_date": today.isoformat(), "note": "Moving"}
    # First the confirmation (without JavaScript, a page), which changes nothing.
    asked = agent_client.post(reverse("case_cancel", args=[case.pk]), data)
    assert asked.status_code == 200
    assert "This cannot be undone." in asked.content.decode()
    case.refresh_from_db()
    assert case.status == "in_progress"
    response = agent_client.post(
        reverse("case_cancel", args=[case.pk]), {**data, "confirmed": "on"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "cancelled"
    late = agent_client.post(reverse("case_withdraw", args=[case.pk]), {"note": "Too late"})
    assert late.status_code == 409


def test_an_effective_date_after_the_deadline_is_refused_by_the_form(agent_client, agent):
    case = CaseFactory.create()
    cases.case_claim(case=case, actor=agent)
    too_late = (case.process_by + timedelta(days=1)).isoformat()
    response = agent_client.post(
        reverse("case_cancel", args=[case.pk]), {"effective_date": too_late}
    )
    assert response.status_code == 400
    assert "able to leave by" in response.content.decode()
    case.refresh_from_db()
    assert case.status == "in_progress"


def test_opening_a_case_from_the_subscriber_page(agent_client, agent):
    subscriber = SubscriberFactory.create()
    detail = agent_client.get(reverse("subscribers:detail", args=[subscriber.pk])).content.decode()
    assert reverse("case_open", args=[subscriber.pk]) in detail
    from retention.models import CancellationReason

    reason = CancellationReason.objects.get(code="price")
    response = agent_client.post(
        reverse("case_open", args=[subscriber.pk]),
        {"channel": "phone", "reason": reason.pk, "reason_detail": "Too expensive"},
    )
    case = CancellationCase.objects.get(subscriber=subscriber)
    assert response["Location"] == reverse("case", args=[case.pk])
    assert case.owner == agent
    again = agent_client.post(
        reverse("case_open", args=[subscriber.pk]), {"channel": "web", "reason": reason.pk}
    )
    assert again["Location"] == reverse("case", args=[case.pk])
    assert CancellationCase.objects.filter(subscriber=subscriber).count() == 1


def test_marking_equipment_returned_is_one_click(agent_client):
    from subscribers.models import Equipment
    from tests.factories import EquipmentFactory

    item = EquipmentFactory.create(status=Equipment.Status.RETURN_REQUESTED)
    page = agent_client.get(
        reverse("subscribers:detail", args=[item.subscriber_id])
    ).content.decode()
    assert "Courier pickup" in page and "Prepaid mail label" in page
    response = agent_client.post(
        reverse("subscribers:equipment_returned", args=[item.pk]), {"method": "drop_off"}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.status, item.return_method) == ("returned", "drop_off")


def test_queue_counts_follow_the_filters(agent_client):
    CaseFactory.create(channel="web")
    CaseFactory.create(channel="phone", first_contact_due=datetime(2020, 1, 1, tzinfo=UTC))
    everything = agent_client.get(reverse("queue")).context["counts"]
    assert (everything.total, everything.overdue) == (2, 1)
    web = agent_client.get(reverse("queue"), {"channel": "web"}).context["counts"]
    assert (web.total, web.overdue) == (1, 0)


def test_the_filter_form_keeps_what_was_chosen(agent_client):
    CaseFactory.create()
    html = agent_client.get(reverse("queue"), {"channel": "web", "overdue": "on"}).content.decode()
    assert '<option value="web" selected>' in html
    assert re.search(r'<input type="checkbox" name="overdue"[^>]* checked>', html)


def test_the_open_case_page_query_count(agent_client, django_assert_num_queries):
    subscriber = SubscriberFactory.create()
    # session, user, roles, subscriber (+plan), reason choices
    with django_assert_num_queries(5):
        response = agent_client.get(reverse("case_open", args=[subscriber.pk]))
    assert response.status_code == 200
