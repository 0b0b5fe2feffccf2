"""The manager's dashboard, its drill-down and CSV exports, and an agent's own figures."""

import csv
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from django import forms
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET

from retention.cases.selectors import case_workers
from retention.core.forms import filter_fields
from retention.core.http import DeskRequest
from retention.core.roles import WORKER_ROLES, Role, has_role, role_required
from retention.dashboard import board as dashboard
from retention.dashboard.board import Board, Column, Table
from retention.dashboard.forms import DashboardForm, DrillForm
from subscribers.keyset import cursor_decode, cursor_encode


def _filters_form(
    request: DeskRequest, form_class: type[DashboardForm] = DashboardForm
) -> DashboardForm:
    """The period and filters of the address, always bound. Where the address names no
    period the figures cover the default one, and the Period control must say so: left
    empty, the browser would show its first choice ("Last 7 days") beside 30 days' figures."""
    data = request.GET.copy()
    if not data.get("period"):
        data["period"] = dashboard.DEFAULT_PERIOD
    return form_class(data)


def _bad_filters(request: DeskRequest, form: DashboardForm) -> HttpResponse:
    return render(request, "retention/dashboard_invalid.html", {"form": form}, status=400)


@require_GET
@role_required(Role.MANAGER)
def dashboard_page(request: DeskRequest) -> HttpResponse:
    form = _filters_form(request)
    if not form.is_valid():
        return _bad_filters(request, form)
    board = Board(form.filters())
    context = {
        "form": form,
        "filter_fields": [] if request.htmx else filter_fields(form),
        "board": board,
        "filters": board.filters,
        "tables": {name.replace("-", "_"): board.table(name) for name in Board.TABLES},
        "charts": board.charts(),
        "computed_at": dashboard.computed_at(board.filters),
        "source": dashboard.source_of(board.filters),
    }
    template = "retention/dashboard.html#figures" if request.htmx else "retention/dashboard.html"
    return render(request, template, context)


# --- CSV --------------------------------------------------------------------------------------


class _Echo:
    """csv.writer writes into this and gets the line back, so rows stream one at a time."""

    def write(self, value: str) -> str:
        return value


# A cell is a number or text; only text can smuggle in a formula.
Number = int | float | Decimal
Cell = Number | str
# What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Cell:
    """A cell as a spreadsheet may open it without running anything.

    Text that starts like a formula (a subscriber named ``=HYPERLINK(…)``, a region ``-2+3``)
    gets a leading single quote, which spreadsheets take as "this is text", as OWASP advises.
    Numbers are written as they are, negative ones included: they come as numbers, never as
    text, so a figure stays a figure. Anything else (a lazy translation, say) is text. Every
    export writes its cells through here (stream_csv).
    """
    if isinstance(value, Number) and not isinstance(value, bool):
        return value
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_value(value: Any, kind: str) -> Cell:
    """A figure of the dashboard as a cell: a number in the unit the header names."""
    if value is None:
        return ""
    if kind == "percent":
        return Decimal(f"{value * 100:.1f}")
    if kind == "money":
        return Decimal(f"{Decimal(value):.2f}")
    if kind == "seconds":
        return Decimal(f"{value / 60:.1f}")
    if kind != "text" and isinstance(value, Number) and not isinstance(value, bool):
        return value
    return str(value)


def csv_header(column: Column) -> str:
    unit = {"percent": " (%)", "money": " (EUR)", "seconds": " (min)"}.get(column.kind, "")
    return f"{column.label}{unit}"


def stream_csv(
    filename: str, header: list[str], rows: Iterable[list[Any]]
) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # so spreadsheet programs read the file as UTF-8
        yield writer.writerow([csv_cell(cell) for cell in header])
        for row in rows:
            yield writer.writerow([csv_cell(cell) for cell in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def table_csv(table: Table, filters: dashboard.Filters) -> StreamingHttpResponse:
    rows = (
        [csv_value(value, column.kind) for column, value, _url in cells]
        for _row, cells in table.cells()
    )
    name = f"{table.name}-{filters.start:%Y%m%d}-{filters.end:%Y%m%d}.csv"
    return stream_csv(name, [csv_header(c) for c in table.columns], rows)


@require_GET
@role_required(Role.MANAGER)
def dashboard_export(request: DeskRequest, name: str) -> HttpResponseBase:
    if name not in Board.TABLES:
        raise Http404("no such table")
    form = _filters_form(request)
    if not form.is_valid():
        return _bad_filters(request, form)
    board = Board(form.filters())
    return table_csv(board.table(name), board.filters)


# --- Drill-down -------------------------------------------------------------------------------


def _drill_filters(request: DeskRequest, form: DashboardForm) -> dashboard.Filters:
    """A manager sees any cases behind a figure; anyone else only their own."""
    filters = form.filters()
    if not has_role(request.user, Role.MANAGER):
        filters = replace(filters, agent=request.user.pk)
    return filters


DRILL_COLUMNS = (
    ("case", "Case"),
    ("closed_on", "Closed on"),
    ("status", "Outcome"),
    ("account", "Account"),
    ("subscriber", "Subscriber"),
    ("reason", "Reason"),
    ("channel", "Channel"),
    ("agent", "Agent"),
    ("offer_kind", "Offer kind"),
    ("retained_revenue", "Retained monthly revenue (EUR)"),
    ("concession_cost", "Cost of concessions (EUR)"),
    ("first_contact_minutes", "Time to first contact (min)"),
    ("auto_processed", "Processed at the deadline"),
)


def _drill_row(o: Any) -> list[Cell]:
    subscriber = o.case.subscriber
    return [
        o.case_id,
        o.closed_on.isoformat(),
        o.get_status_display(),
        subscriber.account_number,
        subscriber.name,
        o.reason.label if o.reason else "",
        o.get_channel_display(),
        (o.agent.get_full_name() or o.agent.username) if o.agent else "",
        o.get_offer_kind_display() if o.offer_kind else "",
        csv_value(o.retained_revenue, "money"),
        csv_value(o.concession_cost, "money"),
        csv_value(o.first_contact_seconds, "seconds"),
        _("yes") if o.auto_processed else "",
    ]


@require_GET
@role_required(*WORKER_ROLES)
def dashboard_cases(request: DeskRequest) -> HttpResponseBase:
    form = _filters_form(request, DrillForm)
    if not form.is_valid():
        return _bad_filters(request, form)
    filters = _drill_filters(request, form)
    what = form.cleaned_data.get("what") or "closed"
    if request.GET.get("format") == "csv":
        outcomes = dashboard.drill_outcomes(filters, what).iterator(chunk_size=2000)
        name = f"cases-{what}-{filters.start:%Y%m%d}-{filters.end:%Y%m%d}.csv"
        return stream_csv(
            name, [_(label) for _key, label in DRILL_COLUMNS], map(_drill_row, outcomes)
        )
    after = None
    if token := request.GET.get("after"):
        day, case_id = cursor_decode(token, int, int)
        try:
            after = (date.fromordinal(day), case_id)
        except ValueError as exc:
            raise Http404("bad cursor") from exc
    page, next_key = dashboard.drill_page(filters, what, after)
    context = {
        "form": form,
        "filters": filters,
        "what": what,
        "what_label": dashboard.WHAT[what][0],
        "chosen": _chosen_labels(request, form, filters),
        "page": page,
        "next_query": filters.query(what=what, after=cursor_encode(*_cursor(next_key)))
        if next_key
        else "",
        "csv_query": filters.query(what=what, format="csv"),
        "dashboard_query": filters.query(),
        "is_manager": has_role(request.user, Role.MANAGER),
    }
    template = (
        "retention/dashboard_cases.html#rows" if request.htmx else "retention/dashboard_cases.html"
    )
    return render(request, template, context)


def _chosen_labels(
    request: DeskRequest, form: DashboardForm, filters: dashboard.Filters
) -> list[tuple[str, str]]:
    """The filters behind the list as a person reads them ("Reason: Price", not "reason=3"),
    from what the form already fetched: no query."""
    labels = []
    for name in filters.chosen():
        field = form.fields[name]
        value = form.cleaned_data.get(name)
        if name == "agent" and (value is None or value.pk != filters.agent):
            value = request.user  # not a manager: only their own cases, whatever was asked
        shown: object = value
        if isinstance(field, forms.ModelChoiceField):
            shown = field.label_from_instance(value)
        elif isinstance(field, forms.ChoiceField):
            shown = dict(field.choices).get(value, value)  # type: ignore[arg-type]
        labels.append((str(field.label), str(shown)))
    return labels


def _cursor(key: tuple[date, int]) -> tuple[int, int]:
    day, case_id = key
    return day.toordinal(), case_id


# --- An agent's own page ------------------------------------------------------------------


# An agent's figures against the team's: (label, figure, counted per agent in the team, kind).
ME_VS_TEAM = (
    (_lazy("Closed cases"), "closed", True, "count"),
    (_lazy("Saved"), "saved", True, "count"),
    (_lazy("Save rate"), "save_rate", False, "percent"),
    (_lazy("First contact in time"), "sla_rate", False, "percent"),
    (_lazy("Average time to first contact"), "first_contact_average", False, "seconds"),
    (_lazy("Processed at the deadline"), "auto_rate", False, "percent"),
    (_lazy("Saves cancelled within 90 days"), "rechurn_90_rate", False, "percent"),
    (
        _lazy("Saves cancelled within 60 days after the discount"),
        "rechurn_after_discount_rate",
        False,
        "percent",
    ),
    (_lazy("Retained monthly revenue"), "retained_revenue", True, "money"),
    (_lazy("Cost of concessions"), "concession_cost", True, "money"),
    (_lazy("Cost per save"), "cost_per_save", False, "money"),
)


def _me_vs_team(comparison: dashboard.AgentComparison, money: bool) -> Table:
    """The team's money stays out (None) unless ``money``."""
    mine = comparison.my_total
    team = comparison.team_total
    per_agent = max(comparison.team_agents, 1)

    def theirs(name: str, averaged: bool, kind: str) -> Any:
        if team is None or (kind == "money" and not money):
            return None
        value = getattr(team, name)
        return value / per_agent if averaged and value is not None else value

    rows = [
        (label, getattr(mine, name), theirs(name, averaged, kind), kind)
        for label, name, averaged, kind in ME_VS_TEAM
    ]
    return Table(
        "me-vs-team",
        _("Against the team"),
        [
            Column(_("Figure"), lambda r: r[0], "text"),
            Column(_("Agent"), lambda r: r[1], "row"),
            Column(_("Team (per agent for counts and money)"), lambda r: r[2], "row"),
        ],
        rows,
    )


@require_GET
@role_required(*WORKER_ROLES)
def agent_figures(request: DeskRequest, pk: int | None = None) -> HttpResponseBase:
    if pk is None or pk == request.user.pk:
        agent = request.user
    elif has_role(request.user, Role.MANAGER):
        agent = get_object_or_404(case_workers().select_related("team"), pk=pk)
    else:
        raise Http404("not your page")
    form = _filters_form(request)
    if not form.is_valid():
        return _bad_filters(request, form)
    filters = form.filters()
    comparison = dashboard.agent_comparison(agent, filters)
    # The team's money is the managers' business, and that of agents given the permission.
    money = has_role(request.user, Role.MANAGER) or request.user.has_perm(
        "retention.view_team_money"
    )
    table = _me_vs_team(comparison, money)
    if request.GET.get("format") == "csv":
        rows = ([str(r[0]), csv_value(r[1], r[3]), csv_value(r[2], r[3])] for r in table.rows)
        name = f"agent-{agent.pk}-{filters.start:%Y%m%d}-{filters.end:%Y%m%d}.csv"
        return stream_csv(name, [str(c.label) for c in table.columns], rows)
    recent, _next = dashboard.drill_page(dashboard.only(filters, agent=agent.pk), "closed", None)
    context = {
        "form": form,
        "filter_fields": filter_fields(form, ("period", "start", "end", "grain")),
        "filters": filters,
        "agent": agent,
        "comparison": comparison,
        "table": table,
        "money": money,
        "recent": recent[:10],
        "chart": _agent_chart(comparison),
        "own": agent.pk == request.user.pk,
        "cases_query": dashboard.only(filters, agent=agent.pk).query(what="closed"),
        "csv_query": filters.query(format="csv"),
    }
    template = (
        "retention/agent_figures.html#figures" if request.htmx else "retention/agent_figures.html"
    )
    return render(request, template, context)


def _agent_chart(comparison: dashboard.AgentComparison) -> dict[str, Any]:
    def rates(rows: list[dashboard.Row]) -> list[float | None]:
        return [dashboard.percent(r.figures.save_rate) for r in rows]

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
