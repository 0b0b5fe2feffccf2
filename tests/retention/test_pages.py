import pytest
from django.urls import reverse

from retention.core.roles import Role, has_role, user_roles
from tests.factories import SubscriberFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_login_page_query_count(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get(reverse("login")).status_code == 200


def test_home_sends_agents_to_the_queue_and_admins_to_search(agent_client, client, admin_user):
    response = agent_client.get("/")
    assert response.status_code == 302
    assert response["Location"] == reverse("queue")
    client.force_login(admin_user)
    response = client.get("/")
    assert response["Location"] in (reverse("queue"), reverse("subscribers:search"))


def test_preferences_page_query_count_and_time_zone_change(
    agent_client, agent, django_assert_num_queries
):
    with django_assert_num_queries(3):  # session, user, roles for the navigation
        assert agent_client.get(reverse("preferences")).status_code == 200
    response = agent_client.post(reverse("preferences"), {"time_zone": "Europe/London"})
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.time_zone == "Europe/London"


def test_an_unknown_time_zone_is_refused_and_changes_nothing(agent_client, agent):
    response = agent_client.post(reverse("preferences"), {"time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert response.context["form"].errors["time_zone"]
    agent.refresh_from_db()
    assert agent.time_zone == "Europe/Riga"


def test_times_are_shown_in_the_staff_members_time_zone(agent_client, agent):
    from datetime import UTC, datetime

    from subscribers.models import TimelineEvent

    subscriber = SubscriberFactory.create()
    TimelineEvent.objects.create(
        subscriber=subscriber,
        kind=TimelineEvent.Kind.PAYMENT,
        occurred_at=datetime(2026, 7, 1, 12, 0, tzinfo=UTC),
        summary="Paid",
    )
    url = reverse("subscribers:detail", args=[subscriber.pk])
    assert "01.07.2026 15:00" in agent_client.get(url).content.decode()  # Riga, summer time
    agent.time_zone = "Europe/London"
    agent.save()
    assert "01.07.2026 13:00" in agent_client.get(url).content.decode()


def test_roles_come_from_groups_and_superusers_hold_all(agent, manager):
    assert has_role(agent, Role.AGENT) and not has_role(agent, Role.MANAGER)
    assert has_role(manager, Role.MANAGER)
    boss = UserFactory.create(username="root", is_superuser=True)
    assert user_roles(boss) == frozenset(Role)
    inactive = UserFactory.create(username="gone", is_active=False)
    assert user_roles(inactive) == frozenset()


def test_admin_subscriber_changelist_does_not_grow_with_the_table(
    client, admin_user, django_assert_max_num_queries
):
    client.force_login(admin_user)
    SubscriberFactory.create_batch(5)
    url = reverse("admin:subscribers_subscriber_changelist")
    with django_assert_max_num_queries(8) as first:
        assert client.get(url).status_code == 200
    SubscriberFactory.create_batch(60)
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert client.get(url).status_code == 200
    assert client.get(url, {"q": "nobody-matches-this"}).status_code == 200


def test_admin_subscriber_page_shows_latest_events_read_only(client, admin_user):
    from subscribers.models import TimelineEvent
    from tests.factories import TimelineEventFactory

    client.force_login(admin_user)
    subscriber = SubscriberFactory.create()
    TimelineEventFactory.create_batch(30, subscriber=subscriber)
    response = client.get(reverse("admin:subscribers_subscriber_change", args=[subscriber.pk]))
    assert response.status_code == 200
    inline = next(
        f for f in response.context["inline_admin_formsets"] if f.formset.model is TimelineEvent
    )
    assert len(inline.formset.forms) == 20


def test_admin_changelist_links_to_the_csv_import(client, admin_user):
    client.force_login(admin_user)
    html = client.get(reverse("admin:subscribers_subscriber_changelist")).content.decode()
    assert reverse("admin:subscribers_subscriber_import") in html
    assert client.get(reverse("admin:subscribers_subscriber_import")).status_code == 200
