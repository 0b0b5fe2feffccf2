"""Why a subscriber scored as they did: the signals that pushed their score up most, each said
as a phrase (subscribers.phrases) in the reader's language.

Signals that tell one story are cited together (outages with their hours, the penalty in
euros with its percentage); a signal is cited only when it is there (an outage, a price rise:
never the absence of one, never an absent signal) and pushed the score up.
"""

from typing import Any

import numpy as np

from retention.risk.signals import COLUMN, Signals

MAX_REASONS = 3
# Contributions below this (log-odds of a learned model; points of the rules) are not cited.
LEARNED_FLOOR = 0.05
RULES_FLOOR = 1.0

# phrase code: the signals it tells of
GROUPS: dict[str, tuple[str, ...]] = {
    "risk.port_out": ("port_out_90d",),
    "risk.outages_30d": ("outages_30d", "outage_hours_30d"),
    "risk.outages_90d": ("outages_90d", "outage_hours_90d"),
    "risk.tickets": ("tickets_90d",),
    "risk.missed_payments": ("missed_payments_90d",),
    "risk.arrears_now": ("arrears_eur",),
    "risk.price_rises": ("price_rises_12m", "price_rise_eur_12m"),
    "risk.promo_ended": ("promo_ended_60d",),
    "risk.discount_ends": ("promo_ends_60d",),
    "risk.loyalty_penalty": ("loyalty_penalty_eur", "loyalty_penalty_pct"),
    "risk.misfit": ("misfit_eur",),
    "risk.new_customer": ("tenure_years",),
    "risk.earlier_requests": ("earlier_requests", "earlier_saved"),
    "risk.usage_decline": ("usage_decline_pct",),
    "risk.contacts_refused": ("contacts_refused_90d",),
}


def _money(value: float) -> str:
    return f"{value:.2f}"


def _params(code: str, row: np.ndarray, promo_days: float) -> dict[str, Any] | None:
    """The phrase's parameters from the row, or None when the signal is not there."""

    def v(name: str) -> float:
        value = row[COLUMN[name]]
        return 0.0 if np.isnan(value) else float(value)

    match code:
        case "risk.port_out":
            return {} if v("port_out_90d") else None
        case "risk.outages_30d" | "risk.outages_90d":
            days = code[-3:-1]
            count = int(v(f"outages_{days}d"))
            hours = f"{v(f'outage_hours_{days}d'):.1f}"
            return {"count": count, "hours": hours} if count else None
        case "risk.tickets":
            return {"count": int(v("tickets_90d"))} if v("tickets_90d") else None
        case "risk.missed_payments":
            count = int(v("missed_payments_90d"))
            return {"count": count} if count else None
        case "risk.arrears_now":
            return {"amount": _money(v("arrears_eur"))} if v("arrears_eur") > 0 else None
        case "risk.price_rises":
            count = int(v("price_rises_12m"))
            return {"count": count, "amount": _money(v("price_rise_eur_12m"))} if count else None
        case "risk.promo_ended":
            return {} if v("promo_ended_60d") else None
        case "risk.discount_ends":
            return {"days": int(promo_days)} if v("promo_ends_60d") else None
        case "risk.loyalty_penalty":
            amount = v("loyalty_penalty_eur")
            percent = round(v("loyalty_penalty_pct"))
            return {"amount": _money(amount), "percent": percent} if amount > 0 else None
        case "risk.misfit":
            amount = v("misfit_eur")
            return {"amount": _money(amount)} if amount >= 1 else None
        case "risk.new_customer":
            months = int(v("tenure_years") * 12)
            return {"months": months} if months < 24 else None
        case "risk.earlier_requests":
            count = int(v("earlier_requests"))
            return {"count": count, "saved": int(v("earlier_saved"))} if count else None
        case "risk.usage_decline":
            percent = round(v("usage_decline_pct"))
            return {"percent": percent} if v("usage_known") and percent >= 20 else None
        case "risk.contacts_refused":
            count = int(v("contacts_refused_90d"))
            return {"count": count} if count else None
    return None


def reasons_of(signals: Signals, parts: np.ndarray, *, learned: bool) -> list[list[dict[str, Any]]]:
    """Up to ``MAX_REASONS`` phrases for each row, the largest push first."""
    floor = LEARNED_FLOOR if learned else RULES_FLOOR
    codes = list(GROUPS)
    pushes = np.column_stack(
        [parts[:, [COLUMN[name] for name in GROUPS[code]]].sum(axis=1) for code in codes]
    )
    order = np.argsort(-pushes, axis=1, kind="stable")
    said: list[list[dict[str, Any]]] = []
    for n, row in enumerate(signals.values):
        reasons: list[dict[str, Any]] = []
        for g in order[n]:
            if pushes[n, g] < floor or len(reasons) == MAX_REASONS:
                break
            params = _params(codes[g], row, signals.promo_days[n])
            if params is not None:
                reasons.append({"code": codes[g], "params": params})
        said.append(reasons)
    return said
