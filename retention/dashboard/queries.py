"""The figures of a period: over time (``series``), per reason, channel, agent… (``breakdown``),
and in total.

Figures come from DailyFigure rows when they hold the slice asked for (the whole desk, or one
filter other than an agent), otherwise from CaseOutcome rows (an agent, or two filters at once).
Either way it is one aggregate query per table; retention.dashboard.figures explains the rows.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from offers.models import OfferKind
from retention.dashboard import figures
from retention.dashboard.filters import Filters, bucket, bucket_end, buckets, period_label
from retention.models import (
    CancellationCase,
    CancellationReason,
    CaseOutcome,
    DailyFigure,
    Team,
    User,
)
from subscribers.models import Subscriber

# Months of retained revenue that "net retained revenue" counts against the concessions.
NET_MONTHS = 12


def ratio(part: float | Decimal, whole: float | Decimal) -> float | None:
    return None if not whole else float(part) / float(whole)


def percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


@dataclass
class Figures:
    """The measures of a slice (see retention.dashboard.figures.MEASURES) and what is worked
    out of them."""

    closed: int = 0
    saved: int = 0
    cancelled: int = 0
    withdrawn: int = 0
    auto_processed: int = 0
    retained_revenue: Decimal = Decimal(0)
    concession_cost: Decimal = Decimal(0)
    contacted: int = 0
    first_contact_seconds: int = 0
    sla_met: int = 0
    fc_15m: int = 0
    fc_1h: int = 0
    fc_4h: int = 0
    fc_1d: int = 0
    refused_contacts: int = 0
    port_outs: int = 0
    port_outs_recontacted: int = 0
    rechurned_90: int = 0
    discount_saves: int = 0
    rechurned_after_discount: int = 0

    @classmethod
    def of(cls, row: Mapping[str, Any], prefix: str = "") -> "Figures":
        """From a DailyFigure sum, or from a CaseOutcome aggregate with
        ``prefix=figures.AGGREGATE_PREFIX``."""
        values: dict[str, Any] = {name: row[f"{prefix}{name}"] or 0 for name in figures.MEASURES}
        return cls(**values)

    def add(self, other: "Figures") -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def save_rate(self) -> float | None:
        return ratio(self.saved, self.closed)

    @property
    def cost_per_save(self) -> Decimal | None:
        return (self.concession_cost / self.saved).quantize(Decimal("0.01")) if self.saved else None

    @property
    def net_retained(self) -> Decimal:
        """A year of the retained monthly revenue, less what the concessions cost."""
        return self.retained_revenue * NET_MONTHS - self.concession_cost

    @property
    def first_contact_average(self) -> float | None:
        return ratio(self.first_contact_seconds, self.contacted)

    @property
    def sla_rate(self) -> float | None:
        return ratio(self.sla_met, self.closed)

    @property
    def never_contacted(self) -> int:
        return self.closed - self.contacted

    @property
    def fc_later(self) -> int:
        return self.contacted - self.fc_15m - self.fc_1h - self.fc_4h - self.fc_1d

    @property
    def auto_rate(self) -> float | None:
        return ratio(self.auto_processed, self.closed)

    @property
    def port_out_recontact_rate(self) -> float | None:
        return ratio(self.port_outs_recontacted, self.port_outs)

    @property
    def rechurn_90_rate(self) -> float | None:
        return ratio(self.rechurned_90, self.saved)

    @property
    def rechurn_after_discount_rate(self) -> float | None:
        return ratio(self.rechurned_after_discount, self.discount_saves)


@dataclass
class Row:
    key: str
    label: str
    figures: Figures
    link: dict[str, str] = field(default_factory=dict)  # filters that select this row's cases
    page: str = ""  # a page of its own (an agent's figures)


def first_contact_rows(whole: Figures) -> list[tuple[Any, int]]:
    """How long the cases waited for their first contact, in buckets: (label, cases)."""
    return [
        (_("Within 15 minutes"), whole.fc_15m),
        (_("15 minutes to 1 hour"), whole.fc_1h),
        (_("1 to 4 hours"), whole.fc_4h),
        (_("4 hours to 1 day"), whole.fc_1d),
        (_("Over a day"), whole.fc_later),
        (pgettext_lazy("first contact", "Never"), whole.never_contacted),
    ]


def outcomes(filters: Filters) -> QuerySet[CaseOutcome]:
    """The outcomes of the cases closed in the period, within the filters."""
    qs = CaseOutcome.objects.filter(closed_on__gte=filters.start, closed_on__lte=filters.end)
    for name, value in filters.chosen().items():
        qs = qs.filter(**{figures.DIMENSIONS[name]: value})
    return qs


def _rollup(filters: Filters, dimension: str) -> QuerySet[DailyFigure] | None:
    scope = filters.scope()
    if scope is None:
        return None
    if dimension == "agent" and scope.split(":")[0] not in figures.AGENT_SCOPES:
        return None
    return DailyFigure.objects.filter(
        scope=scope, dimension=dimension, day__gte=filters.start, day__lte=filters.end
    )


def source_of(filters: Filters, dimension: str = "") -> str:
    """Which rows answer: "daily" or "outcomes" (the bench and the tests report it)."""
    return "daily" if _rollup(filters, dimension) is not None else "outcomes"


def series(filters: Filters) -> list[Row]:
    """One row per day, week or month of the period, empty ones included: one query."""
    rollup = _rollup(filters, "")
    if rollup is not None:
        rows: Iterable[tuple[date, Figures]] = (
            (r["day"], Figures.of(r)) for r in rollup.values("day", *figures.MEASURES).order_by()
        )
    else:
        rows = (
            (r["closed_on"], Figures.of(r, figures.AGGREGATE_PREFIX))
            for r in outcomes(filters)
            .values("closed_on")
            .annotate(**figures.measure_aggregates())
            .order_by()
        )
    by_bucket = {start: Figures() for start in buckets(filters)}
    for day, found in rows:
        by_bucket[bucket(day, filters.grain)].add(found)
    out = []
    for start, figs in by_bucket.items():
        end = bucket_end(start, filters.grain, filters.end)
        first = max(start, filters.start)
        out.append(
            Row(
                key=first.isoformat(),
                label=period_label(first, end, filters.grain),
                figures=figs,
                link={"period": "custom", "start": first.isoformat(), "end": end.isoformat()},
            )
        )
    return out


def total(rows: Iterable[Row]) -> Figures:
    whole = Figures()
    for row in rows:
        whole.add(row.figures)
    return whole


def breakdown(filters: Filters, dimension: str) -> list[Row]:
    """The period's figures per reason, channel, agent…, busiest first: one query, and one for
    the names when the keys are ids."""
    rollup = _rollup(filters, dimension)
    if rollup is not None:
        values: list[Any] = list(rollup.values("key").annotate(**figures.rollup_sums()).order_by())
        pairs = [(v["key"], Figures.of(v)) for v in values]
    else:
        column = figures.DIMENSIONS[dimension]
        values = list(
            outcomes(filters).values(column).annotate(**figures.measure_aggregates()).order_by()
        )
        pairs = [
            ("" if v[column] is None else str(v[column]), Figures.of(v, figures.AGGREGATE_PREFIX))
            for v in values
        ]
    names = key_labels(dimension, [key for key, _ in pairs])
    rows = [
        Row(
            key=key,
            label=names.get(key, key),
            figures=found,
            link={dimension: key} if key else {},
            page=reverse("agent_figures", args=[key]) if dimension == "agent" and key else "",
        )
        for key, found in pairs
    ]
    rows.sort(key=lambda r: (-r.figures.closed, r.label))
    return rows


def key_labels(dimension: str, keys: Iterable[str]) -> dict[str, str]:
    ids = [int(k) for k in keys if k.isdigit()]
    names: dict[str, str] = {}
    if dimension == "reason":
        names = {str(r.pk): r.label for r in CancellationReason.objects.filter(pk__in=ids)}
        names[""] = str(_("No reason recorded"))
    elif dimension == "agent":
        names = {
            str(u.pk): u.get_full_name() or u.username
            for u in User.objects.filter(pk__in=ids).only("first_name", "last_name", "username")
        }
        names[""] = str(_("Nobody (processed at the deadline)"))
    elif dimension == "team":
        names = {str(t.pk): t.name for t in Team.objects.filter(pk__in=ids)}
        names[""] = str(_("No team"))
    elif dimension == "channel":
        names = {str(k): str(v) for k, v in CancellationCase.Channel.choices}
    elif dimension == "offer_kind":
        names = {str(k): str(v) for k, v in OfferKind.choices}
        names[""] = str(_("No offer accepted"))
    elif dimension == "segment":
        names = {str(k): str(v) for k, v in Subscriber.Segment.choices}
    elif dimension == "region":
        names = {"": str(_("Unknown"))}
    return names


def computed_at(filters: Filters) -> Any:
    """When the figures were last computed (the newest day's rows)."""
    return (
        DailyFigure.objects.filter(scope="", dimension="", day__lte=filters.end)
        .order_by("-day")
        .values_list("computed_at", flat=True)
        .first()
    )
