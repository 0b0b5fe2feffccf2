"""The queue sorted by a column: every open case once, in order, a keyset page at a time, ties
broken by id; a column it cannot sort by is refused clearly."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse

from retention.models import CancellationCase
from retention.queue.selectors import Sort, sorted_cursor
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db

DUE = datetime(2026, 11, 24, 9, tzinfo=UTC)


@pytest.fixture
def ties():
    """30 open cases with many equal values in every sortable column, and a closed one."""
    for i in range(30):
        CaseFactory.create(
            priority=i % 4,
            first_contact_due=DUE + timedelta(minutes=i % 3),
            process_by=date(2026, 12, 1) + timedelta(days=i % 5),
            opened_at=DUE - timedelta(hours=i % 2),
        )
    CaseFactory.create(status="withdrawn", closed_at=DUE, priority=99)


def walk(client, sort: str) -> list[int]:
    seen: list[int] = []
    query = {"sort": sort}
    while True:
        response = client.get(reverse("queue"), query)
        assert response.status_code == 200
        seen += [c.pk for c in response.context["page"].cases]
        cursor = response.context["page"].next_cursor
        if not cursor:
            return seen
        query = {"sort": sort, "after": cursor}


@pytest.mark.parametrize("column", ["priority", "first_contact_due", "process_by", "opened_at"])
@pytest.mark.parametrize("descending", [False, True])
def test_pages_of_a_sorted_queue_hold_every_open_case_once_in_order(
    agent_client, settings, ties, column, descending
):
    settings.QUEUE_PAGE_SIZE = 7
    sort = f"-{column}" if descending else column
    order = (f"-{column}", "-id") if descending else (column, "id")
    expected = list(
        CancellationCase.objects.filter(status__in=CancellationCase.OPEN_STATUSES)
        .order_by(*order)
        .values_list("pk", flat=True)
    )
    assert walk(agent_client, sort) == expected


def test_a_deep_sorted_page_costs_what_the_first_does(
    agent_client, ties, django_assert_num_queries
):
    agent_client.get(reverse("queue"), {"sort": "process_by"})
    case = CancellationCase.objects.order_by("process_by", "id")[12]
    deep = sorted_cursor(Sort("process_by", False), case.process_by, case.pk)
    with django_assert_num_queries(8):
        response = agent_client.get(reverse("queue"), {"sort": "process_by", "after": deep})
    assert response.context["page"].cases[0].pk != case.pk


@pytest.mark.parametrize("count", [4, 40])
def test_the_sorted_queue_query_count_does_not_grow_with_cases(
    agent_client, django_assert_num_queries, count
):
    CaseFactory.create_batch(count)
    cache.clear()
    agent_client.get(reverse("queue"), {"sort": "-priority"})
    with django_assert_num_queries(8):
        agent_client.get(reverse("queue"), {"sort": "-priority"})


def test_a_column_the_queue_cannot_sort_by_is_said_and_the_usual_order_kept(agent_client):
    CaseFactory.create(priority=10)
    CaseFactory.create(priority=90)
    response = agent_client.get(reverse("queue"), {"sort": "subscriber__name"})
    assert response.status_code == 200
    assert "cannot be sorted" in response.context["sort_problem"]
    assert [c.priority for c in response.context["page"].cases] == [90, 10]


def test_a_cursor_of_the_wrong_shape_for_the_sort_is_404(agent_client):
    CaseFactory.create()
    bad = sorted_cursor(Sort("priority", False), 5, 1)  # an int where a datetime belongs
    response = agent_client.get(reverse("queue"), {"sort": "first_contact_due", "after": bad})
    assert response.status_code == 404
    big = sorted_cursor(Sort("priority", False), 10**9, 1)  # no such date
    assert (
        agent_client.get(reverse("queue"), {"sort": "process_by", "after": big}).status_code == 404
    )


def test_the_headings_link_to_their_sort_and_say_which_is_on(agent_client):
    CaseFactory.create()
    page = agent_client.get(reverse("queue"), {"sort": "process_by", "region": ""}).content.decode()
    assert 'aria-sort="ascending"' in page
    assert "sort=-process_by" in page  # the second click turns it round
    assert "sort=first_contact_due" in page and "sort=priority" in page
