from datetime import datetime

from subscribers.exceptions import InvalidTransition

__all__ = ["ContactRefused", "InvalidTransition", "NotAllowed"]


class NotAllowed(Exception):
    """The user may see this case but not act on it; the message says why."""


class ContactRefused(Exception):
    """The contact policy forbids this contact now; ``next_allowed_at`` says when it won't."""

    def __init__(self, message: str, *, reason: str, next_allowed_at: datetime | None) -> None:
        super().__init__(message)
        self.reason = reason
        self.next_allowed_at = next_allowed_at
