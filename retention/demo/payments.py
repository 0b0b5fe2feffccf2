"""A demo subscriber's bills, most recent month first: payments, a missed one now and then,
and arrears for the few who stopped paying."""

from retention.demo.story import Story
from retention.demo.texts import MONTH_NAMES, PAYMENT_LABEL
from retention.demo.units import DAY, date_of, eur, month_of
from retention.demo.world import World


def payments(world: World, story: Story, carry: int) -> None:
    """As many months as the events budget leaves (``carry`` is what earlier subscribers left
    over or overspent), at least three."""
    randrange = world.randrange
    arrears_months = _arrears_months(world, story)
    last_month = month_of(story.end_day)
    if date_of(story.end_day).day < story.bill_dom:
        last_month -= 1
    first_month = month_of(story.signup_day) + 1
    months_available = max(0, last_month - first_month + 1)
    per_subscriber = world.options.events_per_subscriber
    budget = per_subscriber + carry + randrange(-per_subscriber // 3, per_subscriber // 3 + 1)
    n_months = min(months_available, max(3, budget - len(story.events)))
    missed_once = -1
    if n_months > 6 and not arrears_months and world.rnd() < 0.1:
        missed_once = last_month - 2 - randrange(n_months - 4)
    story.arrears_months = arrears_months
    _bills(world, story, range(last_month, last_month - n_months, -1), missed_once)


def _arrears_months(world: World, story: Story) -> int:
    """Months unpaid at the end: more often for those who pay by hand."""
    roll = world.rnd()
    risky = story.method in ("cash", "bank_transfer")
    if story.cancelled:
        return 0
    if roll < (0.03 if risky else 0.012):
        return 3 + world.randrange(2)
    if roll < (0.1 if risky else 0.04):
        return 1 + world.randrange(2)
    return 0


def _bills(world: World, story: Story, months: range, missed_once: int) -> None:
    """Each month's bill at the price of its due day: paid, or missed (a month missed once is
    paid twice the month after)."""
    randrange, now, add = world.randrange, world.now, story.events.append
    method, account, prices, bill_dom = story.method, story.account, story.prices, story.bill_dom
    last_month, arrears_months = months.start, story.arrears_months
    label = PAYMENT_LABEL[method]
    month_starts, month_base = world.month_starts, world.month_base
    arrears, p_index = 0, len(prices) - 1
    for month in months:
        due = month_starts[month - month_base] + bill_dom - 1
        while p_index > 0 and prices[p_index][0] > due:
            p_index -= 1
        cents = prices[p_index][1]
        period = f"{month // 12}-{month % 12 + 1:02d}"
        if last_month - month < arrears_months or month == missed_once:
            arrears += cents if month != missed_once else 0
            fail = "Direct debit failed" if method == "direct_debit" else "Invoice not paid"
            add(
                (
                    min((due + 10) * DAY + 6 * 3600, now - 7200),
                    "missed_payment",
                    "billing",
                    f"DUN-{account}-{period}",
                    f"{fail}: €{eur(cents)} for {MONTH_NAMES[month % 12]} {month // 12}",
                    f'{{"amount": "{eur(cents)}", "period": "{period}", "method": "{method}"}}',
                )
            )
            continue
        if month == missed_once + 1:
            cents *= 2
        if method == "direct_debit":
            at = due * DAY + 3 * 3600 + randrange(7200)
        else:
            at = (due + randrange(4)) * DAY + (6 + randrange(12)) * 3600 + randrange(3600)
        at = min(at, now - 3600)
        add(
            (
                at,
                "payment",
                "billing",
                f"PAY-{account}-{period}",
                f"Payment received €{eur(cents)} ({label})",
                f'{{"amount": "{eur(cents)}", "period": "{period}", "method": "{method}"}}',
            )
        )
    story.arrears = arrears
