"""Celery tasks: a thin interface over services, each safe to run twice or at once.

A task message only says "look at campaign N" or "deliver what is due": the rows in the
database say what is left to do, so a lost message delays work until the next tick and a
repeated one finds nothing to claim.
"""

import logging
import time
from typing import Any

from celery import Task, shared_task
from kombu.exceptions import OperationalError

from retention import cases, figures, outreach, reminders, saves, services
from subscribers.services import subscribers_complete_cancellations

log = logging.getLogger(__name__)

# One outreach task works this long, then hands over to a fresh message (other campaigns and
# ticks get their turn, and a worker restart loses at most this much in-flight claiming).
OUTREACH_SLICE_SECONDS = 30


def enqueue(task: Task, *args: Any) -> bool:
    """Publish without waiting on a broker that is down: the request goes on, and the next
    beat tick finds the work in the database. Call it from ``transaction.on_commit``."""
    try:
        task.apply_async(args=args, retry=False)
    except (OperationalError, OSError) as exc:
        log.warning("broker unavailable, %s(%s) left to the next tick: %s", task.name, args, exc)
        return False
    return True


@shared_task(ignore_result=True)
def heartbeat() -> None:
    """Periodic proof of life for worker and beat; the health page shows its last run."""
    services.heartbeat_record()


@shared_task(ignore_result=True)
def process_overdue_cases() -> int:
    """No case stays open past its process-by date (DESIGN principle 1)."""
    processed = cases.cases_process_overdue()
    subscribers_complete_cancellations()
    return processed


@shared_task(ignore_result=True)
def reprioritise_open_cases() -> int:
    return cases.cases_reprioritise()


@shared_task(ignore_result=True)
def offers_tick() -> None:
    """Offers waiting too long for approval escalate; offers out of time expire."""
    saves.offers_tick()


@shared_task(ignore_result=True)
def reminders_tick() -> None:
    """Every minute: claims a dead worker left go back, due reminders are delivered, staff
    who asked for e-mail get theirs."""
    reminders.reminders_sweep()
    reminders.reminders_tick()
    reminders.notifications_email()


@shared_task(ignore_result=True)
def outreach_work(campaign_id: int) -> None:
    """Create a campaign's messages if not done yet, then send due ones for a while."""
    campaign = outreach.Campaign.objects.filter(
        pk=campaign_id, state=outreach.Campaign.State.RUNNING
    ).first()
    if campaign is None:
        return
    if campaign.fanned_out_at is None:
        outreach.campaign_fan_out(campaign=campaign)
    started = time.monotonic()
    while time.monotonic() - started < OUTREACH_SLICE_SECONDS:
        if not outreach.outreach_send(campaign_id=campaign_id).claimed:
            outreach.campaigns_finish()
            return
    enqueue(outreach_work, campaign_id)


@shared_task(ignore_result=True)
def outreach_tick() -> None:
    """Every minute: put back what a dead worker left half-sent, and ask for the work of
    every running campaign that has some (deferred messages fall due here too)."""
    outreach.outreach_sweep()
    for campaign_id in outreach.campaigns_with_work():
        enqueue(outreach_work, campaign_id)
    outreach.campaigns_finish()


@shared_task(ignore_result=True)
def nightly_loyalty() -> None:
    """Discount-ending reviews, new subscribers for standing campaigns, and the count of
    subscribers paying above the new-customer price."""
    reminders.reminders_for_discounts_ending()
    outreach.campaigns_standing_top_up()
    figures.loyalty_snapshot_take()


@shared_task(ignore_result=True)
def figures_tick() -> None:
    """The dashboard's figures for today, and yesterday once after it ended (idempotent:
    each run computes the days again from the cases)."""
    figures.figures_tick()
