"""The offers admin: the catalogue and authority are editable without a programmer, mistakes are
form errors, and counter-offers can be read but not changed."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from offers import services
from offers.models import ApprovalDelegation, AuthorityTier, CounterOffer, OfferTemplate
from tests.factories import PlanFactory, SubscriberFactory, UserFactory

pytestmark = pytest.mark.django_db

# Session, user, the page's own queries, and the admin's sidebar; each changelist stays within
# these however many rows there are.
MAX_QUERIES = {
    "offertemplate": 6,
    "authoritytier": 6,
    "approvaldelegation": 6,
    # One more on PostgreSQL: the large-table paginator asks the planner's estimate first and
    # counts exactly only when the table is small.
    "counteroffer": 6,
}


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def offer(agent, manager, tiers, catalogue):
    pending = services.offer_propose(
        subscriber=SubscriberFactory.create(), template=catalogue["big"], proposer=agent, note="x"
    )
    return services.offer_approve(offer=pending, actor=manager, note="fine by me")


@pytest.fixture
def delegation(manager, manager2):
    now = timezone.now()
    return ApprovalDelegation.objects.create(
        delegator=manager, delegate=manager2, starts_at=now, ends_at=now + timedelta(days=7)
    )


def url(model: str, view: str, *args: object) -> str:
    return reverse(f"admin:offers_{model}_{view}", args=args)


def with_groups_of(user: Any) -> Any:
    """Another user in the same groups (roles and authority)."""
    other = UserFactory.create()
    other.groups.set(user.groups.all())
    return other


def template_form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "code": "winter-deal",
        "name_en": "Winter deal",
        "name_lv": "",
        "name_ru": "",
        "is_active": "on",
        "position": "5",
        "kind": "percent_discount",
        "percent": "15",
        "amount": "",
        "months": "6",
        "days": "0",
        "new_plan": "",
        "min_tenure_months": "0",
    }
    data.update(overrides)
    return data


def delegation_form(delegator: Any, delegate: Any, starts: str, ends: str) -> dict[str, object]:
    return {
        "delegator": delegator.pk,
        "delegate": delegate.pk,
        "starts_at_0": starts,
        "starts_at_1": "09:00",
        "ends_at_0": ends,
        "ends_at_1": "18:00",
        "note": "",
    }


@pytest.mark.parametrize("model", sorted(MAX_QUERIES))
def test_changelists_open_within_a_fixed_number_of_queries(
    model, admin_client, offer, delegation, agent, manager, django_assert_max_num_queries
):
    with django_assert_max_num_queries(MAX_QUERIES[model]) as first:
        assert admin_client.get(url(model, "changelist")).status_code == 200
    # Counted now: the next request resets the connection's query log.
    queries = len(first)
    assert admin_client.get(url(model, "changelist"), {"q": "nothing-matches"}).status_code == 200
    # More rows, with more related rows to show, and the same queries.
    if model == "offertemplate":
        for n in range(3):
            OfferTemplate.objects.create(
                code=f"faster-{n}",
                name_en=f"Faster {n}",
                kind="speed_upgrade",
                new_plan=PlanFactory.create(download_mbps=1000 + n),
            )
    elif model == "authoritytier":
        for n in range(3):
            AuthorityTier.objects.create(
                name=f"Personal {n}",
                rank=50 + n,
                user=UserFactory.create(),
                max_monthly=Decimal(1),
                max_total=Decimal(1),
                max_cumulative=Decimal(1),
            )
    elif model == "counteroffer":
        for _ in range(3):
            services.offer_propose(
                subscriber=SubscriberFactory.create(),
                template=offer.template,
                proposer=with_groups_of(agent),
            )
    else:
        for _ in range(3):
            delegation.pk = None
            delegation.delegate = with_groups_of(manager)
            delegation.save()
    with django_assert_max_num_queries(queries):
        assert admin_client.get(url(model, "changelist")).status_code == 200


def test_catalogue_changelist_shows_the_terms(admin_client, catalogue):
    html = admin_client.get(url("offertemplate", "changelist")).content.decode()
    assert "30% · 12 months" in html
    assert "€40.00" in html


@pytest.mark.parametrize(
    ("model", "max_queries"),
    [("offertemplate", 4), ("authoritytier", 5), ("approvaldelegation", 4)],
)
def test_add_pages_open(model, max_queries, admin_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(max_queries):
        assert admin_client.get(url(model, "add")).status_code == 200


@pytest.fixture
def change_pages(catalogue, tiers, delegation, lead) -> dict[str, str]:
    move = catalogue["loyalty"]
    move.new_plan = PlanFactory.create(code="fast", download_mbps=1000)
    move.save()
    own = AuthorityTier.objects.create(
        name="Lead's own",
        rank=40,
        user=lead,
        max_monthly=Decimal(80),
        max_total=Decimal(1200),
        max_cumulative=Decimal(2000),
    )
    return {
        "template": url("offertemplate", "change", move.pk),
        "group tier": url("authoritytier", "change", tiers["lead"].pk),
        "user tier": url("authoritytier", "change", own.pk),
        "delegation": url("approvaldelegation", "change", delegation.pk),
    }


@pytest.mark.parametrize(
    ("page", "max_queries"),
    [("template", 5), ("group tier", 5), ("user tier", 6), ("delegation", 6)],
)
def test_change_pages_open(
    page, max_queries, admin_client, change_pages, django_assert_max_num_queries
):
    with django_assert_max_num_queries(max_queries):
        assert admin_client.get(change_pages[page]).status_code == 200


def test_a_template_with_good_terms_is_saved_with_its_ticked_segments_and_reasons(admin_client):
    response = admin_client.post(
        url("offertemplate", "add"),
        template_form(segments=["corporate", "residential"], reason_categories=["price"]),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    saved = OfferTemplate.objects.get(code="winter-deal")
    assert saved.segments == ["residential", "corporate"]  # in the choices' order
    assert saved.reason_categories == ["price"]
    assert saved.percent == Decimal(15)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"percent": ""}, "A percentage discount needs a percentage above 0 and up to 100."),
        ({"percent": "120"}, "A percentage discount needs a percentage above 0 and up to 100."),
        ({"months": "0"}, "Give between 1 and 24 months."),
        ({"kind": "speed_upgrade", "percent": "", "months": "0"}, "needs the faster plan"),
        ({"kind": "payment_deferral", "percent": "", "months": "0"}, "Defer by 1 to 90 days."),
    ],
)
def test_a_template_with_bad_terms_is_refused_and_nothing_is_saved(
    admin_client, overrides, message
):
    response = admin_client.post(url("offertemplate", "add"), template_form(**overrides))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert any(message in error for error in form.non_field_errors())
    assert message in response.content.decode()
    assert not OfferTemplate.objects.filter(code="winter-deal").exists()


def test_changing_a_template_to_bad_terms_keeps_the_old_ones(admin_client, catalogue):
    fixed = catalogue["fixed"]
    response = admin_client.post(
        url("offertemplate", "change", fixed.pk),
        template_form(code=fixed.code, kind="fixed_discount", percent="", amount="0", months="12"),
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "This offer needs an amount above zero."
    ]
    fixed.refresh_from_db()
    assert fixed.amount == Decimal(5)


def test_a_tier_for_both_a_group_and_a_user_is_refused(admin_client, lead):
    response = admin_client.post(
        url("authoritytier", "add"),
        {
            "name": "Both",
            "rank": "50",
            "group": lead.groups.first().pk,
            "user": lead.pk,
            "max_monthly": "10",
            "max_total": "-1",
            "max_cumulative": "10",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["user"] == ["Choose a group or a user, not both."]
    assert errors["max_total"] == ["A limit cannot be negative."]
    assert not AuthorityTier.objects.filter(name="Both").exists()


def test_a_delegation_to_oneself_is_refused_with_a_form_error(admin_client, manager):
    response = admin_client.post(
        url("approvaldelegation", "add"),
        delegation_form(manager, manager, "2026-07-01", "2026-07-14"),
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["delegate"] == [
        "A manager cannot hand their approvals to themselves."
    ]
    assert not ApprovalDelegation.objects.exists()


def test_a_delegation_that_ends_before_it_starts_is_refused(admin_client, manager, manager2):
    response = admin_client.post(
        url("approvaldelegation", "add"),
        delegation_form(manager, manager2, "2026-07-14", "2026-07-01"),
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["ends_at"] == [
        "The end must come after the start."
    ]
    assert not ApprovalDelegation.objects.exists()


def test_a_delegation_to_someone_who_cannot_approve_is_refused(admin_client, manager, agent):
    response = admin_client.post(
        url("approvaldelegation", "add"),
        delegation_form(manager, agent, "2026-07-01", "2026-07-14"),
    )
    assert response.status_code == 200
    assert "is not a manager" in response.context["adminform"].form.errors["delegate"][0]
    assert not ApprovalDelegation.objects.exists()


def test_a_delegation_between_two_managers_is_saved(admin_client, manager, manager2):
    response = admin_client.post(
        url("approvaldelegation", "add"),
        delegation_form(manager, manager2, "2026-07-01", "2026-07-14"),
    )
    assert response.status_code == 302
    assert ApprovalDelegation.objects.get().delegate == manager2


def test_counter_offers_cannot_be_added_changed_or_deleted(admin_client, offer):
    changelist = admin_client.get(url("counteroffer", "changelist")).content.decode()
    assert url("counteroffer", "add") not in changelist
    assert admin_client.get(url("counteroffer", "add")).status_code == 403
    assert admin_client.get(url("counteroffer", "delete", offer.pk)).status_code == 403
    assert admin_client.post(url("counteroffer", "delete", offer.pk)).status_code == 403
    response = admin_client.post(url("counteroffer", "change", offer.pk), {"status": "rejected"})
    assert response.status_code == 403
    offer.refresh_from_db()
    assert offer.status == CounterOffer.Status.APPROVED


def test_a_counter_offer_page_shows_its_history_read_only(
    admin_client, offer, django_assert_max_num_queries
):
    with django_assert_max_num_queries(6):
        response = admin_client.get(url("counteroffer", "change", offer.pk))
    assert response.status_code == 200
    html = response.content.decode()
    # Read-only: the subscriber is shown, never offered as a <select> or an input.
    assert 'name="subscriber"' not in html
    assert "fine by me" in html
    (inline,) = response.context["inline_admin_formsets"]
    actions = [form.original.action for form in inline]
    assert actions == ["proposed", "approved"]
    assert not inline.has_add_permission
    assert not inline.has_delete_permission


def test_templates_are_switched_off_and_reordered_from_the_list(admin_client, catalogue):
    fixed = catalogue["fixed"]
    response = admin_client.post(
        url("offertemplate", "changelist") + f"?q={fixed.code}",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(fixed.pk),
            "form-0-position": "3",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    fixed.refresh_from_db()
    assert (fixed.is_active, fixed.position) == (False, 3)


def test_a_pause_template_is_saved_within_the_bounds_and_refused_outside_them(admin_client):
    pause = {"kind": "pause", "percent": "", "amount": "0", "reason_categories": ["moving"]}
    refused = admin_client.post(url("offertemplate", "add"), template_form(**pause, months="4"))
    assert refused.status_code == 200
    assert refused.context["adminform"].form.non_field_errors() == ["Pause for 1 to 3 months."]
    assert not OfferTemplate.objects.filter(code="winter-deal").exists()
    saved = admin_client.post(url("offertemplate", "add"), template_form(**pause, months="2"))
    assert saved.status_code == 302
    assert OfferTemplate.objects.get(code="winter-deal").kind == "pause"
    listing = admin_client.get(url("offertemplate", "changelist")).content.decode()
    assert "€0.00 · 2 months" in listing
