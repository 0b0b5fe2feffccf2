"""The offers' ticks: waiting approvals escalate, offers out of time expire, paused services
resume on their resume date."""

from celery import shared_task

from offers import pauses
from retention.saves import services as saves


@shared_task(name="retention.tasks.offers_tick", ignore_result=True)
def offers_tick() -> None:
    """Offers waiting too long for approval escalate; offers out of time expire."""
    saves.offers_tick()


@shared_task(name="retention.tasks.pauses_tick", ignore_result=True)
def pauses_tick() -> None:
    """Paused services whose resume date has come resume, and billing is told (once each)."""
    pauses.pauses_tick()
