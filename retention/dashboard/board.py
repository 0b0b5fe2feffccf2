"""What the dashboard shows: figures for a period and filters, and the tables behind its charts.

Figures come from DailyFigure rows when they hold the slice asked for (the whole desk, or one
filter other than an agent), otherwise from CaseOutcome rows (an agent, or two filters at once).
Either way it is one aggregate query per table; retention.figures explains the rows.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Q, QuerySet, Sum
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from offers.models import OfferKind
from retention.dashboard import figures
from retention.models import (
    CancellationCase,
    CancellationReason,
    CaseOutcome,
    DailyFigure,
    LoyaltySnapshot,
    OutreachCampaign,
    OutreachMessage,
    Team,
    User,
)
from subscribers.models import Subscriber

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
# Months of retained revenue that "net retained revenue" counts against the concessions.
NET_MONTHS = 12


# --- Filters -----------------------------------------------------------------------------------


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


# --- Figures -----------------------------------------------------------------------------------


def _ratio(part: float | Decimal, whole: float | Decimal) -> float | None:
    return None if not whole else float(part) / float(whole)


@dataclass
class Figures:
    """The measures of a slice (see retention.figures.MEASURES) and what is worked out of them."""

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
        return _ratio(self.saved, self.closed)

    @property
    def cost_per_save(self) -> Decimal | None:
        return (self.concession_cost / self.saved).quantize(Decimal("0.01")) if self.saved else None

    @property
    def net_retained(self) -> Decimal:
        """A year of the retained monthly revenue, less what the concessions cost."""
        return self.retained_revenue * NET_MONTHS - self.concession_cost

    @property
    def first_contact_average(self) -> float | None:
        return _ratio(self.first_contact_seconds, self.contacted)

    @property
    def sla_rate(self) -> float | None:
        return _ratio(self.sla_met, self.closed)

    @property
    def never_contacted(self) -> int:
        return self.closed - self.contacted

    @property
    def fc_later(self) -> int:
        return self.contacted - self.fc_15m - self.fc_1h - self.fc_4h - self.fc_1d

    @property
    def auto_rate(self) -> float | None:
        return _ratio(self.auto_processed, self.closed)

    @property
    def port_out_recontact_rate(self) -> float | None:
        return _ratio(self.port_outs_recontacted, self.port_outs)

    @property
    def rechurn_90_rate(self) -> float | None:
        return _ratio(self.rechurned_90, self.saved)

    @property
    def rechurn_after_discount_rate(self) -> float | None:
        return _ratio(self.rechurned_after_discount, self.discount_saves)


@dataclass
class Row:
    key: str
    label: str
    figures: Figures
    link: dict[str, str] = field(default_factory=dict)  # filters that select this row's cases
    page: str = ""  # a page of its own (an agent's figures)


def _outcomes(filters: Filters) -> QuerySet[CaseOutcome]:
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
            for r in _outcomes(filters)
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


def period_label(start: date, end: date, grain: str) -> str:
    from django.utils.formats import date_format

    if grain == "month":
        return date_format(start, "YEAR_MONTH_FORMAT")
    if grain == "week" and end != start:
        return f"{date_format(start, 'SHORT_DATE_FORMAT')}–{date_format(end, 'SHORT_DATE_FORMAT')}"
    return date_format(start, "SHORT_DATE_FORMAT")


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
            _outcomes(filters).values(column).annotate(**figures.measure_aggregates()).order_by()
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


# --- Drill-down ----------------------------------------------------------------------------

# What a click on a figure asks for: the outcomes behind it.
WHAT = {
    "closed": (_("Closed cases"), Q()),
    "saved": (_("Saved"), Q(status=CancellationCase.Status.SAVED)),
    "cancelled": (_("Cancelled"), Q(status=CancellationCase.Status.CANCELLED)),
    "withdrawn": (_("Withdrawn"), Q(status=CancellationCase.Status.WITHDRAWN)),
    "auto": (_("Processed at the deadline"), Q(auto_processed=True)),
    "sla_missed": (_("First contact late or never"), Q(sla_met=False)),
    "never_contacted": (_("Never contacted"), Q(first_contact_seconds__isnull=True)),
    "refused": (_("With contacts refused by the policy"), Q(refused_contacts__gt=0)),
    "port_out_recontacted": (
        _("Port-outs contacted more than once"),
        Q(channel=CancellationCase.Channel.PORT_OUT, outbound_contacts__gt=1),
    ),
    "rechurned_90": (_("Saved, then cancelled within 90 days"), Q(rechurned_90=True)),
    "rechurned_after_discount": (
        _("Saved, then cancelled within 60 days after the discount"),
        Q(rechurned_after_discount=True),
    ),
}
PAGE_SIZE = 50


def drill_outcomes(filters: Filters, what: str) -> QuerySet[CaseOutcome]:
    return (
        _outcomes(filters)
        .filter(WHAT[what][1])
        .select_related("case__subscriber", "agent", "reason", "team")
        .order_by("-closed_on", "-case_id")
    )


def drill_page(
    filters: Filters, what: str, after: tuple[date, int] | None
) -> tuple[list[CaseOutcome], tuple[date, int] | None]:
    """A page of the outcomes behind a figure, newest first, and the key of the next page."""
    qs = drill_outcomes(filters, what)
    if after is not None:
        day, case_id = after
        qs = qs.filter(Q(closed_on__lt=day) | Q(closed_on=day, case_id__lt=case_id))
    page = list(qs[: PAGE_SIZE + 1])
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    return page, ((page[-1].closed_on, page[-1].case_id) if more else None)


# --- Loyalty and outreach ------------------------------------------------------------------


@dataclass
class LoyaltyRow:
    key: str
    label: str
    active: int
    overpaying: int
    overpayment: Decimal

    @property
    def share(self) -> float | None:
        return _ratio(self.overpaying, self.active)


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
        return _ratio(self.overpaying, self.active)


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


@dataclass
class CampaignFigures:
    campaign: OutreachCampaign
    matched: int = 0
    sent: int = 0
    deferred: int = 0
    skipped: int = 0
    failed: int = 0
    responded: int = 0
    accepted: int = 0

    @property
    def send_rate(self) -> float | None:
        return _ratio(self.sent, self.matched)

    @property
    def response_rate(self) -> float | None:
        return _ratio(self.responded, self.sent)

    @property
    def acceptance_rate(self) -> float | None:
        return _ratio(self.accepted, self.sent)


def campaigns(filters: Filters, *, limit: int = 20) -> list[CampaignFigures]:
    """Campaigns launched up to the period's end that were running in it, newest first, with
    their messages counted by state (index only) and the answers: three queries."""
    launched = list(
        OutreachCampaign.objects.filter(launched_at__isnull=False)
        .filter(launched_at__date__lte=filters.end)
        .order_by("-launched_at")[:limit]
    )
    out = {c.pk: CampaignFigures(campaign=c) for c in launched}
    State = OutreachMessage.State
    for row in (
        OutreachMessage.objects.filter(campaign__in=list(out))
        .values("campaign_id", "state")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        found = out[row["campaign_id"]]
        found.matched += row["n"]
        if row["state"] in (State.SENT, State.RESPONDED):
            found.sent += row["n"]
        if row["state"] == State.RESPONDED:
            found.responded += row["n"]
        elif row["state"] in (State.DEFERRED, State.PENDING, State.SENDING):
            found.deferred += row["n"]
        elif row["state"] == State.SKIPPED:
            found.skipped += row["n"]
        elif row["state"] == State.FAILED:
            found.failed += row["n"]
    for answered in (
        OutreachMessage.objects.filter(
            campaign__in=list(out),
            state=State.RESPONDED,
            response=OutreachMessage.Response.ACCEPTED,
        )
        .values("campaign_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        out[answered["campaign_id"]].accepted = answered["n"]
    return list(out.values())


# --- Agents --------------------------------------------------------------------------------


@dataclass
class AgentComparison:
    agent: User
    mine: list[Row]
    team: list[Row] | None
    team_agents: int

    @property
    def my_total(self) -> Figures:
        return total(self.mine)

    @property
    def team_total(self) -> Figures | None:
        return total(self.team) if self.team is not None else None


def only(filters: Filters, **chosen: Any) -> Filters:
    """The same period with only the ``chosen`` filters."""
    blank: dict[str, Any] = {name: None for name in ("team", "agent", "reason")}
    blank.update({name: "" for name in ("channel", "offer_kind", "segment", "region")})
    return replace(filters, **{**blank, **chosen})


def agent_comparison(agent: User, filters: Filters) -> AgentComparison:
    """An agent's figures per period and their team's: three queries, one without a team."""
    mine = series(only(filters, agent=agent.pk))
    team_rows = None
    team_agents = 0
    if agent.team_id:
        team_filters = only(filters, team=agent.team_id)
        team_rows = series(team_filters)
        team_agents = (
            DailyFigure.objects.filter(
                scope=figures.scope_key("team", agent.team_id),
                dimension="agent",
                day__gte=filters.start,
                day__lte=filters.end,
                closed__gt=0,
            )
            .exclude(key="")
            .values("key")
            .distinct()
            .count()
        )
    return AgentComparison(agent=agent, mine=mine, team=team_rows, team_agents=team_agents)


# --- Tables: one definition serves the page and the CSV --------------------------------------


@dataclass(frozen=True)
class Column:
    label: Any
    value: Callable[[Any], Any]
    kind: str = "count"  # count, percent, money, seconds, text
    what: str = ""  # the drill-down a click on the number opens


@dataclass
class Table:
    name: str
    caption: Any
    columns: list[Column]
    rows: list[Any]
    # The drill-down behind a number, if it has one, and where the table is a CSV file.
    url: Callable[[Any, Column], str | None] | None = None
    csv_url: str = ""

    def cells(self) -> Iterator[tuple[Any, list[tuple[Column, Any, str | None]]]]:
        for row in self.rows:
            yield (
                row,
                [
                    (c, value, self.url(row, c) if self.url and value else None)
                    for c in self.columns
                    for value in [c.value(row)]
                ],
            )


def _f(name: str) -> Callable[[Row], Any]:
    return lambda row: getattr(row.figures, name)


def saves_columns(first: Any, *, money: bool = True) -> list[Column]:
    columns = [
        Column(first, lambda row: row.label, "text"),
        Column(_("Closed"), _f("closed"), what="closed"),
        Column(_("Saved"), _f("saved"), what="saved"),
        Column(_("Cancelled"), _f("cancelled"), what="cancelled"),
        Column(_("Save rate"), _f("save_rate"), "percent"),
    ]
    if money:
        columns += [
            Column(_("Retained monthly revenue"), _f("retained_revenue"), "money"),
            Column(_("Cost of concessions"), _f("concession_cost"), "money"),
            Column(_("Cost per save"), _f("cost_per_save"), "money"),
            Column(_("Net retained revenue (a year)"), _f("net_retained"), "money"),
        ]
    return columns


def fairness_columns(first: Any) -> list[Column]:
    return [
        Column(first, lambda row: row.label, "text"),
        Column(_("Closed"), _f("closed"), what="closed"),
        Column(_("Average time to first contact"), _f("first_contact_average"), "seconds"),
        Column(_("First contact in time"), _f("sla_rate"), "percent"),
        Column(_("Never contacted"), _f("never_contacted"), what="never_contacted"),
        Column(_("Processed at the deadline"), _f("auto_processed"), what="auto"),
        Column(_("Contacts refused by the policy"), _f("refused_contacts"), what="refused"),
        Column(_("Port-outs"), _f("port_outs")),
        Column(
            _("Port-outs contacted more than once"),
            _f("port_outs_recontacted"),
            what="port_out_recontacted",
        ),
    ]


def quality_columns(first: Any) -> list[Column]:
    return [
        Column(first, lambda row: row.label, "text"),
        Column(_("Saved"), _f("saved"), what="saved"),
        Column(_("Cancelled within 90 days"), _f("rechurned_90"), what="rechurned_90"),
        Column(_("Share within 90 days"), _f("rechurn_90_rate"), "percent"),
        Column(_("Saves with a discount"), _f("discount_saves")),
        Column(
            _("Cancelled within 60 days after the discount"),
            _f("rechurned_after_discount"),
            what="rechurned_after_discount",
        ),
        Column(_("Share after the discount"), _f("rechurn_after_discount_rate"), "percent"),
    ]


def first_contact_rows(whole: Figures) -> list[tuple[Any, int]]:
    return [
        (_("Within 15 minutes"), whole.fc_15m),
        (_("15 minutes to 1 hour"), whole.fc_1h),
        (_("1 to 4 hours"), whole.fc_4h),
        (_("4 hours to 1 day"), whole.fc_1d),
        (_("Over a day"), whole.fc_later),
        (pgettext_lazy("first contact", "Never"), whole.never_contacted),
    ]


def first_contact_table(whole: Figures) -> Table:
    closed = whole.closed
    return Table(
        "first-contact",
        _("Time to first contact"),
        [
            Column(_("Time to first contact"), lambda r: r[0], "text"),
            Column(_("Cases"), lambda r: r[1]),
            Column(_("Share"), lambda r: _ratio(r[1], closed), "percent"),
        ],
        first_contact_rows(whole),
    )


def loyalty_table(found: Loyalty) -> Table:
    return Table(
        "loyalty",
        _("Paying above the new-customer price"),
        [
            Column(_("Segment"), lambda r: r.label, "text"),
            Column(_("Active subscribers"), lambda r: r.active),
            Column(_("Paying above the new-customer price"), lambda r: r.overpaying),
            Column(_("Share"), lambda r: r.share, "percent"),
            Column(_("Monthly overpayment"), lambda r: r.overpayment, "money"),
        ],
        found.rows,
    )


def campaigns_table(found: list[CampaignFigures]) -> Table:
    return Table(
        "campaigns",
        _("Outreach campaigns"),
        [
            Column(_("Campaign"), lambda c: c.campaign.name, "text"),
            Column(_("Matched"), lambda c: c.matched),
            Column(_("Sent"), lambda c: c.sent),
            Column(_("Send rate"), lambda c: c.send_rate, "percent"),
            Column(_("Responded"), lambda c: c.responded),
            Column(_("Response rate"), lambda c: c.response_rate, "percent"),
            Column(_("Accepted"), lambda c: c.accepted),
            Column(_("Acceptance rate"), lambda c: c.acceptance_rate, "percent"),
        ],
        found,
    )


def dashboard_url(name: str = "dashboard", **params: str) -> str:
    url = reverse(name)
    return f"{url}?{urlencode(params)}" if params else url


# --- The board: what one dashboard request reads, each at most once --------------------------


def percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _money(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


class Board:
    """The dashboard for one set of filters. Each read happens on first use, so a CSV of one
    table runs only that table's query."""

    TABLES = (
        "periods",
        "breakdown",
        "fairness",
        "first-contact",
        "quality-offer",
        "quality-agent",
        "loyalty",
        "campaigns",
    )

    def __init__(self, filters: Filters) -> None:
        self.filters = filters
        self._cache: dict[str, Any] = {}

    def _once(self, name: str, read: Callable[[], Any]) -> Any:
        if name not in self._cache:
            self._cache[name] = read()
        return self._cache[name]

    @property
    def periods(self) -> list[Row]:
        return self._once("periods", lambda: series(self.filters))

    @property
    def whole(self) -> Figures:
        return self._once("whole", lambda: total(self.periods))

    def by(self, dimension: str) -> list[Row]:
        return self._once(f"by:{dimension}", lambda: breakdown(self.filters, dimension))

    def with_saves(self, dimension: str) -> list[Row]:
        """The breakdown's rows that saved someone: save quality is about them."""
        return [r for r in self.by(dimension) if r.figures.saved]

    @property
    def loyalty(self) -> Loyalty:
        return self._once("loyalty", lambda: loyalty(self.filters))

    @property
    def campaigns(self) -> list[CampaignFigures]:
        return self._once("campaigns", lambda: campaigns(self.filters))

    @property
    def drills(self) -> dict[str, str]:
        """The drill-down of each kind of figure, for the period's tiles."""
        return self._once("drills", lambda: {what: self.drill_url(what) for what in WHAT})

    def drill_url(self, what: str, **link: str) -> str:
        return dashboard_url("dashboard_cases", **self.filters.params(**link, what=what))

    # Tables ------------------------------------------------------------------------------

    def table(self, name: str) -> Table:
        grain = GRAINS[self.filters.grain]
        dimension = DIMENSION_LABELS[self.filters.by]
        builders: dict[str, Callable[[], Table]] = {
            "periods": lambda: Table(
                "periods", _("Saves over time"), saves_columns(grain), self.periods
            ),
            "breakdown": lambda: Table(
                "breakdown",
                _("Saves by %(dimension)s") % {"dimension": str(dimension).lower()},
                [
                    *saves_columns(dimension),
                    Column(_("First contact in time"), _f("sla_rate"), "percent"),
                    Column(_("Processed at the deadline"), _f("auto_processed"), what="auto"),
                ],
                self.by(self.filters.by),
            ),
            "fairness": lambda: Table(
                "fairness", _("Speed and fairness over time"), fairness_columns(grain), self.periods
            ),
            "first-contact": lambda: first_contact_table(self.whole),
            "quality-offer": lambda: Table(
                "quality-offer",
                _("Save quality by offer kind"),
                quality_columns(DIMENSION_LABELS["offer_kind"]),
                self.with_saves("offer_kind"),
            ),
            "quality-agent": lambda: Table(
                "quality-agent",
                _("Save quality by agent"),
                quality_columns(DIMENSION_LABELS["agent"]),
                self.with_saves("agent"),
            ),
            "loyalty": lambda: loyalty_table(self.loyalty),
            "campaigns": lambda: campaigns_table(self.campaigns),
        }
        table = builders[name]()
        table.url = self.cell_url
        table.csv_url = f"{reverse('dashboard_export', args=[name])}?{self.filters.query()}"
        return table

    def cell_url(self, row: Any, column: Column) -> str | None:
        """The drill-down behind a number: its row's filters and the column's cases."""
        if not column.what or not isinstance(row, Row) or not row.link:
            return None
        return self.drill_url(column.what, **row.link)

    # Charts ------------------------------------------------------------------------------

    def charts(self) -> dict[str, dict[str, Any]]:
        charts = self._charts()
        for chart in charts.values():
            chart["empty_text"] = str(_("No data"))
        return charts

    def _charts(self) -> dict[str, dict[str, Any]]:
        periods = self.periods
        labels = [r.label for r in periods]
        by_rows = self.by(self.filters.by)[:20]
        quality = self.with_saves("offer_kind")
        whole = self.whole
        return {
            "saves": {
                "type": "bar",
                "stacked": True,
                "labels": labels,
                "datasets": [
                    {"label": str(_("Saved")), "data": [r.figures.saved for r in periods]},
                    {
                        "label": str(_("Cancelled")),
                        "data": [r.figures.cancelled for r in periods],
                    },
                    {
                        "label": str(_("Save rate")),
                        "data": [percent(r.figures.save_rate) for r in periods],
                        "axis": "percent",
                        "kind": "line",
                    },
                ],
                "links": [self.drill_url("saved", **r.link) for r in periods],
            },
            "money": {
                "type": "bar",
                "labels": labels,
                "datasets": [
                    {
                        "label": str(_("Retained monthly revenue")),
                        "data": [_money(r.figures.retained_revenue) for r in periods],
                        "axis": "money",
                    },
                    {
                        "label": str(_("Cost of concessions")),
                        "data": [_money(r.figures.concession_cost) for r in periods],
                        "axis": "money",
                    },
                ],
                "links": [self.drill_url("saved", **r.link) for r in periods],
            },
            "breakdown": {
                "type": "bar",
                "horizontal": True,
                "labels": [r.label for r in by_rows],
                "datasets": [
                    {
                        "label": str(_("Save rate")),
                        "data": [percent(r.figures.save_rate) for r in by_rows],
                        "axis": "percent",
                    }
                ],
                "links": [self.drill_url("saved", **r.link) if r.link else "" for r in by_rows],
            },
            "first_contact": {
                "type": "bar",
                "labels": [str(label) for label, _n in first_contact_rows(whole)],
                "datasets": [
                    {
                        "label": str(_("Cases")),
                        "data": [n for _label, n in first_contact_rows(whole)],
                    }
                ],
            },
            "fairness": {
                "type": "bar",
                "labels": labels,
                "datasets": [
                    {
                        "label": str(_("Processed at the deadline")),
                        "data": [r.figures.auto_processed for r in periods],
                    },
                    {
                        "label": str(_("Port-outs contacted more than once")),
                        "data": [r.figures.port_outs_recontacted for r in periods],
                    },
                    {
                        "label": str(_("First contact in time")),
                        "data": [percent(r.figures.sla_rate) for r in periods],
                        "axis": "percent",
                        "kind": "line",
                    },
                ],
                "links": [self.drill_url("auto", **r.link) for r in periods],
            },
            "quality": {
                "type": "bar",
                "horizontal": True,
                "labels": [r.label for r in quality],
                "datasets": [
                    {
                        "label": str(_("Cancelled within 90 days")),
                        "data": [percent(r.figures.rechurn_90_rate) for r in quality],
                        "axis": "percent",
                    },
                    {
                        "label": str(_("Cancelled within 60 days after the discount")),
                        "data": [percent(r.figures.rechurn_after_discount_rate) for r in quality],
                        "axis": "percent",
                    },
                ],
                "links": [self.drill_url("rechurned_90", **r.link) for r in quality],
            },
            "loyalty": {
                "type": "bar",
                "labels": [r.label for r in self.loyalty.rows],
                "datasets": [
                    {
                        "label": str(_("Paying above the new-customer price")),
                        "data": [r.overpaying for r in self.loyalty.rows],
                    },
                    {
                        "label": str(_("Share")),
                        "data": [percent(r.share) for r in self.loyalty.rows],
                        "axis": "percent",
                        "kind": "line",
                    },
                ],
            },
            "campaigns": {
                "type": "bar",
                "labels": [c.campaign.name for c in self.campaigns],
                "datasets": [
                    {
                        "label": str(label),
                        "data": [percent(getattr(c, attr)) for c in self.campaigns],
                        "axis": "percent",
                    }
                    for label, attr in (
                        (_("Send rate"), "send_rate"),
                        (_("Response rate"), "response_rate"),
                        (_("Acceptance rate"), "acceptance_rate"),
                    )
                ],
            },
        }
