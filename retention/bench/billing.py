"""Billing events: the queries an accepted offer costs with and without its event, and events
delivered per second to a local receiver by one worker and by two.

The receiver is the billing simulator (retention/demo/billing.py) in this process, on
127.0.0.1, verifying every signature and confirming nothing (there is no desk API to call).
The workers are processes of their own, each running delivery rounds until nothing is left, as
a Celery worker's ``billing_deliver`` does. Everything made here is removed afterwards.
"""

import os
import subprocess
import sys
import time
from typing import Any
from unittest import mock

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from offers.models import CounterOffer, OfferTemplate
from retention.bench.queue import SEED_SOURCE
from retention.bench.results import Log, Results
from retention.bench.users import bench_users
from retention.cases.selectors import cases_open
from retention.cases.services import case_claim
from retention.core.refusals import Refusal
from retention.demo.billing import BillingSimulator
from retention.models import CancellationCase, EventDelivery, WebhookEndpoint
from retention.models.billing import webhook_secret_new
from retention.saves import services as saves
from retention.saves.services import Decision
from subscribers import outbound
from subscribers.models import OutboundEvent, Subscriber

# Events delivered per run, spread over this many subscribers (several each, so that the
# per-subscriber order is part of what is measured).
EVENTS = 2_000
SUBSCRIBERS = 500
ENDPOINT = "bench receiver"


def measure_billing(results: Results, *, requests: int, log: Log) -> None:
    results.billing = {"accept": _accept_queries(log)}
    results.billing["delivery"] = _delivery_rates(log)


# --- An accepted offer ------------------------------------------------------------------------


def _accept_queries(log: Log) -> dict[str, Any]:
    """offer_answer(accepted=True) on one presented offer, twice: as it is, and with the
    event's writing left out. Each run is rolled back, so both accept the same offer of the
    same subscriber; the savepoints the rollback needs are not counted."""
    counts = {}
    offer = _presented_offer()
    agent = offer.proposer
    # A first acceptance, rolled back and not counted: the agent's roles are read once and
    # kept on the user, which would otherwise land in whichever count came first.
    with transaction.atomic():
        saves.offer_answer(offer=offer, actor=agent, accepted=True)
        transaction.set_rollback(True)
    for label, patched in (("with event", False), ("without event", True)):
        with transaction.atomic():
            with CaptureQueriesContext(connection) as captured:
                if patched:
                    with mock.patch("offers.lifecycle.outbound_event_record"):
                        saves.offer_answer(offer=offer, actor=agent, accepted=True)
                else:
                    saves.offer_answer(offer=offer, actor=agent, accepted=True)
            transaction.set_rollback(True)
        counts[label] = sum(
            1 for query in captured.captured_queries if "SAVEPOINT" not in query["sql"]
        )
    log(
        f"Accepting an offer: {counts['with event']} queries with its billing event, "
        f"{counts['without event']} without (+{counts['with event'] - counts['without event']})."
    )
    return counts


def _presented_offer() -> CounterOffer:
    """A seed case claimed by the bench agent with an offer approved (by the bench admin where
    beyond the agent) and presented."""
    agent, admin = bench_users()
    templates = list(OfferTemplate.objects.filter(is_active=True).order_by("pk"))
    for case in cases_open().filter(
        source=SEED_SOURCE,
        status=CancellationCase.Status.NEW,
        owner__isnull=True,
        subscriber__status=Subscriber.Status.ACTIVE,
    )[:200]:
        case = case_claim(case=case, actor=agent)
        for template in templates:
            try:
                offer = saves.case_offer_propose(case=case, template=template, actor=agent)
            except Refusal:
                continue
            if offer.status == CounterOffer.Status.PENDING:
                saves.offer_decide(offer=offer, actor=admin, decision=Decision.APPROVE)
            return saves.offer_present(offer=offer, actor=agent)
    raise RuntimeError("no seed case takes any offer of the catalogue")


# --- Delivery ---------------------------------------------------------------------------------


def _delivery_rates(log: Log) -> dict[str, Any]:
    subscribers = list(
        Subscriber.objects.filter(status=Subscriber.Status.ACTIVE).order_by("pk")[:SUBSCRIBERS]
    )
    secret = webhook_secret_new()
    receiver = BillingSimulator(secret=secret, confirm_url="", token="").start()
    endpoint = WebhookEndpoint.objects.create(
        name=ENDPOINT,
        url=receiver.url,
        secret=secret,
        event_types=list(OutboundEvent.Type.values),
    )
    first_event = OutboundEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    try:
        _make_events(subscribers)
        found: dict[str, Any] = {"events": EVENTS, "subscribers": len(subscribers)}
        for workers in (1, 2):
            receiver.applied.clear()
            _reset(first_event)
            seconds = _deliver(workers)
            delivered = EventDelivery.objects.filter(
                endpoint=endpoint, state=EventDelivery.State.DELIVERED
            ).count()
            unique = len(receiver.applied) == delivered == EVENTS
            found[f"{workers}_worker"] = {
                "seconds": round(seconds, 2),
                "events_per_second": round(delivered / seconds, 1),
                "all_once": unique,
            }
            log(
                f"Delivering {EVENTS:,} events of {len(subscribers)} subscribers with {workers} "
                f"worker(s): {seconds:.1f} s, {delivered / seconds:,.0f} events/s"
                f"{'' if unique else ' (NOT all delivered once)'}."
            )
        one, two = found["1_worker"], found["2_worker"]
        found["two_workers_ratio"] = round(one["seconds"] / two["seconds"], 2)
        return found
    finally:
        receiver.stop()
        EventDelivery.objects.filter(endpoint=endpoint).delete()
        endpoint.delete()
        OutboundEvent.objects.filter(pk__gt=first_event, payload__data__case=0).delete()


def _make_events(subscribers: list[Subscriber]) -> None:
    per = EVENTS // len(subscribers)
    for start in range(0, len(subscribers), 100):
        with transaction.atomic():
            for subscriber in subscribers[start : start + 100]:
                for _ in range(per):
                    outbound.outbound_event_record(
                        type=OutboundEvent.Type.CANCELLATION_WITHDRAWN,
                        data=outbound.CancellationWithdrawn(
                            subscriber=outbound.subscriber_ref(subscriber), case=0
                        ),
                    )


def _reset(first_event: int) -> None:
    """The bench's events as new: no deliveries yet, not handed to delivery."""
    EventDelivery.objects.filter(endpoint__name=ENDPOINT).delete()
    OutboundEvent.objects.filter(pk__gt=first_event, payload__data__case=0).update(
        fanned_out_at=None
    )


def _deliver(workers: int) -> float:
    """``workers`` processes running delivery rounds until none is left; the seconds taken."""
    command = [
        sys.executable,
        "-c",
        "import django; django.setup(); from retention.bench.billing import work; work()",
    ]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "retention.settings"}
    started = time.perf_counter()
    processes = [subprocess.Popen(command, env=env) for _ in range(workers)]  # noqa: S603
    for process in processes:
        if process.wait(timeout=600):
            raise RuntimeError(f"a delivery worker failed (exit {process.returncode})")
    return time.perf_counter() - started


def work() -> None:
    """One worker: rounds until two in a row find nothing (the other worker may hold the last
    deliveries of a subscriber whose next event waits for them)."""
    from retention.billing.delivery import deliveries_due, deliveries_work

    idle = 0
    while idle < 2:
        if deliveries_work().claimed:
            idle = 0
            continue
        idle += 1
        if deliveries_due():
            idle = 0
        time.sleep(0.05)
