"""What the billing delivery tests share: a frozen clock, a broker that only records what it is
asked, a fresh HTTP client per test, and a receiver of webhooks on a port of its own."""

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from retention.billing import delivery
from retention.models import EventDelivery, WebhookEndpoint
from subscribers import outbound
from subscribers.models import OutboundEvent, Subscriber

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Riga
# An answer the receiver gives only after the client stopped waiting for it.
SLOW = "slow"
Type = OutboundEvent.Type


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def asked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tasks asked for (after commit, or by the tick); nothing reaches a broker."""
    tasks: list[str] = []

    def enqueue(task_name: str, *args: Any) -> bool:
        tasks.append(task_name)
        return True

    monkeypatch.setattr("retention.core.broker.enqueue", enqueue)
    return tasks


@pytest.fixture(autouse=True)
def http_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The worker's client is made at its first request, with the timeouts of the settings then:
    each test gets its own (and none keeps a connection to another test's receiver)."""
    monkeypatch.setattr(delivery, "_client", None)
    yield
    if delivery._client is not None:
        delivery._client.close()


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """Billing's end: records each request and answers ``status`` (200, 500, …, or SLOW), or
    for one event what ``answers`` holds under its webhook-id: a status for every try, or a list
    of them, one per try, then ``status``."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status: int | str = 200
        self.answers: dict[str, int | str | list[int | str]] = {}
        self.released = threading.Event()  # lets a SLOW answer go at teardown
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/billing/events"

    @property
    def ids(self) -> list[str]:
        return [request.webhook_id for request in self.received]

    def _answer(self, request: Received) -> int | str:
        with self._lock:
            self.received.append(request)
            planned = self.answers.get(request.webhook_id, self.status)
            if isinstance(planned, list):
                return planned.pop(0) if planned else self.status
            return planned

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {name.lower(): value for name, value in self.headers.items()}
                status = receiver._answer(Received(headers, body))
                if status == SLOW:
                    receiver.released.wait(10)
                    status = 200
                text = b"received" if status == 200 else b"<b>down</b> for maintenance"
                try:
                    self.send_response(int(status))
                    self.send_header("content-type", "text/plain")
                    self.send_header("content-length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                except OSError:
                    pass  # the sender stopped waiting (SLOW)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    thread = threading.Thread(target=found.server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield found
    found.released.set()
    found.server.shutdown()
    found.server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def endpoint(db, receiver: Receiver) -> WebhookEndpoint:
    """Billing, registered for every event type at the receiver."""
    return WebhookEndpoint.objects.create(
        name="Billing", url=receiver.url, event_types=list(Type.values)
    )


# --- Events and rounds ------------------------------------------------------------------------


def withdrawn(subscriber: Subscriber, case: int = 1) -> OutboundEvent:
    """A decision's event, recorded inside the decision's transaction as the services do."""
    data = outbound.CancellationWithdrawn(subscriber=outbound.subscriber_ref(subscriber), case=case)
    with transaction.atomic():
        return outbound.outbound_event_record(type=Type.CANCELLATION_WITHDRAWN, data=data)


def processed(subscriber: Subscriber) -> OutboundEvent:
    data = outbound.CancellationProcessed(
        subscriber=outbound.subscriber_ref(subscriber),
        case=None,
        effective_date=timezone.localdate(),
        billing_ends_on=timezone.localdate(),
    )
    with transaction.atomic():
        return outbound.outbound_event_record(type=Type.CANCELLATION_PROCESSED, data=data)


def work_until(clock: time_machine.Traveller, until: datetime) -> None:
    """The workers up to ``until``: rounds at each moment a retry falls due (as many as find
    work at that moment), the clock moved from one such moment to the next, and left at
    ``until``."""
    while True:
        while delivery.deliveries_work().claimed:
            pass
        due = EventDelivery.objects.filter(
            state=EventDelivery.State.PENDING,
            endpoint__enabled=True,
            next_attempt_at__gt=timezone.now(),
        ).aggregate(due=Min("next_attempt_at"))["due"]
        if due is None or due > until:
            break
        clock.move_to(due)
    clock.move_to(until)
