"""Authority tiers change only through offers.tiers, which records who changed which limit from
what to what: through the admin's forms and its list, and in a history nobody can edit."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from offers.models import AuthorityTier, AuthorityTierChange
from offers.tiers import authority_tier_delete, authority_tier_save
from retention.core.refusals import NotAllowed
from tests.admin_forms import posted_back
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
Action = AuthorityTierChange.Action


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def url(view: str, *args: object, model: str = "authoritytier") -> str:
    return reverse(f"admin:offers_{model}_{view}", args=args)


def changed_in_admin(admin_client, tier: AuthorityTier, **changes: str):
    """Open the tier's page and save it with ``changes``, as an administrator does."""
    data = posted_back(admin_client.get(url("change", tier.pk)))
    data.update(changes)
    return admin_client.post(url("change", tier.pk), data)


def test_raising_a_limit_in_the_admin_records_who_raised_it_from_what_to_what(
    admin_client, admin_user, tiers
):
    manager = tiers["manager"]
    with time_machine.travel(NOW, tick=False):
        response = changed_in_admin(admin_client, manager, max_monthly="30")
    assert response.status_code == 302
    manager.refresh_from_db()
    assert manager.max_monthly == Decimal("30.00")
    (change,) = AuthorityTierChange.objects.all()
    assert (change.tier, change.tier_name, change.action) == (manager, "Manager", Action.CHANGED)
    assert (change.actor, change.at) == (admin_user, NOW)
    assert change.changes == {"max_monthly": ["25.00", "30.00"]}
    assert change.text == "most per month €25.00 → €30.00"


def test_every_field_that_changed_is_recorded_in_one_row(admin_client, tiers):
    lead = tiers["lead"]
    changed_in_admin(admin_client, lead, name="Team lead", rank="35", max_cumulative="1750.5")
    (change,) = AuthorityTierChange.objects.all()
    assert change.changes == {
        "name": ["Retention lead", "Team lead"],
        "rank": [30, 35],
        "max_cumulative": ["1500.00", "1750.50"],
    }
    assert change.tier_name == "Team lead"
    assert change.text == (
        "name Retention lead → Team lead; rank 30 → 35; "
        "most per subscriber in 12 months €1,500.00 → €1,750.50"
    )


def test_saving_a_tier_without_a_change_records_nothing(admin_client, tiers):
    # "25" on the form is the 25.00 in the database: the same limit, not a change.
    response = changed_in_admin(admin_client, tiers["manager"], max_monthly="25")
    assert response.status_code == 302
    assert not AuthorityTierChange.objects.exists()


def test_a_refused_form_records_nothing(admin_client, tiers):
    response = changed_in_admin(admin_client, tiers["manager"], max_monthly="-5")
    assert response.status_code == 200
    assert not AuthorityTierChange.objects.exists()


def test_a_new_tier_is_recorded_with_every_limit_it_starts_with(admin_client, admin_user):
    person = UserFactory.create(username="night")
    response = admin_client.post(
        url("add"),
        {
            "name": "Night shift",
            "rank": "15",
            "group": "",
            "user": person.pk,
            "max_monthly": "12",
            "max_total": "80",
            "max_cumulative": "150",
        },
    )
    assert response.status_code == 302
    (change,) = AuthorityTierChange.objects.all()
    assert change.tier == AuthorityTier.objects.get(name="Night shift")
    assert (change.action, change.actor) == (Action.CREATED, admin_user)
    assert change.changes == {
        "name": [None, "Night shift"],
        "rank": [None, 15],
        "user": [None, "night"],
        "max_monthly": [None, "12.00"],
        "max_total": [None, "80.00"],
        "max_cumulative": [None, "150.00"],
    }


def test_a_deleted_tier_keeps_its_name_and_limits_in_the_history(admin_client, admin_user, tiers):
    lead = tiers["lead"]
    changed_in_admin(admin_client, lead, max_monthly="65")
    response = admin_client.post(url("delete", lead.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not AuthorityTier.objects.filter(pk=lead.pk).exists()
    raised, deleted = AuthorityTierChange.objects.order_by("pk")
    # Both rows still say whose limits they were, with the tier itself gone.
    assert (raised.tier, raised.tier_name) == (None, "Retention lead")
    assert (deleted.tier, deleted.tier_name) == (None, "Retention lead")
    assert (deleted.action, deleted.actor) == (Action.DELETED, admin_user)
    assert deleted.changes == {
        "name": ["Retention lead", None],
        "rank": [30, None],
        "group": ["Retention lead", None],
        "max_monthly": ["65.00", None],
        "max_total": ["1000.00", None],
        "max_cumulative": ["1500.00", None],
    }


def test_deleting_tiers_from_the_list_records_each_deletion(admin_client, admin_user, tiers):
    chosen = [tiers["agent"], tiers["lead"]]
    response = admin_client.post(
        url("changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [tier.pk for tier in chosen],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert list(AuthorityTier.objects.values_list("name", flat=True)) == ["Manager"]
    deletions = AuthorityTierChange.objects.order_by("tier_name")
    assert [(row.tier_name, row.action, row.actor) for row in deletions] == [
        ("Agent", Action.DELETED, admin_user),
        ("Retention lead", Action.DELETED, admin_user),
    ]


def test_the_change_is_recorded_from_the_database_not_from_a_page_left_open(admin_user, tiers):
    stale = AuthorityTier.objects.get(pk=tiers["manager"].pk)
    authority_tier_save(tier=tiers["manager"], values={"max_total": "320"}, actor=admin_user)
    # A second administrator's page still showed 300; the row says what they really replaced.
    authority_tier_save(tier=stale, values={"max_total": "350"}, actor=admin_user)
    assert [row.changes for row in AuthorityTierChange.objects.order_by("pk")] == [
        {"max_total": ["300.00", "320.00"]},
        {"max_total": ["320.00", "350.00"]},
    ]


def test_only_an_administrator_changes_or_deletes_a_tier(manager, tiers):
    with pytest.raises(NotAllowed):
        authority_tier_save(tier=tiers["agent"], values={"max_monthly": "99"}, actor=manager)
    with pytest.raises(NotAllowed):
        authority_tier_delete(tier=tiers["agent"], actor=manager)
    tiers["agent"].refresh_from_db()
    assert tiers["agent"].max_monthly == Decimal("10.00")
    assert not AuthorityTierChange.objects.exists()


@pytest.mark.parametrize(
    ("model", "view"),
    [
        ("authoritytier", "changelist"),
        ("authoritytier", "add"),
        ("authoritytier", "change"),
        ("authoritytierchange", "changelist"),
    ],
)
def test_a_non_admin_is_sent_to_the_admin_login(agent_client, tiers, model, view):
    args = (tiers["agent"].pk,) if view == "change" else ()
    response = agent_client.get(url(view, *args, model=model))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_the_tier_page_links_to_its_history(admin_client, tiers):
    lead = tiers["lead"]
    html = admin_client.get(url("change", lead.pk)).content.decode()
    history = url("changelist", model="authoritytierchange")
    assert f'href="{history}?tier__id__exact={lead.pk}"' in html


def test_the_history_lists_who_changed_what_in_the_readers_language(
    admin_client, tiers, django_assert_max_num_queries
):
    changed_in_admin(admin_client, tiers["manager"], max_monthly="30")
    changed_in_admin(admin_client, tiers["agent"], max_total="75")
    history = url("changelist", model="authoritytierchange")
    # Session, user, the tier filter's choices, the count, the sidebar's, the rows with actors.
    with django_assert_max_num_queries(6) as first:
        html = admin_client.get(history).content.decode()
    assert "most per month €25.00 → €30.00" in html
    assert "most for one offer €60.00 → €75.00" in html
    queries = len(first)
    for max_total in ("80", "85", "90"):
        changed_in_admin(admin_client, tiers["agent"], max_total=max_total)
    with django_assert_max_num_queries(queries):
        assert admin_client.get(history).status_code == 200
    only_agent = admin_client.get(history, {"tier__id__exact": tiers["agent"].pk})
    assert "most per month" not in only_agent.content.decode()
    with translation.override("lv"):
        said = AuthorityTierChange.objects.get(tier=tiers["manager"]).text
    assert "€25,00 → €30,00" in said
    assert "most per month" not in said


def test_the_history_is_read_only(admin_client, tiers, django_assert_max_num_queries):
    changed_in_admin(admin_client, tiers["manager"], max_monthly="30")
    change = AuthorityTierChange.objects.get()
    page = url("change", change.pk, model="authoritytierchange")
    with django_assert_max_num_queries(5):
        response = admin_client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert "most per month €25.00 → €30.00" in html
    assert 'name="_save"' not in html
    assert admin_client.post(page, {"tier_name": "Someone else"}).status_code == 403
    assert admin_client.get(url("add", model="authoritytierchange")).status_code == 403
    assert (
        admin_client.get(url("delete", change.pk, model="authoritytierchange")).status_code == 403
    )
    change.refresh_from_db()
    assert change.tier_name == "Manager"
