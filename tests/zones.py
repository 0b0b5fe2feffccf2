"""Time zones picked by the clock, for tests that need a subscriber in quiet or allowed hours
whatever the time the suite runs."""

from datetime import UTC, datetime


def zone_where_it_is(hour: int) -> str:
    """A time zone where it is about ``hour`` o'clock right now."""
    offset = (hour - datetime.now(UTC).hour) % 24
    offset = offset - 24 if offset > 12 else offset
    # Etc/GMT names have the sign inverted: Etc/GMT-9 is UTC+9.
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"
