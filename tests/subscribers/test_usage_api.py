"""POST /api/v1/usage: network systems push usage months with a token, idempotent by subscriber
and month; the fits of the subscribers whose usage changed are recomputed at once."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from subscribers.models import TariffFit, Usage
from tests.factories import SubscriberFactory, UsageFactory
from tests.ingestion import post_batch

URL = "/api/v1/usage"
TODAY = date(2026, 4, 15)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-04-15 10:00:00+03:00", tick=False):
        yield


def month(period: str = "2026-03", **overrides: Any) -> dict[str, Any]:
    """A valid month for the subscriber with account number LV-100200."""
    return {
        "account_number": "LV-100200",
        "period": period,
        "gb_down": "120.50",
        "gb_up": 12,
        "hours_online": 310.5,
        "peak_devices": 4,
        **overrides,
    }


def post(client: Client, items: Any, query: str = "") -> Any:
    return post_batch(client, URL, "usage", items, query)


def test_call_without_a_token_is_401(subscriber):
    response = post(Client(), [month()])
    assert response.status_code == 401
    assert not Usage.objects.exists()


def test_a_month_is_stored_for_the_subscriber(subscriber, api_client):
    response = post(api_client, [month()])

    assert response.status_code == 200
    assert response.json() == {
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "items": [
            {
                "index": 0,
                "account_number": "LV-100200",
                "period": "2026-03",
                "status": "created",
                "errors": [],
            }
        ],
    }
    stored = Usage.objects.get()
    assert stored.subscriber == subscriber
    assert stored.period == date(2026, 3, 1)
    assert (stored.gb_down, stored.gb_up, stored.hours_online) == (
        Decimal("120.50"),
        Decimal("12.00"),
        Decimal("310.5"),
    )
    assert (stored.peak_devices, stored.people) == (4, 1)


def test_a_month_sent_again_is_updated_when_its_figures_changed_and_unchanged_otherwise(
    subscriber, api_client
):
    post(api_client, [month("2026-02"), month("2026-03")])

    body = post(api_client, [month("2026-02"), month("2026-03", gb_down="99.00", people=3)]).json()

    assert [item["status"] for item in body["items"]] == ["unchanged", "updated"]
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 1, 1)
    changed = Usage.objects.get(period=date(2026, 3, 1))
    assert (changed.gb_down, changed.people) == (Decimal("99.00"), 3)
    assert Usage.objects.count() == 2


def test_the_current_month_may_be_reported_but_not_a_future_one(subscriber, api_client):
    assert post(api_client, [month("2026-04")]).json()["created"] == 1

    response = post(api_client, [month("2026-05")])

    assert response.status_code == 400
    (item,) = response.json()["items"]
    assert item["status"] == "invalid"
    assert item["errors"][0]["field"] == "period"
    assert "future" in item["errors"][0]["message"]


def test_a_month_more_than_36_months_back_is_refused(subscriber, api_client):
    assert post(api_client, [month("2023-04")]).status_code == 200
    response = post(api_client, [month("2023-03")])
    assert response.status_code == 400
    assert "36 months" in response.json()["items"][0]["errors"][0]["message"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"period": "2026-3"}, "period"),
        ({"period": "2026-13"}, "period"),
        ({"period": 202603}, "period"),
        ({"gb_down": -1}, "gb_down"),
        ({"gb_down": "1.234"}, "gb_down"),
        ({"gb_down": "1,5"}, "gb_down"),
        ({"gb_down": "NaN"}, "gb_down"),
        ({"gb_up": 1_000_000}, "gb_up"),
        ({"gb_up": True}, "gb_up"),
        ({"hours_online": 745}, "hours_online"),
        ({"hours_online": "10.25"}, "hours_online"),
        ({"peak_devices": 2.5}, "peak_devices"),
        ({"peak_devices": 10_001}, "peak_devices"),
        ({"people": 0}, "people"),
        ({"account_number": ""}, "account_number"),
        ({"gb_dwn": 1}, "gb_dwn"),
    ],
)
def test_bad_figures_are_refused_by_field_and_nothing_is_stored(
    subscriber, api_client, overrides, field
):
    response = post(api_client, [month("2026-02"), month(**overrides)])

    assert response.status_code == 400
    (item,) = response.json()["items"]
    assert item["index"] == 1
    assert item["status"] == "invalid"
    assert field in [error["field"] for error in item["errors"]]
    assert not Usage.objects.exists()


def test_a_nul_character_is_refused_by_field_never_a_server_error(subscriber, api_client):
    response = post(
        api_client, [month(account_number="LV-100200\x00"), month(period="2026-0\x003")]
    )

    assert response.status_code == 400
    items = response.json()["items"]
    assert [item["errors"][0] for item in items] == [
        {"field": "account_number", "message": "Must not contain the NUL character (\\u0000)"},
        {"field": "period", "message": "Must not contain the NUL character (\\u0000)"},
    ]
    assert [(item["account_number"], item["period"]) for item in items] == [
        (None, "2026-03"),
        ("LV-100200", None),
    ]
    assert not Usage.objects.exists()


def test_an_unknown_account_rejects_the_batch_unless_skip_invalid(subscriber, api_client):
    items = [month(), month(account_number="LV-999999")]

    refused = post(api_client, items)
    assert refused.status_code == 400
    assert "1 of 2 usage months were rejected" in refused.json()["detail"]
    assert refused.json()["items"][0]["status"] == "unknown_subscriber"
    assert not Usage.objects.exists()

    taken = post(api_client, items, "?skip_invalid=true").json()
    assert [item["status"] for item in taken["items"]] == ["created", "unknown_subscriber"]
    assert (taken["created"], taken["rejected"]) == (1, 1)
    assert Usage.objects.count() == 1


def test_the_same_month_twice_in_a_batch_is_invalid(subscriber, api_client):
    body = post(api_client, [month(), month(gb_down="1.00")], "?skip_invalid=true").json()

    assert [item["status"] for item in body["items"]] == ["created", "invalid"]
    assert "item 0" in body["items"][1]["errors"][0]["message"]
    assert Usage.objects.get().gb_down == Decimal("120.50")


def test_the_fit_is_recomputed_when_usage_arrives(subscriber, api_client):
    post(api_client, [month("2026-01"), month("2026-02")])
    assert not TariffFit.objects.exists()  # fewer than 3 months: no fit

    post(api_client, [month("2026-03")])

    fit = TariffFit.objects.get(subscriber=subscriber)
    assert fit.computed_on == TODAY
    assert fit.months == 3


def test_an_unchanged_month_does_not_recompute_the_fit(subscriber, api_client):
    post(api_client, [month("2026-01"), month("2026-02"), month("2026-03")])
    TariffFit.objects.all().delete()

    post(api_client, [month("2026-03")])

    assert not TariffFit.objects.exists()


def _queries_for(client: Client, items: list[dict[str, Any]]) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert post(client, items).status_code == 200
    return len(queries)


def test_the_queries_do_not_grow_with_the_batch(api_client):
    subscribers = SubscriberFactory.create_batch(60)
    for subscriber in subscribers[:30]:
        UsageFactory.create(subscriber=subscriber, period=date(2026, 1, 1))
    post(api_client, [month(account_number=subscribers[0].account_number)])  # the token's use

    def batch(few: list[Any], period: str) -> list[dict[str, Any]]:
        return [month(period, account_number=s.account_number) for s in few]

    small = _queries_for(api_client, batch(subscribers[1:3], "2026-01"))
    large = _queries_for(api_client, batch(subscribers[3:60], "2026-01"))

    # The token, the subscribers; in a savepoint (the test runs in a transaction): the months
    # stored (locked), the upsert; in one of its own, the fit's lock, delete and insert.
    assert small == large == 11


def test_a_full_batch_is_one_upsert(api_client):
    subscribers = SubscriberFactory.create_batch(250)
    periods = ["2025-12", "2026-01", "2026-02", "2026-03"]
    items = [month(p, account_number=s.account_number) for s in subscribers for p in periods]

    with CaptureQueriesContext(connection) as queries:
        body = post(api_client, items).json()

    assert body["created"] == 1000
    assert sum(1 for q in queries if q["sql"].startswith('INSERT INTO "subscribers_usage"')) == 1
    assert TariffFit.objects.count() == 250


def test_the_openapi_schema_documents_the_usage_operation():
    response = Client().get("/api/v1/openapi.json")

    schema = response.json()
    operation = schema["paths"]["/api/v1/usage"]["post"]
    assert operation["security"] == [{"BearerToken": []}]
    assert set(operation["responses"]) == {"200", "400", "401", "413"}
    item = schema["components"]["schemas"]["UsageBatchIn"]["properties"]["usage"]["items"]
    assert set(item["required"]) == {
        "account_number",
        "period",
        "gb_down",
        "gb_up",
        "hours_online",
        "peak_devices",
    }
    assert item["properties"]["period"]["pattern"] == "^[0-9]{4}-[0-9]{2}$"
    assert item["properties"]["people"]["minimum"] == 1
