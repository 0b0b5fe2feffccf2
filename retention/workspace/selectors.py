"""The case page's conversation: contacts, messages sent from the case, notes and the case's
history in one stream, newest first."""

from dataclasses import dataclass
from datetime import datetime

from retention.models import CancellationCase, CaseHistory, CaseMessage, ContactAttempt, User

# The stream shows this many items unless the agent asks for all; "all" is bounded too.
STREAM_SIZE = 20
STREAM_ALL = 500


@dataclass(frozen=True)
class StreamItem:
    kind: str  # "contact", "message", "note", "history"
    at: datetime
    order: tuple[datetime, int, int]
    actor: User | None
    contact: ContactAttempt | None = None
    message: CaseMessage | None = None
    entry: CaseHistory | None = None


@dataclass(frozen=True)
class Conversation:
    items: list[StreamItem]
    has_more: bool
    showing_all: bool


def case_conversation(*, case: CancellationCase, show_all: bool = False) -> Conversation:
    """The latest items of the case's story, two queries whatever its length: the contacts
    (each with the message it was, if any) and the history. A contact's own history row is
    left out: the contact says it."""
    limit = STREAM_ALL if show_all else STREAM_SIZE
    contacts = list(
        case.contacts.select_related("actor", "message").order_by("-at", "-id")[: limit + 1]
    )
    history = list(
        case.history.exclude(action=CaseHistory.Action.CONTACT)
        .select_related("actor")
        .order_by("-at", "-id")[: limit + 1]
    )
    items = [_contact_item(c) for c in contacts] + [
        StreamItem(
            kind="note" if h.action == CaseHistory.Action.NOTE else "history",
            at=h.at,
            order=(h.at, 0, h.pk),
            actor=h.actor,
            entry=h,
        )
        for h in history
    ]
    items.sort(key=lambda item: item.order, reverse=True)
    return Conversation(items[:limit], has_more=len(items) > limit, showing_all=show_all)


def _contact_item(contact: ContactAttempt) -> StreamItem:
    message = getattr(contact, "message", None)
    return StreamItem(
        kind="message" if message is not None else "contact",
        at=contact.at,
        # At the same moment, the contact after the history rows its send wrote (callback,
        # note): newest first, the message heads what it did.
        order=(contact.at, 1, contact.pk),
        actor=contact.actor,
        contact=contact,
        message=message,
    )
