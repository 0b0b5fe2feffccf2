"""The save workflow's pages: the offer builder in the case, the approvals inbox, delegation
and proactive offers. Roles are checked on the server, bad input changes nothing, and every
page costs a constant number of queries."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from offers.models import ApprovalDelegation, CounterOffer, OfferKind
from retention.cases.services import case_claim
from retention.core.roles import Role
from retention.models import CancellationCase, Team, User
from retention.saves import services as saves
from retention.saves.services import Decision
from tests.factories import (
    CaseFactory,
    SubscriberFactory,
    offer_template,
    user_with_role,
)
from tests.threads import run_at_once

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def big(db):
    """€9.00 a month for 12 months = €108: over an agent's authority, within a manager's."""
    return offer_template(
        "discount-30-12", OfferKind.PERCENT_DISCOUNT, percent=Decimal("30"), months=12
    )


@pytest.fixture
def small(db):
    return offer_template("fixed-5-12", OfferKind.FIXED_DISCOUNT, amount=Decimal("5"), months=12)


def pending_offer(agent, template, **subscriber):
    case = CaseFactory.create(subscriber=SubscriberFactory.create(**subscriber))
    case_claim(case=case, actor=agent)
    return saves.case_offer_propose(case=case, template=template, actor=agent, note="please")


# --- Roles --------------------------------------------------------------------------------------


def test_agents_cannot_open_the_inbox_or_decide(agent_client, agent, tiers, big):
    offer = pending_offer(agent, big)
    assert agent_client.get(reverse("approvals")).status_code == 403
    response = agent_client.post(reverse("offer_approve", args=[offer.pk]), {"note": ""})
    assert response.status_code == 403
    offer.refresh_from_db()
    assert offer.status == CounterOffer.Status.PENDING


def test_an_admin_without_the_manager_role_cannot_decide(client, agent, tiers, big):
    offer = pending_offer(agent, big)
    admin = user_with_role(Role.ADMIN, username="sysadmin", is_staff=True)
    client.force_login(admin)
    assert client.post(reverse("offer_approve", args=[offer.pk])).status_code == 403
    assert client.get(reverse("approvals")).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(reverse("approvals"))
    assert response.status_code == 302 and "/accounts/login/" in response.url


# --- The offer builder in the case --------------------------------------------------------------


def test_the_builder_shows_cost_new_price_and_authority(agent_client, agent, tiers, big, small):
    case = CaseFactory.create()
    case_claim(case=case, actor=agent)
    html = agent_client.get(reverse("case", args=[case.pk])).content.decode()
    assert 'data-offer="discount-30-12"' in html and 'data-offer="fixed-5-12"' in html
    assert "€108.00" in html and "€20.99" in html  # the 30% offer's cost and new price
    assert "Needs approval" in html and "Within yours: approved at once" in html


def test_proposing_within_authority_is_approved_at_once(agent_client, agent, tiers, small):
    case = CaseFactory.create()
    case_claim(case=case, actor=agent)
    response = agent_client.post(
        reverse("case_offer", args=[case.pk]), {"template": small.pk}, headers=HTMX
    )
    assert response.status_code == 200
    offer = CounterOffer.objects.get(case=case)
    assert offer.status == CounterOffer.Status.APPROVED and offer.auto_approved
    assert offer.decided_by is None
    assert 'id="offer-status"' in response.content.decode()


def test_proposing_an_unknown_offer_is_refused_and_creates_nothing(agent_client, agent, tiers):
    case = CaseFactory.create()
    case_claim(case=case, actor=agent)
    response = agent_client.post(
        reverse("case_offer", args=[case.pk]), {"template": 999999}, headers=HTMX
    )
    assert response.status_code == 400
    assert not CounterOffer.objects.exists()


def test_proposing_on_someone_elses_case_is_refused(client, agent, tiers, big):
    case = CaseFactory.create()
    case_claim(case=case, actor=agent)
    other = user_with_role(Role.AGENT, username="other-agent")
    client.force_login(other)
    response = client.post(
        reverse("case_offer", args=[case.pk]), {"template": big.pk}, headers=HTMX
    )
    assert response.status_code == 403
    assert not CounterOffer.objects.exists()


@pytest.mark.parametrize("offers", [1, 6])
def test_the_case_page_with_offers_costs_the_same_queries(
    agent_client, agent, manager, tiers, big, django_assert_num_queries, offers
):
    case = CaseFactory.create()
    case_claim(case=case, actor=agent)
    for _ in range(offers):
        offer = saves.case_offer_propose(case=case, template=big, actor=agent)
        saves.offer_withdraw(offer=offer, actor=agent, note="try another")
    saves.case_offer_propose(case=case, template=big, actor=agent)
    # As the plain case page (see test_case_views), without the builder's authority and
    # catalogue queries while an offer is under way, plus the offers' history.
    with django_assert_num_queries(21):
        response = agent_client.get(reverse("case", args=[case.pk]))
    assert response.status_code == 200


# --- The approvals inbox ------------------------------------------------------------------------


@pytest.mark.parametrize("waiting", [1, 8])
def test_the_inbox_query_count_is_constant(
    manager_client, agent, tiers, big, django_assert_num_queries, waiting
):
    for _ in range(waiting):
        pending_offer(agent, big)
    # session, user, roles, authority tiers, delegations, the offers (with subscriber, case,
    # reason, proposer, tier, conceded and earlier cases), plan choices of the amend forms,
    # delegations shown to me
    with django_assert_num_queries(7):
        response = manager_client.get(reverse("approvals"))
    assert response.status_code == 200
    assert response.content.decode().count('class="card approval') == waiting


def test_the_inbox_shows_what_an_approver_weighs(manager_client, agent, tiers, big):
    offer = pending_offer(agent, big, name="Anna Liepa", monthly_price=Decimal("29.99"))
    html = manager_client.get(reverse("approvals")).content.decode()
    assert "Anna Liepa" in html and "please" in html  # the subscriber and the agent's note
    assert "€108.00" in html  # the cost
    assert "€10.00" in html  # the loyalty penalty against the €19.99 new-customer price
    assert f'href="/cases/{offer.case_id}/"' in html


def test_the_inbox_refresh_is_a_fragment(manager_client, agent, tiers, big):
    pending_offer(agent, big)
    response = manager_client.get(reverse("approvals"), headers=HTMX)
    html = response.content.decode()
    assert 'id="inbox"' in html and "<html" not in html


def test_a_manager_never_sees_their_own_offer_nor_one_beyond_their_tier(
    manager_client, manager, agent, tiers, big
):
    case = CaseFactory.create()
    case_claim(case=case, actor=manager)
    lead_only = offer_template("free-3", OfferKind.FREE_MONTHS, months=3)
    saves.case_offer_propose(case=case, template=big, actor=manager)  # above? no: within
    mine = CounterOffer.objects.get(case=case)
    assert mine.auto_approved  # a manager's €108 is within their own authority
    beyond = pending_offer(agent, lead_only)  # €89.97 at €29.99 a month: the lead's tier
    html = manager_client.get(reverse("approvals")).content.decode()
    assert f'id="approval-{beyond.pk}"' not in html
    assert "inbox-empty" in html


def test_other_teams_offers_show_only_when_the_managers_authority_covers_them(client, tiers, big):
    north, south = Team.objects.create(name="North"), Team.objects.create(name="South")
    north_agent = user_with_role(Role.AGENT, username="north-agent", team=north)
    north_manager = user_with_role(Role.MANAGER, username="north-manager")
    south_manager = user_with_role(Role.MANAGER, username="south-manager")
    User.objects.filter(pk=north_manager.pk).update(team=north)
    User.objects.filter(pk=south_manager.pk).update(team=south)
    three_free = offer_template("free-3", OfferKind.FREE_MONTHS, months=3)
    covered = pending_offer(north_agent, big)  # €108: any manager's authority covers it
    beyond = pending_offer(north_agent, three_free)  # €89.97 at €29.99 a month: the lead's

    client.force_login(south_manager)
    html = client.get(reverse("approvals")).content.decode()
    assert f'id="approval-{covered.pk}"' in html  # another team's, but covered: decidable
    assert f"approval-{beyond.pk}" not in html and f"waiting-{beyond.pk}" not in html

    client.force_login(north_manager)
    html = client.get(reverse("approvals")).content.decode()
    assert f'id="approval-{covered.pk}"' in html
    # Their own team's offer beyond their tier: shown to follow, with no decision buttons.
    assert f'id="waiting-{beyond.pk}"' in html and f'id="approval-{beyond.pk}"' not in html


def test_the_inbox_of_a_team_manager_costs_one_more_query_whatever_the_backlog(
    client, tiers, big, django_assert_num_queries
):
    team = Team.objects.create(name="North")
    north_agent = user_with_role(Role.AGENT, username="north-agent", team=team)
    lead_only = offer_template("free-3", OfferKind.FREE_MONTHS, months=3)
    for _ in range(5):
        pending_offer(north_agent, big)
        pending_offer(north_agent, lead_only)
    manager = user_with_role(Role.MANAGER, username="north-manager")
    User.objects.filter(pk=manager.pk).update(team=team)
    client.force_login(manager)
    with django_assert_num_queries(8):
        html = client.get(reverse("approvals")).content.decode()
    assert html.count('class="card approval') == 5 and html.count('id="waiting-') == 5


def test_approving_in_the_inbox_notifies_the_agent(manager_client, agent, tiers, big):
    offer = pending_offer(agent, big)
    response = manager_client.post(
        reverse("offer_approve", args=[offer.pk]), {"note": "fair"}, headers=HTMX
    )
    assert response.status_code == 200
    assert 'id="inbox-done"' in response.content.decode()
    offer.refresh_from_db()
    assert offer.status == CounterOffer.Status.APPROVED
    assert agent.notifications.filter(code="notify.offer_approved").exists()


def test_rejecting_needs_a_note(manager_client, agent, tiers, big):
    offer = pending_offer(agent, big)
    response = manager_client.post(
        reverse("offer_reject", args=[offer.pk]), {"note": ""}, headers=HTMX
    )
    assert response.status_code == 400
    offer.refresh_from_db()
    assert offer.status == CounterOffer.Status.PENDING


def test_a_decided_offer_says_who_decided_without_an_error_page(client, agent, tiers, big):
    offer = pending_offer(agent, big)
    first, second = (
        user_with_role(Role.MANAGER, username="m-first"),
        user_with_role(Role.MANAGER, username="m-second"),
    )
    saves.offer_decide(offer=offer, actor=first, decision=Decision.REJECT, note="too generous")
    client.force_login(second)
    response = client.post(reverse("offer_approve", args=[offer.pk]), {"note": ""}, headers=HTMX)
    assert response.status_code == 409
    html = response.content.decode()
    assert 'id="inbox-error"' in html and first.get_full_name() in html and "<html" not in html
    offer.refresh_from_db()
    assert offer.status == CounterOffer.Status.REJECTED and offer.decided_by == first


def test_a_manager_cannot_approve_beyond_their_tier_through_the_web(manager_client, agent, tiers):
    three_free = offer_template("free-3", OfferKind.FREE_MONTHS, months=3)
    offer = pending_offer(agent, three_free)
    response = manager_client.post(
        reverse("offer_approve", args=[offer.pk]), {"note": ""}, headers=HTMX
    )
    assert response.status_code == 403
    assert "beyond your authority" in response.content.decode()
    offer.refresh_from_db()
    assert offer.status == CounterOffer.Status.PENDING


def test_amending_beyond_authority_changes_nothing(manager_client, agent, tiers, big):
    offer = pending_offer(agent, big)
    prefix = f"amend-{offer.pk}"
    response = manager_client.post(
        reverse("offer_amend", args=[offer.pk]),
        {f"{prefix}-percent": "90", f"{prefix}-months": "12", f"{prefix}-note": "more"},
        headers=HTMX,
    )
    assert response.status_code == 403
    offer.refresh_from_db()
    assert offer.status == CounterOffer.Status.PENDING and offer.percent == Decimal("30")


def test_amending_with_bad_terms_is_a_form_error(manager_client, agent, tiers, big):
    offer = pending_offer(agent, big)
    prefix = f"amend-{offer.pk}"
    response = manager_client.post(
        reverse("offer_amend", args=[offer.pk]),
        {f"{prefix}-percent": "0", f"{prefix}-months": "12", f"{prefix}-note": "zero"},
        headers=HTMX,
    )
    assert response.status_code == 400
    offer.refresh_from_db()
    assert offer.status == CounterOffer.Status.PENDING


def test_amending_down_approves_on_the_new_terms(manager_client, agent, tiers, big):
    offer = pending_offer(agent, big)
    prefix = f"amend-{offer.pk}"
    response = manager_client.post(
        reverse("offer_amend", args=[offer.pk]),
        {f"{prefix}-percent": "20", f"{prefix}-months": "6", f"{prefix}-note": "enough"},
        headers=HTMX,
    )
    assert response.status_code == 200
    offer.refresh_from_db()
    assert offer.status == CounterOffer.Status.APPROVED
    assert offer.total_cost == Decimal("36.00")  # €6.00 a month for 6 months


def test_an_unknown_offer_is_not_found(manager_client):
    assert manager_client.post(reverse("offer_approve", args=[424242])).status_code == 404


# --- Presenting and answering -------------------------------------------------------------------


def test_a_step_for_another_offer_is_refused(agent_client, agent, tiers, small, big):
    first = pending_offer(agent, small)
    second = pending_offer(agent, small)
    response = agent_client.post(
        reverse("offer_present", args=[first.pk]), {"offer": second.pk}, headers=HTMX
    )
    assert response.status_code == 400
    first.refresh_from_db()
    assert first.status == CounterOffer.Status.APPROVED


def test_declining_leaves_the_case_open_to_cancel(agent_client, agent, tiers, small):
    offer = pending_offer(agent, small)
    agent_client.post(reverse("offer_present", args=[offer.pk]), {"offer": offer.pk}, headers=HTMX)
    response = agent_client.post(
        reverse("offer_answer", args=[offer.pk]),
        {"offer": offer.pk, "answer": "decline", "note": "still leaving"},
        headers=HTMX,
    )
    assert response.status_code == 200
    case = CancellationCase.objects.get(pk=offer.case_id)
    assert case.status == CancellationCase.Status.IN_PROGRESS
    assert 'id="cancel-form"' in response.content.decode()


# --- Proactive offers ---------------------------------------------------------------------------


def test_a_proactive_offer_from_the_subscriber_page(agent_client, tiers, small):
    subscriber = SubscriberFactory.create()
    page = agent_client.get(reverse("subscriber_offers", args=[subscriber.pk]))
    assert 'data-offer="fixed-5-12"' in page.content.decode()
    response = agent_client.post(
        reverse("subscriber_offer_propose", args=[subscriber.pk]),
        {"template": small.pk, "note": "loyal for 5 years"},
        headers=HTMX,
    )
    assert response.status_code == 200
    offer = CounterOffer.objects.get(subscriber=subscriber)
    assert offer.case_id is None and offer.status == CounterOffer.Status.APPROVED


def test_no_proactive_offer_while_a_case_is_open(agent_client, tiers, small):
    case = CaseFactory.create()
    response = agent_client.post(
        reverse("subscriber_offer_propose", args=[case.subscriber_id]),
        {"template": small.pk},
        headers=HTMX,
    )
    assert response.status_code == 409
    assert not CounterOffer.objects.exists()


@pytest.mark.parametrize("offers", [0, 5])
def test_the_subscriber_offers_page_query_count_is_constant(
    agent_client, agent, tiers, small, django_assert_num_queries, offers
):
    subscriber = SubscriberFactory.create()
    for _ in range(offers):
        offer = saves.offer_propose_proactive(subscriber=subscriber, template=small, actor=agent)
        saves.offer_withdraw(offer=offer, actor=agent, note="wrong one")
    # session, user, roles, subscriber, open case, summary (tariff fit, policy and the desk's
    # calendar's hours and days, contacts, equipment), offers, their history, concessions,
    # authority, catalogue, every tier
    with django_assert_num_queries(17 if offers else 16):
        response = agent_client.get(reverse("subscriber_offers", args=[subscriber.pk]))
    assert response.status_code == 200


# --- Delegation ---------------------------------------------------------------------------------


def test_a_delegate_sees_and_decides_the_delegators_inbox(client, agent, tiers):
    lead = user_with_role(Role.MANAGER, "Retention lead", username="lead")
    deputy = user_with_role(Role.MANAGER, username="deputy")
    three_free = offer_template("free-3", OfferKind.FREE_MONTHS, months=3)
    offer = pending_offer(agent, three_free)
    client.force_login(deputy)
    assert f'id="approval-{offer.pk}"' not in client.get(reverse("approvals")).content.decode()

    client.force_login(lead)
    now = timezone.localtime()
    response = client.post(
        reverse("delegation"),
        {
            "delegate": deputy.pk,
            "starts_at": (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
            "note": "holiday",
        },
    )
    assert response.status_code == 302

    client.force_login(deputy)
    assert f'id="approval-{offer.pk}"' in client.get(reverse("approvals")).content.decode()
    client.post(reverse("offer_approve", args=[offer.pk]), {"note": "for the lead"})
    offer.refresh_from_db()
    assert offer.status == CounterOffer.Status.APPROVED
    assert offer.decided_by == deputy and offer.decided_for == lead


def test_a_delegation_that_ends_before_it_starts_is_refused(manager_client, tiers):
    deputy = user_with_role(Role.MANAGER, username="deputy")
    now = timezone.localtime()
    response = manager_client.post(
        reverse("delegation"),
        {
            "delegate": deputy.pk,
            "starts_at": (now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 400
    assert not ApprovalDelegation.objects.exists()


def test_nobody_delegates_to_themselves(manager_client, manager, tiers):
    now = timezone.localtime()
    response = manager_client.post(
        reverse("delegation"),
        {
            "delegate": manager.pk,
            "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 400
    assert not ApprovalDelegation.objects.exists()


# --- Two managers at once, through the web ------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_managers_clicking_at_once_get_one_decision_and_no_error_page(agent, tiers, big):
    offer = pending_offer(agent, big)
    managers = [
        user_with_role(Role.MANAGER, username="m-approve"),
        user_with_role(Role.MANAGER, username="m-reject"),
    ]
    urls = [reverse("offer_approve", args=[offer.pk]), reverse("offer_reject", args=[offer.pk])]
    statuses: list[int] = []

    def click(user, url):
        def post() -> None:
            browser = Client()
            browser.force_login(user)
            statuses.append(browser.post(url, {"note": "decided"}, headers=HTMX).status_code)

        return post

    assert run_at_once(*[click(m, u) for m, u in zip(managers, urls, strict=True)]) == []
    assert sorted(statuses) == [200, 409]
    offer.refresh_from_db()
    assert offer.status in (CounterOffer.Status.APPROVED, CounterOffer.Status.REJECTED)
    assert offer.history.filter(action__in=["approved", "rejected"]).count() == 1


# --- The periodic task --------------------------------------------------------------------------


def test_the_offers_tick_is_scheduled_and_expires_offers_out_of_time(agent, tiers, small):
    from django.conf import settings

    from retention.saves.tasks import offers_tick

    offer = pending_offer(agent, small)  # approved at once: it has to be presented in time
    CounterOffer.objects.filter(pk=offer.pk).update(valid_until=timezone.now())
    offers_tick()
    offers_tick()  # running twice changes nothing more
    offer.refresh_from_db()
    assert offer.status == CounterOffer.Status.EXPIRED
    assert offer.history.filter(action="expired").count() == 1
    case = CancellationCase.objects.get(pk=offer.case_id)
    assert case.status == CancellationCase.Status.IN_PROGRESS
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "retention.tasks.offers_tick" in schedule


def test_the_amend_form_loads_when_opened(manager_client, agent, tiers, big):
    offer = pending_offer(agent, big)
    inbox = manager_client.get(reverse("approvals")).content.decode()
    assert f'name="amend-{offer.pk}-percent"' not in inbox  # not rendered for every card
    fragment = manager_client.get(reverse("offer_amend_form", args=[offer.pk]), headers=HTMX)
    html = fragment.content.decode()
    assert f'name="amend-{offer.pk}-percent"' in html and "<html" not in html
    page = manager_client.get(reverse("offer_amend_form", args=[offer.pk]))
    assert page.status_code == 200 and "<html" in page.content.decode()
    as_agent = Client()
    as_agent.force_login(agent)
    assert as_agent.get(reverse("offer_amend_form", args=[offer.pk])).status_code == 403


def test_the_inbox_shows_the_oldest_page_and_says_there_are_more(
    manager_client, agent, tiers, big, settings
):
    from retention.saves.selectors import INBOX_SIZE

    offers = [pending_offer(agent, big) for _ in range(INBOX_SIZE + 1)]
    html = manager_client.get(reverse("approvals")).content.decode()
    assert html.count('class="card approval') == INBOX_SIZE
    assert f'id="approval-{offers[0].pk}"' in html and f'id="approval-{offers[-1].pk}"' not in html
    assert "more after these" in html


@pytest.mark.parametrize("given", [1, 4])
def test_the_delegation_page_query_count_is_constant(
    manager_client, manager, tiers, django_assert_num_queries, given
):
    now = timezone.now()
    for n in range(given):
        ApprovalDelegation.objects.create(
            delegator=manager,
            delegate=user_with_role(Role.MANAGER, username=f"deputy-{n}"),
            starts_at=now,
            ends_at=now + timedelta(days=n + 1),
        )
    # session, user, roles, the managers to choose from, the hand-overs given
    with django_assert_num_queries(5):
        response = manager_client.get(reverse("delegation"))
    assert response.status_code == 200


def test_the_amend_form_query_count(manager_client, agent, tiers, big, django_assert_num_queries):
    offer = pending_offer(agent, big)
    # session, user, roles, the offer with its subscriber (a percentage discount's form has
    # no plan to choose, so no plan choices)
    with django_assert_num_queries(4):
        response = manager_client.get(reverse("offer_amend_form", args=[offer.pk]), headers=HTMX)
    assert response.status_code == 200
