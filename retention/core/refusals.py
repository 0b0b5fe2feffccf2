"""One way to refuse: the four things a service can say instead of doing what it was asked,
and the one mapping from them to HTTP that every view and the API use.

A service raises a refusal with a message the reader can act on, in their language; a view
that expects one shows the message where the user acted (``except Refusal``), and one that a
view lets through reaches ``RefusalMiddleware`` and gets the refusal page with its status.
"""

from datetime import datetime

__all__ = [
    "Conflict",
    "ContactRefused",
    "InvalidInput",
    "NotAllowed",
    "Refusal",
    "WrongState",
    "refusal_status",
]


class Refusal(Exception):
    """What a service says instead of doing what it was asked; ``status`` is its HTTP answer."""

    status = 409


class NotAllowed(Refusal):
    """This user may not do this to this object (not theirs, not their role, beyond their
    authority); the message says why."""

    status = 403


class WrongState(Refusal):
    """The object is not in a state that allows this change (already decided, closed, taken by
    a colleague); the message says why."""

    status = 409


class InvalidInput(Refusal):
    """What was asked for does not make sense for this object (terms that do not fit the
    subscriber, a date past the limit). The form checked what it could; this is the rest."""

    status = 409


class Conflict(Refusal):
    """Another record or rule stands in the way (an open case already, the contact policy)."""

    status = 409


class ContactRefused(Conflict):
    """The contact policy forbids this contact now; ``next_allowed_at`` says when it won't."""

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        next_allowed_at: datetime | None,
        holiday: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.next_allowed_at = next_allowed_at
        self.holiday = holiday  # a public holiday's name in each language


def refusal_status(exc: Refusal) -> int:
    return exc.status
