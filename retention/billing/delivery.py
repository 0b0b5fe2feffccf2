"""Delivering billing events: fan-out to endpoints, claim, sign and send, mark; retries.

Each step is its own short transaction and no transaction is open while a request is in
flight. A worker claims a chunk of due deliveries (``SKIP LOCKED``, a claim id and a lease),
sends each as a Standard Webhooks request and records the answer. A worker that dies mid-send
leaves a lease that runs out; the next claim sends the delivery again with the same
``webhook-id``, which the receiver uses to drop a repeat. So an event may arrive twice but is
applied once, and none is lost.

Per subscriber and endpoint, events go in the order they were made: a delivery is not due
while an earlier event of the same subscriber has not reached that endpoint (still retrying,
failed, or its endpoint disabled). A failed delivery therefore holds the subscriber's later
events until an admin redelivers it; billing never applies a withdrawal before the
cancellation it withdraws.
"""

import json
import random
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from retention.core.roles import Role
from retention.models import DeliveryAttempt, EndpointHistory, EventDelivery, User, WebhookEndpoint
from retention.notifications.services import notify
from subscribers import phrases
from subscribers.models import OutboundEvent

State = EventDelivery.State
USER_AGENT = "RetentionDesk-Webhooks/1"


# --- Fan-out ----------------------------------------------------------------------------------


def deliveries_fan_out(*, limit: int = 1000) -> int:
    """Each new event gets a delivery per endpoint that wants its type (disabled ones too:
    their events wait for them). An endpoint hears of the events made after it was
    registered. Returns the events handled."""
    with transaction.atomic():
        events = list(
            OutboundEvent.objects.filter(fanned_out_at__isnull=True)
            .order_by("pk")
            .select_for_update(skip_locked=True)
            .only("pk", "type", "subscriber_id", "created_at")[:limit]
        )
        if not events:
            return 0
        endpoints = list(WebhookEndpoint.objects.all())
        EventDelivery.objects.bulk_create(
            [
                EventDelivery(
                    event_id=event.pk,
                    endpoint=endpoint,
                    subscriber_id=event.subscriber_id,
                    next_attempt_at=event.created_at,
                )
                for event in events
                for endpoint in endpoints
                if event.type in endpoint.event_types and event.created_at >= endpoint.created_at
            ],
            ignore_conflicts=True,
        )
        OutboundEvent.objects.filter(pk__in=[event.pk for event in events]).update(
            fanned_out_at=timezone.now()
        )
    return len(events)


# --- Claiming ---------------------------------------------------------------------------------


def claimable(now: datetime) -> QuerySet[EventDelivery]:
    """Deliveries a worker may send now: due, not held by a live claim, to an enabled
    endpoint, and the earliest of their subscriber's undelivered events for that endpoint. A
    delivery whose lease ran out (its worker died) is due again."""
    earlier = EventDelivery.objects.filter(
        endpoint=OuterRef("endpoint"),
        subscriber=OuterRef("subscriber"),
        event_id__lt=OuterRef("event_id"),
    ).exclude(state=State.DELIVERED)
    # An earlier event whose deliveries another worker's fan-out has not committed yet.
    earlier_unseen = OutboundEvent.objects.filter(
        subscriber=OuterRef("subscriber"), pk__lt=OuterRef("event_id"), fanned_out_at__isnull=True
    )
    return (
        EventDelivery.objects.filter(
            Q(leased_until__isnull=True) | Q(leased_until__lt=now),
            state=State.PENDING,
            next_attempt_at__lte=now,
            endpoint__enabled=True,
        )
        .exclude(Exists(earlier))
        .exclude(Exists(earlier_unseen))
    )


def deliveries_claim(*, now: datetime | None = None, limit: int | None = None) -> list[int]:
    """Claim deliveries a worker may send now (``claimable``), at most one per subscriber and
    endpoint; returns their ids."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            claimable(now)
            .order_by("next_attempt_at", "event_id")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[: limit or settings.BILLING_CHUNK]
        )
        if ids:
            EventDelivery.objects.filter(pk__in=ids).update(
                claim=uuid.uuid4(),
                leased_until=now + timedelta(seconds=settings.BILLING_LEASE_SECONDS),
            )
            EventDelivery.objects.filter(pk__in=ids, first_attempt_at__isnull=True).update(
                first_attempt_at=now
            )
    return ids


# --- Sending ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What one request brought back."""

    status_code: int | None
    error: str
    latency_ms: int
    excerpt: str

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def reason(self) -> str:
        return f"HTTP {self.status_code}" if self.status_code else self.error


def signed_request(
    endpoint: WebhookEndpoint, event: OutboundEvent, *, at: datetime
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one delivery, signed as Standard Webhooks says."""
    body = json.dumps(event.payload, separators=(",", ":"), ensure_ascii=False).encode()
    msg_id = str(event.event_id)
    signature = Webhook(endpoint.secret).sign(msg_id=msg_id, timestamp=at, data=body)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }
    return body, headers


# One client per worker process: connections to a receiver are kept open and reused.
_client: httpx.Client | None = None


def http_client() -> httpx.Client:
    global _client
    if _client is None:
        _client = httpx.Client(
            timeout=httpx.Timeout(
                settings.BILLING_READ_TIMEOUT, connect=settings.BILLING_CONNECT_TIMEOUT
            ),
            follow_redirects=False,
            limits=httpx.Limits(max_keepalive_connections=10),
        )
    return _client


def webhook_send(endpoint: WebhookEndpoint, event: OutboundEvent, *, at: datetime) -> Answer:
    body, headers = signed_request(endpoint, event, at=at)
    started = time.monotonic()
    try:
        response = http_client().post(endpoint.url, content=body, headers=headers)
    except httpx.TimeoutException:
        return Answer(None, "timeout", _since(started), "")
    except httpx.HTTPError as exc:
        return Answer(None, f"{exc.__class__.__name__}: {exc}"[:200], _since(started), "")
    return Answer(response.status_code, "", _since(started), _excerpt(response))


def _since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _excerpt(response: httpx.Response) -> str:
    # What a receiver says is kept as text, never rendered: the admin escapes it. NUL is the
    # one character PostgreSQL refuses in text.
    return response.text[:500].replace("\x00", "\ufffd")


# --- Marking ----------------------------------------------------------------------------------


def retry_delay(attempts: int) -> timedelta:
    """The wait before try number ``attempts + 1``: doubling from the first wait up to the
    longest, with up to half of it taken off at random (so senders spread out)."""
    longest = settings.BILLING_RETRY_LONGEST_SECONDS
    # The exponent is capped: 2**20 waits are far past the longest, and a delivery redelivered
    # many times must not overflow a float.
    wait = min(settings.BILLING_RETRY_FIRST_SECONDS * 2 ** min(max(attempts - 1, 0), 20), longest)
    return timedelta(seconds=wait * random.uniform(0.5, 1.0))


def delivery_record(*, delivery_id: int, claim: uuid.UUID, at: datetime, answer: Answer) -> str:
    """Log the attempt and move the delivery on: delivered, due again later, or failed. A
    delivery whose claim was taken over meanwhile (our lease ran out) keeps the log row but is
    left to the worker that holds it now. Returns the delivery's state."""
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            EventDelivery.objects.select_for_update()
            .select_related("endpoint", "event")
            .get(pk=delivery_id)
        )
        DeliveryAttempt.objects.create(
            delivery=delivery,
            at=at,
            status_code=answer.status_code,
            error=answer.error,
            latency_ms=answer.latency_ms,
            response_excerpt=answer.excerpt,
            succeeded=answer.succeeded,
        )
        if delivery.claim != claim or delivery.state != State.PENDING:
            return delivery.state
        delivery.attempts += 1
        delivery.claim = None
        delivery.leased_until = None
        endpoint = delivery.endpoint
        if answer.succeeded:
            delivery.state = State.DELIVERED
            delivery.delivered_at = now
            WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(
                failing_since=None
            )
        else:
            give_up_at = delivery.first_attempt_at or at
            give_up_at += timedelta(hours=settings.BILLING_RETRY_HOURS)
            if now >= give_up_at:
                delivery.state = State.FAILED
                tell_admins(
                    phrases.phrase(
                        "billing.delivery_failed",
                        event=str(delivery.event.event_id),
                        type=delivery.event.type,
                        endpoint=endpoint.name,
                        attempts=delivery.attempts,
                        reason=answer.reason,
                    ),
                    reverse("admin:retention_eventdelivery_change", args=[delivery.pk]),
                )
            else:
                delivery.next_attempt_at = now + retry_delay(delivery.attempts)
            _endpoint_failed(endpoint, now)
        delivery.save(
            update_fields=[
                "attempts",
                "claim",
                "leased_until",
                "state",
                "delivered_at",
                "next_attempt_at",
            ]
        )
    return delivery.state


def _endpoint_failed(endpoint: WebhookEndpoint, now: datetime) -> None:
    """Count a failure against the endpoint; one that has failed without a break for
    BILLING_DISABLE_AFTER_HOURS is disabled, and admins are told."""
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        endpoint.save(update_fields=["failing_since"])
        return
    limit = timedelta(hours=settings.BILLING_DISABLE_AFTER_HOURS)
    if not endpoint.enabled or now - endpoint.failing_since < limit:
        return
    endpoint.enabled = False
    endpoint.save(update_fields=["enabled"])
    since = endpoint.failing_since
    EndpointHistory.objects.create(
        endpoint=endpoint,
        actor=None,
        action=EndpointHistory.Action.DISABLED,
        code="billing.endpoint_disabled",
        params=phrases.as_params({"endpoint": endpoint.name, "since": since}),
    )
    tell_admins(
        phrases.phrase("billing.endpoint_disabled", endpoint=endpoint.name, since=since),
        reverse("admin:retention_webhookendpoint_change", args=[endpoint.pk]),
    )


def tell_admins(phrase: dict[str, Any], url: str) -> None:
    """A notice to every active admin."""
    for admin in admins():
        notify(recipient=admin, phrase=phrase, url=url)


def admins() -> Iterable[User]:
    return User.objects.filter(
        Q(is_superuser=True) | Q(groups__name=Role.ADMIN), is_active=True
    ).distinct()


# --- One round --------------------------------------------------------------------------------


@dataclass
class Round:
    claimed: int = 0
    delivered: int = 0


def deliveries_work(*, limit: int | None = None) -> Round:
    """New events fanned out, then one chunk of due deliveries claimed, sent and marked."""
    deliveries_fan_out()
    done = Round()
    ids = deliveries_claim(limit=limit)
    done.claimed = len(ids)
    for delivery in (
        EventDelivery.objects.filter(pk__in=ids)
        .select_related("endpoint", "event")
        .order_by("event_id")
    ):
        at = timezone.now()
        answer = webhook_send(delivery.endpoint, delivery.event, at=at)
        assert delivery.claim is not None
        state = delivery_record(delivery_id=delivery.pk, claim=delivery.claim, at=at, answer=answer)
        done.delivered += state == State.DELIVERED
    return done


def deliveries_due(*, now: datetime | None = None) -> bool:
    """Whether a round would find work: events not fanned out, or deliveries a worker may send
    now. (Events held behind a subscriber's earlier one that is being retried, or deliveries a
    live worker holds, ask for no task: the tick would only wake workers to claim nothing.)"""
    now = now or timezone.now()
    return (
        OutboundEvent.objects.filter(fanned_out_at__isnull=True).exists() or claimable(now).exists()
    )
