"""What every demo subscriber's story is drawn from: the reference day, one random stream, the
regions with their network nodes, the plans on sale, and unique account numbers and phones."""

import random
from datetime import date

from django.utils import timezone

from retention.demo.network import Node, make_outages
from retention.demo.people import REGION_WEIGHTS, REGIONS
from retention.demo.plans import PLANS
from retention.demo.rows import PlanRow, SeedOptions
from retention.demo.units import DAY, epoch_day, fast_randrange, month_of, month_start
from retention.demo.usage import usage_window

# Heavy subscribers are corporate accounts with tens of thousands of events, so that deep
# timeline pages can be measured. Their account numbers do not depend on the seed and have ten
# digits; everybody else's have nine, so the two never collide.
_HEAVY_ACCOUNT_BASE = 9_000_000_000
_ACCOUNT_MULTIPLIER = 48_271  # prime, so i -> i * m mod 9e8 is a bijection: unique numbers
_ACCOUNT_SPACE = 900_000_000


def heavy_account_numbers(n: int) -> list[str]:
    """The account numbers of the first ``n`` heavy subscribers, whatever the seed."""
    return [str(_HEAVY_ACCOUNT_BASE + k) for k in range(1, n + 1)]


class World:
    def __init__(self, options: SeedOptions) -> None:
        self.options = options
        self.today = options.today or timezone.localdate()
        self.today_day = epoch_day(self.today)
        self.now = self.today_day * DAY + 12 * 3600  # noon UTC on the reference day
        self.start_day = epoch_day(date(self.today.year - 16, 1, 1))
        self.rng = random.Random(options.seed)
        self.rnd = self.rng.random
        self.randrange = fast_randrange(self.rng)
        # Usage has a stream of its own (retention.demo.usage), drawn subscriber by subscriber.
        self.usage_rng = random.Random(options.seed * 7 + 5)
        self.usage_window = usage_window(self.today)
        self.salt = random.Random(options.seed * 7 + 1).getrandbits(32)
        self.account_offset = random.Random(options.seed * 7 + 2).randrange(_ACCOUNT_SPACE)
        self.phone_offset = random.Random(options.seed * 7 + 3).randrange(10_000_000)
        self.heavy = min(options.heavy, options.subscribers)
        self._region_table = [
            r for r, w in zip(REGIONS, REGION_WEIGHTS, strict=True) for _ in range(w)
        ]
        self._plans_by_segment = {
            seg: [p for p in PLANS if seg in p.segments] for seg in ("r", "s", "c")
        }
        # Outages come first: subscribers are attached to the nodes as they are drawn.
        self.nodes: dict[str, list[Node]] = make_outages(
            seed=options.seed,
            subscribers=options.subscribers,
            start_day=self.start_day,
            today_day=self.today_day,
        )
        self.month_base = month_of(self.start_day) - 1
        self.month_starts = [
            month_start(m) for m in range(self.month_base, month_of(self.today_day) + 3)
        ]

    def account_number(self, index: int) -> str:
        if index < self.heavy:
            return str(_HEAVY_ACCOUNT_BASE + index + 1)
        return str(
            100_000_000 + (index * _ACCOUNT_MULTIPLIER + self.account_offset) % _ACCOUNT_SPACE
        )

    def phone(self, index: int) -> str:
        # 7_654_321 is coprime with 10**7, so phones are unique up to ten million subscribers.
        return f"+3712{(index * 7_654_321 + self.phone_offset) % 10_000_000:07d}"

    def region(self) -> str:
        return self._region_table[self.randrange(100)]

    def pick_plan(self, segment: str, year: int) -> PlanRow:
        """A plan of the segment (r, s or c) sold in ``year``, weighted by how well it sold."""
        choices = [
            p for p in self._plans_by_segment[segment] if p.sold_from <= year <= p.sold_until
        ]
        if not choices:
            choices = self._plans_by_segment[segment]
        total = sum(p.weight for p in choices)
        roll = self.rng.random() * total
        for plan in choices:
            roll -= plan.weight
            if roll < 0:
                return plan
        return choices[-1]
