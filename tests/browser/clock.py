"""A desk morning for browser tests that compare dates and times.

time_machine in the test process moves the live server's clock too (one process), not the
browser's. So the morning lies ahead, never in the past: the session cookie the server sets
expires SESSION_COOKIE_AGE (12 hours) after the server's "now", and a browser living in the real
present throws away a cookie that has expired by its own clock.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

RIGA = ZoneInfo("Europe/Riga")
TUESDAY = 1


def next_tuesday_at(hour: int = 11) -> datetime:
    """The next Tuesday, at least a day away, that is no Latvian public holiday (the desk keeps
    those free of contact: 4 May 2027 is a Tuesday), at ``hour`` in Riga: inside the contact
    hours (weekdays 9 to 20) for a subscriber in Riga."""
    day = datetime.now(RIGA).date() + timedelta(days=1)
    day += timedelta(days=(TUESDAY - day.weekday()) % 7)
    while day in holidays.country_holidays("LV", years=day.year):
        day += timedelta(days=7)
    return datetime.combine(day, time(hour), tzinfo=RIGA)
