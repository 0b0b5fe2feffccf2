"""The offers' tick: waiting approvals escalate, offers out of time expire."""

from celery import shared_task

from retention.saves import services as saves


@shared_task(name="retention.tasks.offers_tick", ignore_result=True)
def offers_tick() -> None:
    """Offers waiting too long for approval escalate; offers out of time expire."""
    saves.offers_tick()
