"""The queue's rows written by hand or by django-tables2: what the library would cost a page.

The queue writes its rows with a hand template (templates/retention/_cases_table.html); my
cases, the dashboard and the other lists are django-tables2 tables. ``measure_queue_tables``
renders the same page of queue rows both ways in one run, from the same cases read once (the
database is left out of the timing): the hand partial as the queue includes it, and
``retention.cases.tables.CasesTable`` through ``{% render_table %}``, each in a template
rendered with the request's context processors, as a page is. The figure that matters is the
difference per page; the ratio divides two times of the same run.

Against a database with open cases (``seed_demo`` and ``seed_cases``)::

    DEBUG=true python manage.py shell -c \
        "from retention.bench.queue_tables import measure_queue_tables as m; print(m())"
"""

import re
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.middleware.csrf import get_token
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse
from django_tables2 import RequestConfig

from retention.bench.results import Log, Results
from retention.cases.selectors import cases_open, queue_page
from retention.cases.tables import CasesTable
from retention.queue.views import deadline_marks

# The queue's page around its rows: the claim form the rows' buttons post.
HAND = '{% include "retention/_cases_table.html" with cases=cases selectable=selectable %}'
TABLES2 = (
    '{% load django_tables2 %}<form id="claim-form" method="post" hidden>{% csrf_token %}</form>'
    "{% render_table table %}"
)


def _ms(renders: dict[str, Callable[[], str]], repeats: int) -> dict[str, tuple[float, str]]:
    """The median time of ``repeats`` renders of each, in milliseconds, taken in turns so that
    the machine's ups and downs fall on both; and what each wrote last."""
    html = {name: render() for name, render in renders.items()}  # compile and cache templates
    times: dict[str, list[float]] = {name: [] for name in renders}
    for _ in range(repeats):
        for name, render in renders.items():
            start = time.perf_counter()
            html[name] = render()
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: (statistics.median(times[name]), html[name]) for name in renders}


def _rows(html: str) -> list[str]:
    return re.findall(r'data-case="(\d+)"', html)


def measure_queue_tables(
    *, cases_per_page: int = 50, repeats: int = 30, selectable: bool = True
) -> dict[str, Any]:
    """Milliseconds per page of ``cases_per_page`` queue rows, by hand and by django-tables2,
    and the difference. ``selectable``: the manager's page, a checkbox on every row."""
    cases = queue_page(cases=cases_open(), after=None, size=cases_per_page).cases
    request = RequestFactory().get(reverse("queue"))
    request.user = AnonymousUser()  # the context processors' roles: no query
    get_token(request)  # the claim form's CSRF token, made once as a page makes it
    hand = engines["django"].from_string(HAND)
    tables2 = engines["django"].from_string(TABLES2)

    def by_hand() -> str:
        context = {"cases": cases, "selectable": selectable, **deadline_marks()}
        return hand.render(context, request)

    def by_tables2() -> str:
        table = CasesTable(cases, selectable=selectable)
        RequestConfig(request, paginate=False).configure(table)  # sorting headings, as My cases
        return tables2.render({"table": table}, request)

    found = _ms({"hand": by_hand, "tables2": by_tables2}, repeats)
    (hand_ms, hand_html), (tables2_ms, tables2_html) = found["hand"], found["tables2"]
    return {
        "cases": len(cases),
        "repeats": repeats,
        "hand_ms": round(hand_ms, 2),
        "tables2_ms": round(tables2_ms, 2),
        "difference_ms": round(tables2_ms - hand_ms, 2),
        "ratio": round(tables2_ms / hand_ms, 2) if hand_ms else None,
        "same_rows": _rows(hand_html) == _rows(tables2_html),
    }


def measure_queue_section(results: Results, *, requests: int, log: Log) -> None:
    """The bench's section: the manager's page (checkboxes) and the agent's, ``requests`` renders
    each, kept in ``results.tables``."""
    log(f"Rendering a page of queue rows by hand and by django-tables2, {requests} times each…")
    for role, selectable in (("manager", True), ("agent", False)):
        found = measure_queue_tables(repeats=max(requests, 5), selectable=selectable)
        if not found["same_rows"]:
            results.note(f"queue tables ({role}): the two renderings wrote different rows", log)
        results.tables[role] = found
