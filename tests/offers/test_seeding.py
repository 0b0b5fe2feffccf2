"""The demo seed: plan-bound catalogue offers and the retention lead's login."""

from io import StringIO

import pytest
from django.core.management import call_command

from offers.authority import authority_for
from offers.exceptions import InvalidTerms
from offers.models import OfferKind, OfferTemplate
from offers.pricing import Terms, terms_validate
from retention.demo.offers import offer_catalogue_for_plans
from retention.models import User
from retention.system.services import DEMO_USERS, demo_users_ensure
from subscribers.models import Plan, Subscriber

pytestmark = pytest.mark.django_db


def seed_offers() -> str:
    out = StringIO()
    call_command("seed_offers", stdout=out)
    return out.getvalue()


@pytest.fixture
def demo_plans() -> None:
    call_command(
        "seed_demo",
        subscribers=50,
        heavy=1,
        heavy_events=10,
        events_per_subscriber=5,
        no_progress=True,
        stdout=StringIO(),
    )


def test_without_plans_seed_offers_adds_nothing():
    Plan.objects.all().delete()
    assert "no offers added" in seed_offers()
    assert offer_catalogue_for_plans() == []
    assert not OfferTemplate.objects.filter(code__in=["speed-upgrade", "cheaper-plan"]).exists()


def test_seed_offers_is_idempotent(demo_plans):
    assert "speed-upgrade" in seed_offers()
    rows = list(OfferTemplate.objects.order_by("pk").values())
    output = seed_offers()
    assert list(OfferTemplate.objects.order_by("pk").values()) == rows
    assert "already in the catalogue" in output
    assert "— added" not in output


def test_the_speed_upgrade_goes_to_the_fastest_residential_plan_on_sale(demo_plans):
    seed_offers()
    upgrade = OfferTemplate.objects.select_related("new_plan").get(code="speed-upgrade")
    assert upgrade.kind == OfferKind.SPEED_UPGRADE
    assert upgrade.new_plan is not None
    assert upgrade.new_plan.code == "optika-1000"
    assert upgrade.new_plan.is_sold
    assert upgrade.min_tenure_months == 12
    assert upgrade.reason_categories == ["quality", "competitor", "price"]
    assert upgrade.segments == [Subscriber.Segment.RESIDENTIAL]
    assert all([upgrade.name_en, upgrade.name_lv, upgrade.name_ru])
    # It is an upgrade for someone on a slower plan, and none for someone on it already.
    slower = Subscriber.objects.filter(plan__code="optika-100").first() or Subscriber(
        plan=Plan.objects.get(code="optika-100")
    )
    terms_validate(Terms.of(upgrade), slower)
    with pytest.raises(InvalidTerms):
        terms_validate(Terms.of(upgrade), Subscriber(plan=upgrade.new_plan))


def test_the_cheaper_plan_stays_flat_rate(demo_plans):
    seed_offers()
    cheaper = OfferTemplate.objects.select_related("new_plan").get(code="cheaper-plan")
    assert cheaper.kind == OfferKind.PLAN_CHANGE
    assert cheaper.new_plan is not None
    # Not the 30-hours-a-month plan, though it costs less: the cheapest unlimited one.
    assert cheaper.new_plan.code == "optika-100"
    assert cheaper.reason_categories == []
    terms_validate(Terms.of(cheaper))


def test_an_admins_change_to_a_seeded_offer_survives_the_next_seed(demo_plans):
    seed_offers()
    OfferTemplate.objects.filter(code="speed-upgrade").update(is_active=False, min_tenure_months=6)
    seed_offers()
    upgrade = OfferTemplate.objects.get(code="speed-upgrade")
    assert (upgrade.is_active, upgrade.min_tenure_months) == (False, 6)


def test_demo_lead_is_a_manager_with_the_retention_lead_authority(tiers):
    demo_users_ensure()
    demo_users_ensure()  # resetting twice changes nothing
    lead = User.objects.get(username="lead")
    assert set(lead.groups.values_list("name", flat=True)) == {"Manager", "Retention lead"}
    assert lead.check_password("lead-demo-2026")
    assert not lead.is_staff
    tier = authority_for(lead).tier
    assert tier is not None
    assert tier.name == "Retention lead"


def test_the_other_demo_logins_are_unchanged():
    demo_users_ensure()
    groups = {
        user.username: sorted(user.groups.values_list("name", flat=True))
        for user in User.objects.filter(username__in=["agent", "manager", "admin"])
    }
    assert groups == {"agent": ["Agent"], "manager": ["Manager"], "admin": ["Admin"]}
    assert User.objects.get(username="admin").is_superuser
    assert [demo.username for demo in DEMO_USERS] == ["agent", "manager", "lead", "admin"]


def test_demo_users_prints_every_login():
    out = StringIO()
    call_command("demo_users", stdout=out)
    for demo in DEMO_USERS:
        assert f"username {demo.username} " in out.getvalue()
    assert "Retention lead" in out.getvalue()


def test_seed_offers_puts_back_a_catalogue_the_data_reload_emptied():
    from offers.models import AuthorityTier, OfferTemplate

    OfferTemplate.objects.all().delete()
    AuthorityTier.objects.all().delete()
    call_command("seed_offers", stdout=StringIO())
    assert OfferTemplate.objects.filter(code="loyalty-tariff", kind="plan_change").exists()
    assert set(AuthorityTier.objects.values_list("name", flat=True)) >= {"Agent", "Manager"}
    count = OfferTemplate.objects.count()
    call_command("seed_offers", stdout=StringIO())
    assert OfferTemplate.objects.count() == count
