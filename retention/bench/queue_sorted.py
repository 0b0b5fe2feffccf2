"""The queue sorted by a column and opened through a saved view, first page against a page
~1000 deep: each sort is a keyset page on its own index, so the deep page should cost what the
first does. Measured with the other pages (retention.bench.pages), interleaved with them."""

from urllib.parse import urlencode

from django.conf import settings
from django.db.models import QuerySet
from django.http import QueryDict
from django.test import Client
from django.urls import reverse

from retention.bench.timing import Series
from retention.cases.filters import QueueFilter
from retention.cases.selectors import cases_open
from retention.models import CancellationCase, SavedView, User
from retention.queue.selectors import Sort, sort_parse, sorted_cursor

SORT = "process_by"
# The saved view: residential subscribers' cases, the nearest contact due first.
VIEW_NAME = "Bench: residential by contact due"
VIEW_FILTERS = {"segment": "residential"}
VIEW_SORT = "first_contact_due"


def bench_view(agent: User) -> SavedView:
    view, _ = SavedView.objects.update_or_create(
        owner=agent, name=VIEW_NAME, defaults={"filters": VIEW_FILTERS, "sort": VIEW_SORT}
    )
    return view


def sorted_cursors(cases: QuerySet[CancellationCase], sort: Sort, rows: list[int]) -> list[str]:
    """Cursors that open the sorted queue after the given rows (1 is the first), found with
    OFFSET here so that the request being timed does not need it."""
    order = (f"-{sort.column}", "-id") if sort.descending else (sort.column, "id")
    ordered = cases.order_by(*order)
    cursors = []
    for row in rows:
        keys = list(ordered.values_list(sort.column, "pk")[row - 1 : row])
        if not keys:
            raise RuntimeError(f"the sorted queue has fewer than {row} cases")
        cursors.append(sorted_cursor(sort, *keys[0]))
    return cursors


def sorted_queue_series(
    client: Client, agent: User, *, deep_row: int, requests: int
) -> tuple[list[Series], dict[str, int]]:
    """The queue sorted by process-by date and the queue through a saved view, each first page
    and ~1000 pages deep (twenty pages around the deep row, each after the last row of the page
    before)."""
    url = reverse("queue")
    size = settings.QUEUE_PAGE_SIZE
    view = bench_view(agent)
    view_cases = QueueFilter(
        QueryDict(urlencode(VIEW_FILTERS)), queryset=cases_open(), user=agent
    ).qs
    view_total = view_cases.count()
    view_deep = min(deep_row, view_total // 2) // size * size
    sort = sort_parse(SORT)
    view_sort = sort_parse(VIEW_SORT)
    assert sort is not None and view_sort is not None
    around = [n * size for n in range(-10, 10)]
    sorted_deep = sorted_cursors(
        cases_open(), sort, [deep_row + n for n in around if deep_row + n > 0]
    )
    view_cursors = sorted_cursors(
        view_cases, view_sort, [view_deep + n for n in around if view_deep + n > 0]
    )
    deep = [
        urlencode({"sort": SORT, "after": sorted_deep[n % len(sorted_deep)]})
        for n in range(requests)
    ]
    view_deep_urls = [
        urlencode({"view": view.pk, "after": view_cursors[n % len(view_cursors)]})
        for n in range(requests)
    ]
    series = [
        Series("queue sorted by process-by, first page", client, [f"{url}?sort={SORT}"] * requests),
        Series("queue sorted by process-by, deep page", client, [f"{url}?{q}" for q in deep]),
        Series("queue, saved view, first page", client, [f"{url}?view={view.pk}"] * requests),
        Series("queue, saved view, deep page", client, [f"{url}?{q}" for q in view_deep_urls]),
    ]
    return series, {"saved_view_cases": view_total, "saved_view_deep_row": view_deep}
