"""Billing events: deliver what is due, in slices, and the tick that finds what is left."""

import time

from celery import shared_task

from retention.billing.confirmations import offers_unconfirmed_remind
from retention.billing.delivery import deliveries_due, deliveries_work
from retention.core import broker
from subscribers.outbound import DELIVER_TASK

# One delivery task works this long, then hands over to a fresh message (as outreach does).
BILLING_SLICE_SECONDS = 30


@shared_task(name=DELIVER_TASK, ignore_result=True)
def billing_deliver() -> None:
    """Deliver due events until none is left or the slice is up. Running it twice, or on two
    workers at once, is harmless: each claims different deliveries."""
    started = time.monotonic()
    while time.monotonic() - started < BILLING_SLICE_SECONDS:
        if not deliveries_work().claimed:
            return
    broker.enqueue(DELIVER_TASK)


@shared_task(name="retention.tasks.billing_tick", ignore_result=True)
def billing_tick() -> None:
    """Every 30 seconds: retries that fell due, leases a dead worker left, and events whose
    message the broker lost are delivered; offers billing is late to confirm are reminded of."""
    offers_unconfirmed_remind()
    if deliveries_due():
        broker.enqueue(DELIVER_TASK)
