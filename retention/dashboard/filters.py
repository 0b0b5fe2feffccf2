"""What the dashboard is asked for: a period, a grain, a breakdown and filters, as ``Filters``;
and the days, weeks or months ("buckets") a period is shown in."""

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from retention.dashboard import figures

GRAINS = {"day": _("Day"), "week": _("Week"), "month": _("Month")}
PERIODS = {
    "7d": (_("Last 7 days"), 7, "day"),
    "30d": (_("Last 30 days"), 30, "day"),
    "90d": (_("Last 90 days"), 90, "week"),
    "12m": (_("Last 12 months"), 365, "month"),
    "24m": (_("Last 24 months"), 730, "month"),
}
LONGEST_DAYS = 3 * 366
DIMENSION_LABELS = {
    "reason": _("Reason"),
    "channel": _("Channel"),
    "agent": _("Agent"),
    "team": _("Team"),
    "offer_kind": _("Offer kind"),
    "segment": _("Segment"),
    "region": _("Region"),
}
FILTERS = ("team", "agent", "reason", "channel", "offer_kind", "segment", "region")

# What the figures cover when the address names no period.
DEFAULT_PERIOD = "30d"


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    grain: str = "day"
    by: str = "reason"
    period: str = DEFAULT_PERIOD
    team: int | None = None
    agent: int | None = None
    reason: int | None = None
    channel: str = ""
    offer_kind: str = ""
    segment: str = ""
    region: str = ""

    def chosen(self) -> dict[str, str]:
        """The filters that are set, as query-string values."""
        return {
            name: str(value) for name in FILTERS if (value := getattr(self, name)) not in (None, "")
        }

    def scope(self) -> str | None:
        """The DailyFigure scope that holds this slice, or None when only outcomes do."""
        chosen = self.chosen()
        if not chosen:
            return ""
        if len(chosen) == 1 and "agent" not in chosen:
            ((dimension, key),) = chosen.items()
            return figures.scope_key(dimension, key)
        return None

    def params(self, **overrides: Any) -> dict[str, str]:
        values: dict[str, str] = {"grain": self.grain, "by": self.by}
        if self.period == "custom":
            values.update(period="custom", start=self.start.isoformat(), end=self.end.isoformat())
        else:
            values["period"] = self.period
        values.update(self.chosen())
        for name, value in overrides.items():
            if value is None:
                values.pop(name, None)
            else:
                values[name] = str(value)
        return values

    def query(self, **overrides: Any) -> str:
        return urlencode(self.params(**overrides))

    def days(self) -> int:
        return (self.end - self.start).days + 1


def filters_default(today: date | None = None) -> Filters:
    today = today or figures.desk_today()
    return Filters(start=today - timedelta(days=29), end=today)


def only(filters: Filters, **chosen: Any) -> Filters:
    """The same period with only the ``chosen`` filters."""
    blank: dict[str, Any] = {name: None for name in ("team", "agent", "reason")}
    blank.update({name: "" for name in ("channel", "offer_kind", "segment", "region")})
    return replace(filters, **{**blank, **chosen})


def dashboard_url(name: str = "dashboard", **params: str) -> str:
    url = reverse(name)
    return f"{url}?{urlencode(params)}" if params else url


# --- The period in buckets ----------------------------------------------------------------------


def bucket(day: date, grain: str) -> date:
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def buckets(filters: Filters) -> list[date]:
    found: list[date] = []
    day = filters.start
    while day <= filters.end:
        start = bucket(day, filters.grain)
        if not found or found[-1] != start:
            found.append(start)
        day += timedelta(days=1)
    return found


def bucket_end(start: date, grain: str, last: date) -> date:
    if grain == "week":
        end = start + timedelta(days=6)
    elif grain == "month":
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    else:
        end = start
    return min(end, last)


def period_label(start: date, end: date, grain: str) -> str:
    if grain == "month":
        return date_format(start, "YEAR_MONTH_FORMAT")
    if grain == "week" and end != start:
        return f"{date_format(start, 'SHORT_DATE_FORMAT')}–{date_format(end, 'SHORT_DATE_FORMAT')}"
    return date_format(start, "SHORT_DATE_FORMAT")
