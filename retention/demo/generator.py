"""Deterministic demo data for the desk: ``DemoGenerator`` makes the plans, then subscribers
one by one, each with its equipment and timeline. The same options (subscribers, seed, events
per subscriber, heavy accounts and the reference date) always give the same rows; writing them
is retention.demo.loading's.

The story the data tells: first-year promos that end in a price rise, long-tenure subscribers
paying more than new customers, outages that hit one network node of a region at once (and
the support tickets that follow), missed payments and arrears, equipment on loan, and a
churn-risk score whose reasons come from those facts.
"""

from collections.abc import Iterator
from datetime import date

from retention.demo.heavy import heavy_bundle
from retention.demo.people import person
from retention.demo.plans import PLANS
from retention.demo.regular import regular_bundle
from retention.demo.rows import Bundle, PlanRow, SeedOptions, UsageRow
from retention.demo.texts import PAYMENT_METHODS
from retention.demo.units import add_months, date_of, epoch_day, eur, pretty_price
from retention.demo.usage import usage_rows
from retention.demo.world import World


class DemoGenerator(World):
    """Makes the demo rows. Iterate ``bundles(plan_ids)`` once; it is a stream."""

    def plan_rows(self) -> tuple[PlanRow, ...]:
        return PLANS

    def bundles(self, plan_ids: dict[str, int]) -> Iterator[Bundle]:
        event_id = 1
        equipment_id = 1
        usage_id = 1
        plan_of = {plan_ids[p.code]: p for p in self.plan_rows()}
        carry = 0
        per_subscriber = self.options.events_per_subscriber
        for index in range(self.options.subscribers):
            if index < self.heavy:
                bundle = heavy_bundle(self, index, plan_ids, event_id, equipment_id)
            else:
                bundle = regular_bundle(self, index, plan_ids, event_id, equipment_id, carry)
                carry += per_subscriber - len(bundle.events)
                # The deficit of short-tenure subscribers moves on to the next ones, so the
                # average stays at the requested number of events.
                carry = max(-per_subscriber, min(carry, 3 * per_subscriber))
            bundle.pattern, bundle.usage = self.usage_of(bundle, plan_of, usage_id)
            event_id += len(bundle.events)
            equipment_id += len(bundle.equipment)
            usage_id += len(bundle.usage)
            yield bundle

    def usage_of(
        self, bundle: Bundle, plan_of: dict[int, PlanRow], first_id: int
    ) -> tuple[str, list[UsageRow]]:
        """How the subscriber uses the line, and their usage months (after the rest of their
        story, from a stream of their own)."""
        s = bundle.subscriber
        return usage_rows(
            self.usage_rng.random,
            self.usage_window,
            sid=s.id,
            first_id=first_id,
            segment=s.segment,
            plan=plan_of[s.plan_id],
            start_day=epoch_day(s.signup_date),
            end_day=bundle.end_day or self.today_day,
            status=s.status,
            churn_risk=s.churn_risk,
        )


IMPORT_COLUMNS = (
    "account_number", "name", "plan_code", "monthly_price", "signup_date", "region", "phone",
    "email", "language", "time_zone", "segment", "status", "promo_ends_on", "payment_method",
)  # fmt: skip


def import_rows(
    count: int, *, seed: int = 1, today: date | None = None
) -> Iterator[tuple[str, ...]]:
    """New subscribers as a billing export lists them, in ``IMPORT_COLUMNS`` order (the column
    names subscribers.importing reads). Account numbers are ``B000000001``…, which no seeded
    subscriber has, so a benchmark can import them next to the demo data and delete them after.
    """
    world = World(SeedOptions(subscribers=0, seed=seed, heavy=0, today=today))
    rnd, randrange = world.rnd, world.randrange
    sold = [p for p in PLANS if p.is_sold and "r" in p.segments]
    for index in range(count):
        region = world.region()
        name, email, language, zone = person(rnd, randrange, region)
        plan = sold[randrange(len(sold))]
        signup = date_of(world.today_day - randrange(60))
        yield (
            f"B{index + 1:09d}", name, plan.code,
            eur(pretty_price(plan.new_cents * (50, 70, 80, 100)[randrange(4)] // 100)),
            signup.isoformat(), region, world.phone(index + 5_000_000), email, language, zone,
            "residential", "active", add_months(signup, 12).isoformat(),
            PAYMENT_METHODS[int(rnd() * 100)],
        )  # fmt: skip
