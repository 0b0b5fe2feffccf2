"""A demo subscriber's price history: the first-year promo, the rise when it ends, the annual
indexations, and for some a move off a plan no longer sold or a retention price."""

from datetime import date

from retention.demo.plans import INDEXATIONS
from retention.demo.rows import PlanRow
from retention.demo.story import Story
from retention.demo.units import (
    DAY,
    add_months,
    as_json,
    billing_price,
    date_of,
    epoch_day,
    eur,
    pretty_price,
)
from retention.demo.world import World


def price_history(world: World, story: Story) -> None:
    """The signup at a promo (or negotiated) price, and what happened to the price since."""
    plan, corporate = story.plan, story.segment == "corporate"
    promo_cents = pretty_price(plan.new_cents * (50, 70, 80, 100)[world.randrange(4)] // 100)
    if corporate:
        promo_cents = pretty_price(plan.list_cents * (85 + world.randrange(20)) // 100)
    promo_end = epoch_day(add_months(story.signup, 12))
    indexations = [(d, pct) for d, pct in INDEXATIONS if epoch_day(d) > promo_end]
    base = _after_promo(plan, indexations)
    if promo_cents >= base and not corporate:
        promo_cents = pretty_price(base * 70 // 100)
    _signed_up(world, story, promo_cents)
    story.price_from(story.signup_day, promo_cents)
    if corporate:
        pass  # contract price, no promo
    elif story.tenure < 365:
        story.promo_ends_on = date_of(promo_end)
    else:
        if promo_end < story.end_day:
            _promo_ended(story, promo_end, base)
            _indexed(story, indexations)
        _later_change(world, story)
    story.prices.sort()


def _after_promo(plan: PlanRow, indexations: list[tuple[date, int]]) -> int:
    """The price after the promo: today's list price without the indexations since."""
    base = plan.list_cents
    for _, pct in indexations:
        base = base * 100 // (100 + pct)
    return billing_price(base)


def _signed_up(world: World, story: Story, promo_cents: int) -> None:
    randrange, plan, corporate = world.randrange, story.plan, story.segment == "corporate"
    signup_at = story.signup_day * DAY + (8 + randrange(10)) * 3600 + randrange(3600)
    promo_text = " (negotiated contract price)" if corporate else " (first-year promo)"
    story.events.append(
        (
            signup_at,
            "signup",
            "billing",
            f"ORD-{story.account}",
            f"Signed up for {plan.name} at €{eur(promo_cents)} a month{promo_text}",
            as_json(
                plan=plan.code,
                price=eur(promo_cents),
                channel=("web", "shop", "phone")[randrange(3)],
                plan_name=plan.name,
                promo=not corporate,
            ),
        )
    )


def _promo_ended(story: Story, promo_end: int, base: int) -> None:
    at, promo_cents, add = promo_end * DAY + 2 * 3600, story.monthly, story.events.append
    data = f'{{"promo_price": "{eur(promo_cents)}"}}'
    add((at, "promo_ended", "billing", None, "First-year promo ended", data))
    add(
        (
            at + 60,
            "price_change",
            "billing",
            None,
            f"Price rose from €{eur(promo_cents)} to €{eur(base)} after the promo",
            as_json(**{"from": eur(promo_cents), "to": eur(base), "reason": "promo_ended"}),
        )
    )
    story.price_from(promo_end, base)


def _indexed(story: Story, indexations: list[tuple[date, int]]) -> None:
    """The annual indexations since the promo ended; the last lands exactly on today's list
    price."""
    for step, (when, pct) in enumerate(indexations, 1):
        day = epoch_day(when)
        if day >= story.end_day:
            break
        monthly = story.monthly
        raised = (
            story.plan.list_cents
            if step == len(indexations)
            else billing_price(monthly * (100 + pct) // 100)
        )
        story.events.append(
            (
                day * DAY + 2 * 3600,
                "price_change",
                "billing",
                None,
                f"Annual price indexation +{pct}%: €{eur(monthly)} → €{eur(raised)}",
                as_json(
                    **{
                        "from": eur(monthly),
                        "to": eur(raised),
                        "reason": "indexation",
                        "percent": pct,
                    }
                ),
            )
        )
        story.price_from(day, raised)


def _later_change(world: World, story: Story) -> None:
    """Some long-tenure subscribers were moved off a plan no longer sold, or got a retention
    price; the rest carry the loyalty penalty. Each change comes after the last one, so the
    price history stays in order."""
    roll = world.rnd()
    last_change = story.prices[-1][0]
    if not story.plan.is_sold and roll < 0.35 and story.end_day - last_change > 400:
        _moved_off_old_plan(world, story, last_change)
    elif roll < 0.15 and story.end_day - last_change > 200:
        _retention_price(world, story, last_change)
    elif roll < 0.21 and not story.cancelled and world.today_day - last_change > 400:
        _retention_discount(world, story)


def _moved_off_old_plan(world: World, story: Story, last_change: int) -> None:
    plan, randrange = story.plan, world.randrange
    newer = world.pick_plan(story.seg_key, world.today.year)
    day = max(last_change + 30, story.end_day - randrange(30, 1500))
    new_price = pretty_price(newer.new_cents * (100 + randrange(15)) // 100)
    story.events.append(
        (
            day * DAY + 9 * 3600,
            "plan_change",
            "billing",
            f"CHG-{story.account}-{day}",
            f"Moved from {plan.name} to {newer.name} at €{eur(new_price)} a month",
            as_json(
                **{"from": plan.code, "to": newer.code, "price": eur(new_price)},
                from_name=plan.name,
                to_name=newer.name,
            ),
        )
    )
    story.current_plan = newer
    story.price_from(day, new_price)


def _retention_price(world: World, story: Story, last_change: int) -> None:
    """The price a new customer pays, agreed to keep a long-standing one."""
    day = max(last_change + 30, story.end_day - world.randrange(30, 900))
    monthly, new_price = story.monthly, story.current_plan.new_cents
    story.events.append(
        (
            day * DAY + 10 * 3600,
            "price_change",
            "billing",
            None,
            f"Retention price agreed: €{eur(monthly)} → €{eur(new_price)}",
            as_json(**{"from": eur(monthly), "to": eur(new_price), "reason": "retention"}),
        )
    )
    story.price_from(day, new_price)


def _retention_discount(world: World, story: Story) -> None:
    """A retention discount that ends soon: the nightly job should flag it."""
    day = world.today_day - world.randrange(200, 330)
    ends = date_of(world.today_day + world.randrange(3, 75))
    monthly = story.monthly
    new_price = pretty_price(monthly * 80 // 100)
    story.events.append(
        (
            day * DAY + 10 * 3600,
            "price_change",
            "billing",
            None,
            f"Retention discount −20% until {ends:%d.%m.%Y}: €{eur(monthly)} → €{eur(new_price)}",
            as_json(
                **{"from": eur(monthly), "to": eur(new_price)},
                reason="retention",
                until=ends.isoformat(),
            ),
        )
    )
    story.price_from(day, new_price)
    story.promo_ends_on = ends
