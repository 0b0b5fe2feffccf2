"""The signals of churn risk: what a subscriber's story says on a given day, computed set-based
for a range of subscribers at a time.

Each signal is read as of a moment ``at`` (the start of ``day``): the nightly scoring reads
them as of now, training replays them as of earlier days, from the same statements, so the
model learns from exactly what it will later be shown.

| signal | from |
|---|---|
| outages_30d, outage_hours_30d, outages_90d, outage_hours_90d | outage events (``minutes``) |
| tickets_90d, missed_payments_90d, port_out_90d | events of those kinds |
| arrears_eur | the account's arrears now (billing keeps no history of them; in training the
  arrears of today stand in for the day's) |
| price_rises_12m, price_rise_eur_12m | price changes whose ``to`` is above ``from`` |
| promo_ended_60d | a promo_ended event in the 60 days before |
| promo_ends_60d | the promo end date within the 60 days after |
| loyalty_penalty_eur, loyalty_penalty_pct | the price then (the newest price or plan change
  before ``at``; today: the account's price) above the plan's new-customer price |
| misfit_eur, misfit_known | the tariff fit's monthly overpayment (today: the nightly fit; an
  earlier day: the fit recomputed from the 12 usage months before it); absent without a fit |
| tenure_years | since the signup date |
| earlier_requests, earlier_saved | cancellation cases opened before, and those saved |
| usage_decline_pct, usage_known | GB a month in the last 3 usage months against the 9 before;
  absent with too few months |
| contacts_refused_90d | contacts the subscriber refused |

An absent signal is NaN in ``values`` (never a zero that means "nothing happened"); the model
replaces it by 0 and learns from the ``*_known`` flag beside it, and a reason is never cited
from it.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from django.db import connection

from subscribers.fit import fit_savings_as_of

FEATURES = (
    "outages_30d",
    "outage_hours_30d",
    "outages_90d",
    "outage_hours_90d",
    "tickets_90d",
    "missed_payments_90d",
    "arrears_eur",
    "price_rises_12m",
    "price_rise_eur_12m",
    "promo_ended_60d",
    "promo_ends_60d",
    "loyalty_penalty_eur",
    "loyalty_penalty_pct",
    "misfit_eur",
    "misfit_known",
    "tenure_years",
    "earlier_requests",
    "earlier_saved",
    "port_out_90d",
    "usage_decline_pct",
    "usage_known",
    "contacts_refused_90d",
)
COLUMN = {name: n for n, name in enumerate(FEATURES)}
LABEL_DAYS = 60
# Who is scored: subscribers who still have the service. A cancelling one is already asking.
SCORED_STATUSES = ("active", "suspended")
# Usage: the recent months against the ones before, within the fit's 12-month window.
RECENT_MONTHS = 3
MIN_RECENT_MONTHS = 2
MIN_EARLIER_MONTHS = 3


@dataclass
class Signals:
    """The signals of one range of subscribers, one row each, in id order."""

    ids: np.ndarray  # int64
    values: np.ndarray  # float64, (rows, len(FEATURES)); NaN where absent
    promo_days: np.ndarray  # days until the promo ends (NaN without one): said in a reason
    # Only when replayed for training: whether each asked to cancel in the LABEL_DAYS after.
    labels: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)


def _number(key: str) -> str:
    """A number from an event's data, NULL when it is missing or not a number (billing sends
    what it sends; a cast that fails would stop the whole night)."""
    if connection.vendor == "postgresql":
        value = f"e.data->>'{key}'"
        return (
            f"CASE WHEN jsonb_typeof(e.data->'{key}') = 'number' OR ({value} ~ "
            f"'^-?[0-9]{{1,9}}(\\.[0-9]{{1,6}})?$') THEN ({value})::numeric END"
        )
    # SQLite casts what is not a number to 0, harmless here, and "1e999" to infinity, not.
    value = f"CAST(json_extract(e.data, '$.{key}') AS REAL)"
    return f"CASE WHEN ABS({value}) < 1000000000 THEN {value} END"


def _days(later: str, earlier: str) -> str:
    if connection.vendor == "postgresql":
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def _base_sql(*, training: bool) -> str:
    if training:
        # Customers for a month at least on the day, not gone by then.
        who = (
            "s.signup_date <= %(joined_by)s AND "
            "(s.billing_ends_on IS NULL OR s.billing_ends_on > %(day)s)"
        )
    else:
        statuses = ", ".join(f"'{status}'" for status in SCORED_STATUSES)
        who = f"s.status IN ({statuses})"
    day = "CAST(%(day)s AS date)" if connection.vendor == "postgresql" else "%(day)s"
    return f"""
        SELECT s.id, {_days(day, "s.signup_date")},
               CAST(ROUND(s.monthly_price * 100) AS INTEGER),
               CAST(ROUND(s.arrears * 100) AS INTEGER),
               CASE WHEN s.promo_ends_on IS NULL THEN NULL
                    ELSE {_days("s.promo_ends_on", day)} END,
               CAST(ROUND(p.new_customer_price * 100) AS INTEGER)
        FROM subscribers_subscriber s JOIN subscribers_plan p ON p.id = s.plan_id
        WHERE s.id >= %(lo)s AND s.id < %(hi)s AND {who}
        ORDER BY s.id
    """


def _events_sql() -> str:
    minutes = f"COALESCE({_number('minutes')}, 0)"
    rise = f"{_number('to')} - {_number('from')}"
    return f"""
        SELECT e.subscriber_id,
            SUM(CASE WHEN e.kind = 'outage' AND e.occurred_at >= %(t30)s THEN 1 ELSE 0 END),
            SUM(CASE WHEN e.kind = 'outage' AND e.occurred_at >= %(t30)s AND {minutes} > 0
                     THEN {minutes} ELSE 0 END),
            SUM(CASE WHEN e.kind = 'outage' AND e.occurred_at >= %(t90)s THEN 1 ELSE 0 END),
            SUM(CASE WHEN e.kind = 'outage' AND e.occurred_at >= %(t90)s AND {minutes} > 0
                     THEN {minutes} ELSE 0 END),
            SUM(CASE WHEN e.kind = 'ticket' AND e.occurred_at >= %(t90)s THEN 1 ELSE 0 END),
            SUM(CASE WHEN e.kind = 'missed_payment' AND e.occurred_at >= %(t90)s
                     THEN 1 ELSE 0 END),
            SUM(CASE WHEN e.kind = 'price_change' AND {rise} > 0 THEN 1 ELSE 0 END),
            SUM(CASE WHEN e.kind = 'price_change' AND {rise} > 0 THEN {rise} ELSE 0 END),
            MAX(CASE WHEN e.kind = 'promo_ended' AND e.occurred_at >= %(t60)s THEN 1 ELSE 0 END),
            SUM(CASE WHEN e.kind = 'port_out' AND e.occurred_at >= %(t90)s THEN 1 ELSE 0 END)
        FROM subscribers_timelineevent e
        WHERE e.subscriber_id >= %(lo)s AND e.subscriber_id < %(hi)s
          AND e.kind IN ('outage', 'ticket', 'missed_payment', 'price_change', 'promo_ended',
                         'port_out')
          AND e.occurred_at >= %(t365)s AND e.occurred_at < %(at)s
        GROUP BY e.subscriber_id
    """


def _price_then_sql() -> str:
    """The price on the day: the newest price or plan change before it."""
    return f"""
        SELECT sid, price FROM (
            SELECT e.subscriber_id AS sid,
                   COALESCE({_number("to")}, {_number("price")}) AS price,
                   ROW_NUMBER() OVER (
                       PARTITION BY e.subscriber_id ORDER BY e.occurred_at DESC, e.id DESC
                   ) AS place
            FROM subscribers_timelineevent e
            WHERE e.subscriber_id >= %(lo)s AND e.subscriber_id < %(hi)s
              AND e.kind IN ('price_change', 'plan_change') AND e.occurred_at < %(at)s
        ) newest
        WHERE place = 1 AND price IS NOT NULL
    """


_CASES_SQL = """
    SELECT c.subscriber_id,
        SUM(CASE WHEN c.opened_at < %(at)s THEN 1 ELSE 0 END),
        SUM(CASE WHEN c.opened_at < %(at)s AND c.status = 'saved' AND c.closed_at < %(at)s
                 THEN 1 ELSE 0 END),
        MAX(CASE WHEN c.opened_at < %(at)s AND (c.closed_at IS NULL OR c.closed_at >= %(at)s)
                 THEN 1 ELSE 0 END),
        MAX(CASE WHEN c.status = 'cancelled' AND c.closed_at < %(at)s THEN 1 ELSE 0 END),
        MAX(CASE WHEN c.opened_at >= %(at)s AND c.opened_at < %(label_end)s THEN 1 ELSE 0 END)
    FROM retention_cancellationcase c
    WHERE c.subscriber_id >= %(lo)s AND c.subscriber_id < %(hi)s
    GROUP BY c.subscriber_id
"""

_REFUSED_SQL = """
    SELECT a.subscriber_id, COUNT(*)
    FROM retention_contactattempt a
    WHERE a.subscriber_id >= %(lo)s AND a.subscriber_id < %(hi)s
      AND a.outcome = 'refused' AND a.at >= %(t90)s AND a.at < %(at)s
    GROUP BY a.subscriber_id
"""

_USAGE_SQL = """
    SELECT u.subscriber_id,
        SUM(CASE WHEN u.period >= %(recent)s THEN u.gb_down + u.gb_up ELSE 0 END),
        SUM(CASE WHEN u.period >= %(recent)s THEN 1 ELSE 0 END),
        SUM(CASE WHEN u.period < %(recent)s THEN u.gb_down + u.gb_up ELSE 0 END),
        SUM(CASE WHEN u.period < %(recent)s THEN 1 ELSE 0 END)
    FROM subscribers_usage u
    WHERE u.subscriber_id >= %(lo)s AND u.subscriber_id < %(hi)s
      AND u.period >= %(start)s AND u.period < %(end)s
    GROUP BY u.subscriber_id
"""

_FIT_SQL = """
    SELECT subscriber_id, saving FROM subscribers_tarifffit
    WHERE subscriber_id >= %(lo)s AND subscriber_id < %(hi)s
"""


def _month(first: date, back: int) -> date:
    months = first.year * 12 + first.month - 1 - back
    return date(months // 12, months % 12 + 1, 1)


def _params(*, day: date, at: datetime, lo: int, hi: int) -> dict[str, Any]:
    end = day.replace(day=1)
    return {
        "day": day,
        "at": at,
        "lo": lo,
        "hi": hi,
        "t30": at - timedelta(days=30),
        "t60": at - timedelta(days=60),
        "t90": at - timedelta(days=90),
        "t365": at - timedelta(days=365),
        "label_end": at + timedelta(days=LABEL_DAYS),
        "joined_by": day - timedelta(days=30),
        "start": _month(end, 12),
        "recent": _month(end, RECENT_MONTHS),
        "end": end,
    }


def signals_read(
    *,
    day: date,
    at: datetime,
    lo: int,
    hi: int,
    training: bool = False,
) -> Signals:
    """The signals of subscribers with ids in [lo, hi) as of ``at`` (the start of ``day``, or
    now).

    Scoring (``training=False``) reads the subscribers who have the service now, with the
    account as it is and the nightly tariff fit. Training replays an earlier day: customers
    then who had no case open and had not left, with
    the price of the day and the fit recomputed for it, and the label: whether they asked to
    cancel in the ``LABEL_DAYS`` after.
    """
    params = _params(day=day, at=at, lo=lo, hi=hi)
    # Each backend's own text for a moment (SQLite compares datetimes as stored text).
    adapt = connection.ops.adapt_datetimefield_value
    params |= {key: adapt(value) for key, value in params.items() if isinstance(value, datetime)}
    with connection.cursor() as cursor:
        cursor.execute(_base_sql(training=training), params)
        base = cursor.fetchall()
        if not base:
            return Signals(np.zeros(0, np.int64), np.zeros((0, len(FEATURES))), np.zeros(0))
        ids = np.fromiter((row[0] for row in base), np.int64, len(base))
        values = np.zeros((len(base), len(FEATURES)))
        tenure_days = np.array([row[1] for row in base], float)
        price = np.array([row[2] for row in base], float) / 100
        arrears = np.array([row[3] for row in base], float) / 100
        promo_days = np.array([np.nan if row[4] is None else row[4] for row in base], float)
        new_price = np.array([row[5] for row in base], float) / 100

        def place(rows: list[tuple[Any, ...]]) -> tuple[np.ndarray, list[tuple[Any, ...]]]:
            """The rows of subscribers among ``ids``, and where each goes."""
            if not rows:
                return np.zeros(0, np.int64), []
            sids = np.fromiter((row[0] for row in rows), np.int64, len(rows))
            at_index = np.minimum(np.searchsorted(ids, sids), len(ids) - 1)
            keep = ids[at_index] == sids
            return at_index[keep], [row for row, kept in zip(rows, keep, strict=True) if kept]

        cursor.execute(_events_sql(), params)
        where, rows = place(cursor.fetchall())
        if rows:
            events = np.array([[float(v or 0) for v in row[1:]] for row in rows])
            values[where, COLUMN["outages_30d"]] = events[:, 0]
            values[where, COLUMN["outage_hours_30d"]] = events[:, 1] / 60
            values[where, COLUMN["outages_90d"]] = events[:, 2]
            values[where, COLUMN["outage_hours_90d"]] = events[:, 3] / 60
            values[where, COLUMN["tickets_90d"]] = events[:, 4]
            values[where, COLUMN["missed_payments_90d"]] = events[:, 5]
            values[where, COLUMN["price_rises_12m"]] = events[:, 6]
            values[where, COLUMN["price_rise_eur_12m"]] = events[:, 7]
            values[where, COLUMN["promo_ended_60d"]] = events[:, 8]
            values[where, COLUMN["port_out_90d"]] = events[:, 9]

        if training:
            cursor.execute(_price_then_sql(), params)
            where, rows = place(cursor.fetchall())
            price[where] = [float(row[1]) for row in rows]

        cursor.execute(_CASES_SQL, params)
        where, rows = place(cursor.fetchall())
        open_then = np.zeros(len(ids), bool)
        left = np.zeros(len(ids), bool)
        labels = np.zeros(len(ids), bool)
        if rows:
            cases = np.array([[int(v or 0) for v in row[1:]] for row in rows])
            values[where, COLUMN["earlier_requests"]] = cases[:, 0]
            values[where, COLUMN["earlier_saved"]] = cases[:, 1]
            open_then[where], left[where], labels[where] = cases[:, 2], cases[:, 3], cases[:, 4]

        cursor.execute(_REFUSED_SQL, params)
        where, rows = place(cursor.fetchall())
        values[where, COLUMN["contacts_refused_90d"]] = [row[1] for row in rows]

        cursor.execute(_USAGE_SQL, params)
        where, rows = place(cursor.fetchall())
        decline = np.full(len(ids), np.nan)
        if rows:
            usage = np.array([[float(v or 0) for v in row[1:]] for row in rows])
            recent, recent_n, earlier, earlier_n = usage.T
            enough = (recent_n >= MIN_RECENT_MONTHS) & (earlier_n >= MIN_EARLIER_MONTHS)
            enough &= earlier > 0
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = (recent / np.maximum(recent_n, 1)) / (earlier / np.maximum(earlier_n, 1))
            decline[where] = np.where(enough, np.clip(1 - ratio, 0, 1) * 100, np.nan)

        misfit = np.full(len(ids), np.nan)
        if training:
            savings = fit_savings_as_of(day=day, lo=lo, hi=hi)
            where, rows = place(list(savings.items()))
        else:
            cursor.execute(_FIT_SQL, params)
            where, rows = place(cursor.fetchall())
        misfit[where] = [max(float(row[1]), 0.0) for row in rows]

    values[:, COLUMN["arrears_eur"]] = arrears
    values[:, COLUMN["promo_ends_60d"]] = (promo_days >= 0) & (promo_days <= 60)
    penalty = np.maximum(price - new_price, 0)
    values[:, COLUMN["loyalty_penalty_eur"]] = penalty
    with np.errstate(divide="ignore", invalid="ignore"):
        percent = np.where(new_price > 0, penalty * 100 / new_price, 0)
    values[:, COLUMN["loyalty_penalty_pct"]] = percent
    values[:, COLUMN["misfit_eur"]] = misfit
    values[:, COLUMN["misfit_known"]] = ~np.isnan(misfit)
    values[:, COLUMN["tenure_years"]] = np.maximum(tenure_days, 0) / 365.25
    values[:, COLUMN["usage_decline_pct"]] = decline
    values[:, COLUMN["usage_known"]] = ~np.isnan(decline)

    signals = Signals(ids, values, promo_days)
    if training:
        keep = ~open_then & ~left
        signals = Signals(ids[keep], values[keep], promo_days[keep], labels[keep])
    return signals


def id_range() -> tuple[int, int] | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id), MAX(id) FROM subscribers_subscriber")
        low, high = cursor.fetchone()
    return None if low is None else (low, high + 1)
