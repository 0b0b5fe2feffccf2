"""The dashboard's charts: what each draws, as data for static/js/dashboard.js, and the cases
behind each bar where it has them. Every chart describes a table of the page beside it."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from retention.dashboard.agents import AgentComparison
from retention.dashboard.campaigns import CampaignFigures
from retention.dashboard.loyalty import Loyalty
from retention.dashboard.queries import Figures, Row, first_contact_rows, percent

Chart = dict[str, Any]


def money(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def dashboard_charts(
    *,
    periods: list[Row],
    breakdown: list[Row],
    quality: list[Row],
    whole: Figures,
    loyalty: Loyalty,
    campaigns: list[CampaignFigures],
    drill_url: Callable[..., str],
) -> dict[str, Chart]:
    """The charts of the dashboard: the period over time, the breakdown (its 20 busiest rows),
    time to first contact, save quality by offer kind, loyalty and the campaigns."""
    charts = _charts(
        periods=periods,
        breakdown=breakdown,
        quality=quality,
        whole=whole,
        loyalty=loyalty,
        campaigns=campaigns,
        drill_url=drill_url,
    )
    for chart in charts.values():
        chart["empty_text"] = _("No data")
    return charts


def _charts(
    *,
    periods: list[Row],
    breakdown: list[Row],
    quality: list[Row],
    whole: Figures,
    loyalty: Loyalty,
    campaigns: list[CampaignFigures],
    drill_url: Callable[..., str],
) -> dict[str, Chart]:
    labels = [r.label for r in periods]
    by_rows = breakdown[:20]
    return {
        "saves": {
            "type": "bar",
            "stacked": True,
            "labels": labels,
            "datasets": [
                {"label": _("Saved"), "data": [r.figures.saved for r in periods]},
                {
                    "label": _("Cancelled"),
                    "data": [r.figures.cancelled for r in periods],
                },
                {
                    "label": _("Save rate"),
                    "data": [percent(r.figures.save_rate) for r in periods],
                    "axis": "percent",
                    "kind": "line",
                },
            ],
            "links": [drill_url("saved", **r.link) for r in periods],
        },
        "money": {
            "type": "bar",
            "labels": labels,
            "datasets": [
                {
                    "label": _("Retained monthly revenue"),
                    "data": [money(r.figures.retained_revenue) for r in periods],
                    "axis": "money",
                },
                {
                    "label": _("Cost of concessions"),
                    "data": [money(r.figures.concession_cost) for r in periods],
                    "axis": "money",
                },
            ],
            "links": [drill_url("saved", **r.link) for r in periods],
        },
        "breakdown": {
            "type": "bar",
            "horizontal": True,
            "labels": [r.label for r in by_rows],
            "datasets": [
                {
                    "label": _("Save rate"),
                    "data": [percent(r.figures.save_rate) for r in by_rows],
                    "axis": "percent",
                }
            ],
            "links": [drill_url("saved", **r.link) if r.link else "" for r in by_rows],
        },
        "first_contact": {
            "type": "bar",
            "labels": [str(label) for label, _n in first_contact_rows(whole)],
            "datasets": [
                {
                    "label": _("Cases"),
                    "data": [n for _label, n in first_contact_rows(whole)],
                }
            ],
        },
        "fairness": {
            "type": "bar",
            "labels": labels,
            "datasets": [
                {
                    "label": _("Processed at the deadline"),
                    "data": [r.figures.auto_processed for r in periods],
                },
                {
                    "label": _("Port-outs contacted more than once"),
                    "data": [r.figures.port_outs_recontacted for r in periods],
                },
                {
                    "label": _("First contact in time"),
                    "data": [percent(r.figures.sla_rate) for r in periods],
                    "axis": "percent",
                    "kind": "line",
                },
            ],
            "links": [drill_url("auto", **r.link) for r in periods],
        },
        "quality": {
            "type": "bar",
            "horizontal": True,
            "labels": [r.label for r in quality],
            "datasets": [
                {
                    "label": _("Cancelled within 90 days"),
                    "data": [percent(r.figures.rechurn_90_rate) for r in quality],
                    "axis": "percent",
                },
                {
                    "label": _("Cancelled within 60 days after the discount"),
                    "data": [percent(r.figures.rechurn_after_discount_rate) for r in quality],
                    "axis": "percent",
                },
            ],
            "links": [drill_url("rechurned_90", **r.link) for r in quality],
        },
        "loyalty": {
            "type": "bar",
            "labels": [r.label for r in loyalty.rows],
            "datasets": [
                {
                    "label": _("Paying above the new-customer price"),
                    "data": [r.overpaying for r in loyalty.rows],
                },
                {
                    "label": _("Share"),
                    "data": [percent(r.share) for r in loyalty.rows],
                    "axis": "percent",
                    "kind": "line",
                },
            ],
        },
        "campaigns": {
            "type": "bar",
            "labels": [c.campaign.name for c in campaigns],
            "datasets": [
                {
                    "label": label,
                    "data": [percent(getattr(c, attr)) for c in campaigns],
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


def agent_chart(comparison: AgentComparison) -> Chart:
    """An agent's save rate over the period, beside the team's."""

    def rates(rows: list[Row]) -> list[float | None]:
        return [percent(r.figures.save_rate) for r in rows]

    datasets = [{"label": _("Save rate, agent"), "data": rates(comparison.mine), "axis": "percent"}]
    if comparison.team is not None:
        datasets.append(
            {"label": _("Save rate, team"), "data": rates(comparison.team), "axis": "percent"}
        )
    return {
        "type": "line",
        "labels": [r.label for r in comparison.mine],
        "datasets": datasets,
        "empty_text": _("No data"),
    }
