"""Tariff fit: which plan suits how a subscriber uses the service, from their usage months.

The rules, in one place (the SQL below and the Python beside it apply the same ones, and a
test holds them equal):

- **Window.** The last 12 whole months before today's month. A subscriber with fewer than
  ``MIN_MONTHS`` months of usage in it gets no fit (no row).
- **A month on a plan costs** its fee plus its extras: a plan metered by time charges each
  started hour past the included ones, by volume each started GB (down and up together) past
  the included ones, a business plan each user past the included ones; a cap, if the plan has
  one, bounds the extras of a month. The fee is the subscriber's own monthly price on their own
  plan, the new-customer price on any other. A plan's cost is the average over the months,
  rounded half up to the cent. Everything is counted in whole cents.
- **Plans that could fit** are those sold now to the subscriber's segment, at least as fast as
  they need (their current download speed, or ``USAGE_MBPS_PER_DEVICE`` for each device they
  had online at once at their peak, whichever is less), with TV if their plan has it (a move
  never takes away a service to save money), and that hold the people on the line:
  a plan that is not a business plan is made for one household, ``HOUSEHOLD_PEOPLE`` at most.
  Their own plan always counts, if it holds them.
- **The plan that fits** is the cheapest of those (the faster one on a tie). Moving saves the
  difference between what they pay and what it would cost.
- **The verdict.** *shared* when their own plan cannot hold the people on the line (the plan
  that fits may cost more: that is the honest answer); *fits* when no plan saves them at least
  ``MIN_SAVING`` a month (the plan that fits is then their own); otherwise by the move: from
  flat to metered *light*, from metered to another kind *heavy*, to a slower plan of the same
  kind *speed*, anything else *cheaper*.

``fits_compute`` runs the rules set-based in SQL for every subscriber (nightly) or for a few
(when their usage arrives); ``fit_explain`` runs them in Python for one subscriber and keeps
every plan's cost, for the subscriber page.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection, transaction

from subscribers.models import Plan, Subscriber, TariffFit, Usage

WINDOW_MONTHS = 12
MIN_MONTHS = 3
MIN_SAVING = Decimal("1.00")
USAGE_MBPS_PER_DEVICE = 25
HOUSEHOLD_PEOPLE = 5
# Subscribers who still have the service; a cancelled one's fit is removed.
FIT_STATUSES = (
    Subscriber.Status.ACTIVE,
    Subscriber.Status.SUSPENDED,
    Subscriber.Status.CANCELLING,
)
# Subscribers per statement of the nightly run: each chunk is one transaction, so the fits of
# a chunk change together and a reader never waits on the whole run.
CHUNK = 20_000
METERED = (Plan.Kind.METERED_TIME, Plan.Kind.METERED_VOLUME)


def fit_window(today: date) -> tuple[date, date]:
    """The first month of the window and the first month after it."""
    end = today.replace(day=1)
    months = end.year * 12 + end.month - 1 - WINDOW_MONTHS
    return date(months // 12, months % 12 + 1, 1), end


@dataclass(frozen=True)
class UsageMonth:
    hours_online: Decimal
    gb: Decimal  # down and up together
    peak_devices: int
    people: int


@dataclass(frozen=True)
class PlanCost:
    plan: Plan
    cost: Decimal  # a month, on average over the window
    holds: bool  # holds the people on the line
    is_own: bool


@dataclass(frozen=True)
class FitResult:
    months: int
    current_cost: Decimal
    best: PlanCost
    saving: Decimal
    verdict: str
    # Every plan that could fit, cheapest first, their own plan among them.
    costs: tuple[PlanCost, ...]
    needed_mbps: int
    people: int


def _cents(value: Decimal | None) -> int:
    return int((value or Decimal(0)) * 100)


def _started(amount: int, included: int, unit: int) -> int:
    """Units started past the included ones; amount and included in the same 1/unit parts."""
    over = amount - included * unit
    return (over + unit - 1) // unit if over > 0 else 0


def month_cost_cents(plan: Plan, fee_cents: int, month: UsageMonth) -> int:
    extras = 0
    if plan.kind == Plan.Kind.METERED_TIME:
        hours = _started(int(month.hours_online * 10), plan.included_hours or 0, 10)
        extras = hours * _cents(plan.extra_hour_price)
    elif plan.kind == Plan.Kind.METERED_VOLUME:
        gb = _started(int(month.gb * 100), plan.included_gb or 0, 100)
        extras = gb * _cents(plan.extra_gb_price)
    elif plan.kind == Plan.Kind.BUSINESS:
        extras = max(0, month.people - (plan.included_seats or 0)) * _cents(plan.extra_seat_price)
    if plan.extras_cap is not None:
        extras = min(extras, _cents(plan.extras_cap))
    return fee_cents + extras


def _average(total_cents: int, months: int) -> Decimal:
    return (Decimal(total_cents) / months / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)


def holds_people(plan: Plan, people: int) -> bool:
    return plan.kind == Plan.Kind.BUSINESS or people <= HOUSEHOLD_PEOPLE


def verdict_of(own: PlanCost, best: PlanCost, saving: Decimal) -> str:
    if not own.holds:
        return TariffFit.Verdict.SHARED
    if best.is_own or saving < MIN_SAVING:
        return TariffFit.Verdict.FITS
    if own.plan.kind == Plan.Kind.FLAT and best.plan.kind in METERED:
        return TariffFit.Verdict.LIGHT
    if own.plan.kind in METERED and best.plan.kind != own.plan.kind:
        return TariffFit.Verdict.HEAVY
    if best.plan.kind == own.plan.kind and best.plan.download_mbps < own.plan.download_mbps:
        return TariffFit.Verdict.SPEED
    return TariffFit.Verdict.CHEAPER


def fit_explain(
    subscriber: Subscriber, months: Sequence[UsageMonth], plans: Iterable[Plan]
) -> FitResult | None:
    """The fit of one subscriber from their usage months in the window and the plans in the
    catalogue, with what every plan that could fit would have cost; None below MIN_MONTHS."""
    if len(months) < MIN_MONTHS:
        return None
    devices = max(m.peak_devices for m in months)
    people = max(m.people for m in months)
    own_plan = subscriber.plan
    needed = min(own_plan.download_mbps, devices * USAGE_MBPS_PER_DEVICE)
    costs = []
    for plan in plans:
        is_own = plan.pk == own_plan.pk
        if not is_own and not (
            plan.is_sold
            and plan.is_sold_to(subscriber.segment)
            and plan.download_mbps >= needed
            and (plan.includes_tv or not own_plan.includes_tv)
        ):
            continue
        fee = _cents(subscriber.monthly_price if is_own else plan.new_customer_price)
        total = sum(month_cost_cents(plan, fee, month) for month in months)
        costs.append(
            PlanCost(plan, _average(total, len(months)), holds_people(plan, people), is_own)
        )
    costs.sort(key=lambda c: (c.cost, -c.plan.download_mbps, c.plan.pk))
    own = next(c for c in costs if c.is_own)
    fitting = [c for c in costs if c.holds]
    best = fitting[0] if fitting else own
    verdict = verdict_of(own, best, own.cost - best.cost)
    if verdict == TariffFit.Verdict.FITS:
        best = own
    return FitResult(
        months=len(months),
        current_cost=own.cost,
        best=best,
        saving=own.cost - best.cost,
        verdict=verdict,
        costs=tuple(costs),
        needed_mbps=needed,
        people=people,
    )


def usage_months(subscriber_id: int, today: date) -> list[UsageMonth]:
    start, end = fit_window(today)
    return [
        UsageMonth(u.hours_online, u.gb_down + u.gb_up, u.peak_devices, u.people)
        for u in Usage.objects.filter(
            subscriber_id=subscriber_id, period__gte=start, period__lt=end
        ).order_by("period")
    ]


# --- set-based ----------------------------------------------------------------------------

# One statement per chunk: usage months in the window, each subscriber with the plans that
# could fit them (their own always, flagged when it cannot hold the people), every plan's
# cost summed over the months in whole cents, ranked, and the verdict, all in the database.
# Written in SQL both PostgreSQL and SQLite run (integer arithmetic for rounding and started
# units, no CEIL; INSERT before WITH, for the row count SQLite reports), so `make run` on
# SQLite computes what production computes.
_FIT_INSERT = """
INSERT INTO subscribers_tarifffit
    (subscriber_id, computed_on, months, current_cost, best_plan_id, best_cost, saving, verdict)
"""
_FIT_CTE = """
WITH months AS (
    SELECT u.subscriber_id AS sid,
           CAST(ROUND(u.hours_online * 10) AS INTEGER) AS h10,
           CAST(ROUND((u.gb_down + u.gb_up) * 100) AS INTEGER) AS g100,
           u.people AS people,
           u.peak_devices AS devices
    FROM subscribers_usage u
    WHERE u.period >= %(start)s AND u.period < %(end)s AND {who}
),
subs AS (
    SELECT s.id AS sid, s.segment AS segment, s.plan_id AS own_id,
           CAST(ROUND(s.monthly_price * 100) AS INTEGER) AS own_fee,
           op.includes_tv AS own_tv, COUNT(*) AS n, MAX(m.people) AS people,
           MIN(op.download_mbps, MAX(m.devices) * %(per_device)s) AS needed
    FROM months m
    JOIN subscribers_subscriber s ON s.id = m.sid
    JOIN subscribers_plan op ON op.id = s.plan_id
    WHERE s.status IN ({statuses}) AND {who_subscriber}
    GROUP BY s.id, s.segment, s.plan_id, s.monthly_price, op.download_mbps, op.includes_tv
    HAVING COUNT(*) >= %(min_months)s
),
plans AS (
    SELECT p.id, p.kind, p.download_mbps, p.is_sold, p.includes_tv,
           p.sold_to_residential, p.sold_to_small_business, p.sold_to_corporate,
           CAST(ROUND(p.new_customer_price * 100) AS INTEGER) AS new_fee,
           COALESCE(p.included_hours, 0) * 10 AS inc_h10,
           COALESCE(p.included_gb, 0) * 100 AS inc_g100,
           COALESCE(p.included_seats, 0) AS inc_seats,
           CAST(ROUND(COALESCE(p.extra_hour_price, 0) * 100) AS INTEGER) AS hour_c,
           CAST(ROUND(COALESCE(p.extra_gb_price, 0) * 100) AS INTEGER) AS gb_c,
           CAST(ROUND(COALESCE(p.extra_seat_price, 0) * 100) AS INTEGER) AS seat_c,
           CAST(ROUND(p.extras_cap * 100) AS INTEGER) AS cap_c
    FROM subscribers_plan p
),
candidates AS (
    SELECT s.sid, s.n, p.id AS plan_id, p.kind, p.download_mbps,
           CASE WHEN p.id = s.own_id THEN 1 ELSE 0 END AS is_own,
           CASE WHEN p.kind = 'business' OR s.people <= %(household)s THEN 1 ELSE 0 END AS holds,
           CASE WHEN p.id = s.own_id THEN s.own_fee ELSE p.new_fee END AS fee,
           p.inc_h10, p.inc_g100, p.inc_seats, p.hour_c, p.gb_c, p.seat_c, p.cap_c
    FROM subs s
    JOIN plans p ON p.id = s.own_id OR (
        p.is_sold AND p.download_mbps >= s.needed AND (p.includes_tv OR NOT s.own_tv) AND (
            (s.segment = 'residential' AND p.sold_to_residential)
            OR (s.segment = 'small_business' AND p.sold_to_small_business)
            OR (s.segment = 'corporate' AND p.sold_to_corporate)
        )
    )
),
extras AS (
    SELECT c.sid, c.n, c.plan_id, c.kind, c.download_mbps, c.is_own, c.holds, c.fee, c.cap_c,
           CASE c.kind
               WHEN 'metered_time' THEN
                   CASE WHEN m.h10 > c.inc_h10 THEN (m.h10 - c.inc_h10 + 9) / 10 ELSE 0 END
                   * c.hour_c
               WHEN 'metered_volume' THEN
                   CASE WHEN m.g100 > c.inc_g100 THEN (m.g100 - c.inc_g100 + 99) / 100 ELSE 0 END
                   * c.gb_c
               WHEN 'business' THEN
                   CASE WHEN m.people > c.inc_seats THEN m.people - c.inc_seats ELSE 0 END
                   * c.seat_c
               ELSE 0
           END AS extra
    FROM candidates c
    JOIN months m ON m.sid = c.sid
),
costs AS (
    SELECT sid, n, plan_id, kind, download_mbps, is_own, holds,
           (2 * SUM(fee + CASE WHEN cap_c IS NOT NULL AND extra > cap_c THEN cap_c ELSE extra END)
            + n) / (2 * n) AS cost
    FROM extras
    GROUP BY sid, n, plan_id, kind, download_mbps, is_own, holds
),
ranked AS (
    SELECT c.*,
           ROW_NUMBER() OVER (
               PARTITION BY sid ORDER BY holds DESC, cost, download_mbps DESC, plan_id
           ) AS place,
           MAX(CASE WHEN is_own = 1 THEN cost END) OVER (PARTITION BY sid) AS own_cost,
           MAX(CASE WHEN is_own = 1 THEN holds END) OVER (PARTITION BY sid) AS own_holds,
           MAX(CASE WHEN is_own = 1 THEN kind END) OVER (PARTITION BY sid) AS own_kind,
           MAX(CASE WHEN is_own = 1 THEN download_mbps END) OVER (PARTITION BY sid) AS own_mbps,
           MAX(CASE WHEN is_own = 1 THEN plan_id END) OVER (PARTITION BY sid) AS own_id
    FROM costs c
),
judged AS (
    SELECT sid, n, plan_id, cost, own_cost, own_id, holds,
           CASE
               WHEN own_holds = 0 THEN 'shared'
               WHEN is_own = 1 OR own_cost - cost < %(min_saving)s THEN 'fits'
               WHEN own_kind = 'flat' AND kind IN ('metered_time', 'metered_volume')
                   THEN 'light'
               WHEN own_kind IN ('metered_time', 'metered_volume') AND kind <> own_kind
                   THEN 'heavy'
               WHEN kind = own_kind AND download_mbps < own_mbps THEN 'speed'
               ELSE 'cheaper'
           END AS verdict
    FROM ranked
    WHERE place = 1
),
best AS (
    SELECT sid, n, own_cost, verdict,
           CASE WHEN verdict = 'fits' OR holds = 0 THEN own_id ELSE plan_id END AS best_id,
           CASE WHEN verdict = 'fits' OR holds = 0 THEN own_cost ELSE cost END AS best_cost
    FROM judged
)
"""
_FIT_SELECT = """
SELECT sid, %(today)s, n, own_cost / 100.0, best_id, best_cost / 100.0,
       (own_cost - best_cost) / 100.0, verdict
FROM best
"""


def _sql(who: str, *, query: str = _FIT_INSERT + _FIT_CTE + _FIT_SELECT, statuses: str = "") -> str:
    statuses = statuses or ", ".join(f"'{status}'" for status in FIT_STATUSES)
    # The subscribers restricted as the usage is, so each chunk reads its own range by the
    # primary key rather than every subscriber (a hash of a million rows a chunk).
    who_subscriber = who.replace("u.subscriber_id", "s.id")
    sql = query.format(who=who, statuses=statuses, who_subscriber=who_subscriber)
    if connection.vendor == "postgresql":
        # PostgreSQL's two-argument MIN is LEAST; SQLite's is MIN.
        sql = sql.replace("MIN(op.download_mbps,", "LEAST(op.download_mbps,")
    return sql


def _params(today: date) -> dict[str, Any]:
    start, end = fit_window(today)
    return {
        "start": start,
        "end": end,
        "today": today,
        "min_months": MIN_MONTHS,
        "per_device": USAGE_MBPS_PER_DEVICE,
        "household": HOUSEHOLD_PEOPLE,
        "min_saving": _cents(MIN_SAVING),
    }


def fits_compute(*, today: date, subscriber_ids: Sequence[int] | None = None) -> int:
    """Recompute the fit of every subscriber (nightly), or of the ones given (their usage just
    arrived), set-based. Each chunk replaces its subscribers' fits in one transaction: the ones
    that no longer qualify (too few months, cancelled) lose theirs. Returns the fits written."""
    params = _params(today)
    written = 0
    if subscriber_ids is not None:
        ids = sorted(set(subscriber_ids))
        for at in range(0, len(ids), 1000):
            chunk = {f"id{n}": pk for n, pk in enumerate(ids[at : at + 1000])}
            listed = ", ".join(f"%({name})s" for name in chunk)
            written += _chunk(
                f"u.subscriber_id IN ({listed})",
                f"subscriber_id IN ({listed})",
                {**params, **chunk},
            )
        return written
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id), MAX(id) FROM subscribers_subscriber")
        low, high = cursor.fetchone()
    if low is None:
        TariffFit.objects.all().delete()
        return 0
    for lo in range(low, high + 1, CHUNK):
        written += _chunk(
            "u.subscriber_id >= %(lo)s AND u.subscriber_id < %(hi)s",
            "subscriber_id >= %(lo)s AND subscriber_id < %(hi)s",
            {**params, "lo": lo, "hi": lo + CHUNK},
        )
    return written


def _chunk(who_usage: str, who_fit: str, params: dict[str, Any]) -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The nightly run, a usage batch and a second nightly run may recompute the same
            # subscribers at once: each would delete the rows the other has not committed yet
            # and then collide on inserting them. One chunk at a time, desk-wide; the lock ends
            # with the transaction.
            # In the same statement, for this transaction only: a chunk's sorts and hashes (a
            # million or so plan-months) fit in 64 MB instead of spilling to temp files at the
            # default 4 MB; and compiling the statement (JIT, which its large cost estimate
            # triggers) takes seconds a chunk, more than it saves.
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s)), "
                "set_config('work_mem', '64MB', true), set_config('jit', 'off', true)",
                [__name__],
            )
        cursor.execute(f"DELETE FROM subscribers_tarifffit WHERE {who_fit}", params)
        cursor.execute(_sql(who_usage), params)
        return max(cursor.rowcount, 0)


def fit_savings_as_of(*, day: date, lo: int, hi: int) -> dict[int, Decimal]:
    """What each subscriber with an id in [lo, hi) would have saved a month on the plan that fit
    them on ``day``, by the same rules from the 12 months of usage before it, whatever their
    status now (the churn model learns from subscribers who have left since). Their plan and
    price are today's: the desk keeps no history of them beyond the timeline. Nothing is
    written."""
    every = ", ".join(f"'{status}'" for status in Subscriber.Status.values)
    sql = _sql(
        "u.subscriber_id >= %(lo)s AND u.subscriber_id < %(hi)s",
        query=_FIT_CTE + "SELECT sid, own_cost - best_cost FROM best",
        statuses=every,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {**_params(day), "lo": lo, "hi": hi})
        return {sid: Decimal(cents) / 100 for sid, cents in cursor.fetchall()}


def fit_refresh(*, subscriber: Subscriber, today: date) -> TariffFit | None:
    """One subscriber's fit, recomputed now (their usage just arrived) and returned."""
    fits_compute(today=today, subscriber_ids=[subscriber.pk])
    return TariffFit.objects.filter(subscriber=subscriber).select_related("best_plan").first()
