"""POST /api/v1/cancellations: billing asks to cancel subscriptions, once per external id."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from retention.cases import intake
from retention.cases.opening import Intake, case_open
from retention.models import CancellationCase, CancellationReason, CaseHistory
from subscribers.models import Subscriber, TimelineEvent
from tests.factories import SubscriberFactory
from tests.ingestion import CANCELLATIONS_URL as URL
from tests.ingestion import post_cancellations as post
from tests.threads import run_at_once


@pytest.fixture
def pinned_deadlines(settings):
    settings.FIRST_CONTACT_SLA_HOURS = 4
    settings.WORKING_HOURS = (8, 18)
    settings.WORKING_DAYS = (0, 1, 2, 3, 4)
    settings.MAX_PROCESS_DAYS = 14


def request(n: int = 1, **overrides: Any) -> dict[str, Any]:
    """A valid cancellation request for the subscriber with account number LV-100200."""
    return {
        "external_id": f"req-{n}",
        "account_number": "LV-100200",
        "channel": "web",
        "reason": "price",
        "reason_detail": "Found it cheaper elsewhere",
        **overrides,
    }


def in_days(days: int) -> str:
    return (timezone.localdate() + timedelta(days=days)).isoformat()


# --- Authentication -----------------------------------------------------------------------


@pytest.mark.django_db
def test_call_without_a_token_is_401_and_opens_nothing(subscriber):
    response = post(Client(), [request()])
    assert response.status_code == 401
    assert "Bearer" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not CancellationCase.objects.exists()


def test_call_with_a_wrong_token_is_401(subscriber, billing_token):
    response = post(Client(headers={"authorization": "Bearer not-a-real-token"}), [request()])
    assert response.status_code == 401
    assert not CancellationCase.objects.exists()


def test_session_login_alone_does_not_authenticate(subscriber, agent_client):
    assert post(agent_client, [request()]).status_code == 401
    assert not CancellationCase.objects.exists()


def test_call_needs_no_csrf_token(subscriber, billing_token):
    _, raw = billing_token
    client = Client(enforce_csrf_checks=True, headers={"authorization": f"Bearer {raw}"})
    assert post(client, [request()]).status_code == 200


# --- Opening cases ------------------------------------------------------------------------


def test_request_opens_a_case_under_the_tokens_source(subscriber, api_client):
    response = post(api_client, [request(7, competitor="Tele2")])

    assert response.status_code == 200
    case = CancellationCase.objects.get()
    assert response.json() == {
        "created": 1,
        "duplicates": 0,
        "rejected": 0,
        "items": [
            {"index": 0, "external_id": "req-7", "status": "created", "case": case.pk, "errors": []}
        ],
    }
    assert case.subscriber == subscriber
    assert (case.source, case.external_id) == ("billing", "req-7")
    assert case.channel == CancellationCase.Channel.WEB
    assert case.reason == CancellationReason.objects.get(code="price")
    assert case.reason_detail == "Found it cheaper elsewhere"
    assert case.competitor == "Tele2"
    assert case.status == CancellationCase.Status.NEW
    assert case.owner is None and case.opened_by is None
    assert case.history.get().action == CaseHistory.Action.OPENED


def test_deadlines_count_from_when_the_subscriber_asked(subscriber, api_client, pinned_deadlines):
    # Asked on Monday 2 March at 09:00 in Riga; billing forwards it on Wednesday.
    with time_machine.travel(datetime(2026, 3, 4, 10, 0, tzinfo=UTC), tick=False):
        item = request(requested_at="2026-03-02T09:00:00+02:00")
        assert post(api_client, [item]).status_code == 200

    case = CancellationCase.objects.get()
    assert case.opened_at == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    assert case.first_contact_due == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)  # 4 working hours
    assert case.process_by == date(2026, 3, 16)  # MAX_PROCESS_DAYS from the day they asked
    event = TimelineEvent.objects.get(subscriber=subscriber)
    assert event.kind == TimelineEvent.Kind.CANCELLATION_REQUEST
    assert event.occurred_at == case.opened_at
    assert event.data["case"] == case.pk


def test_requested_at_defaults_to_now(subscriber, api_client):
    now = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        post(api_client, [request()])
    assert CancellationCase.objects.get().opened_at == now


def test_requested_at_a_few_hours_ahead_is_taken_as_now(subscriber, api_client):
    now = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        soon = (now + timedelta(hours=3)).isoformat()
        assert post(api_client, [request(requested_at=soon)]).status_code == 200
    assert CancellationCase.objects.get().opened_at == now


def test_requested_end_date_sets_the_process_by_date(subscriber, api_client):
    post(api_client, [request(requested_end_date=in_days(5))])
    assert CancellationCase.objects.get().process_by.isoformat() == in_days(5)


def test_port_out_carries_the_switch_date(subscriber, api_client):
    item = request(channel="port_out", requested_end_date=in_days(30), competitor="Bite")
    assert post(api_client, [item]).status_code == 200
    case = CancellationCase.objects.get()
    assert case.is_port_out
    assert case.process_by.isoformat() == in_days(30)  # binds us, beyond MAX_PROCESS_DAYS
    assert TimelineEvent.objects.get().kind == TimelineEvent.Kind.PORT_OUT


def test_only_the_required_fields_are_needed(subscriber, api_client):
    item = {"external_id": "req-1", "account_number": "LV-100200", "channel": "email"}
    assert post(api_client, [item]).status_code == 200
    case = CancellationCase.objects.get()
    assert (case.reason, case.reason_detail, case.competitor) == (None, "", "")


def test_optional_fields_may_be_null(subscriber, api_client):
    item = request(
        reason=None,
        reason_detail=None,
        competitor=None,
        requested_end_date=None,
        requested_at=None,
    )
    assert post(api_client, [item]).status_code == 200
    assert CancellationCase.objects.get().reason is None


def test_batch_opens_a_case_per_subscriber_and_reports_them_in_order(subscriber, api_client):
    SubscriberFactory.create(account_number="LV-300400")
    body = post(
        api_client, [request(1), request(2, account_number="LV-300400", channel="shop")]
    ).json()
    assert [(i["index"], i["status"]) for i in body["items"]] == [(0, "created"), (1, "created")]
    assert body["created"] == 2
    cases = {case.pk: case for case in CancellationCase.objects.all()}
    assert cases[body["items"][0]["case"]].subscriber == subscriber
    assert cases[body["items"][1]["case"]].channel == "shop"


# --- Idempotent by external id -------------------------------------------------------------


def test_sending_the_same_batch_twice_opens_nothing_more(subscriber, api_client):
    SubscriberFactory.create(account_number="LV-300400")
    items = [request(1), request(2, account_number="LV-300400")]
    first = post(api_client, items).json()
    before = (CancellationCase.objects.count(), TimelineEvent.objects.count())

    response = post(api_client, items)

    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["duplicates"], body["rejected"]) == (0, 2, 0)
    assert {item["status"] for item in body["items"]} == {"duplicate"}
    assert [i["case"] for i in body["items"]] == [i["case"] for i in first["items"]]
    assert (CancellationCase.objects.count(), TimelineEvent.objects.count()) == before


def test_resent_request_with_other_content_keeps_the_case_as_it_is(subscriber, api_client):
    post(api_client, [request(1, reason_detail="First version")])
    body = post(api_client, [request(1, reason_detail="Second", channel="shop")]).json()
    assert body["items"][0]["status"] == "duplicate"
    assert CancellationCase.objects.get().reason_detail == "First version"


def test_external_id_repeated_in_one_batch_opens_one_case(subscriber, api_client):
    body = post(api_client, [request(1), request(1, reason_detail="again")]).json()
    assert [i["status"] for i in body["items"]] == ["created", "duplicate"]
    assert body["items"][0]["case"] == body["items"][1]["case"]
    assert CancellationCase.objects.count() == 1


def test_a_resent_batch_is_answered_from_one_lookup_of_its_ids(api_client):
    subscribers = SubscriberFactory.create_batch(20)
    items = [request(n, account_number=s.account_number) for n, s in enumerate(subscribers)]
    post(api_client, items)

    with CaptureQueriesContext(connection) as queries:
        body = post(api_client, items).json()

    assert body["duplicates"] == 20
    # The token, then subscribers, reasons and known external ids; no case_open, no lock.
    assert len(queries) == 4


# --- Validation: a bad request changes nothing ---------------------------------------------


def _in_two_days() -> str:
    return (timezone.now() + timedelta(days=2)).isoformat()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"channel": "fax"}, "channel", "Should be one of: phone, web, email, shop, port_out"),
        ({"channel": "port_out"}, "requested_end_date", "A port-out notice needs the switch date"),
        ({"reason": "aliens"}, "reason", "No cancellation reason has this code"),
        (
            {"requested_at": "2026-03-01T09:30:00"},
            "requested_at",
            "Input should have timezone info",
        ),
        (
            {"requested_at": _in_two_days()},
            "requested_at",
            "Should not be more than a day in the future",
        ),
    ],
)
def test_invalid_request_rejects_the_batch_with_its_reason(
    subscriber, api_client, overrides, field, message
):
    response = post(api_client, [request(1), request(2, **overrides)])

    assert response.status_code == 400
    body = response.json()
    assert "no case was opened" in body["detail"]
    assert body["items"] == [
        {
            "index": 1,
            "external_id": "req-2",
            "status": "invalid",
            "case": None,
            "errors": [{"field": field, "message": message}],
        }
    ]
    assert not CancellationCase.objects.exists()
    assert not TimelineEvent.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"external_id": ""}, "external_id"),
        ({"external_id": 12345}, "external_id"),
        ({"external_id": "x" * 101}, "external_id"),
        ({"account_number": "  "}, "account_number"),
        ({"channel": None}, "channel"),
        ({"reason": ""}, "reason"),
        ({"reason_detail": "x" * 2001}, "reason_detail"),
        ({"competitor": "x" * 101}, "competitor"),
        ({"requested_end_date": "next week"}, "requested_end_date"),
        ({"requested_end_date": 1772350200}, "requested_end_date"),
        ({"requested_at": "yesterday"}, "requested_at"),
        ({"requested_at": 1772350200}, "requested_at"),
        ({"reson": "price"}, "reson"),  # misspelt: an extra field
    ],
)
def test_malformed_field_rejects_the_batch(subscriber, api_client, overrides, field):
    body = post(api_client, [request(1), request(2, **overrides)]).json()
    [item] = body["items"]
    assert (item["index"], item["status"]) == (1, "invalid")
    assert field in [error["field"] for error in item["errors"]]
    assert not CancellationCase.objects.exists()


@pytest.mark.parametrize("field", ["external_id", "account_number", "channel"])
def test_missing_required_field_rejects_the_batch(subscriber, api_client, field):
    item = request()
    del item[field]
    body = post(api_client, [item]).json()
    assert body["items"][0]["errors"] == [{"field": field, "message": "Field required"}]
    assert not CancellationCase.objects.exists()


def test_inactive_reason_is_refused(subscriber, api_client):
    CancellationReason.objects.filter(code="price").update(is_active=False)
    body = post(api_client, [request()]).json()
    assert body["items"][0]["errors"] == [
        {"field": "reason", "message": "This cancellation reason is no longer in use"}
    ]
    assert not CancellationCase.objects.exists()


def test_every_bad_request_is_listed_by_index_with_all_its_errors(subscriber, api_client):
    items = [
        request(0),
        request(1, channel="port_out", reason="aliens"),
        request(2),
        request(3, account_number="LV-999999"),
        request(4, requested_at="2026-03-01"),
    ]

    body = post(api_client, items).json()

    assert [(i["index"], i["external_id"], i["status"]) for i in body["items"]] == [
        (1, "req-1", "invalid"),
        (3, "req-3", "unknown_subscriber"),
        (4, "req-4", "invalid"),
    ]
    assert {e["field"] for e in body["items"][0]["errors"]} == {"reason", "requested_end_date"}
    assert body["detail"].startswith("3 of 5 cancellation requests were rejected")
    assert not CancellationCase.objects.exists()


def test_unknown_subscriber_rejects_the_batch_and_opens_nothing(subscriber, api_client):
    response = post(api_client, [request(1), request(2, account_number="LV-999999")])
    assert response.status_code == 400
    assert response.json()["items"] == [
        {
            "index": 1,
            "external_id": "req-2",
            "status": "unknown_subscriber",
            "case": None,
            "errors": [
                {"field": "account_number", "message": "No subscriber has this account number"}
            ],
        }
    ]
    assert not CancellationCase.objects.exists()
    assert not TimelineEvent.objects.exists()


def test_item_that_is_not_an_object_is_invalid(subscriber, api_client):
    body = post(api_client, [request(), "req-2"]).json()
    [item] = body["items"]
    assert (item["index"], item["external_id"], item["status"]) == (1, None, "invalid")
    assert item["errors"][0]["field"] is None


def test_skip_invalid_opens_the_good_requests_and_reports_the_others(subscriber, api_client):
    SubscriberFactory.create(account_number="LV-300400")
    items = [
        request(0),
        request(1, channel="fax"),
        request(2, account_number="LV-999999"),
        request(3, account_number="LV-300400"),
    ]

    response = post(api_client, items, "?skip_invalid=true")

    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["duplicates"], body["rejected"]) == (2, 0, 2)
    assert [i["status"] for i in body["items"]] == [
        "created",
        "invalid",
        "unknown_subscriber",
        "created",
    ]
    assert body["items"][1]["case"] is None
    assert set(CancellationCase.objects.values_list("external_id", flat=True)) == {
        "req-0",
        "req-3",
    }


def test_batch_limit_comes_from_settings(subscriber, api_client, settings):
    settings.API_BATCH_LIMIT = 1
    response = post(api_client, [request(1), request(2)])
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "field": "cancellations",
            "message": "A batch holds at most 1 cancellation requests, this one has 2: split it",
        }
    ]
    assert not CancellationCase.objects.exists()


@pytest.mark.parametrize("body", ["", "not json", "[]", '{"cancellations": []}'])
def test_malformed_body_is_400(subscriber, api_client, body):
    response = api_client.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not CancellationCase.objects.exists()


# --- A subscriber who already has an open case ----------------------------------------------


@pytest.fixture
def open_case(subscriber) -> CancellationCase:
    return case_open(subscriber=subscriber, intake=Intake(channel="phone"), actor=None)


def test_port_out_is_merged_into_the_open_case_and_its_switch_date_binds(
    subscriber, api_client, open_case
):
    assert open_case.process_by.isoformat() == in_days(14)
    item = request(1, channel="port_out", requested_end_date=in_days(5), competitor="Bite")

    response = post(api_client, [item])

    assert response.status_code == 200
    body = response.json()
    assert body["items"] == [
        {"index": 0, "external_id": "req-1", "status": "merged", "case": open_case.pk, "errors": []}
    ]
    assert CancellationCase.objects.count() == 1
    open_case.refresh_from_db()
    assert open_case.process_by.isoformat() == in_days(5)
    assert open_case.is_port_out
    assert open_case.competitor == "Bite"
    assert open_case.history.filter(code="history.port_out_binds", params__date=in_days(5)).exists()


def test_port_out_switching_later_leaves_the_process_by_date(subscriber, api_client, open_case):
    post(api_client, [request(1, channel="port_out", requested_end_date=in_days(40))])
    open_case.refresh_from_db()
    assert open_case.process_by.isoformat() == in_days(14)


def test_another_request_is_already_open_and_not_an_error(subscriber, api_client, open_case):
    response = post(api_client, [request(1, channel="email")])

    assert response.status_code == 200
    body = response.json()
    assert body["items"] == [
        {
            "index": 0,
            "external_id": "req-1",
            "status": "already_open",
            "case": open_case.pk,
            "errors": [],
        }
    ]
    assert (body["created"], body["rejected"]) == (0, 0)
    assert CancellationCase.objects.get() == open_case
    open_case.refresh_from_db()
    assert open_case.channel == "phone"


def test_second_request_in_one_batch_finds_the_case_the_first_opened(subscriber, api_client):
    items = [
        request(1),
        request(2, channel="phone"),
        request(3, channel="port_out", **{"requested_end_date": in_days(3)}),
    ]
    body = post(api_client, items).json()
    case = CancellationCase.objects.get()
    assert [(i["status"], i["case"]) for i in body["items"]] == [
        ("created", case.pk),
        ("already_open", case.pk),
        ("merged", case.pk),
    ]
    assert case.process_by.isoformat() == in_days(3)


# --- A subscriber who has already left -------------------------------------------------------


@pytest.fixture
def departed(db) -> Subscriber:
    return SubscriberFactory.create(account_number="LV-500600", status=Subscriber.Status.CANCELLED)


def test_subscriber_who_left_rejects_the_batch(subscriber, api_client, departed):
    response = post(api_client, [request(1), request(2, account_number="LV-500600")])

    assert response.status_code == 400
    assert response.json()["items"] == [
        {
            "index": 1,
            "external_id": "req-2",
            "status": "subscriber_cancelled",
            "case": None,
            "errors": [{"field": "account_number", "message": "The subscriber has already left"}],
        }
    ]
    assert not CancellationCase.objects.exists()


def test_subscriber_who_left_is_reported_with_skip_invalid(subscriber, api_client, departed):
    body = post(
        api_client, [request(1), request(2, account_number="LV-500600")], "?skip_invalid=true"
    ).json()
    assert [i["status"] for i in body["items"]] == ["created", "subscriber_cancelled"]
    assert (body["created"], body["rejected"]) == (1, 1)
    assert CancellationCase.objects.get().subscriber == subscriber


@pytest.fixture
def left_while_we_looked(monkeypatch):
    """The batch read the subscribers just before one of them left: case_open finds out."""
    lookup = intake._subscribers_by_account

    def stale(*, numbers):
        found = lookup(numbers=numbers)
        for subscriber in found.values():
            subscriber.status = Subscriber.Status.ACTIVE
        return found

    monkeypatch.setattr(intake, "_subscribers_by_account", stale)


def test_subscriber_found_cancelled_while_opening_rolls_back_the_batch(
    subscriber, api_client, departed, left_while_we_looked
):
    # The subscriber LV-100200 comes first (lower id): their case is opened, then undone.
    response = post(api_client, [request(1), request(2, account_number="LV-500600")])

    assert response.status_code == 400
    assert [(i["index"], i["status"]) for i in response.json()["items"]] == [
        (1, "subscriber_cancelled")
    ]
    assert not CancellationCase.objects.exists()
    assert not TimelineEvent.objects.exists()
    assert not CaseHistory.objects.exists()


def test_subscriber_found_cancelled_while_opening_is_skipped_with_skip_invalid(
    subscriber, api_client, departed, left_while_we_looked
):
    items = [request(1), request(2, account_number="LV-500600")]
    body = post(api_client, items, "?skip_invalid=true").json()
    assert [i["status"] for i in body["items"]] == ["created", "subscriber_cancelled"]
    assert CancellationCase.objects.count() == 1


# --- Cost -----------------------------------------------------------------------------------


def _validation_queries(client: Client, items: list[dict[str, Any]]) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = post(client, items)
    assert response.status_code == 400  # validation only: nothing is opened
    return len(queries)


def test_validating_a_batch_costs_the_same_however_many_requests_are_bad(subscriber, api_client):
    def batch(bad: int) -> list[dict[str, Any]]:
        spoilers: list[dict[str, Any]] = [
            {"account_number": "LV-999999"},
            {"channel": "fax"},
            {"reason": "aliens"},
            {"channel": "port_out"},
            {"requested_at": "2026-03-01T09:30:00"},
        ]
        return [request(n, **(spoilers[n % len(spoilers)] if n < bad else {})) for n in range(50)]

    post(api_client, [request(0, channel="fax")])  # records the token's last use

    few = _validation_queries(api_client, batch(1))
    many = _validation_queries(api_client, batch(40))

    # The token, then subscribers, reasons and known external ids: one query each.
    assert few == many == 4


# --- Races (real threads on PostgreSQL) -----------------------------------------------------


def _ingest_at_once(batches: list[list[dict[str, Any]]]) -> list[intake.IntakeResult]:
    """Send the batches from one thread each, released together; return their results.

    The requests name no reason: transactional tests flush the reasons the migrations made.
    """
    batches = [[{**item, "reason": None} for item in items] for items in batches]
    results: list[intake.IntakeResult] = []

    def send(items: list[dict[str, Any]]):
        return lambda: results.append(
            intake.cancellations_ingest(source="billing", items=items, skip_invalid=False)
        )

    assert run_at_once(*[send(items) for items in batches]) == []
    assert len(results) == len(batches)
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_request_sent_twice_at_once_opens_one_case():
    SubscriberFactory.create(account_number="LV-100200")

    results = _ingest_at_once([[request(1)], [request(1)]])

    case = CancellationCase.objects.get()
    for result in results:
        [item] = result.items
        assert item.status in ("created", "duplicate")
        assert item.case == case.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_batches_naming_the_same_subscribers_in_opposite_orders_do_not_deadlock():
    for round_ in range(5):
        first, second = SubscriberFactory.create_batch(2)
        a, b = first.account_number, second.account_number

        results = _ingest_at_once(
            [
                [
                    request(1, external_id=f"x{round_}", account_number=a),
                    request(2, external_id=f"y{round_}", account_number=b),
                ],
                [
                    request(3, external_id=f"z{round_}", account_number=b),
                    request(4, external_id=f"w{round_}", account_number=a),
                ],
            ]
        )

        statuses = Counter(item.status for result in results for item in result.items)
        assert statuses == {"created": 2, "already_open": 2}
        assert CancellationCase.objects.filter(subscriber__in=[first, second]).count() == 2


# --- OpenAPI --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_openapi_schema_documents_the_operation():
    schema = Client().get("/api/v1/openapi.json").json()

    operation = schema["paths"]["/api/v1/cancellations"]["post"]
    assert operation["security"] == [{"BearerToken": []}]
    assert set(operation["responses"]) == {"200", "400", "401", "413"}
    assert "/api/v1/events" in schema["paths"]  # one API, one schema
    batch = schema["components"]["schemas"]["CaseBatchIn"]
    item = batch["properties"]["cancellations"]["items"]
    assert set(item["required"]) == {"external_id", "account_number", "channel"}
    assert item["properties"]["channel"]["enum"] == ["phone", "web", "email", "shop", "port_out"]
    statuses = schema["components"]["schemas"]["CaseItemStatus"]["enum"]
    assert {"created", "duplicate", "merged", "already_open", "subscriber_cancelled"} <= set(
        statuses
    )
