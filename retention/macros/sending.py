"""Delivering a case message: the ``CaseMessage`` row is the outbox.

Claim the row (compare-and-set from pending to sending), send it under its key with the shared
backends (retention.core.messaging: a key the backend has delivered is not delivered again),
mark it sent. A worker killed after the send leaves the row claimed; the sweep puts it back
after ``CLAIM_TIMEOUT`` and the same key is sent, which the backend drops. A failed send is
tried again by the sweep a few times, then left failed for the desk to see.
"""

from datetime import datetime, timedelta

from django.db.models import F, Q
from django.utils import timezone

from retention.core.messaging import send_to_subscriber
from retention.models import CaseMessage
from retention.notifications.services import CLAIM_TIMEOUT

State = CaseMessage.State
MAX_ATTEMPTS = 3
# A pending row older than this lost its task message (broker down at commit): the sweep asks
# again.
LOST_AFTER = timedelta(minutes=1)


def case_message_key(message: CaseMessage) -> str:
    return f"case-message-{message.pk}"


def case_message_deliver(*, message_id: int, now: datetime | None = None) -> bool:
    """Send the message if it is still to be sent; False when another worker has it or it went."""
    now = now or timezone.now()
    claimed = CaseMessage.objects.filter(pk=message_id, state=State.PENDING).update(
        state=State.SENDING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    message = CaseMessage.objects.get(pk=message_id)
    try:
        send_to_subscriber(
            channel=message.channel,
            key=case_message_key(message),
            to=message.to,
            body=message.body,
            subject=message.subject,
        )
    except Exception as exc:  # a backend's failure of any kind: kept on the row, tried again
        CaseMessage.objects.filter(pk=message_id, state=State.SENDING).update(
            state=State.FAILED, error=str(exc)[:300]
        )
        return False
    CaseMessage.objects.filter(pk=message_id, state=State.SENDING).update(
        state=State.SENT, sent_at=now, error=""
    )
    return True


def case_messages_sweep(*, now: datetime | None = None) -> list[int]:
    """Put back what a dead worker left claimed and failures still worth a try; answer the
    messages to ask for again (those, and pending ones whose task message was lost)."""
    now = now or timezone.now()
    CaseMessage.objects.filter(state=State.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT).update(
        state=State.PENDING
    )
    CaseMessage.objects.filter(
        state=State.FAILED, attempts__lt=MAX_ATTEMPTS, claimed_at__lt=now - CLAIM_TIMEOUT
    ).update(state=State.PENDING)
    return list(
        CaseMessage.objects.filter(state=State.PENDING)
        .filter(Q(claimed_at__isnull=False) | Q(created_at__lt=now - LOST_AFTER))
        .order_by("pk")
        .values_list("pk", flat=True)[:500]
    )
