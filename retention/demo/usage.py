"""Demo usage: what each subscriber did with the line in each of the twelve whole months before
the reference month (subscribers.fit's window), as network systems would report it.

Who uses the line how (a *pattern*) decides the months:

* **typical**: a household or office whose devices and traffic match the plan they chose
  (the fit says it fits, unless they pay more than a new customer would on a faster plan);
* **light**: a few hours and a few GB a month on a flat rate (light users paying for one);
* **heavy**: many hours or hundreds of GB on a plan metered by the hour or the GB;
* **summer house**: LTE by the GB used in June to August, next to nothing the rest of the year;
* **student**: online a lot, except in the summer months spent away;
* **speed-bound**: a fast plan used by one or two devices at once (speed they do not use);
* **shared**: a small business sharing a line made for one household among many people.

A subscriber who left uses less and less in the months before leaving, and so do some of
those at high risk of leaving; a suspended one next to nothing in the last month. Months
before signing up or after leaving have no row; a month joined or left half-way counts half.

Usage draws from a random stream of its own (``World.usage_rng``), after the rest of the
subscriber's story: adding or changing patterns leaves every other row of the demo as it was.
Figures are integers (GB in hundredths, hours in tenths) until they are written.
"""

from collections.abc import Callable
from datetime import date

from retention.demo.plans import PLAN_PRICING
from retention.demo.rows import PlanRow, UsageRow
from retention.demo.units import add_months, epoch_day
from subscribers.usage import HOURS_IN_A_MONTH

MONTHS = 12
# Passed to usage_rows for each subscriber: the world's usage stream and window.
Random = Callable[[], float]


def usage_window(today: date) -> list[tuple[date, int, int]]:
    """The window's months, oldest first: (first day, its epoch day, the next month's)."""
    end = today.replace(day=1)
    months = [add_months(end, -k) for k in range(MONTHS, 0, -1)]
    return [(m, epoch_day(m), epoch_day(add_months(m, 1))) for m in months]


def _between(rnd: Random, low: float, high: float) -> float:
    return low + (high - low) * rnd()


def _devices_for(rnd: Random, mbps: int) -> int:
    """Peak devices at once of a household or office that chose ``mbps``: enough that a slower
    plan would not carry them (25 Mbps each, subscribers.fit.USAGE_MBPS_PER_DEVICE)."""
    if mbps <= 50:
        return 1 + int(rnd() * 3)
    if mbps <= 100:
        return 2 + int(rnd() * 5)
    if mbps <= 300:
        return 5 + int(rnd() * 10)
    return 13 + int(rnd() * 18)


class _Profile:
    """One subscriber's typical month and how it varies: base hours and GB, the share of GB
    sent up, devices and people, and a multiplier per calendar month (1 to 12)."""

    __slots__ = ("devices", "gb", "hours", "people", "season", "up")

    def __init__(
        self,
        hours: float,
        gb: float,
        devices: int,
        people: int = 1,
        up: float = 0.1,
        season: tuple[float, ...] | None = None,
    ) -> None:
        self.hours, self.gb, self.devices, self.people = hours, gb, devices, people
        self.up = up
        self.season = season or _WINTER_MORE


# Multipliers by calendar month, January first.
_WINTER_MORE = (1.1, 1.1, 1.05, 1.0, 0.95, 0.9, 0.85, 0.85, 0.95, 1.0, 1.05, 1.15)
_SUMMER_ONLY = (0.03, 0.03, 0.03, 0.05, 0.2, 1.0, 1.2, 1.1, 0.25, 0.05, 0.03, 0.03)
_AWAY_IN_SUMMER = (1.0, 1.1, 1.05, 1.0, 0.9, 0.15, 0.05, 0.1, 0.9, 1.1, 1.05, 0.9)
_OFFICE = (1.0, 1.05, 1.05, 1.0, 1.0, 0.9, 0.7, 0.75, 1.0, 1.05, 1.05, 0.9)


def _residential(rnd: Random, plan: PlanRow) -> tuple[str, _Profile]:
    roll = rnd()
    kind, mbps = plan.kind, plan.download_mbps
    if kind == "metered_time":
        if roll < 0.75:
            return "light", _Profile(_between(rnd, 6, 32), _between(rnd, 0.5, 5), 1)
        return "heavy", _Profile(_between(rnd, 70, 220), _between(rnd, 30, 150), 2 + int(rnd() * 4))
    if kind == "metered_volume":
        if roll < 0.3:
            return "summer_house", _Profile(
                _between(rnd, 150, 320),
                _between(rnd, 40, 130),
                2 + int(rnd() * 4),
                season=_SUMMER_ONLY,
            )
        if roll < 0.75:
            return "typical", _Profile(
                _between(rnd, 30, 160),
                _between(rnd, 0.4, 1.0) * _included_gb(plan),
                1 + int(rnd() * 3),
            )
        return "heavy", _Profile(
            _between(rnd, 200, 500), _between(rnd, 150, 450), 3 + int(rnd() * 5)
        )
    if roll < 0.11:
        return "light", _Profile(_between(rnd, 4, 28), _between(rnd, 0.5, 7), 1 + int(rnd() * 2))
    if roll < 0.17:
        return "student", _Profile(
            _between(rnd, 250, 520),
            _between(rnd, 150, 450),
            2 + int(rnd() * 3),
            season=_AWAY_IN_SUMMER,
        )
    if roll < 0.25 and mbps >= 300:
        return "speed_bound", _Profile(
            _between(rnd, 200, 600), _between(rnd, 150, 500), 1 + int(rnd() * 3)
        )
    return "typical", _Profile(
        _between(rnd, 150, 600),
        _between(rnd, 130, 480) * (1.4 if mbps >= 1000 else 1.0),
        _devices_for(rnd, mbps),
        1 + int(rnd() * 5),
    )


def _included_gb(plan: PlanRow) -> int:
    included = PLAN_PRICING.get(plan.code, {}).get("included_gb")
    return included if isinstance(included, int) else 20


_SEATS = {"bizness-100": 5, "bizness-300": 10, "bizness-1000-koplietosana": 25}


def _business(rnd: Random, plan: PlanRow, corporate: bool) -> tuple[str, _Profile]:
    code, kind = plan.code, plan.kind
    if kind != "business":
        if rnd() < 0.8:
            people = 6 + int(rnd() * 10)
            return "shared", _Profile(
                _between(rnd, 220, 420),
                _between(rnd, 90, 260),
                people + 2 + int(rnd() * people),
                people,
                up=0.35,
                season=_OFFICE,
            )
        return "typical", _Profile(
            _between(rnd, 150, 300),
            _between(rnd, 40, 110),
            2 + int(rnd() * 4),
            1 + int(rnd() * 4),
            up=0.3,
            season=_OFFICE,
        )
    if corporate:
        people = {
            "bizness-1000-koplietosana": 20 + int(rnd() * 40),
            "korporativais-10g": 300 + int(rnd() * 700),
        }.get(code, 80 + int(rnd() * 170))
        devices = max(people * 5 // 4, 25)
    elif code == "bizness-1000-koplietosana" and rnd() < 0.3:
        # A small office on the whole-office plan: speed it does not use.
        people = 3 + int(rnd() * 8)
        return "speed_bound", _Profile(
            _between(rnd, 200, 400), _between(rnd, 60, 200), 2 + int(rnd() * 8), people, up=0.4
        )
    else:
        seats = _SEATS.get(code, 10)
        people = max(2, round(seats * _between(rnd, 0.6, 1.3)))
        devices = max(people * 3 // 2 + int(rnd() * 5), _devices_for(rnd, plan.download_mbps))
    return "typical", _Profile(
        _between(rnd, 220, 744),
        people * _between(rnd, 15, 40),
        devices,
        people,
        up=0.45,
        season=_OFFICE,
    )


def usage_rows(
    rnd: Random,
    window: list[tuple[date, int, int]],
    *,
    sid: int,
    first_id: int,
    segment: str,
    plan: PlanRow,
    start_day: int,
    end_day: int,
    status: str,
    churn_risk: int,
) -> tuple[str, list[UsageRow]]:
    """The subscriber's pattern and usage months: rows for the months of the window in which
    they had the line, ids from ``first_id``."""
    if segment == "residential":
        pattern, p = _residential(rnd, plan)
    else:
        pattern, p = _business(rnd, plan, segment == "corporate")
    # Leaving shows months ahead: less and less use in the three months before the end.
    fading = status == "cancelled" or (churn_risk >= 50 and rnd() < 0.4)
    rows: list[UsageRow] = []
    last = len(window) - 1
    for index, (first, first_day, next_day) in enumerate(window):
        if first_day > end_day or next_day <= start_day:
            continue
        share = (min(next_day, end_day + 1) - max(first_day, start_day)) / (next_day - first_day)
        factor = p.season[first.month - 1] * share * _between(rnd, 0.8, 1.2)
        if fading:
            months_left = (end_day - first_day) // 30
            if months_left < 3:
                factor *= (0.2, 0.45, 0.7)[months_left]
        if status == "suspended" and index == last:
            factor *= 0.03
        hours = min(round(p.hours * min(factor, 1.6) * 10), HOURS_IN_A_MONTH * 10)
        gb = round(p.gb * factor * 100)
        up = round(gb * p.up * _between(rnd, 0.7, 1.3))
        rows.append((first_id + len(rows), sid, index, gb, up, hours, p.devices, p.people))
    return pattern, rows
