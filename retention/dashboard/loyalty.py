"""Loyalty: how many active subscribers pay above the new-customer price, and how much more,
from the latest nightly count (LoyaltySnapshot)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from retention.dashboard.filters import Filters
from retention.dashboard.queries import key_labels, ratio
from retention.models import LoyaltySnapshot


@dataclass
class LoyaltyRow:
    key: str
    label: str
    active: int
    overpaying: int
    overpayment: Decimal

    @property
    def share(self) -> float | None:
        return ratio(self.overpaying, self.active)


@dataclass
class Loyalty:
    day: date | None
    rows: list[LoyaltyRow]

    @property
    def active(self) -> int:
        return sum(r.active for r in self.rows)

    @property
    def overpaying(self) -> int:
        return sum(r.overpaying for r in self.rows)

    @property
    def overpayment(self) -> Decimal:
        return sum((r.overpayment for r in self.rows), Decimal(0))

    @property
    def share(self) -> float | None:
        return ratio(self.overpaying, self.active)


def loyalty(filters: Filters) -> Loyalty:
    """The latest count on or before the period's end, by segment, within the filters'
    segment and region: one query."""
    latest = LoyaltySnapshot.objects.filter(day__lte=filters.end).order_by("-day").values("day")[:1]
    qs = LoyaltySnapshot.objects.filter(day=latest)
    if filters.segment:
        qs = qs.filter(segment=filters.segment)
    if filters.region:
        qs = qs.filter(region=filters.region)
    values = list(
        qs.values("segment", "day")
        .annotate(active_=Sum("active"), overpaying_=Sum("overpaying"), over_=Sum("overpayment"))
        .order_by("segment")
    )
    names = key_labels("segment", [])
    return Loyalty(
        day=values[0]["day"] if values else None,
        rows=[
            LoyaltyRow(
                key=v["segment"],
                label=names.get(v["segment"], v["segment"]),
                active=v["active_"],
                overpaying=v["overpaying_"],
                overpayment=v["over_"],
            )
            for v in values
        ],
    )
