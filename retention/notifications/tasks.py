"""The reminder tick: due reminders delivered, e-mail digests for staff who asked."""

from celery import shared_task

from retention.notifications import reminders
from retention.notifications.services import notifications_email


@shared_task(name="retention.tasks.reminders_tick", ignore_result=True)
def reminders_tick() -> None:
    """Every minute: claims a dead worker left go back, due reminders are delivered, staff
    who asked for e-mail get theirs."""
    reminders.reminders_sweep()
    reminders.reminders_tick()
    notifications_email()
