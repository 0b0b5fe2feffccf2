"""A NUL character (U+0000) is bad input like any other, never a server error.

PostgreSQL refuses NUL in text and in JSON, so before these checks a single NUL anywhere in an
event (its summary, a key or value of its data, its external id) answered the whole batch with
an HTML 500. Now the event is rejected by its index and field, and ``skip_invalid`` stores the
others. The subscriber import reports the line and the column.
"""

import io

import pytest

from subscribers.importing import import_subscribers_csv
from subscribers.models import Subscriber, TimelineEvent
from subscribers.text import nul_errors
from tests.factories import PlanFactory
from tests.ingestion import event
from tests.ingestion import post_events as post

# The 500 happened only on PostgreSQL: SQLite stores a NUL without complaint.
pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

NUL = "\x00"


# --- The helper ---------------------------------------------------------------------------------


def test_nul_errors_name_every_field_that_holds_a_nul_however_deep():
    item = {
        "summary": f"a{NUL}b",
        "ok": "fine",
        "count": 3,
        "data": {"note": NUL, f"k{NUL}ey": "v", "lines": [{"text": "x"}, {"text": f"y{NUL}"}]},
    }
    assert [(error.field, error.message) for error in nul_errors(item)] == [
        ("summary", "Must not contain the NUL character (\\u0000)"),
        ("data.note", "Must not contain the NUL character (\\u0000)"),
        ("data.k\\u0000ey", "This key must not contain the NUL character (\\u0000)"),
        ("data.lines.1.text", "Must not contain the NUL character (\\u0000)"),
    ]
    assert nul_errors({"summary": "clean", "data": {"a": [1, "b"]}}) == []


# --- The events API -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"summary": f"Payment{NUL} received"}, "summary"),
        ({"external_id": f"inv{NUL}1"}, "external_id"),
        ({"account_number": f"LV-100200{NUL}"}, "account_number"),
        ({"data": {"note": f"paid{NUL}"}}, "data.note"),
        ({"data": {f"no{NUL}te": "paid"}}, "data.no\\u0000te"),
        ({"data": {"lines": [{"amount": "1.00"}, {"memo": NUL}]}}, "data.lines.1.memo"),
    ],
)
def test_a_nul_anywhere_in_an_event_rejects_it_by_index_and_field(
    api_client, subscriber, overrides, field
):
    response = post(api_client, [event(1), event(2, **overrides)])
    assert response.status_code == 400
    body = response.json()
    [item] = body["items"]
    assert item["index"] == 1 and item["status"] == "invalid"
    assert {"field": field, "message": item["errors"][0]["message"]} in item["errors"]
    assert "NUL" in item["errors"][0]["message"]
    assert not TimelineEvent.objects.exists()


def test_an_event_with_a_nul_is_skipped_and_the_others_stored_with_skip_invalid(
    api_client, subscriber
):
    response = post(
        api_client, [event(1), event(2, summary=f"x{NUL}"), event(3)], "?skip_invalid=true"
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["rejected"]) == (2, 1)
    assert body["items"][1]["status"] == "invalid"
    # The id is sent back when it is usable; an id that holds a NUL is not echoed.
    assert body["items"][1]["external_id"] == "inv-2"
    stored = TimelineEvent.objects.filter(source="billing")
    assert set(stored.values_list("external_id", flat=True)) == {"inv-1", "inv-3"}


def test_an_external_id_with_a_nul_is_not_sent_back(api_client, subscriber):
    response = post(api_client, [event(1, external_id=f"inv{NUL}")])
    assert response.status_code == 400
    assert response.json()["items"][0]["external_id"] is None


# --- The subscriber import ----------------------------------------------------------------------

HEADER = "account_number,name,plan_code,monthly_price,signup_date,region,phone,email,time_zone"


@pytest.mark.parametrize(
    ("column", "cell"),
    [
        ("account_number", f"10{NUL}01"),
        ("name", f"Jānis{NUL}"),
        ("plan_code", f"fibre-300{NUL}"),
        ("region", f"Rī{NUL}ga"),
        ("phone", f"+371{NUL}"),
        ("email", f"janis{NUL}@example.lv"),
        ("time_zone", f"Europe/Riga{NUL}"),
    ],
)
def test_a_nul_in_an_imported_subscriber_is_reported_by_line_and_column(column, cell):
    PlanFactory.create(code="fibre-300")
    row = {
        "account_number": "1000001",
        "name": "Jānis",
        "plan_code": "fibre-300",
        "monthly_price": "9.99",
        "signup_date": "2020-01-01",
        "region": "Rīga",
        "phone": "+37120000000",
        "email": "janis@example.lv",
        "time_zone": "Europe/Riga",
        column: cell,
    }
    good = "1000002,Anna,fibre-300,9.99,2020-01-01,Rīga,,,Europe/Riga"
    text = "\n".join([HEADER, good, ",".join(f'"{value}"' for value in row.values())]) + "\n"
    report = import_subscribers_csv(file=io.StringIO(text, newline=""))
    assert report.failed
    [error] = report.errors
    assert error.line == 3
    assert error.message.startswith(f"{column}: ")
    assert NUL not in str(error)
    assert not Subscriber.objects.exists()

    report = import_subscribers_csv(file=io.StringIO(text, newline=""), skip_invalid=True)
    assert report.created == 1 and report.error_count == 1
    assert list(Subscriber.objects.values_list("account_number", flat=True)) == ["1000002"]
