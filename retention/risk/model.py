"""The learned churn model: a regularised logistic regression on the signals, calibrated on a
later month, measured on the latest months it never saw.

Why a logistic regression and not gradient-boosted trees: each score is a sum of the signals'
contributions (coefficient times the standardised signal), so the reasons an agent reads are
exact, not an approximation laid over a black box; the coefficients are the model card's
weights; it learns stably from the few thousand cancellations a young desk has; and scoring a
million subscribers is one matrix product. With some twenty signals whose effects mostly grow
one way, trees would add little that a manager could check.

Signals are prepared (``prepare``) before fitting: counts, hours and euros through log1p (the
fifth outage matters less than the first), percentages as fractions, absent values as 0. The
raw probability is then calibrated by an isotonic regression fitted on the calibration month
(a predicted 20 % means about one in five asked to cancel).
"""

import math
from typing import Any

import numpy as np

from retention.risk.signals import FEATURES

LOG_FEATURES = frozenset(
    {
        "outages_30d",
        "outage_hours_30d",
        "outages_90d",
        "outage_hours_90d",
        "tickets_90d",
        "missed_payments_90d",
        "arrears_eur",
        "price_rises_12m",
        "price_rise_eur_12m",
        "loyalty_penalty_eur",
        "misfit_eur",
        "tenure_years",
        "earlier_requests",
        "earlier_saved",
        "port_out_90d",
        "contacts_refused_90d",
    }
)
PERCENT_FEATURES = frozenset({"loyalty_penalty_pct", "usage_decline_pct"})
# The ``*_known`` flags are not learned from (their weight is 0): in the desk's history whether
# a signal was known says more about when than about whom (usage is kept for 12 months, so the
# older months have no fit), and the model must not learn the calendar. An absent signal counts
# as 0 and is never cited as a reason.
LEARNED = [n for n, name in enumerate(FEATURES) if not name.endswith("_known")]
# Inverse strength of the L2 penalty: moderate, so that correlated signals (outages and their
# hours) share the weight rather than one taking it all.
REGULARISATION_C = 0.5


def prepare(values: np.ndarray) -> np.ndarray:
    prepared = np.nan_to_num(values, nan=0.0).copy()
    for column, name in enumerate(FEATURES):
        if name in LOG_FEATURES:
            prepared[:, column] = np.log1p(np.maximum(prepared[:, column], 0))
        elif name in PERCENT_FEATURES:
            prepared[:, column] /= 100
    return prepared


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(x, -40, 40)))


def model_fit(
    *, values: np.ndarray, labels: np.ndarray, calib_values: np.ndarray, calib_labels: np.ndarray
) -> dict[str, Any]:
    """Fit on one set of rows, calibrate on a later one; the weights a version stores."""
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression

    prepared = prepare(values)
    mean = prepared.mean(axis=0)
    scale = prepared.std(axis=0)
    scale[scale == 0] = 1.0
    regression = LogisticRegression(C=REGULARISATION_C, max_iter=2000)
    regression.fit(((prepared - mean) / scale)[:, LEARNED], labels.astype(int))
    coef = np.zeros(len(FEATURES))
    coef[LEARNED] = regression.coef_[0]
    weights: dict[str, Any] = {
        "features": list(FEATURES),
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "coef": coef.tolist(),
        "intercept": float(regression.intercept_[0]),
    }
    raw = _sigmoid(contributions(weights, calib_values).sum(axis=1) + weights["intercept"])
    isotonic = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    isotonic.fit(raw, calib_labels.astype(float))
    weights["iso_x"] = isotonic.X_thresholds_.tolist()
    weights["iso_y"] = isotonic.y_thresholds_.tolist()
    return weights


def contributions(weights: dict[str, Any], values: np.ndarray) -> np.ndarray:
    """Each signal's part of each row's log-odds, against the average subscriber of training."""
    mean, scale = np.array(weights["mean"]), np.array(weights["scale"])
    return (prepare(values) - mean) / scale * np.array(weights["coef"])


def model_predict(weights: dict[str, Any], values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Calibrated probabilities of asking to cancel within 60 days, and the contributions."""
    parts = contributions(weights, values)
    raw = _sigmoid(parts.sum(axis=1) + weights["intercept"])
    iso_x, iso_y = weights.get("iso_x") or [], weights.get("iso_y") or []
    if len(iso_x) > 1:
        return np.interp(raw, iso_x, iso_y), parts
    return raw, parts


def auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """The chance that a subscriber who asked to cancel scored above one who did not (ties
    count half); None with only one kind in the rows."""
    from sklearn.metrics import roc_auc_score

    if labels.all() or not labels.any():
        return None
    return float(roc_auc_score(labels.astype(int), scores))


def precision_top(scores: np.ndarray, labels: np.ndarray, share: float = 0.1) -> float | None:
    """Of the highest-scored ``share`` of rows, how many asked to cancel."""
    if not len(scores):
        return None
    top = max(1, math.ceil(len(scores) * share))
    # A stable sort on the negated score: ties keep the rows' order, not the labels'.
    order = np.argsort(-scores, kind="stable")[:top]
    return float(labels[order].mean())


def calibration(scores: np.ndarray, labels: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    """Predicted against observed rate, by tenths of the rows ordered by their score."""
    order = np.argsort(scores, kind="stable")
    return [
        {
            "predicted": float(scores[part].mean()),
            "observed": float(labels[part].mean()),
            "rows": len(part),
        }
        for part in np.array_split(order, bins)
        if len(part)
    ]
