"""The hardship tick: payments counted towards instalments, missed instalments found."""

from celery import shared_task

from retention.hardship.services import hardship_tick as tick


@shared_task(name="retention.tasks.hardship_tick", ignore_result=True)
def hardship_tick() -> None:
    """Asked for after commit when billing reports a payment, and run by beat for lost
    messages; running it twice counts nothing twice."""
    tick()
