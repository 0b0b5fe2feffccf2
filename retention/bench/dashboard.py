"""The dashboard's pages for the bench manager (an agent's own page for a bench agent) over the
history, and the figures' refresh: the tick's (today so far) and a busy day's."""

from django.test import Client

from offers.models import CounterOffer
from retention.bench.history import HISTORY_AGENT
from retention.bench.results import Log, Results
from retention.bench.timing import Series, answers, logged_in, measure, timed
from retention.bench.users import bench_manager
from retention.dashboard.figures import desk_today, figures_refresh
from retention.models import (
    CancellationCase,
    CancellationReason,
    CaseOutcome,
    ContactAttempt,
    DailyFigure,
    Team,
    User,
)

# Timings of figures_refresh: this many runs each.
TICK_RUNS, BUSY_DAY_RUNS = 5, 3


def measure_dashboard(results: Results, *, requests: int, log: Log) -> None:
    client = logged_in(bench_manager())
    agent_client = logged_in(User.objects.get(username=HISTORY_AGENT.format(1)))
    series = []
    for name, who, url in _pages(client, agent_client):
        why = answers(who, url)
        if why:
            results.note(f"Dashboard: GET {url} {why}; {name!r} not measured.", log)
        else:
            series.append(Series(name, who, [url] * requests))
    if series:
        log(f"Measuring {len(series)} dashboard figures, {requests} requests each, interleaved…")
        results.figures.extend(measure(series))
    _measure_refresh(results, log=log)


def _pages(client: Client, agent_client: Client) -> list[tuple[str, Client, str]]:
    """(figure, who asks, URL) of each dashboard page measured."""
    reason = (
        CancellationReason.objects.filter(code="price").values_list("pk", flat=True).first()
        or CancellationReason.objects.values_list("pk", flat=True).first()
    )
    team = Team.objects.filter(name="Team 01").values_list("pk", flat=True).first()
    return [
        ("dashboard, 30 days", client, "/dashboard/"),
        ("dashboard, 12 months by month", client, "/dashboard/?period=12m&grain=month"),
        ("dashboard, 24 months by month", client, "/dashboard/?period=24m&grain=month"),
        (
            "dashboard, 12 months, one filter",
            client,
            f"/dashboard/?period=12m&grain=month&reason={reason}",
        ),
        (
            "dashboard, 90 days, two filters",
            client,
            f"/dashboard/?period=90d&team={team}&channel=phone",
        ),
        ("dashboard, 24 months by agent", client, "/dashboard/?period=24m&grain=month&by=agent"),
        ("dashboard, agent's own page", agent_client, "/dashboard/me/"),
        ("dashboard drill-down, 30 days", client, "/dashboard/cases/?period=30d&what=saved"),
        (
            "dashboard CSV, 12 months by reason",
            client,
            "/dashboard/export/breakdown.csv?period=12m&by=reason",
        ),
    ]


def _measure_refresh(results: Results, *, log: Log) -> None:
    """figures_refresh for today so far and for the busiest day; the data's sizes."""
    today = desk_today()
    busiest = (
        DailyFigure.objects.filter(scope="", dimension="", day__lt=today)
        .order_by("-closed", "day")
        .values_list("day", "closed")
        .first()
    )
    log("Timing figures_refresh: today so far (the tick's work) and the busiest day…")
    results.figures.append(
        timed("figures_refresh, today", TICK_RUNS, lambda: figures_refresh(day=today))
    )
    if busiest:
        day, closed = busiest
        results.history["busiest_day"] = {"day": day.isoformat(), "closed": closed}
        results.figures.append(
            timed("figures_refresh, busiest day", BUSY_DAY_RUNS, lambda: figures_refresh(day=day))
        )
    results.history["today_closed"] = CaseOutcome.objects.filter(closed_on=today).count()
    results.history["sizes"] = {
        "closed cases": CancellationCase.objects.filter(closed_at__isnull=False).count(),
        "outcomes": CaseOutcome.objects.count(),
        "daily figure rows": DailyFigure.objects.count(),
        "accepted offers": CounterOffer.objects.filter(status=CounterOffer.Status.ACCEPTED).count(),
        "contact attempts": ContactAttempt.objects.count(),
    }
