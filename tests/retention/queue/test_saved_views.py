"""Saved queue views: an agent's own, a team's by its manager; what they store, who sees them,
what happens when their filters go stale, and what the queue with one costs."""

import pytest
from django.core.cache import cache
from django.http import QueryDict
from django.test import Client
from django.urls import reverse

from retention.core.refusals import Conflict, InvalidInput, NotAllowed
from retention.core.roles import Role
from retention.models import CancellationReason, SavedView, SavedViewHistory, Team
from retention.queue import services
from retention.queue.selectors import queue_view_counts, queue_views
from tests.factories import CaseFactory, SubscriberFactory, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    red, blue = Team.objects.create(name="Red"), Team.objects.create(name="Blue")
    return {
        "ann": user_with_role(Role.AGENT, username="ann", team=red),
        "bob": user_with_role(Role.AGENT, username="bob", team=red),
        "meg": user_with_role(Role.MANAGER, username="meg", team=red),
        "cid": user_with_role(Role.AGENT, username="cid", team=blue),
        "max": user_with_role(Role.MANAGER, username="max", team=blue),
    }


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def q(text: str) -> QueryDict:
    return QueryDict(text)


def test_an_agent_saves_the_filters_and_sort_he_is_looking_at(team):
    view = services.saved_view_create(
        actor=team["ann"],
        name="  Kurzeme   business ",
        query=q("region=&segment=small_business&overdue=on&sort=-process_by&after=xyz&junk=1"),
    )
    assert view.name == "Kurzeme business"
    assert view.owner == team["ann"] and view.team is None
    # Only the queue's own filters, empty ones and the cursor left out.
    assert view.filters == {"segment": "small_business", "overdue": "on"}
    assert view.sort == "-process_by"
    # A personal view has no history: nobody else works by it.
    assert not SavedViewHistory.objects.exists()


def test_invalid_filters_or_sort_are_refused_and_nothing_is_saved(team):
    with pytest.raises(InvalidInput, match="Channel"):
        services.saved_view_create(actor=team["ann"], name="Pigeons", query=q("channel=pigeon"))
    with pytest.raises(InvalidInput, match="cannot be sorted"):
        services.saved_view_create(actor=team["ann"], name="Names", query=q("sort=subscriber"))
    with pytest.raises(InvalidInput):
        services.saved_view_create(actor=team["ann"], name="   ", query=q(""))
    assert not SavedView.objects.exists()


def test_a_name_is_used_once_per_person(team):
    services.saved_view_create(actor=team["ann"], name="Mine", query=q("owner=me"))
    with pytest.raises(Conflict):
        services.saved_view_create(actor=team["ann"], name="Mine", query=q("owner=none"))
    # Another agent may use the same name.
    services.saved_view_create(actor=team["bob"], name="Mine", query=q("owner=me"))


def test_only_a_manager_shares_a_view_with_the_team_and_it_has_history(team):
    with pytest.raises(NotAllowed):
        services.saved_view_create(actor=team["ann"], name="Ours", query=q(""), team=True)
    view = services.saved_view_create(
        actor=team["meg"], name="Port-outs", query=q("channel=port_out"), team=True
    )
    assert view.team == team["meg"].team and view.owner is None
    services.saved_view_rename(view=view, actor=team["meg"], name="Port-out notices")
    # The team's agents use it but do not change it; another team does not even see it.
    with pytest.raises(NotAllowed):
        services.saved_view_rename(view=view, actor=team["ann"], name="Mine now")
    with pytest.raises(NotAllowed):
        services.saved_view_delete(view=view, actor=team["max"])
    services.saved_view_delete(view=view, actor=team["meg"])
    assert not SavedView.objects.exists()
    assert list(
        SavedViewHistory.objects.order_by("id").values_list("action", "name", "actor__username")
    ) == [
        ("created", "Port-outs", "meg"),
        ("renamed", "Port-out notices", "meg"),
        ("deleted", "Port-out notices", "meg"),
    ]


def test_an_agent_manages_only_his_own_views(team):
    view = services.saved_view_create(actor=team["ann"], name="Mine", query=q("owner=me"))
    with pytest.raises(NotAllowed):
        services.saved_view_delete(view=view, actor=team["bob"])
    services.saved_view_update(view=view, actor=team["ann"], query=q("owner=none&sort=priority"))
    view.refresh_from_db()
    assert (view.filters, view.sort) == ({"owner": "none"}, "priority")


def test_the_side_list_has_built_ins_own_and_team_views_each_counted_in_one_query(
    team, django_assert_num_queries
):
    ann, meg = team["ann"], team["meg"]
    services.saved_view_create(actor=ann, name="Port-outs", query=q("channel=port_out"))
    services.saved_view_create(actor=meg, name="Team", query=q("owner=team"), team=True)
    services.saved_view_create(actor=team["max"], name="Blue only", query=q(""), team=True)
    CaseFactory.create(owner=ann, status="in_progress")
    CaseFactory.create(channel="port_out")
    CaseFactory.create(owner=team["cid"], status="in_progress")
    cache.clear()
    views = queue_views(user=ann)
    assert [v.name for v in views] == ["Unclaimed", "Mine", "Overdue", "Port-outs", "Team"]
    # the owner choices, the region list (cached after this), and every count in one pass
    with django_assert_num_queries(3):
        counts = queue_view_counts(user=ann, views=views)
    assert [counts[v.key] for v in views] == [1, 1, 0, 1, 1]


def test_a_view_whose_filters_went_stale_says_so_and_shows_every_open_case(team):
    reason = CancellationReason.objects.create(code="gone", category="price", name_en="Gone")
    view = services.saved_view_create(
        actor=team["ann"], name="Gone", query=q(f"reason={reason.pk}")
    )
    reason.is_active = False
    reason.save()
    CaseFactory.create_batch(2)
    cache.clear()
    response = client_for(team["ann"]).get(reverse("queue"), {"view": view.pk})
    assert response.status_code == 200
    assert "no longer has" in response.context["view_problem"]
    assert len(response.context["page"].cases) == 2
    counts = dict((v.key, n) for v, n in response.context["views"])
    assert counts[str(view.pk)] is None


def test_a_view_of_another_person_or_team_or_a_bad_id_is_404(team):
    mine = services.saved_view_create(actor=team["ann"], name="Mine", query=q(""))
    blue = services.saved_view_create(actor=team["max"], name="Blue", query=q(""), team=True)
    bob = client_for(team["bob"])
    for key in (mine.pk, blue.pk, "999999", "nope", "1" * 40):
        assert bob.get(reverse("queue"), {"view": key}).status_code == 404, key
    assert bob.post(reverse("saved_view_delete", args=[mine.pk])).status_code == 404
    assert SavedView.objects.filter(pk=mine.pk).exists()


def test_the_queue_applies_a_views_filters_and_sort(team):
    ann = team["ann"]
    view = services.saved_view_create(
        actor=ann, name="Web by priority", query=q("channel=web&sort=priority")
    )
    for priority in (30, 10, 20):
        CaseFactory.create(channel="web", priority=priority)
    CaseFactory.create(channel="phone", priority=5)
    response = client_for(ann).get(reverse("queue"), {"view": view.pk})
    assert [c.priority for c in response.context["page"].cases] == [10, 20, 30]
    assert response.context["active_key"] == str(view.pk)
    assert 'aria-sort="ascending"' in response.content.decode()


def test_saving_from_the_page_and_deleting_it(team):
    ann = client_for(team["ann"])
    response = ann.post(
        reverse("saved_view_create"), {"name": "Overdue web", "query": "channel=web&overdue=on"}
    )
    view = SavedView.objects.get()
    assert response["Location"] == f"{reverse('queue')}?view={view.pk}"
    # An agent cannot sneak a team view in: the box is not his, and the field is ignored.
    ann.post(reverse("saved_view_create"), {"name": "Ours", "query": "", "team": "on"})
    assert SavedView.objects.get(name="Ours").team is None
    assert ann.get(reverse("saved_view_delete", args=[view.pk])).status_code == 405
    ann.post(reverse("saved_view_delete", args=[view.pk]))
    assert not SavedView.objects.filter(pk=view.pk).exists()


@pytest.mark.parametrize("count", [3, 40])
def test_the_queue_with_a_saved_view_sorted_costs_the_same_queries_at_any_size(
    team, django_assert_num_queries, count
):
    ann = team["ann"]
    view = services.saved_view_create(
        actor=ann, name="By due", query=q("segment=residential&sort=-first_contact_due")
    )
    services.saved_view_create(actor=team["meg"], name="Team", query=q("owner=team"), team=True)
    for _ in range(count):
        CaseFactory.create(subscriber=SubscriberFactory.create(segment="residential"))
    client = client_for(ann)
    cache.clear()
    # session, user, roles, saved views, staff (owner choices), reasons, plans, regions, page,
    # counts, the views' counts (one pass)
    with django_assert_num_queries(11):
        response = client.get(reverse("queue"), {"view": view.pk})
    assert len(response.context["page"].cases) == min(count, 50)
    # The counts and regions cached, as 200 agents refreshing meet them.
    with django_assert_num_queries(8):
        client.get(reverse("queue"), {"view": view.pk})
    with django_assert_num_queries(4):  # the side list's poll: session, user, views, counts
        client.get(reverse("queue_views"), {"view": view.pk}, headers={"HX-Request": "true"})
