"""The rule-based churn score: used while the desk has too little history to learn from, and
measured beside every learned model on the same held-out months (what learning adds).

Points for each signal, per unit and capped, on top of a base of ``BASE`` points, at most 100.
The points follow what telecom churn studies rank first (outages, billing shocks, support
contacts, usage decline) and the desk's own principles (a loyal customer paying more than a new
one is at risk):

| signal | points | at most |
|---|---|---|
| outage in the last 30 days | 8 each | 24 |
| outage hours in the last 90 days | 1 an hour | 10 |
| support ticket in the last 90 days | 5 each | 15 |
| missed payment in the last 90 days | 6 each | 18 |
| arrears | 1 a euro | 10 |
| price rise in the last 12 months | 2 a euro a month | 20 |
| promo ended in the last 60 days | 10 | 10 |
| promo ends in the next 60 days | 10 | 10 |
| loyalty penalty | 0.3 a percent | 20 |
| tariff overpayment | 1 a euro a month | 15 |
| tenure | 8 in the first year, 0 after | 8 |
| earlier cancellation request | 6 each | 12 |
| port-out notice in the last 90 days | 40 | 40 |
| usage decline | 0.2 a percent | 15 |
| contact refused in the last 90 days | 5 each | 10 |
"""

from typing import Any

import numpy as np

from retention.risk.signals import COLUMN, FEATURES

BASE = 3.0
# feature: (points a unit, most points)
RULES: dict[str, tuple[float, float]] = {
    "outages_30d": (8, 24),
    "outage_hours_90d": (1, 10),
    "tickets_90d": (5, 15),
    "missed_payments_90d": (6, 18),
    "arrears_eur": (1, 10),
    "price_rise_eur_12m": (2, 20),
    "promo_ended_60d": (10, 10),
    "promo_ends_60d": (10, 10),
    "loyalty_penalty_pct": (0.3, 20),
    "misfit_eur": (1, 15),
    "earlier_requests": (6, 12),
    "port_out_90d": (40, 40),
    "usage_decline_pct": (0.2, 15),
    "contacts_refused_90d": (5, 10),
}
FIRST_YEAR_POINTS = 8.0


def rules_weights() -> dict[str, list[Any]]:
    """The rules as a model version stores them."""
    names = [*RULES, "tenure_years"]
    return {
        "features": list(names),
        "points": [points for points, _ in RULES.values()] + [FIRST_YEAR_POINTS],
        "caps": [cap for _, cap in RULES.values()] + [FIRST_YEAR_POINTS],
        "base": [BASE],
    }


def rules_points(values: np.ndarray) -> np.ndarray:
    """Each rule's points for each row: (rows, len(FEATURES)), absent signals scoring 0."""
    clean = np.nan_to_num(values, nan=0.0)
    points = np.zeros_like(clean)
    for name, (per_unit, cap) in RULES.items():
        column = COLUMN[name]
        points[:, column] = np.clip(clean[:, column] * per_unit, 0, cap)
    tenure = COLUMN["tenure_years"]
    points[:, tenure] = np.where(clean[:, tenure] < 1, FIRST_YEAR_POINTS, 0)
    return points


def rules_score(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores from 0 to 100 and each signal's points."""
    points = rules_points(values)
    return np.minimum(BASE + points.sum(axis=1), 100), points


assert set(RULES) <= set(FEATURES)
