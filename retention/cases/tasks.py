"""The case sweeps: no case outlives its process-by date; open cases are reprioritised."""

from celery import shared_task

from retention.cases.sweeps import cases_process_overdue, cases_reprioritise
from subscribers.services import subscribers_complete_cancellations


@shared_task(name="retention.tasks.process_overdue_cases", ignore_result=True)
def process_overdue_cases() -> int:
    """No case stays open past its process-by date: a subscriber who wants to leave can leave."""
    processed = cases_process_overdue()
    subscribers_complete_cancellations()
    return processed


@shared_task(name="retention.tasks.reprioritise_open_cases", ignore_result=True)
def reprioritise_open_cases() -> int:
    return cases_reprioritise()
