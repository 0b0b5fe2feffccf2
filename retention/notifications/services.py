"""Notifications to staff: an in-app notice (once per reminder and recipient), an e-mail to
those who asked for them (claimed, sent with its key, marked), and marking them read."""

import zoneinfo
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import override

from retention.core.messaging import Outgoing, send_email
from retention.models import Notification, Reminder, User
from subscribers import phrases

# A claim older than this was left by a worker that died: the sweep hands it out again.
CLAIM_TIMEOUT = timedelta(seconds=settings.OUTBOX_CLAIM_TIMEOUT_SECONDS)


def notification_new(
    recipient: User, phrase: dict[str, Any], url: str = "", reminder: Reminder | None = None
) -> Notification:
    return Notification(
        recipient=recipient,
        code=phrase["code"],
        params=phrase["params"],
        url=url,
        reminder=reminder,
        email_state="pending" if recipient.email_notifications and recipient.email else "",
    )


def notify(
    *, recipient: User, phrase: dict[str, Any], url: str = "", reminder: Reminder | None = None
) -> None:
    """An in-app notification, and an e-mail to staff who asked for them (sent after commit).

    The notice is a ``phrase`` (subscribers.phrases.phrase): the page says it in the reader's
    language, the e-mail in the recipient's."""
    try:
        with transaction.atomic():
            notification_new(recipient, phrase, url, reminder).save()
    except IntegrityError:
        pass  # this reminder already told this person: once is the point


def notifications_email(*, now: datetime | None = None, batch: int = 200) -> int:
    """E-mail the notifications of staff who opted in: claim (compare-and-set), send, mark."""
    now = now or timezone.now()
    Notification.objects.filter(
        email_state="sending", email_claimed_at__lt=now - CLAIM_TIMEOUT
    ).update(email_state="pending")
    sent = 0
    for note in Notification.objects.filter(email_state="pending").select_related("recipient")[
        :batch
    ]:
        claimed = Notification.objects.filter(pk=note.pk, email_state="pending").update(
            email_state="sending", email_claimed_at=now
        )
        if not claimed:
            continue  # another worker has it
        link = f"{settings.SITE_URL}{note.url}" if note.url else settings.SITE_URL
        text = notification_text(note)
        key, address = f"notification-{note.pk}", note.recipient.email
        send_email(Outgoing(key, address, f"{text}\n\n{link}", text[:150]))
        Notification.objects.filter(pk=note.pk, email_state="sending").update(email_state="sent")
        sent += 1
    return sent


def notification_text(note: Notification) -> str:
    """A notification as its recipient reads it by e-mail: in their language, their times in
    their time zone (a worker has neither active)."""
    recipient = note.recipient
    try:
        zone = zoneinfo.ZoneInfo(recipient.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    with override(recipient.language or settings.LANGUAGE_CODE), timezone.override(zone):
        return phrases.said(note)


def notifications_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())
