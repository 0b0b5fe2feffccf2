"""What the tests of the ingestion API share: its URLs, a valid event, a batch sent with POST.

The fixtures that go with them (``billing_token``, ``api_client``, ``subscriber``: the
subscriber with account number LV-100200) are in tests/conftest.py.
"""

import json
from typing import Any

from django.test import Client

EVENTS_URL = "/api/v1/events"
CANCELLATIONS_URL = "/api/v1/cancellations"


def event(n: int = 1, **overrides: Any) -> dict[str, Any]:
    """A valid event for the subscriber with account number LV-100200."""
    return {
        "external_id": f"inv-{n}",
        "account_number": "LV-100200",
        "kind": "payment",
        "occurred_at": "2026-03-01T09:30:00+02:00",
        "summary": f"Payment received €{n}.00",
        "data": {"amount": f"{n}.00", "currency": "EUR"},
        **overrides,
    }


def post_batch(client: Client, url: str, key: str, items: Any, query: str = "") -> Any:
    """POST ``{key: items}`` as JSON to ``url`` (``query``: e.g. "?skip_invalid=true")."""
    return client.post(url + query, json.dumps({key: items}), content_type="application/json")


def post_events(client: Client, events: Any, query: str = "") -> Any:
    return post_batch(client, EVENTS_URL, "events", events, query)


def post_cancellations(client: Client, items: Any, query: str = "") -> Any:
    return post_batch(client, CANCELLATIONS_URL, "cancellations", items, query)
