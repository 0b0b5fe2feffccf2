"""The services behind the ingestion API: tokens, and events_ingest called directly."""

import hashlib
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction

from subscribers.ingestion import (
    EventBatchRejected,
    IngestResult,
    ItemStatus,
    api_token_authenticate,
    api_token_create,
    events_ingest,
)
from subscribers.models import ApiToken, TimelineEvent
from tests.factories import SubscriberFactory
from tests.threads import wait_until_blocked_on_a_lock

# --- Tokens -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_token_is_stored_only_as_a_hash_and_a_prefix():
    token, raw = api_token_create(name="Billing", source="billing")

    stored = ApiToken.objects.values().get(pk=token.pk)
    assert stored["token_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert stored["prefix"] == raw[:8]
    assert not any(raw in str(value) for value in stored.values())
    assert len(raw) >= 40  # 32 random bytes, URL-safe base64


@pytest.mark.django_db
def test_each_token_is_different():
    _, first = api_token_create(name="Billing", source="billing")
    _, second = api_token_create(name="Network", source="network")
    assert first != second


@pytest.mark.django_db
def test_authenticate_finds_the_active_token_by_its_secret():
    token, raw = api_token_create(name="Billing", source="billing")
    assert api_token_authenticate(raw=raw) == token
    assert api_token_authenticate(raw=raw + "x") is None
    assert api_token_authenticate(raw=token.token_hash) is None
    assert api_token_authenticate(raw="") is None


@pytest.mark.django_db
def test_inactive_token_does_not_authenticate():
    token, raw = api_token_create(name="Billing", source="billing")
    ApiToken.objects.filter(pk=token.pk).update(is_active=False)
    assert api_token_authenticate(raw=raw) is None


@pytest.mark.django_db
def test_last_used_is_recorded_at_most_once_a_minute(django_assert_num_queries):
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    token, raw = api_token_create(name="Billing", source="billing")

    # The lookup, then the UPDATE; within the minute, the lookup only.
    with time_machine.travel(start, tick=False), django_assert_num_queries(2):
        api_token_authenticate(raw=raw)
    with (
        time_machine.travel(start + timedelta(seconds=59), tick=False),
        django_assert_num_queries(1),
    ):
        api_token_authenticate(raw=raw)
    token.refresh_from_db()
    assert token.last_used_at == start

    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        api_token_authenticate(raw=raw)
    token.refresh_from_db()
    assert token.last_used_at == start + timedelta(seconds=61)


# --- events_ingest ------------------------------------------------------------------------


def _event(n: int, account_number: str, **overrides: Any) -> dict[str, Any]:
    return {
        "external_id": f"ticket-{n}",
        "account_number": account_number,
        "kind": "ticket",
        "occurred_at": "2026-03-01T08:00:00Z",
        "summary": f"Ticket {n}: no connection",
        **overrides,
    }


@pytest.mark.django_db
def test_result_reports_every_item_in_order():
    subscriber = SubscriberFactory.create()
    items = [_event(1, subscriber.account_number), _event(2, subscriber.account_number)]
    events_ingest(source="network", items=items[:1], skip_invalid=False)

    result = events_ingest(source="network", items=items, skip_invalid=False)

    assert [(i.index, i.external_id, i.status) for i in result.items] == [
        (0, "ticket-1", ItemStatus.DUPLICATE),
        (1, "ticket-2", ItemStatus.CREATED),
    ]
    assert (result.created, result.duplicates, result.rejected) == (1, 1, 0)
    assert set(TimelineEvent.objects.values_list("source", flat=True)) == {"network"}


@pytest.mark.django_db
def test_rejected_batch_raises_with_every_rejected_item_and_stores_nothing():
    subscriber = SubscriberFactory.create()
    items = [
        _event(1, subscriber.account_number, kind="signup"),
        _event(2, "nobody"),
        _event(3, subscriber.account_number, summary="x" * 301),
    ]

    with pytest.raises(EventBatchRejected) as caught:
        events_ingest(source="network", items=items, skip_invalid=False)

    assert [(i.index, i.status) for i in caught.value.items] == [
        (1, ItemStatus.UNKNOWN_SUBSCRIBER),
        (2, ItemStatus.INVALID),
    ]
    assert str(caught.value).startswith("2 of 3 events were rejected")
    assert not TimelineEvent.objects.exists()


@pytest.mark.django_db
def test_stored_time_is_the_instant_sent_whatever_the_offset():
    subscriber = SubscriberFactory.create()
    events_ingest(
        source="network",
        items=[_event(1, subscriber.account_number, occurred_at="2026-03-01T10:00:00+02:00")],
        skip_invalid=False,
    )
    assert TimelineEvent.objects.get().occurred_at == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


# --- Races (PostgreSQL: SQLite lets one writer in at a time) ---------------------------------


def _ingest_in_thread(items: list[dict[str, Any]], results: list[IngestResult]) -> threading.Thread:
    def run() -> None:
        try:
            results.append(events_ingest(source="billing", items=items, skip_invalid=False))
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("first_commits", [True, False])
def test_concurrent_identical_batch_waits_for_the_first_and_stores_nothing_twice(first_commits):
    subscriber = SubscriberFactory.create()
    items = [_event(n, subscriber.account_number) for n in range(50)]
    second: list[IngestResult] = []

    with transaction.atomic():
        first = events_ingest(source="billing", items=items, skip_invalid=False)
        # The second batch runs while the first is inserted but not committed: its INSERT
        # waits on the first one's keys.
        thread = _ingest_in_thread(items, second)
        wait_until_blocked_on_a_lock(thread)
        if not first_commits:
            transaction.set_rollback(True)
    thread.join(timeout=30)
    assert not thread.is_alive(), "the second batch never finished"

    assert first.created == 50
    [result] = second
    if first_commits:
        assert (result.created, result.duplicates) == (0, 50)
    else:
        assert (result.created, result.duplicates) == (50, 0)
    assert TimelineEvent.objects.count() == 50
