"""Outreach work: fan-out and sending in slices, and the tick that finds work left over."""

import time

from celery import shared_task

from retention.core import broker
from retention.models import OutreachCampaign
from retention.outreach.audience import campaign_fan_out
from retention.outreach.sending import campaigns_with_work, outreach_send, outreach_sweep
from retention.outreach.services import OUTREACH_WORK, campaigns_finish, campaigns_start_due

# One outreach task works this long, then hands over to a fresh message (other campaigns and
# ticks get their turn, and a worker restart loses at most this much in-flight claiming).
OUTREACH_SLICE_SECONDS = 30


@shared_task(name=OUTREACH_WORK, ignore_result=True)
def outreach_work(campaign_id: int) -> None:
    """Create a campaign's messages if not done yet, then send due ones for a while."""
    campaign = OutreachCampaign.objects.filter(
        pk=campaign_id, state=OutreachCampaign.State.RUNNING
    ).first()
    if campaign is None:
        return
    if campaign.fanned_out_at is None:
        campaign_fan_out(campaign=campaign)
    started = time.monotonic()
    while time.monotonic() - started < OUTREACH_SLICE_SECONDS:
        if not outreach_send(campaign_id=campaign_id).claimed:
            campaigns_finish()
            return
    broker.enqueue(OUTREACH_WORK, campaign_id)


@shared_task(name="retention.tasks.outreach_tick", ignore_result=True)
def outreach_tick() -> None:
    """Every minute: start the scheduled campaigns whose time has come, put back what a dead
    worker left half-sent, and ask for the work of every running campaign that has some
    (deferred messages fall due here too, and a throttled campaign's next minute)."""
    campaigns_start_due()
    outreach_sweep()
    for campaign_id in campaigns_with_work():
        broker.enqueue(OUTREACH_WORK, campaign_id)
    campaigns_finish()
