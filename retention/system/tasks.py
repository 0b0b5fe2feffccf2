"""Proof of life for worker and beat."""

from celery import shared_task

from retention.system import services


@shared_task(name="retention.tasks.heartbeat", ignore_result=True)
def heartbeat() -> None:
    """Periodic proof of life for worker and beat; the health page shows its last run."""
    services.heartbeat_record()
