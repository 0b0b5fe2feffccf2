"""The subscriber's personal link in an outreach message: a signed message id, no login.

The signature is the key to the link page (an open page): a forged, tampered or expired link
names no message. It names a message, never a subscriber, so it answers only that message.
"""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

from retention.models import OutreachMessage

LINK_MAX_AGE = timedelta(days=30)
_SALT = "outreach"


def message_token(message: OutreachMessage) -> str:
    return signing.dumps(message.pk, salt=_SALT)


def message_link(message: OutreachMessage) -> str:
    """The absolute address the message carries."""
    return f"{settings.SITE_URL}{reverse('outreach_link', args=[message_token(message)])}"


def preview_link() -> str:
    """The address as a preview shows it: the page's path with an ellipsis for the signed token."""
    path = reverse("outreach_link", args=["token"]).replace("token", "…")
    return f"{settings.SITE_URL}{path}"


def message_from_token(token: str) -> OutreachMessage:
    """The message a link names, with what its page shows, in one query; raises
    ``signing.BadSignature`` for a forged or expired link and ``DoesNotExist`` for a message
    that is gone."""
    pk = signing.loads(token, salt=_SALT, max_age=LINK_MAX_AGE)
    return OutreachMessage.objects.select_related(
        "campaign", "campaign__template", "campaign__created_by", "subscriber", "subscriber__plan"
    ).get(pk=pk)
