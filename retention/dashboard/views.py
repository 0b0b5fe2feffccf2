"""The manager's dashboard, its drill-down and CSV exports, and an agent's own figures."""

from dataclasses import replace

from django import forms
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django_tables2 import RequestConfig

from retention.core.forms import filter_fields
from retention.core.http import DeskRequest
from retention.core.roles import WORKER_ROLES, Role, has_role, role_required
from retention.dashboard.agents import agent_comparison, me_vs_team
from retention.dashboard.board import Board
from retention.dashboard.charts import agent_chart
from retention.dashboard.drill import WHAT, drill_after, drill_cursor, drill_outcomes, drill_page
from retention.dashboard.export import table_csv
from retention.dashboard.filters import DEFAULT_PERIOD, Filters, only
from retention.dashboard.forms import DashboardForm, DrillForm
from retention.dashboard.queries import computed_at, source_of
from retention.dashboard.selectors import agent_figures_for_user
from retention.dashboard.tables import (
    DrillTable,
    FigureTable,
    FitListTable,
    MeVsTeamTable,
    StreamedRows,
)
from retention.dashboard.tariff_fit import (
    VERDICT_HELP,
    fit_after,
    fit_cursor,
    fit_page,
    misfit_verdict,
)
from retention.models import User


def _filters_form(
    request: DeskRequest[User], form_class: type[DashboardForm] = DashboardForm
) -> DashboardForm:
    """The period and filters of the address, always bound. Where the address names no
    period the figures cover the default one, and the Period control must say so: left
    empty, the browser would show its first choice ("Last 7 days") beside 30 days' figures."""
    data = request.GET.copy()
    if not data.get("period"):
        data["period"] = DEFAULT_PERIOD
    return form_class(data)


def _bad_filters(request: DeskRequest[User], form: DashboardForm) -> HttpResponse:
    return render(request, "retention/dashboard_invalid.html", {"form": form}, status=400)


def _sorted(request: DeskRequest[User], table: FigureTable) -> FigureTable:
    """The table in the order its heading links ask for (``<table>-sort``; an unknown column is
    ignored), rows held in memory: no query."""
    RequestConfig(request, paginate=False).configure(table)
    return table


def _dates(filters: Filters) -> str:
    return f"{filters.start:%Y%m%d}-{filters.end:%Y%m%d}"


@require_GET
@role_required(Role.MANAGER)
def dashboard_page(request: DeskRequest[User]) -> HttpResponse:
    form = _filters_form(request)
    if not form.is_valid():
        return _bad_filters(request, form)
    board = Board(form.filters())
    context = {
        "form": form,
        "filter_fields": [] if request.htmx else filter_fields(form),
        "board": board,
        "filters": board.filters,
        "tables": {
            name.replace("-", "_"): _sorted(request, board.table(name))
            for name in Board.TABLES
            if not (request.htmx and name in Board.UNFILTERED)
        },
        "charts": board.charts(),
        "computed_at": computed_at(board.filters),
        "source": source_of(board.filters),
    }
    template = "retention/dashboard.html#figures" if request.htmx else "retention/dashboard.html"
    return render(request, template, context)


@require_GET
@role_required(Role.MANAGER)
def dashboard_export(request: DeskRequest[User], name: str) -> HttpResponseBase:
    if name not in Board.TABLES:
        raise Http404("no such table")
    form = _filters_form(request)
    if not form.is_valid():
        return _bad_filters(request, form)
    board = Board(form.filters())
    return table_csv(board.table(name), f"{name}-{_dates(board.filters)}.csv")


# --- Drill-down -------------------------------------------------------------------------------


def _drill_filters(request: DeskRequest[User], form: DashboardForm) -> Filters:
    """A manager sees any cases behind a figure; anyone else only their own."""
    filters = form.filters()
    if not has_role(request.user, Role.MANAGER):
        filters = replace(filters, agent=request.user.pk)
    return filters


@require_GET
@role_required(*WORKER_ROLES)
def dashboard_cases(request: DeskRequest[User]) -> HttpResponseBase:
    form = _filters_form(request, DrillForm)
    if not form.is_valid():
        return _bad_filters(request, form)
    filters = _drill_filters(request, form)
    what = form.cleaned_data.get("what") or "closed"
    what_label = WHAT[what][0]
    if request.GET.get("format") == "csv":
        # Read in chunks as the file streams: one query however many rows.
        outcomes = drill_outcomes(filters, what).iterator(chunk_size=2000)
        table = DrillTable(StreamedRows(outcomes), caption=what_label)
        return table_csv(table, f"cases-{what}-{_dates(filters)}.csv")
    after = drill_after(token) if (token := request.GET.get("after")) else None
    page, next_key = drill_page(filters, what, after)
    context = {
        "form": form,
        "filters": filters,
        "what": what,
        "what_label": what_label,
        "chosen": _chosen_labels(request, form, filters),
        "page": page,
        "table": DrillTable(page, caption=what_label),
        "next_query": filters.query(what=what, after=drill_cursor(next_key)) if next_key else "",
        "csv_query": filters.query(what=what, format="csv"),
        "dashboard_query": filters.query(),
        "is_manager": has_role(request.user, Role.MANAGER),
    }
    template = (
        "retention/dashboard_cases.html#rows" if request.htmx else "retention/dashboard_cases.html"
    )
    return render(request, template, context)


def _chosen_labels(
    request: DeskRequest[User], form: DashboardForm, filters: Filters
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


# --- The subscribers behind a tariff-fit verdict --------------------------------------------


@require_GET
@role_required(Role.MANAGER)
def tariff_fit_list(request: DeskRequest[User], verdict: str) -> HttpResponse:
    chosen = misfit_verdict(verdict)
    after = fit_after(token) if (token := request.GET.get("after")) else None
    page, next_key = fit_page(chosen, after)
    context = {
        "verdict": chosen,
        "help": VERDICT_HELP[chosen],
        "page": page,
        "table": FitListTable(page, caption=chosen.label),
        "next_cursor": fit_cursor(next_key) if next_key else "",
    }
    template = (
        "retention/dashboard_tariff_fit.html#rows"
        if request.htmx
        else "retention/dashboard_tariff_fit.html"
    )
    return render(request, template, context)


# --- An agent's own page ------------------------------------------------------------------


@require_GET
@role_required(*WORKER_ROLES)
def agent_figures(request: DeskRequest[User], pk: int | None = None) -> HttpResponseBase:
    agent, money = agent_figures_for_user(user=request.user, pk=pk)
    form = _filters_form(request)
    if not form.is_valid():
        return _bad_filters(request, form)
    filters = form.filters()
    comparison = agent_comparison(agent, filters)
    csv_query = filters.query(format="csv")
    table = MeVsTeamTable(me_vs_team(comparison, money=money), money=money, csv_url=f"?{csv_query}")
    if request.GET.get("format") == "csv":
        return table_csv(table, f"agent-{agent.pk}-{_dates(filters)}.csv")
    recent, _next = drill_page(only(filters, agent=agent.pk), "closed", None)
    context = {
        "form": form,
        "filter_fields": filter_fields(form, ("period", "start", "end", "grain")),
        "filters": filters,
        "agent": agent,
        "comparison": comparison,
        "table": table,
        "money": money,
        "recent": recent[:10],
        "chart": agent_chart(comparison),
        "own": agent.pk == request.user.pk,
        "cases_query": only(filters, agent=agent.pk).query(what="closed"),
        "csv_query": csv_query,
    }
    template = (
        "retention/agent_figures.html#figures" if request.htmx else "retention/agent_figures.html"
    )
    return render(request, template, context)
