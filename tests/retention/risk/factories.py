"""Churn-risk model versions as training stores them, built directly for the pages' tests (the
training itself is tested with retention.risk.services)."""

from datetime import UTC, date, datetime
from typing import Any

from retention.models import RiskModel

# A learned version: coefficients on standardised signals (a port-out pushes hardest, tenure
# pulls the other way), and its calibration by decile of the held-out rows.
LEARNED_WEIGHTS: dict[str, Any] = {
    "features": ["port_out_90d", "outages_30d", "tenure_years", "misfit_eur", "usage_known"],
    "coef": [1.25, 0.6, -0.45, 0.2, 0.0],
    "intercept": -2.9,
    "mean": [0.01, 0.4, 5.2, 3.1, 0.8],
    "scale": [0.1, 0.9, 3.3, 5.0, 0.4],
    "iso_x": [0.0, 0.5, 1.0],
    "iso_y": [0.0, 0.4, 1.0],
}
CALIBRATION = [
    {"predicted": round(0.01 + 0.02 * n, 3), "observed": round(0.012 + 0.019 * n, 3), "rows": 480}
    for n in range(10)
]
# The rules as retention.risk.rules stores them (three of them).
RULES_WEIGHTS: dict[str, Any] = {
    "features": ["outages_30d", "port_out_90d", "tenure_years"],
    "points": [8, 40, 8],
    "caps": [24, 40, 8],
    "base": [3.0],
}


def risk_model(version: int = 1, **fields: Any) -> RiskModel:
    """A learned version with held-out figures (``kind="rules"`` and ``weights`` for others);
    the active one unless ``is_active=False`` (any other active version is retired first)."""
    values: dict[str, Any] = {
        "version": version,
        "kind": RiskModel.Kind.LEARNED,
        "is_active": True,
        "trained_at": datetime(2026, 12, version, 2, 30, tzinfo=UTC),
        "seconds": 12.5,
        "train_from": date(2026, 3, 1),
        "train_to": date(2026, 8, 31),
        "test_from": date(2026, 9, 1),
        "test_to": date(2026, 10, 1),
        "rows_train": 24000,
        "positives_train": 1200,
        "rows_test": 4800,
        "positives_test": 240,
        "auc": 0.781,
        "precision_top10": 0.225,
        "rules_auc": 0.702,
        "rules_precision_top10": 0.15,
        "calibration": CALIBRATION,
        "weights": LEARNED_WEIGHTS,
        "note": {},
    }
    values.update(fields)
    if values["is_active"]:
        RiskModel.objects.filter(is_active=True).update(is_active=False)
    return RiskModel.objects.create(**values)


def rules_model(version: int = 1, **fields: Any) -> RiskModel:
    """A rule-based version, made because the history was too short to learn from."""
    values: dict[str, Any] = {
        "kind": RiskModel.Kind.RULES,
        "rows_train": 300,
        "positives_train": 4,
        "rows_test": 0,
        "positives_test": 0,
        "auc": None,
        "precision_top10": None,
        "rules_auc": None,
        "rules_precision_top10": None,
        "calibration": [],
        "weights": RULES_WEIGHTS,
        "note": {},
    }
    values.update(fields)
    return risk_model(version, **values)
