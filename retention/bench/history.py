"""The dashboard's data: the scale's closed cases over HISTORY_DAYS up to now from
history_seed, with the figures computed for every day and today's loyalty snapshot. Reused
while the database holds them (recorded in a comment on the outcome table)."""

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import Group
from django.db import connection, transaction

from offers.models import CounterOffer, OfferHistory, OfferTemplate
from retention.bench.offers import ensure_catalogue
from retention.bench.results import Log
from retention.bench.scale import SEED, Scale
from retention.bench.tables import set_table_note, table_note, vacuum
from retention.bench.users import bench_manager
from retention.core.roles import Role
from retention.dashboard.figures import desk_today, figures_refresh_range, loyalty_snapshot_take
from retention.demo.history import HISTORY_SOURCE, history_seed
from retention.models import (
    CancellationCase,
    CaseHistory,
    CaseOutcome,
    ContactAttempt,
    DailyFigure,
    LoyaltySnapshot,
    Reminder,
    Team,
    User,
)
from subscribers.models import TimelineEvent

# Two years of closed cases, up to now: the longest period the dashboard shows.
HISTORY_DAYS = 730
_HISTORY_MARK = "history_seed:"
HISTORY_AGENT = "bench-agent-{:03d}"
HISTORY_TABLES = (CancellationCase, CaseHistory, ContactAttempt, CounterOffer, TimelineEvent)
FIGURE_TABLES = (CaseOutcome, DailyFigure, LoyaltySnapshot)


def bench_history_agents(scale: Scale) -> list[User]:
    """The scale's agents (bench-agent-001, …) in the Agent group, spread over its teams
    (Team 01, …): whose cases the history is."""
    teams = [
        Team.objects.get_or_create(name=f"Team {n:02d}")[0]
        for n in range(1, scale.history_teams + 1)
    ]
    agents = []
    for n in range(1, scale.history_agents + 1):
        team = teams[(n - 1) % len(teams)]
        agent, created = User.objects.get_or_create(
            username=HISTORY_AGENT.format(n),
            defaults={"first_name": "Agent", "last_name": f"{n:03d}", "team": team},
        )
        if created:
            agent.set_unusable_password()
            agent.save(update_fields=["password"])
        elif agent.team_id != team.pk:
            agent.team = team
            agent.save(update_fields=["team"])
        agents.append(agent)
    Group.objects.get(name=Role.AGENT).user_set.add(*agents)
    return agents


def history_reset() -> None:
    """Remove the generated history and every figure computed from it. Plain DELETEs: the ORM
    would load a million and a half cases to cascade."""

    def table(model: type[Any]) -> str:
        return connection.ops.quote_name(model._meta.db_table)

    cases = f"SELECT id FROM {table(CancellationCase)} WHERE source = %s"
    offers = f"SELECT id FROM {table(CounterOffer)} WHERE case_id IN ({cases})"
    deletes = [f"DELETE FROM {table(model)}" for model in FIGURE_TABLES]
    deletes += [
        f"DELETE FROM {table(Reminder)} WHERE case_id IN ({cases}) OR offer_id IN ({offers})",
        f"DELETE FROM {table(OfferHistory)} WHERE offer_id IN ({offers})",
    ]
    deletes += [
        f"DELETE FROM {table(model)} WHERE case_id IN ({cases})"
        for model in (CounterOffer, ContactAttempt, CaseHistory)
    ]
    deletes += [
        f"DELETE FROM {table(model)} WHERE source = %s"
        for model in (TimelineEvent, CancellationCase)
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in deletes:
            cursor.execute(statement, [HISTORY_SOURCE] * statement.count("%s"))
    vacuum(HISTORY_TABLES + FIGURE_TABLES)


def _backfill(first: date, last: date, *, log: Log) -> dict[str, Any]:
    days = (last - first).days + 1
    log(f"Computing the dashboard's figures for {days:,} days with figures_refresh_range…")
    start = time.perf_counter()
    refreshed = figures_refresh_range(first=first, last=last)
    seconds = time.perf_counter() - start
    outcomes = sum(r.outcomes for r in refreshed)
    rows = DailyFigure.objects.filter(day__gte=first, day__lte=last).count()
    again = sum(len(r.days_touched) for r in refreshed)
    log(
        f"  {days:,} days, {outcomes:,} outcomes in {seconds:.1f} s ({days / seconds:,.1f} days/s, "
        f"{outcomes / seconds:,.0f} outcomes/s); {rows:,} daily figure rows; {again:,} earlier "
        "days computed again for re-churn."
    )
    return {
        "days": days,
        "outcomes": outcomes,
        "daily_figure_rows": rows,
        "days_recomputed": again,
        "seconds": round(seconds, 1),
        "days_per_second": round(days / seconds, 2),
        "outcomes_per_second": round(outcomes / seconds),
    }


def _loyalty(*, log: Log) -> float:
    start = time.perf_counter()
    rows = loyalty_snapshot_take()
    ms = (time.perf_counter() - start) * 1000
    log(f"  loyalty snapshot: {rows:,} rows in {ms:,.0f} ms.")
    return round(ms, 1)


def ensure_history(scale: Scale, *, log: Log) -> dict[str, Any]:
    """The scale's history, written unless the database holds it with the same options. A run
    on a later day writes only the days since, so that today always has cases closed so far,
    the work of the five-minute tick. Options that changed, or a load that did not finish,
    start the history again."""
    ensure_catalogue(log=log)  # the saves' offers, and who may approve them
    agents = bench_history_agents(scale)
    bench_manager()  # decides the offers beyond an agent's authority
    wanted = {
        "days": HISTORY_DAYS,
        "per_day": scale.history_per_day,
        "agents": scale.history_agents,
        "teams": scale.history_teams,
        "seed": SEED,
        "offers": OfferTemplate.objects.filter(is_active=True).count(),
    }
    recorded = table_note(CaseOutcome._meta.db_table, _HISTORY_MARK)
    loaded = CancellationCase.objects.filter(source=HISTORY_SOURCE).exists()
    if recorded and recorded.get("options") == wanted and loaded:
        return _reuse(scale, recorded, agents, log=log)
    if loaded or recorded:
        log("Removing a history written with other options (or not finished)…")
        history_reset()
    return _write(scale, wanted, agents, log=log)


def _reuse(
    scale: Scale, recorded: dict[str, Any], agents: list[User], *, log: Log
) -> dict[str, Any]:
    """The history of an earlier run, with the days since written and their figures."""
    today = desk_today()
    end = date.fromisoformat(recorded["end"])
    log(
        f"Reusing the history: {recorded['cases']:,} closed cases up to {end}, written in "
        f"{recorded['seconds']:,.0f} s, figures computed in "
        f"{recorded['backfill']['seconds']:,.0f} s."
    )
    if end >= today:
        return {**recorded, "reused": True}
    gap = (today - end).days
    log(f"Writing the {gap} days since…")
    start = time.perf_counter()
    created = history_seed(
        days=gap,
        per_day=scale.history_per_day,
        seed=SEED + today.toordinal(),
        agents=agents,
        end=today,
    )
    log(f"  {created:,} cases in {time.perf_counter() - start:.1f} s.")
    vacuum(HISTORY_TABLES)
    # From the last day written before: its cases closed after that run are new.
    refreshed = _backfill(end, today, log=log)
    loyalty_ms = _loyalty(log=log)
    vacuum(FIGURE_TABLES)
    recorded.update(end=today.isoformat(), cases=recorded["cases"] + created)
    recorded.setdefault("top_ups", []).append(
        {"days": gap, "cases": created, "backfill": refreshed, "loyalty_ms": loyalty_ms}
    )
    set_table_note(CaseOutcome._meta.db_table, _HISTORY_MARK, recorded)
    return {**recorded, "reused": True}


def _write(scale: Scale, wanted: dict[str, Any], agents: list[User], *, log: Log) -> dict[str, Any]:
    """The whole history afresh, and its figures."""
    today = desk_today()
    total = HISTORY_DAYS * scale.history_per_day
    log(
        f"Writing ~{total:,} closed cases over {HISTORY_DAYS} days for {len(agents)} agents in "
        f"{scale.history_teams} teams with history_seed…"
    )
    start = time.perf_counter()
    created = history_seed(
        days=HISTORY_DAYS, per_day=scale.history_per_day, seed=SEED, agents=agents, end=today
    )
    seconds = time.perf_counter() - start
    log(f"  {created:,} cases in {seconds:.1f} s ({created / seconds:,.0f} cases/s).")
    # VACUUM cannot run in a transaction: the visibility map and the planner's statistics of
    # the tables the history went into, before the figures read them.
    start = time.perf_counter()
    vacuum(HISTORY_TABLES)
    vacuum_seconds = time.perf_counter() - start
    backfill = _backfill(today - timedelta(days=HISTORY_DAYS - 1), today, log=log)
    loyalty_ms = _loyalty(log=log)
    vacuum(FIGURE_TABLES)
    info = {
        "options": wanted,
        "cases": created,
        "written": created,
        "end": today.isoformat(),
        "seconds": round(seconds, 1),
        "cases_per_second": round(created / seconds),
        "vacuum_seconds": round(vacuum_seconds, 1),
        "backfill": backfill,
        "loyalty_ms": loyalty_ms,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    set_table_note(CaseOutcome._meta.db_table, _HISTORY_MARK, info)
    return {**info, "reused": False}
