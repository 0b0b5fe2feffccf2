"""Billing hears every decision exactly once and confirms it, shown with real processes.

A Celery worker and beat (their own Redis), the billing simulator as a process of its own
(``manage.py billing_simulator``, writing what it receives and applies to a journal) and the
desk's API served by ``live_server``: the whole loop, as on a laptop with ``make run``.
"""

import json
import socket
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from offers.models import BillingState, CounterOffer, OfferKind
from retention.cases.services import case_cancel, case_claim
from retention.core.roles import Role
from retention.models import DeliveryAttempt, EventDelivery, User, WebhookEndpoint
from retention.saves import services as saves
from retention.saves.services import Decision
from subscribers import outbound
from subscribers.ingestion import api_token_create
from subscribers.models import OutboundEvent, TimelineEvent
from tests.factories import CaseFactory, SubscriberFactory, offer_template, user_with_role
from tests.retention.test_exactly_once import Fleet
from tests.retention.test_exactly_once import broker as broker
from tests.retention.workers import (
    Process,
    _spawn,
    celery_env,
    every_second,
    free_port,
    kill,
    stop,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

D = Decimal
State = EventDelivery.State
# Retries within seconds, not minutes; a claim that a killed worker held runs out in 3 s.
FAST = {
    "BILLING_RETRY_FIRST_SECONDS": "0.5",
    "BILLING_RETRY_LONGEST_SECONDS": "1",
    "BILLING_LEASE_SECONDS": "3",
    "BILLING_READ_TIMEOUT": "10",
}


class Billing:
    """The simulator process, on a port of its own; its journal lists each request received
    and each event applied, in order."""

    def __init__(self, tmp_path: Path, live_server: Any) -> None:
        admin = user_with_role(Role.ADMIN, username="billing-admin")
        self.port = free_port()
        self.endpoint = WebhookEndpoint.objects.create(
            name="Billing",
            url=f"http://127.0.0.1:{self.port}/webhooks",
            event_types=list(OutboundEvent.Type.values),
        )
        _, self.token = api_token_create(name="billing", source="billing")
        self.journal = tmp_path / "billing.jsonl"
        self.logs = tmp_path / "logs"
        self.env = celery_env(
            broker_url="redis://127.0.0.1:1/0",
            var_dir=tmp_path,
            DJANGO_SETTINGS_MODULE="retention.settings",
        )
        self.live_server = live_server
        self.process: Process | None = None
        self.admin: User = admin

    def start(self, *extra: str) -> None:
        self.process = _spawn(
            "billing",
            [
                sys.executable,
                "-m",
                "tests.clock",
                "django",
                "billing_simulator",
                f"--port={self.port}",
                f"--secret={self.endpoint.secret}",
                f"--token={self.token}",
                f"--desk-url={self.live_server.url}",
                f"--journal={self.journal}",
                "--delay=0.2",
                *extra,
            ],
            self.env,
            self.logs,
        )
        wait_until(self._listening, timeout=30, failure=lambda: self.tail())

    def _listening(self) -> bool:
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None

    def lines(self) -> list[dict[str, Any]]:
        if not self.journal.exists():
            return []
        return [json.loads(line) for line in self.journal.read_text().splitlines()]

    def applied(self) -> list[str]:
        return [line["applied"] for line in self.lines() if "applied" in line]

    def received(self) -> list[str]:
        return [line["received"] for line in self.lines() if "received" in line]

    def tail(self) -> str:
        return self.process.tail() if self.process else "(billing simulator not running)"


@pytest.fixture
def fleet(broker, tmp_path: Path) -> Iterator[Fleet]:
    fleet = Fleet(broker, tmp_path)
    fleet.env.update(FAST)
    try:
        yield fleet
    finally:
        stop(*fleet.processes)


@pytest.fixture
def billing(tmp_path: Path, live_server) -> Iterator[Billing]:
    billing = Billing(tmp_path, live_server)
    try:
        yield billing
    finally:
        billing.stop()


def withdrawal(subscriber, case: int) -> OutboundEvent:
    with transaction.atomic():
        return outbound.outbound_event_record(
            type=OutboundEvent.Type.CANCELLATION_WITHDRAWN,
            data=outbound.CancellationWithdrawn(
                subscriber=outbound.subscriber_ref(subscriber), case=case
            ),
        )


def test_an_accepted_offer_is_applied_and_a_cancellation_confirmed_through_billing(
    fleet: Fleet, billing: Billing, tiers
):
    billing.start()
    fleet.worker("worker")
    agent = user_with_role(Role.AGENT, username="agent")
    lead = user_with_role(Role.MANAGER, tiers["lead"].group, username="lead")
    fixed = offer_template("fixed-5-12", OfferKind.FIXED_DISCOUNT, amount=D("5"), months=12)
    case = case_claim(case=CaseFactory.create(), actor=agent)
    offer = saves.case_offer_propose(case=case, template=fixed, actor=agent)
    if offer.status == CounterOffer.Status.PENDING:
        saves.offer_decide(offer=offer, actor=lead, decision=Decision.APPROVE)
    saves.offer_present(offer=offer, actor=agent)
    saves.offer_answer(offer=offer, actor=agent, accepted=True)
    leaving = case_claim(case=CaseFactory.create(), actor=agent)
    case_cancel(case=leaving, actor=agent, effective_date=leaving.process_by)

    def confirmed() -> bool:
        return not OutboundEvent.objects.filter(confirmation="").exists()

    wait_until(confirmed, timeout=60, failure=lambda: fleet.tails() + billing.tail())
    offer.refresh_from_db()
    assert offer.billing == BillingState.APPLIED
    assert offer.history.filter(action="billing_applied").count() == 1
    assert TimelineEvent.objects.filter(
        subscriber=offer.subscriber, kind=TimelineEvent.Kind.BILLING, code__contains="applied"
    ).exists()
    assert TimelineEvent.objects.filter(
        subscriber=leaving.subscriber, kind=TimelineEvent.Kind.BILLING
    ).exists()
    events = OutboundEvent.objects.all()
    assert sorted(billing.applied()) == sorted(str(e.event_id) for e in events)
    assert {e.confirmed_by for e in events} == {"billing"}


def test_billing_down_for_a_while_gets_every_event_once_in_order_per_subscriber(
    fleet: Fleet, billing: Billing
):
    fleet.worker("worker")
    fleet.beat("beat")
    every_second("retention.tasks.billing_tick")
    subscribers = SubscriberFactory.create_batch(3)
    made = [withdrawal(subscriber, case) for case in range(1, 4) for subscriber in subscribers]

    def tried_in_vain() -> bool:
        return DeliveryAttempt.objects.filter(succeeded=False).count() >= 6

    wait_until(tried_in_vain, timeout=60, failure=fleet.tails)
    # Only the first event of each subscriber is tried while billing is down.
    tried = set(DeliveryAttempt.objects.values_list("delivery__event_id", flat=True))
    assert tried == {event.pk for event in made[:3]}
    billing.start()

    def all_delivered() -> bool:
        return EventDelivery.objects.filter(state=State.DELIVERED).count() == len(made)

    wait_until(all_delivered, timeout=90, failure=lambda: fleet.tails() + billing.tail())
    applied = billing.applied()
    assert sorted(applied) == sorted(str(event.event_id) for event in made)
    assert len(applied) == len(set(applied))  # none twice
    order = defaultdict(list)
    by_id = {str(event.event_id): event for event in made}
    for webhook_id in applied:
        event = by_id[webhook_id]
        order[event.subscriber_id].append(event.pk)
    assert all(ids == sorted(ids) for ids in order.values()), order


def test_a_worker_killed_mid_delivery_gets_the_event_applied_once(fleet: Fleet, billing: Billing):
    # Billing applies the event, then takes 20 s to answer: the worker is killed waiting.
    billing.start("--slow=20")
    first = fleet.worker("first", BILLING_READ_TIMEOUT="30")
    event = withdrawal(SubscriberFactory.create(), case=1)
    wait_until(lambda: bool(billing.applied()), timeout=60, failure=fleet.tails)
    kill(first)
    delivery = EventDelivery.objects.get(event=event)
    assert delivery.state == State.PENDING and delivery.claim is not None
    billing.stop()
    billing.start()  # answers at once now
    fleet.worker("second")
    fleet.beat("beat")
    every_second("retention.tasks.billing_tick")

    def delivered() -> bool:
        return EventDelivery.objects.filter(pk=delivery.pk, state=State.DELIVERED).exists()

    wait_until(delivered, timeout=60, failure=lambda: fleet.tails() + billing.tail())
    assert billing.applied() == [str(event.event_id)]  # applied once
    assert billing.received().count(str(event.event_id)) == 2  # the second was dropped
    time.sleep(1)
    assert DeliveryAttempt.objects.filter(delivery=delivery, succeeded=True).count() == 1
