"""Case messages: deliver one, and the tick that puts back what was left half-sent."""

from celery import shared_task

from retention.core import broker
from retention.macros.sending import case_message_deliver, case_messages_sweep
from retention.macros.services import CASE_MESSAGE_DELIVER


@shared_task(name=CASE_MESSAGE_DELIVER, ignore_result=True)
def case_message_deliver_task(message_id: int) -> None:
    case_message_deliver(message_id=message_id)


@shared_task(name="retention.tasks.case_messages_tick", ignore_result=True)
def case_messages_tick() -> None:
    """Every minute: ask again for messages a dead worker or a lost task message left."""
    for message_id in case_messages_sweep():
        broker.enqueue(CASE_MESSAGE_DELIVER, message_id)
