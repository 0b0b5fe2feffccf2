"""Celery tasks: a thin interface over services, each safe to run twice or at once."""

from celery import shared_task

from retention import cases, saves, services
from subscribers.services import subscribers_complete_cancellations


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
