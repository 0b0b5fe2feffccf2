from subscribers.exceptions import InvalidTransition

__all__ = ["BeyondEveryAuthority", "InvalidTerms", "InvalidTransition", "OutsideAuthority"]


class InvalidTerms(Exception):
    """The terms of an offer do not make sense for its kind or for this subscriber."""


class OutsideAuthority(Exception):
    """The actor may not approve this offer: their own, beyond their tier, or not a manager."""


class BeyondEveryAuthority(InvalidTerms):
    """No authority tier covers the offer: nobody could approve it, whoever proposes it. Not a
    question of who asks (that is ``OutsideAuthority``), so the desk answers 409, not 403."""
