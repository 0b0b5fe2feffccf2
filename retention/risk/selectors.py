"""What the churn-risk model card reads: the active version with its figures, the one before it,
and every version, in two queries however many versions are kept.

A version's ``weights`` and ``calibration`` are JSON written by the training of some release;
everything here reads them defensively (a missing key, a shorter list, a value that is not a
number is left out), so an old version still shows what it can.
"""

import math
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from retention.core.roles import Role, has_role
from retention.models import RiskModel, User
from retention.risk.charts import (
    CalibrationChart,
    CalibrationRow,
    calibration_chart,
    calibration_rows,
    percent_text,
)
from subscribers import phrases

# What each signal is called on the card (the names are the keys of ``weights["features"]``).
FEATURE_LABELS: dict[str, Promise] = {
    "outages_30d": gettext_lazy("Outages, last 30 days"),
    "outage_hours_30d": gettext_lazy("Outage hours, last 30 days"),
    "outages_90d": gettext_lazy("Outages, last 90 days"),
    "outage_hours_90d": gettext_lazy("Outage hours, last 90 days"),
    "tickets_90d": gettext_lazy("Support tickets, last 90 days"),
    "missed_payments_90d": gettext_lazy("Missed payments, last 90 days"),
    "arrears_eur": gettext_lazy("Arrears (€)"),
    "price_rises_12m": gettext_lazy("Price rises, last 12 months"),
    "price_rise_eur_12m": gettext_lazy("Price rises, last 12 months (€)"),
    "promo_ended_60d": gettext_lazy("Promo ended, last 60 days"),
    "promo_ends_60d": gettext_lazy("Promo ends, next 60 days"),
    "loyalty_penalty_eur": gettext_lazy("Loyalty penalty (€ a month)"),
    "loyalty_penalty_pct": gettext_lazy("Loyalty penalty (%)"),
    "misfit_eur": gettext_lazy("Tariff overpayment (€ a month)"),
    "misfit_known": gettext_lazy("Tariff fit known"),
    "tenure_years": gettext_lazy("Tenure (years)"),
    "earlier_requests": gettext_lazy("Earlier cancellation requests"),
    "earlier_saved": gettext_lazy("Earlier saves"),
    "port_out_90d": gettext_lazy("Port-out notice, last 90 days"),
    "usage_decline_pct": gettext_lazy("Usage decline (%)"),
    "usage_known": gettext_lazy("Usage trend known"),
    "contacts_refused_90d": gettext_lazy("Contacts refused, last 90 days"),
}
# The rules read some signals differently from the learned model: tenure gives points only in
# the first year.
RULE_LABELS: dict[str, Promise] = {
    "tenure_years": gettext_lazy("First year as a customer"),
}
# The weights whose change since the previous version the card lists.
CHANGED_SHOWN = 5
# What the versions list reads: not the weights and the calibration of every version.
LISTED_FIELDS = (
    "version",
    "kind",
    "is_active",
    "trained_at",
    "auc",
    "precision_top10",
    "rows_train",
    "rows_test",
)


def feature_label(name: str, *, rules: bool = False) -> str:
    """A signal as a person reads it; a name this release does not know, as it is."""
    label = (RULE_LABELS.get(name) if rules else None) or FEATURE_LABELS.get(name)
    return str(label) if label is not None else name


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _named_numbers(weights: Any, key: str) -> dict[str, float]:
    """``weights[key]`` by feature name: {name: value} for the pairs that can be read."""
    if not isinstance(weights, dict):
        return {}
    names, values = weights.get("features"), weights.get(key)
    if not isinstance(names, list) or not isinstance(values, list):
        return {}
    found = {}
    for name, value in zip(names, values, strict=False):
        number = _number(value)
        if isinstance(name, str) and number is not None:
            found[name] = number
    return found


@dataclass(frozen=True)
class Weight:
    """One signal of a version: its coefficient (learned) or its points and cap (rules)."""

    name: str
    label: str
    value: float
    cap: float | None = None

    @property
    def direction(self) -> str:
        """Which way it pushes the score: "up", "down" or "none"."""
        return "up" if self.value > 0 else "down" if self.value < 0 else "none"


def version_weights(model: RiskModel) -> list[Weight]:
    """The signals of a version, strongest first (by the size of the coefficient, or by the
    most points a rule gives)."""
    if model.kind == RiskModel.Kind.RULES:
        points = _named_numbers(model.weights, "points")
        caps = _named_numbers(model.weights, "caps")
        rules = [
            Weight(name, feature_label(name, rules=True), value, caps.get(name))
            for name, value in points.items()
        ]
        return sorted(rules, key=lambda w: (-(w.cap or w.value), -w.value, w.label))
    coefficients = _named_numbers(model.weights, "coef")
    learned = [Weight(name, feature_label(name), value) for name, value in coefficients.items()]
    return sorted(learned, key=lambda w: (-abs(w.value), w.label))


def rules_base(model: RiskModel) -> float | None:
    """The points every subscriber starts with under the rules, where the version says."""
    base = model.weights.get("base") if isinstance(model.weights, dict) else None
    if isinstance(base, list) and base:
        base = base[0]
    return _number(base)


@dataclass(frozen=True)
class WeightChange:
    label: str
    before: float | None
    after: float | None

    @property
    def change(self) -> float:
        return (self.after or 0.0) - (self.before or 0.0)


@dataclass(frozen=True)
class Change:
    """The active version against the one before it."""

    previous: RiskModel
    auc: float | None  # after - before, where both have one
    precision_top10: float | None
    comparable: bool  # the same kind: the weights mean the same thing
    weights: list[WeightChange] = field(default_factory=list)

    @property
    def precision_points(self) -> float | None:
        return _points(self.precision_top10)


def _difference(after: float | None, before: float | None) -> float | None:
    return None if after is None or before is None else after - before


def _points(rate: float | None) -> float | None:
    """A difference of two rates in percentage points."""
    return None if rate is None else rate * 100


def version_change(model: RiskModel, previous: RiskModel) -> Change:
    comparable = model.kind == previous.kind
    changes: list[WeightChange] = []
    if comparable:
        key = "points" if model.kind == RiskModel.Kind.RULES else "coef"
        before, after = _named_numbers(previous.weights, key), _named_numbers(model.weights, key)
        rules = model.kind == RiskModel.Kind.RULES
        changes = [
            WeightChange(feature_label(name, rules=rules), before.get(name), after.get(name))
            for name in dict.fromkeys([*after, *before])
        ]
        changes = sorted((c for c in changes if c.change), key=lambda c: (-abs(c.change), c.label))[
            :CHANGED_SHOWN
        ]
    return Change(
        previous=previous,
        auc=_difference(model.auc, previous.auc),
        precision_top10=_difference(model.precision_top10, previous.precision_top10),
        comparable=comparable,
        weights=changes,
    )


@dataclass(frozen=True)
class ModelCard:
    """Everything the model card shows. ``model`` is None when no version scores now."""

    model: RiskModel | None
    versions: list[RiskModel]
    previous: RiskModel | None = None
    weights: list[Weight] = field(default_factory=list)
    base: float | None = None
    calibration: list[CalibrationRow] = field(default_factory=list)
    chart: CalibrationChart | None = None
    change: Change | None = None
    note: str = ""

    @property
    def is_rules(self) -> bool:
        return self.model is not None and self.model.kind == RiskModel.Kind.RULES

    @property
    def auc(self) -> float | None:
        """The held-out AUC; a rule-based version may store it as the rules' only."""
        if self.model is None:
            return None
        if self.model.auc is None and self.is_rules:
            return self.model.rules_auc
        return self.model.auc

    @property
    def precision_top10(self) -> float | None:
        if self.model is None:
            return None
        if self.model.precision_top10 is None and self.is_rules:
            return self.model.rules_precision_top10
        return self.model.precision_top10

    @property
    def has_figures(self) -> bool:
        """Whether the version was measured on held-out months at all."""
        return self.auc is not None or self.precision_top10 is not None

    @property
    def test_rate(self) -> float | None:
        """The share of held-out rows that asked to cancel: what picking at random finds."""
        if self.model is None or not self.model.rows_test:
            return None
        return self.model.positives_test / self.model.rows_test

    @property
    def train_rate(self) -> float | None:
        if self.model is None or not self.model.rows_train:
            return None
        return self.model.positives_train / self.model.rows_train

    # What the learned model adds over the rules on the same held-out rows.
    @property
    def adds_auc(self) -> float | None:
        return None if self.model is None else _difference(self.model.auc, self.model.rules_auc)

    @property
    def adds_points(self) -> float | None:
        if self.model is None:
            return None
        return _points(_difference(self.model.precision_top10, self.model.rules_precision_top10))


def decile_said(row: CalibrationRow) -> str:
    """A decile of the calibration in words: the chart's tooltip."""
    values = {
        "decile": row.decile,
        "predicted": percent_text(row.predicted),
        "observed": percent_text(row.observed),
    }
    if row.rows is None:
        return _("Decile %(decile)s: predicted %(predicted)s, observed %(observed)s") % values
    return ngettext(
        "Decile %(decile)s: predicted %(predicted)s, observed %(observed)s (%(rows)s row)",
        "Decile %(decile)s: predicted %(predicted)s, observed %(observed)s (%(rows)s rows)",
        row.rows,
    ) % {**values, "rows": phrases.number(row.rows)}


def risk_model_card(*, user: User) -> ModelCard:
    """The card for a manager (PermissionDenied for anyone else): two queries with a model
    (every version's list fields, then the full rows of the active one and the one before it),
    one without."""
    if not has_role(user, Role.MANAGER):
        raise PermissionDenied
    versions = list(RiskModel.objects.only(*LISTED_FIELDS).order_by("-version"))
    active = next((v for v in versions if v.is_active), None)
    if active is None:
        return ModelCard(model=None, versions=versions)
    before = next((v for v in versions if v.version < active.version), None)
    wanted = [active.pk] + ([before.pk] if before else [])
    full = {m.pk: m for m in RiskModel.objects.select_related("trained_by").filter(pk__in=wanted)}
    model = full.get(active.pk)
    if model is None:  # retrained and removed between the two reads: as if never there
        return ModelCard(model=None, versions=versions)
    previous = full.get(before.pk) if before else None
    rows = calibration_rows(model.calibration)
    return ModelCard(
        model=model,
        versions=versions,
        previous=previous,
        weights=version_weights(model),
        base=rules_base(model) if model.kind == RiskModel.Kind.RULES else None,
        calibration=rows,
        chart=calibration_chart(rows, decile_said),
        change=version_change(model, previous) if previous else None,
        note=phrases.said(model.note) if model.note else "",
    )
