class InvalidTransition(Exception):
    """The object is not in a state that allows this change; the message says why."""
