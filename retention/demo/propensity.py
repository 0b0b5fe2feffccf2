"""Who asks to leave, in the demo: a weight for each subscriber and day, set by the facts of
their story, so that a churn model learned from the desk's own cases has something to find.
The history (retention.demo.history) and today's open cases (retention.demo.cases) draw who
asks to leave in proportion to it.

The weight is a product of factors, each 1 for a subscriber without the signal:

* outages: each one in the 30 days before (up to two) adds ``OUTAGE_30``, each one in the 31
  to 90 days before (up to two) ``OUTAGE_90``; the strongest signal, and the one that moves;
* a price shock: a promo that ended in the 60 days before, else a price rise (a price change
  to more than before) in the 365 days before;
* the loyalty penalty: paying more than a new customer on the same plan, per cent over it
  (up to 60), the more so after years;
* a plan that does not fit how they use it: what the tariff fit says they would save a month;
* tenure: customers in their first year leave more, those of eight years or more less;
* a missed payment in the 180 days before.

Two signals weigh about three times no signal, three or more four to six times (the product
stops at ``CAP``), not a hundred: most of what is drawn is still the 1 everybody has, and the
draw itself is chance. A factor of each subscriber's own (0.74 to 1.35, never on file) stands
for what the desk does not see, a move or a partner with another provider: a model finds
structure, not a rule. The weight reads the facts on file only, never the demo's
``churn_risk``: that score is the nightly model's to overwrite, and a model must not learn it
back. The reason given leans to the service after an outage and to the price after a price
shock.

Everything is read once into arrays (a million subscribers, a few million events): a draw
costs a few list lookups, never a query.
"""

import bisect
import math
from array import array
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.db.models.fields.json import KT

from subscribers.models import Plan, Subscriber, TimelineEvent
from subscribers.usage import TariffFit

OUTAGE_30 = 2.0
OUTAGE_90 = 1.0
PROMO_ENDED = 2.0  # in the 60 days before
PRICE_RISE = 1.3  # in the 365 days before, when no promo ended
LOYALTY = 1.5  # times the share over the new-customer price (0.6 at most) after ten years
LOYALTY_EARLY = 0.5  # the same, in the second year; it grows with the years in between
MISFIT = 0.04  # per euro a month the plan that fits would save them, up to MISFIT_EUROS
MISFIT_EUROS = 25
FIRST_YEAR = 2.0
LONG_TENURE = 0.7  # eight years or more
MISSED_PAYMENT = 1.5  # in the 180 days before
CAP = 6.0  # no weight is larger (the own factor included): the history's rejection bound
SPREAD = 0.3  # a subscriber's own factor is exp(SPREAD * t), t triangular on (-1, 1)

# The reason given leans to the service after an outage, to the price after a price shock: the
# weight of its category, times.
OUTAGE_REASON = 3.0
PRICE_REASON = 1.6

# The events read, how each is kept (ordinal day * 4 + its code) and how many days before a
# day they still count: a price rise a year, an outage three months.
_OUTAGE, _PROMO_ENDED, _PRICE_RISE, _MISSED = range(4)
_KINDS: dict[str, tuple[int, int]] = {
    TimelineEvent.Kind.OUTAGE: (_OUTAGE, 90),
    TimelineEvent.Kind.PROMO_ENDED: (_PROMO_ENDED, 60),
    TimelineEvent.Kind.PRICE_CHANGE: (_PRICE_RISE, 365),
    TimelineEvent.Kind.MISSED_PAYMENT: (_MISSED, 180),
}
_LOOKBACK = 365  # the longest of them
_SHIFT = 24  # an event's sort key: subscriber index << _SHIFT | its entry
_MASK64 = (1 << 64) - 1


class Propensity:
    """The subscribers of ``subscribers`` who may ask to leave, in key order (``ids``, with
    their signup days as ordinals in ``signups``), and what brings each to the desk on a day
    from ``first`` to ``last``."""

    def __init__(self, subscribers: QuerySet[Subscriber], *, first: date, last: date) -> None:
        self.ids = array("q")
        self.signups = array("l")
        self.penalty = array("f")  # per cent over the new-customer price, 60 at most
        self.noise = array("f")
        self._load_subscribers(subscribers)
        self.misfit = array("f", [1.0]) * len(self.ids)  # times the weight
        self._load_fits()
        self._load_events(first, last)

    def _load_subscribers(self, subscribers: QuerySet[Subscriber]) -> None:
        new_price = {
            pk: float(price) for pk, price in Plan.objects.values_list("pk", "new_customer_price")
        }
        rows = subscribers.order_by("pk").values_list(
            "pk", "signup_date", "monthly_price", "plan_id"
        )
        for pk, signup, monthly, plan_id in rows.iterator(chunk_size=20_000):
            self.ids.append(pk)
            self.signups.append(signup.toordinal())
            new = new_price.get(plan_id, 0.0)
            over = (float(monthly) - new) * 100 / new if new > 0 else 0.0
            self.penalty.append(min(max(over, 0.0), 60.0))
            self.noise.append(_own_factor(pk))

    def _index(self, pk: int) -> int:
        """The index of subscriber ``pk``, or -1."""
        k = bisect.bisect_left(self.ids, pk)
        return k if k < len(self.ids) and self.ids[k] == pk else -1

    def _load_fits(self) -> None:
        fits = TariffFit.objects.filter(saving__gt=0).values_list("subscriber_id", "saving")
        for pk, saving in fits.iterator(chunk_size=20_000):
            k = self._index(pk)
            if k >= 0:
                self.misfit[k] = 1 + MISFIT * min(float(saving), MISFIT_EUROS)

    def _load_events(self, first: date, last: date) -> None:
        """The events that bring people to the desk on the days ``first`` to ``last``, each
        subscriber's in order of their day: ``entries[starts[k]:starts[k + 1]]``. The table
        has tens of millions of rows and no index by kind: one pass, sorted here."""
        until = datetime.combine(last + timedelta(days=1), time.min, UTC)
        recent = Q()
        for kind, (_, days) in _KINDS.items():
            since = datetime.combine(first - timedelta(days=days), time.min, UTC)
            recent |= Q(kind=kind, occurred_at__gte=since)
        events = TimelineEvent.objects.filter(recent, occurred_at__lt=until).values_list(
            "subscriber_id", "kind", "occurred_at", KT("data__from"), KT("data__to")
        )
        keys = []
        for pk, kind, occurred_at, was, now in events.iterator(chunk_size=20_000):
            code = _KINDS[kind][0]
            if code == _PRICE_RISE and not _rose(was, now):
                continue
            k = self._index(pk)
            if k >= 0:
                keys.append(k << _SHIFT | occurred_at.toordinal() << 2 | code)
        keys.sort()
        mask = (1 << _SHIFT) - 1
        self.entries = array("l", [key & mask for key in keys])
        counts = array("l", [0]) * (len(self.ids) + 1)
        for key in keys:
            counts[(key >> _SHIFT) + 1] += 1
        for k in range(len(self.ids)):
            counts[k + 1] += counts[k]
        self.starts = counts

    def weight(self, k: int, day: int) -> float:
        """How likely subscriber ``k`` is to ask to leave on ``day`` (an ordinal), against 1 for
        a subscriber without any signal; ``CAP`` at most. Called some ten times a case: the
        events' loop is written out here rather than called."""
        years = (day - self.signups[k]) / 365
        if years < 1:
            w = FIRST_YEAR
        else:
            grown = LOYALTY_EARLY + (LOYALTY - LOYALTY_EARLY) * min(years - 1, 9) / 9
            w = 1 + grown * self.penalty[k] / 100
            if years >= 8:
                w *= LONG_TENURE
        w *= self.misfit[k] * self.noise[k]
        lo, hi = self.starts[k], self.starts[k + 1]
        if lo == hi:
            return min(w, CAP)
        entries = self.entries
        near = far = 0
        promo = rise = missed = False
        for i in range(hi - 1, lo - 1, -1):
            entry = entries[i]
            before = day - (entry >> 2)
            if before > _LOOKBACK:
                break
            if before <= 0:
                continue
            code = entry & 3
            if code == _OUTAGE:
                if before <= 30:
                    near += 1
                elif before <= 90:
                    far += 1
            elif code == _PRICE_RISE:
                rise = True
            elif code == _PROMO_ENDED:
                promo = promo or before <= 60
            else:
                missed = missed or before <= 180
        w *= 1 + OUTAGE_30 * min(near, 2) + OUTAGE_90 * min(far, 2)
        if promo:
            w *= PROMO_ENDED
        elif rise:
            w *= PRICE_RISE
        if missed:
            w *= MISSED_PAYMENT
        return min(w, CAP)

    def drivers(self, k: int, day: int) -> tuple[bool, bool]:
        """Whether an outage (in the 90 days before ``day``) and a price shock (a promo that
        ended in the 60 days before, a rise in the 365) weigh in what brings subscriber ``k``
        to the desk: the reason they give leans to them. The loyalty penalty does not: nearly
        half pay one, and the day's mix of reasons would be another."""
        outage = price = False
        for i in range(self.starts[k + 1] - 1, self.starts[k] - 1, -1):
            entry = self.entries[i]
            before = day - (entry >> 2)
            if before > _LOOKBACK:
                break
            if before <= 0:
                continue
            code = entry & 3
            if code == _OUTAGE:
                outage = outage or before <= 90
            elif code == _PRICE_RISE or (code == _PROMO_ENDED and before <= 60):
                price = True
        return outage, price


def _rose(was: object, now: object) -> bool:
    """Whether a price change's data says the price went up (amounts are strings, "12.99")."""
    try:
        return float(str(now)) > float(str(was))
    except ValueError:
        return False


def _own_factor(pk: int) -> float:
    """The subscriber's own factor: the same whichever seed draws the cases, so the history and
    today's open cases agree on who is restless (splitmix64 of the key)."""
    z = (pk * 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    z ^= z >> 31
    t = ((z >> 32) + (z & 0xFFFFFFFF)) / 0xFFFFFFFF - 1
    return math.exp(SPREAD * t)
