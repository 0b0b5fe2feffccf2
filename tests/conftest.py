import pytest
from django.contrib.auth.models import Group

from retention.roles import Role
from tests.factories import UserFactory


def _user_with_role(role: Role, username: str):  # type: ignore[no-untyped-def]
    user = UserFactory(username=username)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def agent(db):  # type: ignore[no-untyped-def]
    return _user_with_role(Role.AGENT, "agent")


@pytest.fixture
def manager(db):  # type: ignore[no-untyped-def]
    return _user_with_role(Role.MANAGER, "manager")


@pytest.fixture
def admin_user(db):  # type: ignore[no-untyped-def]
    return UserFactory(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def agent_client(client, agent):  # type: ignore[no-untyped-def]
    client.force_login(agent)
    return client


@pytest.fixture
def manager_client(client, manager):  # type: ignore[no-untyped-def]
    client.force_login(manager)
    return client
