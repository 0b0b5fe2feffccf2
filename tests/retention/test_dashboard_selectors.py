"""Who may see an agent's figures, and the team's money with them: decided by one selector,
``agent_figures_for_user``, whose refusals the page answers with (404, 403)."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from retention.core.roles import Role
from retention.dashboard.selectors import agent_figures_for_user
from retention.models import Team
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def teams():
    a, b = Team.objects.create(name="A"), Team.objects.create(name="B")
    return {
        "ann": user_with_role(Role.AGENT, username="ann", team=a),
        "bob": user_with_role(Role.AGENT, username="bob", team=a),
        "cid": user_with_role(Role.AGENT, username="cid", team=b),
        "lead": user_with_role(Role.MANAGER, username="lead", team=a),
        "admin": user_with_role(Role.ADMIN, username="sysadmin"),
    }


def test_an_agent_sees_their_own_figures_without_the_teams_money(teams):
    ann = teams["ann"]
    assert agent_figures_for_user(user=ann) == (ann, False)
    assert agent_figures_for_user(user=ann, pk=ann.pk) == (ann, False)


def test_an_agent_with_the_permission_sees_the_teams_money(teams):
    ann = teams["ann"]
    ann.user_permissions.add(Permission.objects.get(codename="view_team_money"))
    ann = type(ann).objects.get(pk=ann.pk)  # permissions are cached on the user
    assert agent_figures_for_user(user=ann) == (ann, True)


def test_an_agent_asking_for_anothers_figures_finds_nothing(teams):
    with pytest.raises(Http404):
        agent_figures_for_user(user=teams["ann"], pk=teams["bob"].pk)  # the same team
    with pytest.raises(Http404):
        agent_figures_for_user(user=teams["ann"], pk=teams["cid"].pk)


def test_a_manager_sees_an_agent_of_their_own_team_with_the_money(teams):
    agent, money = agent_figures_for_user(user=teams["lead"], pk=teams["ann"].pk)
    assert (agent, money) == (teams["ann"], True)
    assert agent.team is not None and agent.team.name == "A"


def test_a_manager_sees_an_agent_of_another_team_too(teams):
    agent, money = agent_figures_for_user(user=teams["lead"], pk=teams["cid"].pk)
    assert (agent, money) == (teams["cid"], True)
    assert agent.team is not None and agent.team.name == "B"


def test_a_manager_finds_only_those_who_work_cases(teams):
    for pk in (teams["admin"].pk, 999_999):
        with pytest.raises(Http404):
            agent_figures_for_user(user=teams["lead"], pk=pk)


def test_an_administrator_who_works_no_cases_is_refused(teams):
    admin = teams["admin"]
    with pytest.raises(PermissionDenied):
        agent_figures_for_user(user=admin)
    with pytest.raises(PermissionDenied):
        agent_figures_for_user(user=admin, pk=teams["ann"].pk)


def test_the_page_answers_as_the_selector_decides(client, teams):
    client.force_login(teams["ann"])
    assert client.get(reverse("my_figures")).status_code == 200
    assert client.get(reverse("agent_figures", args=[teams["bob"].pk])).status_code == 404
    client.force_login(teams["lead"])
    assert client.get(reverse("agent_figures", args=[teams["cid"].pk])).status_code == 200
    client.force_login(teams["admin"])
    assert client.get(reverse("agent_figures", args=[teams["ann"].pk])).status_code == 403
