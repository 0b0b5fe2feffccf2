"""Days, seconds, cents and small JSON for the demo generator.

Timestamps are integer seconds since the epoch (UTC) and prices integer cents until a row is
written: the generator runs twenty million times, and datetimes or Decimals would dominate its
cost.
"""

import json
import random
from collections.abc import Callable
from datetime import date
from typing import Any

DAY = 86_400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def said(code: str, **params: Any) -> dict[str, Any]:
    """A phrase (subscribers.phrases): a churn-risk reason said in the reader's language."""
    return {"code": code, "params": params}


def as_json(**values: Any) -> str:
    """Small JSON for an event's data; for the rarer events (the hot ones format it inline)."""
    return json.dumps(values, ensure_ascii=False)


def _eur_slow(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


_EUR = [_eur_slow(c) for c in range(100_000)]


def eur(cents: int) -> str:
    """Cents as euros with two decimals; a table lookup for the usual amounts."""
    return _EUR[cents] if 0 <= cents < 100_000 else _eur_slow(cents)


def fast_randrange(rng: random.Random) -> Callable[..., int]:
    """``randrange`` from one ``random()`` call: ten times cheaper than ``Random.randrange``,
    and the tiny bias does not matter for demo data."""
    rnd = rng.random

    def randrange(start: int, stop: int | None = None) -> int:
        if stop is None:
            return int(rnd() * start)
        return start + int(rnd() * (stop - start))

    return randrange


def pretty_price(cents: int) -> int:
    """Round to a shop price ending in .99 (never below 0.99)."""
    return max(cents // 100, 1) * 100 - 1


def billing_price(cents: int) -> int:
    """Round to the nearest price ending in .49 or .99, as billing does after indexation."""
    return max((cents + 25) // 50, 1) * 50 - 1


def scramble(x: int, salt: int) -> int:
    """A bijection on 32-bit integers: unique inputs give unique, random-looking outputs."""
    return ((x * 0x9E3779B1) & 0xFFFFFFFF) ^ salt


def epoch_day(d: date) -> int:
    return d.toordinal() - _EPOCH_ORDINAL


def date_of(day: int) -> date:
    return date.fromordinal(day + _EPOCH_ORDINAL)


def month_of(day: int) -> int:
    d = date_of(day)
    return d.year * 12 + d.month - 1


def month_start(month: int) -> int:
    return epoch_day(date(month // 12, month % 12 + 1, 1))


def add_months(d: date, months: int) -> date:
    m = d.year * 12 + d.month - 1 + months
    return date(m // 12, m % 12 + 1, min(d.day, 28))


def duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"
