"""The benchmark's own users: an agent and an admin for the pages, a manager for approvals and
the dashboard, and the concurrent claimers."""

from django.contrib.auth.models import Group

from retention.core.roles import Role
from retention.models import User

BENCH_AGENT = "bench-agent"


def bench_users() -> tuple[User, User]:
    agent, _ = User.objects.get_or_create(
        username=BENCH_AGENT, defaults={"first_name": "Bench", "last_name": "Agent"}
    )
    agent.groups.add(Group.objects.get(name=Role.AGENT))
    admin, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    return agent, admin


def bench_manager() -> User:
    """A manager for the approvals inbox, in the Manager group (and so the Manager tier)."""
    manager, _ = User.objects.get_or_create(
        username="bench-manager", defaults={"first_name": "Bench", "last_name": "Manager"}
    )
    manager.groups.add(Group.objects.get(name=Role.MANAGER))
    return manager


def bench_claimers(count: int) -> list[User]:
    """Distinct agents for the concurrent claimers, in the Agent group."""
    group = Group.objects.get(name=Role.AGENT)
    agents = []
    for n in range(1, count + 1):
        agent, _ = User.objects.get_or_create(
            username=f"bench-claimer-{n:02d}",
            defaults={"first_name": "Claimer", "last_name": f"{n:02d}"},
        )
        agents.append(agent)
    group.user_set.add(*agents)
    return agents
