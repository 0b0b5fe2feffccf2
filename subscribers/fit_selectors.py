"""Reads for a subscriber's usage and tariff fit: the stored fit, the twelve months' charts and
the fit explained plan by plan (the subscriber page's usage panel)."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import IntegerField, Max, OuterRef, Subquery
from django.utils import dateformat
from django.utils.translation import pgettext

from subscribers import phrases
from subscribers.fit import MIN_MONTHS, FitResult, UsageMonth, fit_explain, fit_window
from subscribers.fit_reasons import UsageFigures, fit_reason
from subscribers.models import Plan, Subscriber, TariffFit, Usage


def tariff_fit_get(*, subscriber: Subscriber, today: date) -> TariffFit | None:
    """The stored fit, its plan loaded, with ``people``: the most people on the line in a month
    of the window (a shared account's sentence names them). One query."""
    start, end = fit_window(today)
    people = (
        Usage.objects.filter(
            subscriber=OuterRef("subscriber_id"), period__gte=start, period__lt=end
        )
        .values("subscriber_id")
        .annotate(most=Max("people"))
        .values("most")
    )
    return (
        TariffFit.objects.filter(subscriber=subscriber)
        .select_related("best_plan")
        .annotate(people=Subquery(people, output_field=IntegerField()))
        .first()
    )


@dataclass(frozen=True)
class ChartBar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class ChartTick:
    y: float
    text: str


@dataclass(frozen=True)
class UsageChart:
    """One small bar chart, drawn as SVG on the server (no script: the page's CSP stays
    strict, and the figures are in the table beside it)."""

    bars: list[ChartBar]
    ticks: list[ChartTick]
    labels: list[tuple[float, str]]  # month names under the bars
    width: int = 0
    height: int = 0
    left: int = 0
    right: int = 0
    label_y: int = 0


# The SVG's drawing box (viewBox units); the stylesheet scales it to the card.
CHART_WIDTH, CHART_HEIGHT = 360, 150
CHART_LEFT, CHART_BOTTOM, CHART_TOP = 34, 20, 8


def _nice_top(largest: Decimal) -> Decimal:
    """The axis top: 1, 2 or 5 times a power of ten, at least the largest value."""
    if largest <= 0:
        return Decimal(1)
    step = Decimal(1)
    while step * 10 <= largest:
        step *= 10
    while step > largest:
        step /= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= largest:
            return step * factor
    return step * 10


def usage_chart(values: list[Decimal | None], months: list[date], unit: str) -> UsageChart:
    top = _nice_top(max((v for v in values if v is not None), default=Decimal(0)))
    plot_w = CHART_WIDTH - CHART_LEFT - 4
    plot_h = CHART_HEIGHT - CHART_BOTTOM - CHART_TOP
    slot = plot_w / len(months)
    bars, labels = [], []
    for n, (value, month) in enumerate(zip(values, months, strict=True)):
        x = CHART_LEFT + n * slot
        name = dateformat.format(month, "M")
        labels.append((round(x + slot / 2, 1), name))
        if value is None:
            continue
        height = float(value / top) * plot_h
        bars.append(
            ChartBar(
                x=round(x + slot * 0.15, 1),
                y=round(CHART_TOP + plot_h - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
                title=f"{phrases.month(month)}: {phrases.number(value)} {unit}",
            )
        )
    ticks = [
        ChartTick(round(CHART_TOP + plot_h * (1 - part), 1), phrases.number(top * Decimal(part)))
        for part in (0, 0.5, 1)
    ]
    return UsageChart(
        bars,
        ticks,
        labels,
        width=CHART_WIDTH,
        height=CHART_HEIGHT,
        left=CHART_LEFT,
        right=CHART_WIDTH - 4,
        label_y=CHART_HEIGHT - 5,
    )


@dataclass(frozen=True)
class UsageRow:
    period: date
    gb_down: Decimal
    gb_up: Decimal
    hours_online: Decimal
    peak_devices: int
    people: int


@dataclass(frozen=True)
class FitCostRow:
    """A plan that could fit, as the table of what each would have cost shows it."""

    plan: Plan
    cost: Decimal
    difference: Decimal  # against what they pay now: negative saves them money
    is_own: bool
    is_best: bool
    holds: bool


@dataclass(frozen=True)
class FitExplained:
    """The subscriber page's "best plan for how they use it": the window's usage month by
    month, its two charts and, with enough months, every plan's cost and the reason."""

    rows: list[UsageRow]
    months_needed: int
    gb_chart: UsageChart
    hours_chart: UsageChart
    result: FitResult | None
    reason: str
    verdict_label: str
    costs: list[FitCostRow]


def fit_explained(*, subscriber: Subscriber, today: date) -> FitExplained:
    """Two queries with enough usage (the window's months, the plans), one without."""
    start, end = fit_window(today)
    rows = [
        UsageRow(u.period, u.gb_down, u.gb_up, u.hours_online, u.peak_devices, u.people)
        for u in Usage.objects.filter(
            subscriber=subscriber, period__gte=start, period__lt=end
        ).order_by("period")
    ]
    months = []
    month = start
    while month < end:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    by_month = {row.period: row for row in rows}
    gb = [(r.gb_down + r.gb_up) if (r := by_month.get(m)) is not None else None for m in months]
    hours = [r.hours_online if (r := by_month.get(m)) is not None else None for m in months]
    result, reason, label, costs = None, "", "", []
    if len(rows) >= MIN_MONTHS:
        usage = [
            UsageMonth(r.hours_online, r.gb_down + r.gb_up, r.peak_devices, r.people) for r in rows
        ]
        result = fit_explain(subscriber, usage, Plan.objects.all())
    if result is not None:
        figures = UsageFigures(
            hours=sum((r.hours_online for r in rows), Decimal(0)) / len(rows),
            gb=sum((r.gb_down + r.gb_up for r in rows), Decimal(0)) / len(rows),
            devices=max(r.peak_devices for r in rows),
            people=result.people,
        )
        reason = fit_reason(result, figures, subscriber.plan)
        label = str(TariffFit.Verdict(result.verdict).label)
        costs = [
            FitCostRow(
                plan=c.plan,
                cost=c.cost,
                difference=c.cost - result.current_cost,
                is_own=c.is_own,
                is_best=c.plan.pk == result.best.plan.pk,
                holds=c.holds,
            )
            for c in result.costs
        ]
    return FitExplained(
        rows=rows,
        months_needed=MIN_MONTHS,
        gb_chart=usage_chart(gb, months, pgettext("unit", "GB")),
        hours_chart=usage_chart(hours, months, pgettext("unit", "h")),
        result=result,
        reason=reason,
        verdict_label=label,
        costs=costs,
    )
