"""The desk's days for the demo history, as epoch seconds."""

import bisect
import math
from datetime import UTC, date, datetime, time, timedelta

from subscribers.desk_calendar import desk_calendar

HOUR = 3600
DAY = 86_400


def at(ts: float) -> datetime:
    """Epoch seconds as an aware datetime, for a row."""
    return datetime.fromtimestamp(ts, UTC)


class DeskClock:
    """The desk's days as epoch seconds: local midnights and working hours, worked out once, so
    that a deadline costs a few comparisons instead of add_desk_hours' datetime arithmetic
    (the same answers: tests hold the two together)."""

    def __init__(self, first: date, last: date) -> None:
        calendar = desk_calendar()
        zone = calendar.zone
        self.first = first
        days = [first + timedelta(days=n) for n in range((last - first).days + 2)]
        self.midnight = [datetime.combine(d, time.min, zone).timestamp() for d in days]
        self.opening: list[float | None] = []
        self.closing: list[float] = []
        for d in days[:-1]:
            # The desk's calendar: its hours, closed days and public holidays.
            hours = calendar.hours_on(d)
            self.opening.append(datetime.combine(d, hours[0], zone).timestamp() if hours else None)
            self.closing.append(
                datetime.combine(d, hours[1] if hours else time.min, zone).timestamp()
            )

    def index(self, day: date) -> int:
        return (day - self.first).days

    def day(self, index: int) -> date:
        return self.first + timedelta(days=index)

    def index_of(self, ts: float) -> int:
        return bisect.bisect_right(self.midnight, ts) - 1

    def date_of(self, ts: float) -> date:
        return self.day(self.index_of(ts))

    def add_work(self, ts: float, seconds: float) -> float:
        """``ts`` plus ``seconds`` of working time; infinity beyond the clock's last day."""
        n = self.index_of(ts)
        remaining = seconds
        while 0 <= n < len(self.opening):
            opening = self.opening[n]
            if opening is not None:
                begin, closing = max(ts, opening), self.closing[n]
                if begin < closing:
                    if begin + remaining <= closing:
                        return begin + remaining
                    remaining -= closing - begin
            n += 1
            ts = self.midnight[n]
        return math.inf
