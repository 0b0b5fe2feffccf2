"""The queue's page query is one ordered index scan on PostgreSQL: no sort of all open cases."""

import pytest
from django.db import connection
from django.db.models import Q

from retention.cases.selectors import QUEUE_ORDER, cases_open
from tests.factories import CaseFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # With the alternatives priced out, a plan still needs a Sort node unless an index
        # delivers the queue order by itself; that is what this test pins (at a million rows
        # the planner picks the ordered index scan on its own).
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            cursor.execute(f"SET LOCAL {setting} = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_first_queue_page_reads_the_queue_index_in_order():
    CaseFactory.create_batch(5)
    text = plan(cases_open().order_by(*QUEUE_ORDER)[:51])
    assert "case_queue_open" in text
    assert "Sort" not in text


def test_claim_next_reads_the_unclaimed_index_in_order():
    CaseFactory.create_batch(5)
    text = plan(cases_open().filter(status="new", owner__isnull=True).order_by(*QUEUE_ORDER)[:1])
    assert "Sort" not in text


@pytest.mark.parametrize("column", ["priority", "first_contact_due", "process_by", "opened_at"])
@pytest.mark.parametrize("descending", [False, True])
def test_a_queue_sorted_by_a_column_reads_that_columns_index_in_order(column, descending):
    CaseFactory.create_batch(5)
    order = (f"-{column}", "-id") if descending else (column, "id")
    case = CaseFactory.create()
    beyond = "lt" if descending else "gt"
    value = getattr(case, column)
    after = cases_open().filter(
        Q(**{f"{column}__{beyond}": value}) | Q(**{column: value, f"id__{beyond}": case.pk})
    )
    for queryset in (cases_open(), after):
        text = plan(queryset.order_by(*order)[:51])
        assert f"case_open_by_{column}" in text, text
        assert "Sort" not in text
