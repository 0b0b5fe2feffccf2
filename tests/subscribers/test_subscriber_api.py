"""POST /api/v1/subscribers: billing pushes subscribers with a token, upserted by account number,
read by the import's own columns and parsers; new subscribers are scored on arrival.

Runs on SQLite and on PostgreSQL; the same tests hold on both.
"""

import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from kombu.exceptions import OperationalError

from subscribers import outbound
from subscribers.importing import import_subscribers_csv
from subscribers.importing_load import SCORE_ARRIVALS_TASK
from subscribers.models import FieldConflict, OutboundEvent, Plan, Subscriber
from subscribers.text import NUL_MESSAGE
from tests.factories import PlanFactory, SubscriberFactory
from tests.ingestion import post_batch

pytestmark = pytest.mark.django_db

URL = "/api/v1/subscribers"
D = Decimal


@pytest.fixture(autouse=True)
def plans() -> dict[str, Plan]:
    return {
        "fibre-300": PlanFactory.create(code="fibre-300"),
        "fibre-1000": PlanFactory.create(code="fibre-1000"),
    }


@pytest.fixture(autouse=True)
def asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tasks asked for; nothing reaches a broker."""
    tasks: list[str] = []

    def enqueue(task_name: str, *args: Any) -> bool:
        tasks.append(task_name)
        return True

    monkeypatch.setattr("retention.core.broker.enqueue", enqueue)
    return tasks


def person(account: str = "LV-100200", **overrides: Any) -> dict[str, Any]:
    """A valid subscriber: the import's required columns."""
    return {
        "account_number": account,
        "name": "Anna Liepa",
        "plan_code": "fibre-300",
        "monthly_price": "29.99",
        "signup_date": "2020-01-31",
        "region": "Liepaja",
        **overrides,
    }


def post(client: Client, items: Any, query: str = "") -> Any:
    return post_batch(client, URL, "subscribers", items, query)


def statuses(body: dict[str, Any]) -> list[str]:
    return [item["status"] for item in body["items"]]


# --- Authentication ------------------------------------------------------------------------------


def test_call_without_a_token_is_401():
    response = post(Client(), [person()])
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize("header", ["Bearer not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz"])
def test_call_with_a_wrong_token_is_401(billing_token, header):
    response = post(Client(headers={"authorization": header}), [person()])
    assert response.status_code == 401
    assert not Subscriber.objects.exists()


def test_session_login_alone_does_not_authenticate(agent_client):
    assert post(agent_client, [person()]).status_code == 401


# --- Created, updated, unchanged -----------------------------------------------------------------


def test_a_new_account_is_created_with_every_column_given(api_client, plans):
    item = person(
        phone="+37120000001",
        email="anna@example.lv",
        language="ru",
        time_zone="Europe/Helsinki",
        segment="small_business",
        status="suspended",
        promo_ends_on="2026-06-30",
        balance=-5,
        arrears="2.50",
        payment_method="card",
        do_not_call=True,
        do_not_email=False,
        do_not_sms="yes",  # the import's words for a flag are taken too
    )

    response = post(api_client, [item])

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
                "status": "created",
                "errors": [],
                "conflicts": [],
            }
        ],
    }
    anna = Subscriber.objects.get()
    assert (anna.account_number, anna.name, anna.plan) == (
        "LV-100200",
        "Anna Liepa",
        plans["fibre-300"],
    )
    assert (anna.monthly_price, anna.signup_date) == (D("29.99"), date(2020, 1, 31))
    assert (anna.phone, anna.email, anna.language, anna.time_zone) == (
        "+37120000001",
        "anna@example.lv",
        "ru",
        "Europe/Helsinki",
    )
    assert (anna.segment, anna.status, anna.promo_ends_on) == (
        "small_business",
        "suspended",
        date(2026, 6, 30),
    )
    assert (anna.balance, anna.arrears, anna.payment_method) == (D("-5"), D("2.50"), "card")
    assert (anna.do_not_call, anna.do_not_email, anna.do_not_sms) == (True, False, True)


def test_columns_left_out_get_the_model_defaults_and_null_is_an_empty_cell(api_client):
    post(api_client, [person(phone=None, promo_ends_on=None, monthly_price=19.9)])

    anna = Subscriber.objects.get()
    assert (anna.phone, anna.email, anna.language, anna.time_zone) == ("", "", "lv", "Europe/Riga")
    assert (anna.segment, anna.status, anna.payment_method) == (
        "residential",
        "active",
        "direct_debit",
    )
    assert (anna.balance, anna.arrears, anna.promo_ends_on) == (0, 0, None)
    assert anna.monthly_price == D("19.90")
    assert (anna.churn_risk_scored_on, anna.churn_risk_version) == (None, None)


def test_a_known_account_is_updated_in_the_columns_sent_only(api_client, plans):
    SubscriberFactory.create(
        account_number="LV-100200", phone="+37120000009", monthly_price=D("29.99")
    )

    body = post(api_client, [person(name="Anna Ozola", plan_code="fibre-1000")]).json()

    assert statuses(body) == ["updated"]
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 1, 0)
    anna = Subscriber.objects.get()
    assert (anna.name, anna.plan, anna.region) == ("Anna Ozola", plans["fibre-1000"], "Liepaja")
    assert anna.phone == "+37120000009"  # not sent: kept
    assert Subscriber.objects.count() == 1


def test_the_same_batch_twice_is_unchanged_the_second_time(api_client):
    batch = [person("LV-1", monthly_price=29.9, do_not_call=True), person("LV-2", email="")]
    assert statuses(post(api_client, batch).json()) == ["created", "created"]
    written = dict(Subscriber.objects.values_list("account_number", "updated_at"))

    body = post(api_client, batch).json()

    assert statuses(body) == ["unchanged", "unchanged"]
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 0, 2)
    assert dict(Subscriber.objects.values_list("account_number", "updated_at")) == written


def test_a_batch_may_create_update_and_leave_unchanged_at_once(api_client):
    post(api_client, [person("LV-1"), person("LV-2")])

    body = post(api_client, [person("LV-1"), person("LV-2", region="Riga"), person("LV-3")]).json()

    assert statuses(body) == ["unchanged", "updated", "created"]
    assert [item["account_number"] for item in body["items"]] == ["LV-1", "LV-2", "LV-3"]


# --- Invalid items -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"account_number": None}, "account_number", "is required"),
        ({"account_number": "  "}, "account_number", "is required"),
        ({"account_number": "x" * 33}, "account_number", "is longer than 32 characters"),
        ({"plan_code": "copper-8"}, "plan_code", "no plan has the code 'copper-8'"),
        ({"signup_date": "2020-02-30"}, "signup_date", "'2020-02-30' is not a valid date"),
        ({"signup_date": "31.01.2020"}, "signup_date", "not a date in the form YYYY-MM-DD"),
        ({"promo_ends_on": "2026-13-01"}, "promo_ends_on", "is not a valid date"),
        ({"monthly_price": "-1.00"}, "monthly_price", "-1.00 must not be negative"),
        ({"monthly_price": -1}, "monthly_price", "-1 must not be negative"),
        ({"monthly_price": "29,99"}, "monthly_price", "use a dot as the decimal separator"),
        ({"monthly_price": "1.999"}, "monthly_price", "has more than 2 decimal places"),
        ({"monthly_price": 1e6}, "monthly_price", "1000000.0 must be less than 1000000"),
        ({"monthly_price": 1e-7}, "monthly_price", "'1e-07' is not a number like 29.99"),
        ({"monthly_price": "NaN"}, "monthly_price", "is not a number like 29.99"),
        ({"arrears": "-0.01"}, "arrears", "must not be negative"),
        ({"email": "anna@"}, "email", "is not a valid e-mail address"),
        ({"language": "de"}, "language", "'de' is not one of lv, ru, en"),
        ({"language": None}, "language", "'' is not one of lv, ru, en"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "is not a time zone name"),
        ({"do_not_call": "perhaps"}, "do_not_call", "is not one of true, false"),
        ({"name": "\t"}, "name", "is required"),
    ],
)
def test_a_bad_value_is_refused_with_the_imports_message_and_nothing_is_stored(
    api_client, overrides, field, message
):
    response = post(api_client, [person("LV-1"), person("LV-2", **overrides)])

    assert response.status_code == 400
    (item,) = response.json()["items"]
    assert (item["index"], item["status"]) == (1, "invalid")
    assert [error["field"] for error in item["errors"]] == [field]
    assert message in item["errors"][0]["message"]
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("signup_date", "2020-02-30"),
        ("monthly_price", "-1.00"),
        ("plan_code", "copper-8"),
        ("email", "anna@"),
        ("segment", "household"),
        ("balance", "12,50"),
    ],
)
def test_the_api_and_the_import_refuse_a_value_with_the_same_words(api_client, column, value):
    item = person(**{column: value})
    header = ",".join(item)
    row = ",".join(f'"{cell}"' for cell in item.values())

    report = import_subscribers_csv(file=io.StringIO(f"{header}\n{row}\n", newline=""))
    (error,) = post(api_client, [item]).json()["items"][0]["errors"]

    assert report.errors[0].message == f"{error['field']}: {error['message']}"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": 5}, "name"),
        ({"account_number": ["LV-1"]}, "account_number"),
        ({"signup_date": 20200131}, "signup_date"),
        ({"monthly_price": True}, "monthly_price"),
        ({"monthly_price": {"amount": 1}}, "monthly_price"),
        ({"do_not_sms": 1}, "do_not_sms"),
        ({"plan_code": None}, "plan_code"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_by_field(api_client, overrides, field):
    response = post(api_client, [person(**overrides)])

    assert response.status_code == 400
    assert response.json()["items"][0]["errors"][0]["field"] == field
    assert not Subscriber.objects.exists()


def test_a_missing_account_number_and_an_unknown_field_are_refused(api_client):
    missing = person()
    del missing["account_number"]

    response = post(api_client, [missing, person(phnoe="+37120000001")])

    assert response.status_code == 400
    items = response.json()["items"]
    assert [(item["index"], item["account_number"]) for item in items] == [
        (0, None),
        (1, "LV-100200"),
    ]
    assert items[0]["errors"] == [{"field": "account_number", "message": "Field required"}]
    assert items[1]["errors"] == [{"field": "phnoe", "message": "Extra inputs are not permitted"}]


def test_an_item_that_is_not_an_object_is_invalid(api_client):
    response = post(api_client, ["LV-100200", None, [1]])

    assert response.status_code == 400
    items = response.json()["items"]
    assert [(item["index"], item["errors"][0]["field"]) for item in items] == [
        (0, None),
        (1, None),
        (2, None),
    ]


def test_a_nul_character_is_refused_once_by_field_never_a_server_error(api_client):
    response = post(
        api_client,
        [person("LV-1", name="Anna\x00 Liepa"), person("LV-2\x00"), person("LV-3", **{"x\x00": 1})],
    )

    assert response.status_code == 400
    items = response.json()["items"]
    assert items[0]["errors"] == [{"field": "name", "message": NUL_MESSAGE}]
    assert items[0]["account_number"] == "LV-1"
    assert items[1]["errors"] == [{"field": "account_number", "message": NUL_MESSAGE}]
    assert items[1]["account_number"] is None
    assert items[2]["status"] == "invalid"
    assert not Subscriber.objects.exists()


def test_every_bad_item_is_listed_with_every_problem(api_client):
    bad = person("LV-2", plan_code="copper-8", signup_date="yesterday", monthly_price="-1")

    response = post(api_client, [person("LV-1"), bad, person("LV-3", region="")])

    body = response.json()
    assert "2 of 3 subscribers were rejected, so nothing was stored" in body["detail"]
    assert [item["index"] for item in body["items"]] == [1, 2]
    assert [error["field"] for error in body["items"][0]["errors"]] == [
        "plan_code",
        "monthly_price",
        "signup_date",
    ]
    assert body["items"][1]["errors"] == [{"field": "region", "message": "is required"}]


def test_an_account_number_twice_in_a_batch_is_invalid_from_its_second_item(api_client):
    items = [person("LV-1"), person("LV-1", name="Other"), person(" LV-1 ", region="Riga")]

    refused = post(api_client, items)
    assert refused.status_code == 400
    assert [item["index"] for item in refused.json()["items"]] == [1, 2]
    assert refused.json()["items"][0]["errors"] == [
        {"field": "account_number", "message": "LV-1 is already item 0"}
    ]

    body = post(api_client, items, "?skip_invalid=true").json()
    assert statuses(body) == ["created", "invalid", "invalid"]
    assert Subscriber.objects.get().name == "Anna Liepa"


def test_an_invalid_item_still_claims_its_account_number(api_client):
    items = [person("LV-1", signup_date="never"), person("LV-1")]

    body = post(api_client, items, "?skip_invalid=true").json()

    assert statuses(body) == ["invalid", "invalid"]
    assert not Subscriber.objects.exists()


# --- skip_invalid and the batch ------------------------------------------------------------------


def test_skip_invalid_stores_the_good_items_and_reports_the_others(api_client):
    items = [person("LV-1"), person("LV-2", plan_code="copper-8"), person("LV-3")]

    response = post(api_client, items, "?skip_invalid=true")

    assert response.status_code == 200
    body = response.json()
    assert statuses(body) == ["created", "invalid", "created"]
    assert (body["created"], body["rejected"]) == (2, 1)
    assert body["items"][1]["account_number"] == "LV-2"
    assert set(Subscriber.objects.values_list("account_number", flat=True)) == {"LV-1", "LV-3"}


def test_skip_invalid_with_nothing_valid_stores_nothing(api_client):
    body = post(api_client, [person(plan_code="copper-8")], "?skip_invalid=true").json()

    assert (body["created"], body["rejected"]) == (0, 1)
    assert not Subscriber.objects.exists()


def test_a_batch_over_the_limit_is_refused_whole(api_client):
    response = post(api_client, [person(f"LV-{n}") for n in range(1001)], "?skip_invalid=true")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "field": "subscribers",
            "message": "A batch holds at most 1000 subscribers, this one has 1001: split it",
        }
    ]
    assert not Subscriber.objects.exists()


def test_the_batch_limit_comes_from_settings(api_client, settings):
    settings.API_BATCH_LIMIT = 2
    assert post(api_client, [person("LV-1"), person("LV-2")]).status_code == 200
    assert post(api_client, [person("LV-3"), person("LV-4"), person("LV-5")]).status_code == 400
    assert Subscriber.objects.count() == 2


@pytest.mark.parametrize("body", ['{"subscribers": []}', '{"subscribers": {}}', "[]", "nope"])
def test_a_malformed_body_is_400(api_client, body):
    response = api_client.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]


# --- Fields held for billing ---------------------------------------------------------------------


def decided(subscriber: Subscriber, **holds: Any) -> None:
    """The desk changed ``holds`` (field: value) with a decision billing has not confirmed."""
    with transaction.atomic():
        Subscriber.objects.filter(pk=subscriber.pk).update(**holds)
        outbound.outbound_event_record(
            type=OutboundEvent.Type.CANCELLATION_WITHDRAWN,
            data=outbound.CancellationWithdrawn(
                subscriber=outbound.subscriber_ref(subscriber), case=1
            ),
            holds=holds,
        )


def test_a_held_field_keeps_the_desks_value_and_the_item_reports_the_conflict(api_client):
    anna = SubscriberFactory.create(account_number="LV-100200", monthly_price=D("29.99"))
    decided(anna, monthly_price=D("24.99"))

    body = post(api_client, [person(monthly_price="29.99", name="Anna Ozola")]).json()

    (item,) = body["items"]
    assert (item["status"], item["conflicts"]) == ("updated", ["monthly_price"])
    anna.refresh_from_db()
    assert (anna.monthly_price, anna.name) == (D("24.99"), "Anna Ozola")
    conflict = FieldConflict.objects.get()
    assert (conflict.subscriber_id, conflict.field, conflict.source, conflict.where) == (
        anna.pk,
        "monthly_price",
        "billing",
        "LV-100200",
    )
    assert (conflict.incoming, conflict.kept) == ("29.99", "24.99")


def test_a_held_field_alone_leaves_the_subscriber_unchanged(api_client, plans):
    anna = SubscriberFactory.create(account_number="LV-100200", plan=plans["fibre-300"])
    post(api_client, [person(plan_code="fibre-300")])
    decided(anna, plan=plans["fibre-1000"])

    body = post(api_client, [person(plan_code="fibre-300")]).json()

    assert (body["items"][0]["status"], body["items"][0]["conflicts"]) == (
        "unchanged",
        ["plan_code"],
    )
    anna.refresh_from_db()
    assert anna.plan == plans["fibre-1000"]
    conflict = FieldConflict.objects.get()
    assert (conflict.field, conflict.incoming, conflict.kept) == ("plan", "fibre-300", "fibre-1000")


def test_the_desks_own_value_for_a_held_field_is_no_conflict(api_client):
    anna = SubscriberFactory.create(account_number="LV-100200")
    decided(anna, monthly_price=D("24.99"))

    body = post(api_client, [person(monthly_price=24.99)]).json()

    assert body["items"][0]["conflicts"] == []
    assert not FieldConflict.objects.exists()


# --- Scored on arrival ---------------------------------------------------------------------------


def test_a_batch_that_creates_asks_for_the_scorer_once_after_commit(
    api_client, asked, django_capture_on_commit_callbacks
):
    post(api_client, [person("LV-0")])  # known before the batch: an update below
    with django_capture_on_commit_callbacks() as callbacks:
        body = post(api_client, [person(f"LV-{n}", region="Riga") for n in range(3)]).json()
        assert statuses(body) == ["updated", "created", "created"]
        assert asked == []  # not before the commit
    for callback in callbacks:
        callback()

    assert asked == [SCORE_ARRIVALS_TASK]


@pytest.mark.parametrize(
    ("items", "query"),
    [
        ([person("LV-1", region="Riga")], ""),  # an update only
        ([person("LV-1")], ""),  # unchanged
        ([person("LV-2"), person("LV-3", plan_code="copper-8")], ""),  # rejected
        ([person("LV-3", plan_code="copper-8")], "?skip_invalid=true"),  # nothing valid
    ],
)
def test_a_batch_that_creates_no_one_asks_for_nothing(
    api_client, asked, django_capture_on_commit_callbacks, items, query
):
    post(api_client, [person("LV-1")])
    asked.clear()
    with django_capture_on_commit_callbacks(execute=True):
        post(api_client, items, query)

    assert asked == []


def test_the_batch_is_stored_even_when_the_broker_is_down(
    api_client, monkeypatch, django_capture_on_commit_callbacks
):
    class Unreachable:
        def send_task(self, *args: Any, **kwargs: Any) -> None:
            raise OperationalError("Connection refused")

    monkeypatch.undo()  # the real enqueue, with a broker that cannot be reached
    monkeypatch.setattr("retention.core.broker.current_app", Unreachable())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(api_client, [person()])

    assert response.status_code == 200
    assert len(callbacks) == 1
    assert Subscriber.objects.filter(account_number="LV-100200").exists()


# --- Cost ----------------------------------------------------------------------------------------


def test_the_queries_do_not_grow_with_the_batch(api_client, django_assert_num_queries):
    known = SubscriberFactory.create_batch(60, monthly_price=D("29.99"))
    post(api_client, [person("LV-warm-up")])  # the token's use is written once a minute

    def batch(few: list[Subscriber], new: int) -> list[dict[str, Any]]:
        updates = [person(s.account_number, status="suspended") for s in few]
        return updates + [person(f"LV-{len(few)}-{n}") for n in range(new)]

    # The token, the plans; in a savepoint (the test runs in a transaction): the subscribers
    # stored (locked), their holds, the upsert.
    with django_assert_num_queries(7):
        assert post(api_client, batch(known[:2], 1)).json()["created"] == 1
    with django_assert_num_queries(7):
        assert post(api_client, batch(known[2:], 40)).json()["created"] == 40


def test_a_full_batch_is_one_upsert(api_client):
    known = SubscriberFactory.create_batch(500)
    items = [person(s.account_number) for s in known] + [person(f"LV-{n}") for n in range(500)]

    with CaptureQueriesContext(connection) as queries:
        body = post(api_client, items).json()

    assert (body["created"], body["updated"]) == (500, 500)
    table = connection.ops.quote_name(Subscriber._meta.db_table)
    assert sum(1 for q in queries if q["sql"].startswith(f"INSERT INTO {table}")) == 1
    assert Subscriber.objects.count() == 1000


# --- OpenAPI -------------------------------------------------------------------------------------


def test_the_openapi_schema_documents_the_subscribers_operation():
    schema = Client().get("/api/v1/openapi.json").json()

    operation = schema["paths"]["/api/v1/subscribers"]["post"]
    assert operation["security"] == [{"BearerToken": []}]
    assert set(operation["responses"]) == {"200", "400", "401", "413"}
    item = schema["components"]["schemas"]["SubscriberBatchIn"]["properties"]["subscribers"]
    item = item["items"]
    assert set(item["required"]) == {
        "account_number",
        "name",
        "plan_code",
        "monthly_price",
        "signup_date",
        "region",
    }
    assert item["additionalProperties"] is False
    assert "do_not_sms" in item["properties"]
    assert item["properties"]["account_number"]["maxLength"] == 32
