"""The dashboard for one set of filters: what one request reads, each at most once, and the
tables and charts it shows. A CSV of one table runs only that table's queries."""

from collections.abc import Callable
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from retention.dashboard import tables
from retention.dashboard.campaigns import CampaignFigures, campaigns
from retention.dashboard.charts import Chart, dashboard_charts
from retention.dashboard.drill import WHAT
from retention.dashboard.filters import DIMENSION_LABELS, GRAINS, Filters, dashboard_url
from retention.dashboard.loyalty import Loyalty, loyalty
from retention.dashboard.queries import Figures, Row, breakdown, series, total
from retention.dashboard.tariff_fit import TariffFitFigures, VerdictRow, tariff_fit_figures


class Board:
    """The dashboard for one set of filters. Each read happens on first use."""

    TABLES = (
        "periods",
        "breakdown",
        "fairness",
        "first-contact",
        "quality-offer",
        "quality-agent",
        "loyalty",
        "campaigns",
        "tariff-fit",
    )
    # Tables the filters do not change (the latest nightly count of the whole desk): a filter
    # change, which swaps only the figures, does not read them.
    UNFILTERED = ("tariff-fit",)

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
    def tariff_fit(self) -> TariffFitFigures:
        return self._once("tariff_fit", tariff_fit_figures)

    @property
    def drills(self) -> dict[str, str]:
        """The drill-down of each kind of figure, for the period's tiles."""
        return self._once("drills", lambda: {what: self.drill_url(what) for what in WHAT})

    def drill_url(self, what: str, **link: str) -> str:
        return dashboard_url("dashboard_cases", **self.filters.params(**link, what=what))

    def cell_url(self, row: Any, column: tables.FigureColumn) -> str | None:
        """The drill-down behind a number: its row's filters and the column's cases."""
        if not column.what or not isinstance(row, Row) or not row.link:
            return None
        return self.drill_url(column.what, **row.link)

    @staticmethod
    def verdict_url(row: Any, column: tables.FigureColumn) -> str | None:
        """The subscribers behind a verdict's count."""
        if not isinstance(row, VerdictRow):
            return None
        return reverse("dashboard_tariff_fit", args=[row.verdict])

    # Tables ------------------------------------------------------------------------------

    def table(self, name: str) -> tables.FigureTable:
        grain = GRAINS[self.filters.grain]
        dimension = DIMENSION_LABELS[self.filters.by]
        common: dict[str, Any] = {
            "name": name,
            "cell_url": self.cell_url,
            "page_query": self.filters.query(),
            "csv_url": f"{reverse('dashboard_export', args=[name])}?{self.filters.query()}",
        }
        builders: dict[str, Callable[[], tables.FigureTable]] = {
            "periods": lambda: tables.SavesTable(
                self.periods, caption=_("Saves over time"), first=grain, label_order="key", **common
            ),
            "breakdown": lambda: tables.BreakdownTable(
                self.by(self.filters.by),
                caption=_("Saves by %(dimension)s") % {"dimension": str(dimension).lower()},
                first=dimension,
                **common,
            ),
            "fairness": lambda: tables.FairnessTable(
                self.periods,
                caption=_("Speed and fairness over time"),
                first=grain,
                label_order="key",
                **common,
            ),
            "first-contact": lambda: tables.FirstContactTable(
                self.whole, caption=_("Time to first contact"), **common
            ),
            "quality-offer": lambda: tables.QualityTable(
                self.with_saves("offer_kind"),
                caption=_("Save quality by offer kind"),
                first=DIMENSION_LABELS["offer_kind"],
                **common,
            ),
            "quality-agent": lambda: tables.QualityTable(
                self.with_saves("agent"),
                caption=_("Save quality by agent"),
                first=DIMENSION_LABELS["agent"],
                **common,
            ),
            "loyalty": lambda: tables.LoyaltyTable(
                self.loyalty.rows, caption=_("Paying above the new-customer price"), **common
            ),
            "campaigns": lambda: tables.CampaignFiguresTable(
                self.campaigns, caption=_("Outreach campaigns"), **common
            ),
            "tariff-fit": lambda: tables.TariffFitTable(
                self.tariff_fit.rows,
                caption=_("On a plan that does not fit, by verdict"),
                **{**common, "cell_url": self.verdict_url},
            ),
        }
        return builders[name]()

    # Charts ------------------------------------------------------------------------------

    def charts(self) -> dict[str, Chart]:
        return dashboard_charts(
            periods=self.periods,
            breakdown=self.by(self.filters.by),
            quality=self.with_saves("offer_kind"),
            whole=self.whole,
            loyalty=self.loyalty,
            campaigns=self.campaigns,
            drill_url=self.drill_url,
        )
