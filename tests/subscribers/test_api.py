"""POST /api/v1/events: billing and network systems push timeline events with a token."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from subscribers.models import ApiToken, TimelineEvent
from tests.factories import SubscriberFactory, TimelineEventFactory
from tests.ingestion import EVENTS_URL as URL
from tests.ingestion import event
from tests.ingestion import post_events as post

# --- Authentication -----------------------------------------------------------------------


@pytest.mark.django_db
def test_call_without_a_token_is_401_not_a_login_redirect(subscriber):
    response = post(Client(), [event()])
    assert response.status_code == 401
    assert "Bearer" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not TimelineEvent.objects.exists()


@pytest.mark.parametrize(
    "header",
    ["Bearer not-a-real-token", "Bearer ", "Basic dXNlcjpwYXNz", "not-even-a-scheme"],
)
def test_call_with_a_wrong_token_is_401(subscriber, billing_token, header):
    response = post(Client(headers={"authorization": header}), [event()])
    assert response.status_code == 401
    assert not TimelineEvent.objects.exists()


def test_call_with_an_inactive_token_is_401(subscriber, billing_token, api_client):
    token, _ = billing_token
    ApiToken.objects.filter(pk=token.pk).update(is_active=False)
    response = post(api_client, [event()])
    assert response.status_code == 401
    assert not TimelineEvent.objects.exists()


def test_call_with_a_good_token_is_200(subscriber, api_client):
    assert post(api_client, [event()]).status_code == 200


def test_call_needs_no_csrf_token(subscriber, billing_token):
    _, raw = billing_token
    client = Client(enforce_csrf_checks=True, headers={"authorization": f"Bearer {raw}"})
    assert post(client, [event()]).status_code == 200


def test_session_login_alone_does_not_authenticate(subscriber, agent_client):
    assert post(agent_client, [event()]).status_code == 401


# --- Storing events -----------------------------------------------------------------------


def test_single_event_is_stored_under_the_tokens_source(subscriber, api_client):
    response = post(api_client, [event(7)])

    assert response.status_code == 200
    assert response.json() == {
        "created": 1,
        "duplicates": 0,
        "rejected": 0,
        "items": [
            {
                "index": 0,
                "external_id": "inv-7",
                "status": "created",
                "errors": [],
                "conflicts": [],
            }
        ],
    }
    stored = TimelineEvent.objects.get()
    assert stored.subscriber == subscriber
    assert stored.source == "billing"
    assert stored.external_id == "inv-7"
    assert stored.kind == TimelineEvent.Kind.PAYMENT
    assert stored.occurred_at == datetime(2026, 3, 1, 7, 30, tzinfo=UTC)
    assert stored.summary == "Payment received €7.00"
    assert stored.data == {"amount": "7.00", "currency": "EUR"}
    assert stored.actor is None


def test_data_is_optional(subscriber, api_client):
    item = event()
    del item["data"]
    assert post(api_client, [item]).status_code == 200
    assert TimelineEvent.objects.get().data == {}


def test_batch_stores_every_event_and_reports_them_in_order(subscriber, api_client):
    other = SubscriberFactory.create(account_number="LV-300400")
    events = [
        event(1),
        event(2, kind="outage", summary="Fibre cut in Imanta"),
        event(3, account_number="LV-300400", kind="ticket"),
    ]

    body = post(api_client, events).json()

    assert body["created"] == 3
    assert [(i["index"], i["external_id"], i["status"]) for i in body["items"]] == [
        (0, "inv-1", "created"),
        (1, "inv-2", "created"),
        (2, "inv-3", "created"),
    ]
    assert TimelineEvent.objects.filter(subscriber=subscriber).count() == 2
    assert TimelineEvent.objects.get(subscriber=other).kind == "ticket"


def test_sending_the_same_batch_twice_changes_nothing(subscriber, api_client):
    events = [event(n) for n in range(5)]
    post(api_client, events)
    before = list(TimelineEvent.objects.order_by("id").values())

    response = post(api_client, events)

    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["duplicates"]) == (0, 5)
    assert {item["status"] for item in body["items"]} == {"duplicate"}
    assert list(TimelineEvent.objects.order_by("id").values()) == before


def test_resent_event_with_other_content_keeps_the_stored_one(subscriber, api_client):
    post(api_client, [event(1, summary="First version")])
    body = post(api_client, [event(1, summary="Second version")]).json()
    assert body["items"][0]["status"] == "duplicate"
    assert TimelineEvent.objects.get().summary == "First version"


def test_partly_known_batch_stores_only_the_new_events(subscriber, api_client):
    post(api_client, [event(1), event(2)])
    body = post(api_client, [event(2), event(3), event(1), event(4)]).json()
    assert [i["status"] for i in body["items"]] == ["duplicate", "created", "duplicate", "created"]
    assert (body["created"], body["duplicates"]) == (2, 2)
    assert TimelineEvent.objects.count() == 4


def test_external_id_repeated_in_one_batch_is_stored_once(subscriber, api_client):
    events = [event(1, summary="first"), event(2), event(1, summary="again")]
    body = post(api_client, events).json()
    assert [i["status"] for i in body["items"]] == ["created", "created", "duplicate"]
    assert (body["created"], body["duplicates"]) == (2, 1)
    assert TimelineEvent.objects.get(external_id="inv-1").summary == "first"


def test_same_external_id_from_another_source_is_another_event(subscriber, api_client):
    TimelineEventFactory.create(subscriber=subscriber, source="network", external_id="inv-1")
    body = post(api_client, [event(1)]).json()
    assert body["items"][0]["status"] == "created"
    assert TimelineEvent.objects.filter(external_id="inv-1").count() == 2


# --- Validation: a bad event changes nothing -------------------------------------------------


def _in_two_days() -> str:
    return (timezone.now() + timedelta(days=2)).isoformat()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"external_id": None}, "external_id"),
        ({"external_id": ""}, "external_id"),
        ({"external_id": 12345}, "external_id"),
        ({"external_id": "x" * 101}, "external_id"),
        ({"account_number": None}, "account_number"),
        ({"account_number": 100200}, "account_number"),
        ({"account_number": "   "}, "account_number"),
        ({"kind": "telepathy"}, "kind"),
        ({"kind": "offer_approved"}, "kind"),  # a desk kind, not one a system may push
        ({"kind": None}, "kind"),
        ({"occurred_at": "2026-03-01T09:30:00"}, "occurred_at"),  # naive
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"occurred_at": 1772350200}, "occurred_at"),  # a Unix timestamp is not ISO-8601
        ({"occurred_at": None}, "occurred_at"),
        ({"summary": ""}, "summary"),
        ({"summary": "  "}, "summary"),
        ({"summary": "x" * 301}, "summary"),
        ({"summary": ["a list"]}, "summary"),
        ({"data": ["not", "an", "object"]}, "data"),
        ({"data": "text"}, "data"),
        ({"ocurred_at": "2026-03-01T09:30:00+02:00"}, "ocurred_at"),  # misspelt: extra field
    ],
)
def test_invalid_field_rejects_the_batch(subscriber, api_client, overrides, field):
    events = [event(1), event(2, **overrides)]

    response = post(api_client, events)

    assert response.status_code == 400
    body = response.json()
    assert "nothing was stored" in body["detail"]
    [item] = body["items"]
    assert item["index"] == 1
    assert item["status"] == "invalid"
    assert field in [error["field"] for error in item["errors"]]
    assert all(error["message"] for error in item["errors"])
    assert not TimelineEvent.objects.exists()


@pytest.mark.parametrize("field", ["external_id", "account_number", "kind", "occurred_at"])
def test_missing_required_field_rejects_the_batch(subscriber, api_client, field):
    item = event()
    del item[field]
    body = post(api_client, [item]).json()
    assert body["items"][0]["errors"] == [{"field": field, "message": "Field required"}]
    assert not TimelineEvent.objects.exists()


def test_naive_datetime_says_the_offset_is_missing(subscriber, api_client):
    body = post(api_client, [event(occurred_at="2026-03-01T09:30:00")]).json()
    assert body["items"][0]["errors"] == [
        {"field": "occurred_at", "message": "Input should have timezone info"}
    ]


def test_event_more_than_a_day_ahead_is_invalid(subscriber, api_client):
    body = post(api_client, [event(occurred_at=_in_two_days())]).json()
    assert body["items"][0]["errors"] == [
        {"field": "occurred_at", "message": "Should not be more than a day in the future"}
    ]


def test_event_a_few_hours_ahead_is_accepted(subscriber, api_client):
    soon = (timezone.now() + timedelta(hours=3)).isoformat()
    assert post(api_client, [event(occurred_at=soon)]).status_code == 200


def test_item_that_is_not_an_object_is_invalid(subscriber, api_client):
    body = post(api_client, [event(), "inv-2"]).json()
    assert body["items"] == [
        {
            "index": 1,
            "external_id": None,
            "status": "invalid",
            "errors": [
                {
                    "field": None,
                    "message": "Input should be a valid dictionary or instance of EventIn",
                }
            ],
            "conflicts": [],
        }
    ]


def test_every_bad_event_is_listed_by_index_with_all_its_errors(subscriber, api_client):
    events = [
        event(0),
        event(1, kind="telepathy", summary=""),
        event(2),
        event(3, account_number="LV-999999"),
        event(4, occurred_at="2026-03-01"),
    ]

    body = post(api_client, events).json()

    assert [(i["index"], i["external_id"], i["status"]) for i in body["items"]] == [
        (1, "inv-1", "invalid"),
        (3, "inv-3", "unknown_subscriber"),
        (4, "inv-4", "invalid"),
    ]
    assert {e["field"] for e in body["items"][0]["errors"]} == {"kind", "summary"}
    assert body["detail"].startswith("3 of 5 events were rejected")
    assert not TimelineEvent.objects.exists()


def test_unknown_subscriber_rejects_the_batch(subscriber, api_client):
    response = post(api_client, [event(1), event(2, account_number="LV-999999")])
    assert response.status_code == 400
    assert response.json()["items"] == [
        {
            "index": 1,
            "external_id": "inv-2",
            "status": "unknown_subscriber",
            "errors": [
                {"field": "account_number", "message": "No subscriber has this account number"}
            ],
            "conflicts": [],
        }
    ]
    assert not TimelineEvent.objects.exists()


def test_skip_invalid_stores_the_good_events_and_reports_the_others(subscriber, api_client):
    events = [
        event(0),
        event(1, occurred_at="2026-03-01T09:30:00"),
        event(2, account_number="LV-999999"),
        event(3),
    ]

    response = post(api_client, events, "?skip_invalid=true")

    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["duplicates"], body["rejected"]) == (2, 0, 2)
    assert [i["status"] for i in body["items"]] == [
        "created",
        "invalid",
        "unknown_subscriber",
        "created",
    ]
    assert body["items"][1]["errors"][0]["field"] == "occurred_at"
    assert set(TimelineEvent.objects.values_list("external_id", flat=True)) == {"inv-0", "inv-3"}


def test_skip_invalid_with_nothing_valid_stores_nothing(subscriber, api_client):
    body = post(api_client, [event(kind="telepathy")], "?skip_invalid=true").json()
    assert (body["created"], body["rejected"]) == (0, 1)
    assert not TimelineEvent.objects.exists()


def test_batch_over_the_limit_is_rejected_whole(subscriber, api_client):
    response = post(api_client, [event(n) for n in range(1001)], "?skip_invalid=true")

    assert response.status_code == 400
    body = response.json()
    assert body["items"] == []
    assert body["errors"] == [
        {
            "field": "events",
            "message": "A batch holds at most 1000 events, this one has 1001: split it",
        }
    ]
    assert not TimelineEvent.objects.exists()


def test_batch_limit_comes_from_settings(subscriber, api_client, settings):
    settings.API_BATCH_LIMIT = 2
    assert post(api_client, [event(1), event(2)]).status_code == 200
    assert post(api_client, [event(3), event(4), event(5)]).status_code == 400
    assert TimelineEvent.objects.count() == 2


def test_body_over_the_upload_limit_is_413_in_json(subscriber, api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = post(api_client, [event(n) for n in range(100)])
    assert response.status_code == 413
    assert "fewer events per batch" in response.json()["detail"]
    assert not TimelineEvent.objects.exists()


def test_empty_batch_is_400(subscriber, api_client):
    response = post(api_client, [])
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "events"


@pytest.mark.parametrize(
    "body",
    ["", "not json", "[]", '{"event": []}', '{"events": {"external_id": "x"}}'],
)
def test_malformed_body_is_400(subscriber, api_client, body):
    response = api_client.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]
    assert not TimelineEvent.objects.exists()


def test_bad_skip_invalid_flag_is_400(subscriber, api_client):
    response = post(api_client, [event()], "?skip_invalid=perhaps")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "skip_invalid"


# --- Cost ---------------------------------------------------------------------------------


def _queries_for(client: Client, events: list[dict[str, Any]]) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = post(client, events)
    assert response.status_code == 200
    assert response.json()["created"] == len(events)
    return len(queries)


def test_query_count_does_not_grow_with_the_batch(api_client):
    subscribers = SubscriberFactory.create_batch(100)

    def batch(prefix: str, size: int) -> list[dict[str, Any]]:
        return [
            event(n, external_id=f"{prefix}-{n}", account_number=s.account_number)
            for n, s in enumerate(subscribers[:size])
        ]

    # The first call of a token records last_used_at; the next ones within a minute do not.
    post(api_client, batch("warm-up", 1))

    small = _queries_for(api_client, batch("small", 10))
    large = _queries_for(api_client, batch("large", 100))

    # The token, the subscribers, and the INSERT (in a savepoint: the test runs in a transaction);
    # then what the payments change on the subscribers (subscribers/inbound.py): the rows
    # locked and updated, in a savepoint of their own.
    assert small == large == 9


def test_full_batch_is_one_insert(subscriber, api_client):
    post(api_client, [event(0)])
    with CaptureQueriesContext(connection) as queries:
        response = post(api_client, [event(n) for n in range(1000)])
    assert response.json()["created"] == 999
    assert sum(1 for q in queries if q["sql"].startswith("INSERT")) == 1
    assert TimelineEvent.objects.count() == 1000


# --- OpenAPI ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_openapi_schema_is_open_and_documents_the_endpoint():
    response = Client().get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    operation = schema["paths"]["/api/v1/events"]["post"]
    assert operation["security"] == [{"BearerToken": []}]
    assert set(operation["responses"]) == {"200", "400", "401", "413"}
    assert schema["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    batch = schema["components"]["schemas"]["EventBatchIn"]
    item = batch["properties"]["events"]["items"]
    assert set(item["required"]) == {
        "external_id",
        "account_number",
        "kind",
        "occurred_at",
        "summary",
    }
    assert "payment" in item["properties"]["kind"]["enum"]
    assert "offer_approved" not in item["properties"]["kind"]["enum"]


@pytest.mark.django_db
def test_a_token_made_in_the_admin_is_shown_once_and_stored_hashed(client, admin_user):
    from subscribers.models import ApiToken

    client.force_login(admin_user)
    response = client.post(
        "/admin/subscribers/apitoken/add/",
        {"name": "Billing", "source": "billing", "is_active": "on"},
        follow=True,
    )
    token = ApiToken.objects.get(name="Billing")
    shown = [str(m) for m in response.context["messages"]]
    assert len(shown) >= 1 and any(token.prefix in m for m in shown)
    raw = next(m for m in shown if token.prefix in m).split(": ", 1)[1].split(" ")[0]
    assert token.token_hash != raw and raw not in token.token_hash
    api_response = client.post(
        "/api/v1/events",
        {"events": []},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    assert api_response.status_code == 400  # authenticated; the empty batch is refused
