from subscribers.exceptions import InvalidTransition

__all__ = ["InvalidTerms", "InvalidTransition", "OutsideAuthority"]


class InvalidTerms(Exception):
    """The terms of an offer do not make sense for its kind or for this subscriber."""


class OutsideAuthority(Exception):
    """The actor may not approve this offer: their own, beyond their tier, or not a manager."""
