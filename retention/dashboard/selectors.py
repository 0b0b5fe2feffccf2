"""What the dashboard's pages may read for whom."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from retention.cases.selectors import case_workers
from retention.core.roles import WORKER_ROLES, Role, has_role
from retention.models import User


def agent_figures_for_user(*, user: User, pk: int | None = None) -> tuple[User, bool]:
    """Whose figures ``user`` may see at ``pk`` (their own without one), and whether the
    team's money with them.

    Those who work cases see their own page; a manager sees any case worker's, whatever the
    team; an agent asking for another's gets a 404, as if there were none; someone who works
    no cases (an administrator) is refused. The team's money is the managers' business, and
    that of agents given the permission.
    """
    if not has_role(user, *WORKER_ROLES):
        raise PermissionDenied
    if pk is None or pk == user.pk:
        agent = user
    elif has_role(user, Role.MANAGER):
        agent = get_object_or_404(case_workers().select_related("team"), pk=pk)
    else:
        raise Http404("not your page")
    money = has_role(user, Role.MANAGER) or user.has_perm("retention.view_team_money")
    return agent, money
