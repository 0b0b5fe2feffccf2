"""The subscriber's personal link in an outreach message: a signed message id, no login.

The signature is the key to the link page (an open page): a forged, tampered or expired link
names no message. It names a message, never a subscriber, so it answers only that message.

Every message also carries a stop link ("stop contacting me"): it names the subscriber and the
channel the message came by, and lets them stop any channel, with no login.
"""

from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.core import signing
from django.urls import get_script_prefix, get_urlconf, reverse

from retention.models import OutreachMessage
from subscribers.models import ContactChannel

LINK_MAX_AGE = timedelta(days=30)
_SALT = "outreach"


def message_token(message: OutreachMessage) -> str:
    return signing.dumps(message.pk, salt=_SALT)


def message_link(message: OutreachMessage) -> str:
    """The absolute address the message carries."""
    return _address("outreach_link", message_token(message))


def _address(name: str, token: str) -> str:
    """The absolute address of the page ``name`` for ``token``. A sender writes thousands a
    second, so the address is reversed once and the token put in its place."""
    before, after = _around_token(name, get_urlconf(), get_script_prefix())
    return f"{settings.SITE_URL}{before}{token}{after}"


_PLACEHOLDER = "TOKEN-PLACEHOLDER"


@cache
def _around_token(name: str, urlconf: str | None, prefix: str) -> tuple[str, str]:
    path = reverse(name, urlconf=urlconf, args=[_PLACEHOLDER])
    before, _token, after = path.partition(_PLACEHOLDER)
    return before, after


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
        "campaign",
        "campaign__template",
        "campaign__created_by",
        "subscriber",
        "subscriber__plan",
        "template",
    ).get(pk=pk)


# --- "Stop contacting me" -----------------------------------------------------------------------

# A stop link keeps working long after the offer's link: the law expects an unsubscribe link to
# work for as long as a message may be read.
STOP_MAX_AGE = timedelta(days=400)
_STOP_SALT = "outreach-stop"


@dataclass(frozen=True)
class StopLink:
    subscriber_id: int
    channel: str  # the channel the message came by: the one the page offers first


def stop_token(*, subscriber_id: int, channel: str) -> str:
    return signing.dumps([subscriber_id, channel], salt=_STOP_SALT, compress=True)


def stop_link(*, subscriber_id: int, channel: str, token: str = "") -> str:
    """The absolute address of the subscriber's stop page, the channel preselected; ``token``:
    their stop token, when the caller has made it already."""
    token = token or stop_token(subscriber_id=subscriber_id, channel=channel)
    return _address("outreach_stop", token)


def stop_one_click_link(*, subscriber_id: int, channel: str, token: str = "") -> str:
    """The address for RFC 8058 one-click unsubscribe (a mail client's POST, no page)."""
    token = token or stop_token(subscriber_id=subscriber_id, channel=channel)
    return _address("outreach_stop_one_click", token)


def stop_preview_link() -> str:
    path = reverse("outreach_stop", args=["token"]).replace("token", "…")
    return f"{settings.SITE_URL}{path}"


def stop_from_token(token: str) -> StopLink:
    """What a stop link names; raises ``signing.BadSignature`` for a forged, tampered or expired
    one (and for a well-signed value of the wrong shape)."""
    value = signing.loads(token, salt=_STOP_SALT, max_age=STOP_MAX_AGE)
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], int)
        or value[1] not in ContactChannel.values
    ):
        raise signing.BadSignature("not a stop link")
    return StopLink(subscriber_id=value[0], channel=value[1])
