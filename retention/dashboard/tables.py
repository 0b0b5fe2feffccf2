"""The dashboard's tables, as django-tables2 tables: one definition serves the page (through
the desk's table template, templates/django_tables2/desk.html) and the CSV file (each column's
``value``, through retention.dashboard.export.table_csv).

No column reads the database: every table is handed rows that were read whole beforehand.
"""

from collections.abc import Callable
from typing import Any, NamedTuple

import django_tables2 as tables
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_tables2.data import TableData
from django_tables2.utils import OrderByTuple

from retention.dashboard.export import UNITS, csv_value
from retention.dashboard.queries import Figures, first_contact_rows, ratio
from retention.dashboard.tariff_fit import signed_money
from retention.templatetags.figures import figure as written

DESK_TABLE = "django_tables2/desk.html"
NUMBER = {"th": {"class": "num"}, "td": {"class": "num"}}

# The drill-down behind a number of a row, if it has one.
CellUrl = Callable[[Any, "FigureColumn"], str | None]


class Column(tables.Column):
    """A column of the desk's tables, named in a CSV file as ``export_header`` where the file
    says more than the page (a unit, say)."""

    def __init__(self, verbose_name: Any = None, *, export_header: Any = None, **kwargs: Any):
        super().__init__(verbose_name=verbose_name, **kwargs)
        self.export_header = export_header


class FigureColumn(Column):
    """A figure, written as the dashboard writes it (``kind``: count, percent, money, seconds)
    and, in a CSV file, as a number in the unit its header names. A number with cases behind it
    (``what``: a drill-down of retention.dashboard.drill.WHAT) links to them."""

    empty_values = ()  # "—" where there is nothing to divide by: figure() writes it

    def __init__(self, verbose_name: Any, *, kind: str = "count", what: str = "", **kwargs: Any):
        unit = UNITS.get(kind, "")
        export_header = format_lazy("{}{}", verbose_name, unit) if unit else None
        super().__init__(verbose_name, export_header=export_header, attrs=NUMBER, **kwargs)
        self.kind = kind
        self.what = what

    def render(self, value: Any, record: Any, table: Any) -> str:
        text = written(value, self.kind)
        url = table.cell_url(record, self) if value and self.what else None
        return format_html('<a href="{}">{}</a>', url, text) if url else text

    def value(self, value: Any) -> Any:
        return csv_value(value, self.kind)


def figure(verbose_name: Any, name: str, kind: str = "count", what: str = "") -> FigureColumn:
    """A column of a row's Figures (retention.dashboard.queries.Row)."""
    return FigureColumn(verbose_name, kind=kind, what=what, accessor=f"figures__{name}")


class LabelColumn(Column):
    """What a row counts (a day, a reason, an agent…), heading the row. A row with a page of its
    own (an agent's figures) links there, for the same period."""

    empty_values = ()

    def render(self, value: Any, record: Any, table: Any) -> str:
        page = getattr(record, "page", "")
        if page:
            return format_html('<a href="{}?{}">{}</a>', page, table.page_query, value)
        return value

    def value(self, value: Any) -> Any:
        return csv_value(value, "text")


class FigureTable(tables.Table):
    """A table of figures: its caption says what it counts and links its CSV file; its first
    column heads each row. ``first`` names that column where it depends on the filters. A
    heading sorts the rows by its column (``RequestConfig`` hands the table the request)."""

    label = LabelColumn()

    row_header = "label"
    wrapper_class = "figures-scroll"

    def __init__(
        self,
        data: Any,
        *,
        name: str,
        caption: Any,
        first: Any = None,
        cell_url: CellUrl | None = None,
        page_query: str = "",
        csv_url: str = "",
        label_order: str | None = None,
        orderable: bool = True,
    ):
        # A list of its own: sorting the table must not reorder the rows a chart draws.
        super().__init__(
            list(data),
            attrs={"class": "figures", "id": f"table-{name}"},
            template_name=DESK_TABLE,
            orderable=orderable,
            empty_text=_("Nothing in this period."),
            prefix=f"{name}-",  # each table of the page sorts by a parameter of its own
        )
        if label_order is not None:  # periods sort by their date, not by how a label reads
            self.columns["label"].column.order_by = OrderByTuple((label_order,))
        self.name = name
        self.caption = caption
        self.cell_url: CellUrl = cell_url or (lambda record, column: None)
        self.page_query = page_query
        self.csv_url = csv_url
        if first is not None:
            self.columns["label"].column.verbose_name = first


class SavesTable(FigureTable):
    closed = figure(_("Closed"), "closed", what="closed")
    saved = figure(_("Saved"), "saved", what="saved")
    cancelled = figure(_("Cancelled"), "cancelled", what="cancelled")
    save_rate = figure(_("Save rate"), "save_rate", "percent")
    retained_revenue = figure(_("Retained monthly revenue"), "retained_revenue", "money")
    concession_cost = figure(_("Cost of concessions"), "concession_cost", "money")
    cost_per_save = figure(_("Cost per save"), "cost_per_save", "money")
    net_retained = figure(_("Net retained revenue (a year)"), "net_retained", "money")


class BreakdownTable(SavesTable):
    sla_rate = figure(_("First contact in time"), "sla_rate", "percent")
    auto_processed = figure(_("Processed at the deadline"), "auto_processed", what="auto")


class FairnessTable(FigureTable):
    closed = figure(_("Closed"), "closed", what="closed")
    first_contact_average = figure(
        _("Average time to first contact"), "first_contact_average", "seconds"
    )
    sla_rate = figure(_("First contact in time"), "sla_rate", "percent")
    never_contacted = figure(_("Never contacted"), "never_contacted", what="never_contacted")
    auto_processed = figure(_("Processed at the deadline"), "auto_processed", what="auto")
    refused_contacts = figure(
        _("Contacts refused by the policy"), "refused_contacts", what="refused"
    )
    port_outs = figure(_("Port-outs"), "port_outs")
    port_outs_recontacted = figure(
        _("Port-outs contacted more than once"),
        "port_outs_recontacted",
        what="port_out_recontacted",
    )


class QualityTable(FigureTable):
    saved = figure(_("Saved"), "saved", what="saved")
    rechurned_90 = figure(_("Cancelled within 90 days"), "rechurned_90", what="rechurned_90")
    rechurn_90_rate = figure(_("Share within 90 days"), "rechurn_90_rate", "percent")
    discount_saves = figure(_("Saves with a discount"), "discount_saves")
    rechurned_after_discount = figure(
        _("Cancelled within 60 days after the discount"),
        "rechurned_after_discount",
        what="rechurned_after_discount",
    )
    rechurn_after_discount_rate = figure(
        _("Share after the discount"), "rechurn_after_discount_rate", "percent"
    )


class Bucket(NamedTuple):
    label: Any
    cases: int
    share: float | None


class FirstContactTable(FigureTable):
    cases = FigureColumn(_("Cases"))
    share = FigureColumn(_("Share"), kind="percent")

    def __init__(self, whole: Figures, **kwargs: Any):
        rows = [Bucket(label, n, ratio(n, whole.closed)) for label, n in first_contact_rows(whole)]
        # The buckets read in the order of time: sorted they would say less.
        super().__init__(rows, first=_("Time to first contact"), orderable=False, **kwargs)


class LoyaltyTable(FigureTable):
    """Rows: retention.dashboard.loyalty.LoyaltyRow."""

    active = FigureColumn(_("Active subscribers"))
    overpaying = FigureColumn(_("Paying above the new-customer price"))
    share = FigureColumn(_("Share"), kind="percent")
    overpayment = FigureColumn(_("Monthly overpayment"), kind="money")

    def __init__(self, data: Any, **kwargs: Any):
        super().__init__(data, first=_("Segment"), **kwargs)


class CampaignFiguresTable(FigureTable):
    """Rows: retention.dashboard.campaigns.CampaignFigures."""

    label = LabelColumn(_("Campaign"), accessor="campaign__name")
    matched = FigureColumn(_("Matched"))
    sent = FigureColumn(_("Sent"))
    send_rate = FigureColumn(_("Send rate"), kind="percent")
    responded = FigureColumn(_("Responded"))
    response_rate = FigureColumn(_("Response rate"), kind="percent")
    accepted = FigureColumn(_("Accepted"))
    acceptance_rate = FigureColumn(_("Acceptance rate"), kind="percent")


class ChangeColumn(FigureColumn):
    """A change of the provider's monthly revenue: a rise says so with its plus sign."""

    def render(self, value: Any, record: Any, table: Any) -> str:
        return signed_money(value)


class TariffFitTable(FigureTable):
    """Rows: retention.dashboard.tariff_fit.VerdictRow. Each count links to its subscribers."""

    subscribers = FigureColumn(_("Subscribers"), what="tariff_fit")
    current_total = FigureColumn(_("Pay a month now"), kind="money")
    best_total = FigureColumn(_("Would pay on the plan that fits"), kind="money")
    overpayment = FigureColumn(_("Overpay a month"), kind="money")
    revenue_change = ChangeColumn(_("Provider's revenue a month, if all move"), kind="money")

    class Meta:
        # Shared accounts stand apart: theirs is the one row whose move may raise the revenue.
        row_attrs = {
            "class": lambda record: "verdict-shared" if record.verdict == "shared" else None
        }

    def __init__(self, data: Any, **kwargs: Any):
        # The verdicts keep the dashboard's order: sorted, they would hide that shared accounts
        # are the only ones that may raise the revenue.
        super().__init__(data, first=_("Verdict"), orderable=False, **kwargs)


# --- An agent against the team --------------------------------------------------------------


class VersusColumn(Column):
    """A figure of the agent's or the team's, in the unit its row names (Versus.kind). The
    team's money, where the reader may not see it, says so."""

    empty_values = ()

    def __init__(self, verbose_name: Any, **kwargs: Any):
        super().__init__(verbose_name, attrs=NUMBER, **kwargs)

    def render(self, value: Any, record: Any, table: Any) -> str:
        if value is None and record.kind == "money" and not table.money:
            return format_html(
                '<span class="muted" title="{}">{}</span>',
                _("Only managers see the team’s money figures."),
                _("not shown"),
            )
        return written(value, record.kind)

    def value(self, value: Any, record: Any) -> Any:
        return csv_value(value, record.kind)


class MeVsTeamTable(tables.Table):
    """Rows: retention.dashboard.agents.Versus."""

    label = LabelColumn(_("Figure"))
    mine = VersusColumn(_("Agent"))
    team = VersusColumn(_("Team (per agent for counts and money)"))

    row_header = "label"
    name = "me-vs-team"

    def __init__(self, data: Any, *, money: bool, csv_url: str):
        super().__init__(
            data,
            attrs={"class": "figures", "id": "table-me-vs-team"},
            template_name=DESK_TABLE,
            orderable=False,
        )
        self.caption = _("Against the team")
        self.money = money
        self.csv_url = csv_url


# --- The cases behind a figure ----------------------------------------------------------------


class StreamedRows(TableData):
    """Rows read while they are written out (a queryset's ``iterator()``): a table over them
    serves a CSV file, read once, and is never asked its length."""


def _money_or_dash(value: Any) -> str:
    return written(value, "money") if value else "—"


class DrillTable(tables.Table):
    """Rows: CaseOutcome, with the case's subscriber, the agent and the reason read along.
    The page shows some columns the file leaves out and the other way round (a CSV file has
    the account apart and says yes where the deadline processed the case)."""

    case = Column(_("Case"), accessor="case_id")
    closed_on = Column(_("Closed"), export_header=_("Closed on"))
    status = Column(_("Outcome"))
    account = Column(_("Account"), accessor="case__subscriber__account_number", visible=False)
    subscriber = Column(_("Subscriber"), accessor="case__subscriber__name")
    reason = Column(_("Reason"), accessor="reason__label")
    channel = Column(_("Channel"))
    agent = Column(_("Agent"))
    offer_kind = Column(_("Offer kind"))
    retained_revenue = FigureColumn(_("Retained monthly revenue"), kind="money")
    concession_cost = FigureColumn(_("Cost of concessions"), kind="money")
    first_contact = FigureColumn(
        _("Time to first contact"), kind="seconds", accessor="first_contact_seconds"
    )
    auto_processed = Column(_("Processed at the deadline"), visible=False)

    row_header = "case"
    caption_class = "visually-hidden"

    def __init__(self, data: Any, *, caption: Any):
        super().__init__(
            data,
            attrs={"class": "figures", "id": "drill-cases"},
            template_name=DESK_TABLE,
            orderable=False,
            empty_text=_("No cases behind this figure."),
        )
        self.caption = caption
        self.empty_id = "drill-empty"
        self.case_prefix = reverse("case", args=[0]).removesuffix("0/")

    def render_case(self, value: int) -> str:
        return format_html('<a href="{}{}/">#{}</a>', self.case_prefix, value, value)

    def value_case(self, value: int) -> int:
        return value

    def render_closed_on(self, value: Any) -> str:
        return date_format(value, "SHORT_DATE_FORMAT")

    def value_closed_on(self, value: Any) -> str:
        return value.isoformat()

    def render_status(self, value: Any, record: Any) -> str:
        late = ""
        again = ""
        if record.auto_processed:
            late = format_html(' <span class="badge bad">{}</span>', _("at the deadline"))
        if record.rechurned_on:
            day = date_format(record.rechurned_on, "SHORT_DATE_FORMAT")
            again = format_html(
                ' <span class="badge">{}</span>', _("cancelled again %(day)s") % {"day": day}
            )
        return format_html("{}{}{}", value, late, again)

    def value_status(self, value: Any) -> Any:
        return value

    def render_subscriber(self, value: Any, record: Any) -> str:
        account = record.case.subscriber.account_number
        return format_html('{} <span class="muted small">{}</span>', value, account)

    def value_subscriber(self, value: Any) -> Any:
        return value

    def render_agent(self, value: Any) -> str:
        return value.get_full_name() or value.username

    # The page leaves a zero out; the file writes it.
    def render_retained_revenue(self, value: Any) -> str:
        return _money_or_dash(value)

    def value_retained_revenue(self, value: Any) -> Any:
        return csv_value(value, "money")

    def render_concession_cost(self, value: Any) -> str:
        return _money_or_dash(value)

    def value_concession_cost(self, value: Any) -> Any:
        return csv_value(value, "money")

    def value_auto_processed(self, value: Any) -> str:
        return str(_("yes")) if value else ""


# --- The subscribers behind a tariff-fit verdict ----------------------------------------------


class FitListTable(tables.Table):
    """Rows: subscribers.models.TariffFit, with the subscriber, their plan and the plan that
    fits read along (one query a page)."""

    account = Column(_("Account"), accessor="subscriber__account_number")
    name = Column(_("Name"), accessor="subscriber__name")
    plan = Column(_("Plan"), accessor="subscriber__plan__name")
    current_cost = FigureColumn(_("Pays a month"), kind="money")
    best_plan = Column(_("Plan that fits"), accessor="best_plan__name")
    best_cost = FigureColumn(_("Would pay"), kind="money")
    saving = FigureColumn(_("Saving a month"), kind="money")

    row_header = "account"
    caption_class = "visually-hidden"

    def __init__(self, data: Any, *, caption: Any):
        super().__init__(
            data,
            attrs={"class": "figures", "id": "fit-subscribers"},
            template_name=DESK_TABLE,
            orderable=False,
            empty_text=_("No subscribers with this verdict."),
        )
        self.caption = caption
        self.empty_id = "fit-empty"
        self.subscriber_prefix = reverse("subscribers:detail", args=[0]).removesuffix("0/")

    def render_account(self, value: Any, record: Any) -> str:
        return format_html(
            '<a href="{}{}/">{}</a>', self.subscriber_prefix, record.subscriber_id, value
        )
