"""The offers' own refusals, each a kind of the desk's one refusal (retention.core.refusals)."""

from datetime import date

from retention.core.refusals import InvalidInput, NotAllowed

__all__ = ["BeyondEveryAuthority", "InvalidTerms", "OutsideAuthority", "PauseTooSoon"]


class InvalidTerms(InvalidInput):
    """The terms of an offer do not make sense for its kind or for this subscriber."""


class OutsideAuthority(NotAllowed):
    """The actor may not approve this offer: their own, beyond their tier, or not a manager."""


class BeyondEveryAuthority(InvalidTerms):
    """No authority tier covers the offer: nobody could approve it, whoever proposes it. Not a
    question of who asks (that is ``OutsideAuthority``), so the desk answers 409, not 403."""


class PauseTooSoon(InvalidTerms):
    """A pause accepted less than 12 months ago stands in the way; ``allowed`` is the first day
    a new one is possible."""

    def __init__(self, message: str, *, allowed: date) -> None:
        super().__init__(message)
        self.allowed = allowed
