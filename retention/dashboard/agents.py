"""One agent's figures against their team's: per period, in total, and figure by figure."""

from dataclasses import dataclass
from typing import Any, NamedTuple

from django.utils.translation import gettext_lazy as _

from retention.dashboard import figures
from retention.dashboard.filters import Filters, only
from retention.dashboard.queries import Figures, Row, series, total
from retention.models import DailyFigure, User


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


# An agent's figures against the team's: (label, figure, counted per agent in the team, kind).
ME_VS_TEAM = (
    (_("Closed cases"), "closed", True, "count"),
    (_("Saved"), "saved", True, "count"),
    (_("Save rate"), "save_rate", False, "percent"),
    (_("First contact in time"), "sla_rate", False, "percent"),
    (_("Average time to first contact"), "first_contact_average", False, "seconds"),
    (_("Processed at the deadline"), "auto_rate", False, "percent"),
    (_("Saves cancelled within 90 days"), "rechurn_90_rate", False, "percent"),
    (
        _("Saves cancelled within 60 days after the discount"),
        "rechurn_after_discount_rate",
        False,
        "percent",
    ),
    (_("Retained monthly revenue"), "retained_revenue", True, "money"),
    (_("Cost of concessions"), "concession_cost", True, "money"),
    (_("Cost per save"), "cost_per_save", False, "money"),
)


class Versus(NamedTuple):
    """One figure of the agent's and the team's, in the unit ``kind`` names."""

    label: Any
    mine: Any
    team: Any
    kind: str


def me_vs_team(comparison: AgentComparison, *, money: bool) -> list[Versus]:
    """The agent's figures beside the team's, counts and money per agent of the team. The
    team's money stays out (None) unless ``money``."""
    mine = comparison.my_total
    team = comparison.team_total
    per_agent = max(comparison.team_agents, 1)

    def theirs(name: str, averaged: bool, kind: str) -> Any:
        if team is None or (kind == "money" and not money):
            return None
        value = getattr(team, name)
        return value / per_agent if averaged and value is not None else value

    return [
        Versus(label, getattr(mine, name), theirs(name, averaged, kind), kind)
        for label, name, averaged, kind in ME_VS_TEAM
    ]
