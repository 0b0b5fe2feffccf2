"""The dashboard's nightly and periodic figures."""

from celery import shared_task

from retention.dashboard import figures
from retention.notifications import reminders
from retention.outreach.sending import campaigns_standing_top_up


@shared_task(name="retention.tasks.nightly_loyalty", ignore_result=True)
def nightly_loyalty() -> None:
    """Discount-ending reviews, new subscribers for standing campaigns, and the count of
    subscribers paying above the new-customer price."""
    reminders.reminders_for_discounts_ending()
    campaigns_standing_top_up()
    figures.loyalty_snapshot_take()


@shared_task(name="retention.tasks.figures_tick", ignore_result=True)
def figures_tick() -> None:
    """The dashboard's figures for today, and yesterday once after it ended (idempotent:
    each run computes the days again from the cases)."""
    figures.figures_tick()
