"""Server time and query counts of the pages that must stay fast at a million subscribers and a
hundred thousand open cases: the subscriber page and timeline (first and ~1000th page), search,
the queue (first, filtered and deep pages; sorted by a column and through a saved view, first
and deep), the case page and its offer builder, and the
approvals inbox."""

import random
from collections.abc import Iterable
from itertools import cycle, islice
from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse

from retention.bench.offers import ensure_builder_cases, ensure_catalogue, ensure_pending_offers
from retention.bench.queue import SEED_SOURCE, heavy_subscribers
from retention.bench.queue_sorted import sorted_queue_series
from retention.bench.results import Log, Results
from retention.bench.scale import HEAVY, SEED
from retention.bench.timing import Series, logged_in, measure
from retention.bench.users import bench_manager, bench_users
from retention.cases.selectors import QUEUE_ORDER, QueueCursor, cases_open, queue_page
from subscribers.models import Subscriber, TimelineEvent
from subscribers.selectors import Cursor, timeline_page

DEEP_PAGE = 1000
# The deep queue page starts after this row in queue order (page ~1000 at 50 a page), or half
# way down a queue too short for it (quick scale).
QUEUE_DEEP_ROW = 50_000
HTMX = {"HX-Request": "true"}


def measure_pages(results: Results, *, requests: int, log: Log) -> None:
    rng = random.Random(SEED)
    agent, admin = bench_users()
    client, admin_client = logged_in(agent), logged_in(admin)
    manager = bench_manager()
    manager_client = logged_in(manager)
    ensure_catalogue(log=log)
    builder_cases = ensure_builder_cases(agent, log=log)
    results.cases["builder_cases"] = len(builder_cases)
    results.cases.update(ensure_pending_offers(agent, manager, log=log))
    heavy = heavy_subscribers()
    max_id = Subscriber.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    regular_ids = [rng.randint(HEAVY + 1, max_id) for _ in range(requests)]
    log("Collecting cursors ~1000 pages deep, search terms and cases…")
    series = _subscriber_series(client, admin_client, rng, heavy, regular_ids)
    series += _queue_series(client, results, requests)
    sorted_series, counts = sorted_queue_series(
        client, agent, deep_row=results.cases["deep_row"], requests=requests
    )
    results.cases.update(counts)
    series += sorted_series
    series += _case_series(client, heavy, builder_cases, requests)
    log(f"Measuring {len(series)} figures, {requests} requests each, interleaved…")
    results.figures.extend(measure(series))
    # The inbox takes many times longer than a page. Interleaved with the pages it would
    # stretch each round until the queue's counts (cached QUEUE_COUNTS_SECONDS per filter)
    # expired between one region's requests, and the region filter's figure would measure that.
    approvals_url = reverse("approvals")
    inbox = [
        Series("approvals inbox", manager_client, [approvals_url] * requests),
        Series("approvals inbox (htmx refresh)", manager_client, [approvals_url] * requests, HTMX),
    ]
    log(f"Measuring the approvals inbox and its refresh, {requests} requests each, interleaved…")
    results.figures.extend(measure(inbox))


def _subscriber_series(
    client: Client,
    admin_client: Client,
    rng: random.Random,
    heavy: list[int],
    regular_ids: list[int],
) -> list[Series]:
    """The subscriber page, the heavy subscribers' timelines, and search (the desk's and the
    admin's) for what agents type."""
    requests = len(regular_ids)
    page_size = settings.TIMELINE_PAGE_SIZE
    # The cursor the selector hands out after page 1 must be the one computed here.
    check = timeline_page(subscriber=Subscriber.objects.get(pk=heavy[0]))
    assert check.next_cursor == deep_cursors(heavy[0], [2], page_size)[0]
    deep_pages = range(DEEP_PAGE - 10, DEEP_PAGE + 10)
    cursors = [(pk, c) for pk in heavy for c in deep_cursors(pk, deep_pages, page_size)]
    terms = search_terms(rng, requests)
    search_url = reverse("subscribers:search")
    admin_url = reverse("admin:subscribers_subscriber_changelist")
    timeline = [
        reverse("subscribers:timeline", args=[heavy[n % len(heavy)]]) for n in range(requests)
    ]
    deep = [
        f"{reverse('subscribers:timeline', args=[pk])}?after={cursor}"
        for pk, cursor in (cursors[n % len(cursors)] for n in range(requests))
    ]
    return [
        Series(
            "subscriber page",
            client,
            [reverse("subscribers:detail", args=[pk]) for pk in regular_ids],
        ),
        Series("timeline, first page", client, timeline, HTMX),
        Series(f"timeline, page ~{DEEP_PAGE}", client, deep, HTMX),
        Series("search (htmx results)", client, [f"{search_url}?{_query(q)}" for q in terms], HTMX),
        Series(
            "admin subscriber search", admin_client, [f"{admin_url}?{_query(q)}" for q in terms]
        ),
    ]


def _queue_series(client: Client, results: Results, requests: int) -> list[Series]:
    """The queue's first page, a region's, and a page ~1000 deep."""
    queue_url = reverse("queue")
    queue_size = settings.QUEUE_PAGE_SIZE
    total = cases_open().count()
    deep_row = min(QUEUE_DEEP_ROW, total // 2) // queue_size * queue_size
    assert queue_page(cases=cases_open(), after=None).next_cursor == queue_cursors([queue_size])[0]
    # Twenty pages around the deep one, each opened after the last row of the page before.
    queue_deep = queue_cursors(
        deep_row + n * queue_size for n in range(-10, 10) if deep_row + n * queue_size > 0
    )
    results.cases["deep_page"] = deep_row // queue_size + 1
    results.cases["deep_row"] = deep_row
    regions = sorted(set(Subscriber.objects.values_list("region", flat=True)))
    by_region = [urlencode({"region": regions[n % len(regions)]}) for n in range(requests)]
    deep = [urlencode({"after": queue_deep[n % len(queue_deep)]}) for n in range(requests)]
    return [
        Series("queue, first page", client, [queue_url] * requests),
        Series("queue, region filter", client, [f"{queue_url}?{q}" for q in by_region]),
        Series("queue, deep page", client, [f"{queue_url}?{q}" for q in deep]),
    ]


def _case_series(
    client: Client, heavy: list[int], builder_cases: list[int], requests: int
) -> list[Series]:
    """The case page of a heavy subscriber, of an ordinary one, and with the offer builder."""
    heavy_cases = list(
        cases_open().filter(subscriber_id__in=heavy).order_by("pk").values_list("pk", flat=True)
    )
    # Cases nobody has claimed, as most of the queue: the bench agent's own (the offer builder's
    # and those with an offer waiting) have figures of their own.
    regular_cases = list(
        cases_open()
        .filter(source=SEED_SOURCE, owner__isnull=True)
        .exclude(subscriber_id__in=heavy)
        .order_by("?")
        .values_list("pk", flat=True)[:requests]
    )
    # The builder is on the page only for the case's owner, with the case in progress.
    builder_urls = [reverse("case", args=[pk]) for pk in islice(cycle(builder_cases), requests)]
    if b'id="offer-builder"' not in client.get(builder_urls[0]).content:
        raise RuntimeError(f"{builder_urls[0]} shows the bench agent no offer builder")
    return [
        Series(
            "case page, heavy subscriber",
            client,
            [reverse("case", args=[pk]) for pk in islice(cycle(heavy_cases), requests)],
        ),
        Series(
            "case page",
            client,
            [reverse("case", args=[pk]) for pk in islice(cycle(regular_cases), requests)],
        ),
        Series("case page, offer builder", client, builder_urls),
    ]


def _query(term: str) -> str:
    return urlencode({"q": term})


def deep_cursors(subscriber_id: int, pages: Iterable[int], page_size: int) -> list[str]:
    """Cursors that open the given pages (1 is the first): the key of the last event on the page
    before, found with OFFSET here so that the request being timed does not need it."""
    cursors = []
    with connection.cursor() as cursor:
        for page in pages:
            cursor.execute(
                f"SELECT occurred_at, id FROM {TimelineEvent._meta.db_table} "
                "WHERE subscriber_id = %s ORDER BY occurred_at DESC, id DESC OFFSET %s LIMIT 1",
                [subscriber_id, (page - 1) * page_size - 1],
            )
            row = cursor.fetchone()
            if row is None:
                raise RuntimeError(f"subscriber {subscriber_id} has fewer than {page} pages")
            cursors.append(Cursor(occurred_at=row[0], id=row[1]).encode())
    return cursors


def queue_cursors(rows: Iterable[int]) -> list[str]:
    """Cursors that open the queue after the given rows (1 is the first) in queue order: the
    key of that row, found with OFFSET here so that the request being timed does not need it."""
    ordered = cases_open().order_by(*QUEUE_ORDER)
    cursors = []
    for row in rows:
        keys = list(ordered.values_list("priority", "first_contact_due", "pk")[row - 1 : row])
        if not keys:
            raise RuntimeError(f"the queue has fewer than {row} open cases")
        cursors.append(QueueCursor(*keys[0]).encode())
    return cursors


def search_terms(rng: random.Random, count: int) -> list[str]:
    """What agents type: parts of surnames, phones, e-mails and account numbers of real
    subscribers, and whole account numbers."""
    sample = list(
        Subscriber.objects.order_by("?").values_list("name", "phone", "email", "account_number")[
            :count
        ]
    )
    terms = []
    for n, (name, phone, email, account) in enumerate(sample):
        kind = n % 5
        if kind == 0:
            word = max(name.replace('"', "").split(), key=len)
            length = rng.randint(4, min(7, len(word)))
            terms.append(word[:length])
        elif kind == 1:
            terms.append(phone[-rng.randint(5, 8) :])
        elif kind == 2 and email:
            local = email.split("@")[0]
            terms.append(local[: rng.randint(5, max(5, min(10, len(local))))])
        elif kind == 3:
            terms.append(account)
        else:
            terms.append(account[: rng.randint(5, 7)])
    return terms
