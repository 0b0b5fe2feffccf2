"""The manager's screens say what is true: money as money in the approvals inbox, the period
the dashboard's figures cover and the filters behind its cases, the state of a campaign that
finished while it was watched, and the real terms of an offer in its amend form."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from offers.models import CounterOffer, OfferKind
from retention.cases.services import case_claim
from retention.core.roles import Role
from retention.models import CancellationReason, OutreachCampaign, Team
from retention.outreach import services as outreach
from retention.saves import services as saves
from retention.saves import views as save_views
from retention.saves.selectors import approvals_inbox
from tests.factories import (
    CaseFactory,
    SubscriberFactory,
    offer_template,
    user_with_role,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
Campaign = OutreachCampaign


def pending_offer(agent, template, **subscriber) -> CounterOffer:
    case = CaseFactory.create(subscriber=SubscriberFactory.create(**subscriber))
    case_claim(case=case, actor=agent)
    offer = saves.case_offer_propose(case=case, template=template, actor=agent, note="please")
    assert offer.status == CounterOffer.Status.PENDING
    return offer


@pytest.fixture
def loyalty(db):
    """The catalogue's loyalty tariff: the subscriber's own plan at the new-customer price, for
    good (0 months). At €29.99 against €19.99, €10.00 a month counted over 12 months: €120,
    beyond an agent's €60 an offer, within a manager's."""
    return offer_template(
        "loyalty-tariff",
        OfferKind.PLAN_CHANGE,
        min_tenure_months=12,
        name_en="Loyalty tariff: the new-customer price",
    )


# --- Money in the approvals inbox ---------------------------------------------------------------


@pytest.fixture
def inbox_as_sqlite_computes_it(monkeypatch):
    """The 12 months' total as SQLite hands back conceded + cost: a float made Decimal."""
    real = approvals_inbox

    def inbox(**kwargs):
        found = real(**kwargs)
        for item in found.items:
            item.offer.cumulative = Decimal("24.9900000000000")  # type: ignore[attr-defined]
        return found

    monkeypatch.setattr(save_views, "approvals_inbox", inbox)


@pytest.mark.parametrize(("language", "money"), [("en", "€24.99"), ("lv", "€24,99")])
def test_the_inbox_prints_the_12_months_total_as_money_in_the_managers_language(
    manager_client, agent, tiers, loyalty, inbox_as_sqlite_computes_it, language, money
):
    pending_offer(agent, loyalty)
    manager_client.cookies["django_language"] = language
    text = manager_client.get(reverse("approvals")).content.decode()
    assert f" {money})</span>" in text  # "(with this one €24.99)"
    assert "24.9900000000000" not in text and "24,9900000000000" not in text


def test_every_sum_on_an_inbox_card_has_two_decimals(manager_client, agent, tiers, loyalty):
    pending_offer(agent, loyalty, monthly_price=Decimal("29.99"))
    html = manager_client.get(reverse("approvals")).content.decode()
    card = re.search(r'<article class="card approval.*?</article>', html, re.S)
    assert card is not None
    amounts = re.findall(r"€([\d.,]+)", card.group(0))
    assert amounts and all(re.fullmatch(r"\d+\.\d\d", a) for a in amounts), amounts
    assert "€120.00 <span" in card.group(0)  # €10.00 a month, 12 months counted


# --- The dashboard's period control -------------------------------------------------------------


def selected_period(html: str) -> list[str]:
    select = re.search(r'<select name="period".*?</select>', html, re.S)
    assert select is not None
    return re.findall(r'<option value="([^"]*)" selected>', select.group(0))


@pytest.mark.parametrize("query", ["", "?team=", "?channel=phone", "?period="])
def test_the_period_control_names_the_period_the_figures_cover(manager_client, query):
    response = manager_client.get(reverse("dashboard") + query)
    assert response.status_code == 200
    assert response.context["filters"].period == "30d"
    assert selected_period(response.content.decode()) == ["30d"]


def test_a_chosen_period_stays_chosen(manager_client):
    response = manager_client.get(reverse("dashboard"), {"period": "12m"})
    assert selected_period(response.content.decode()) == ["12m"]
    assert response.context["filters"].grain == "month"


def test_an_agents_own_figures_name_their_period_too(agent_client):
    response = agent_client.get(reverse("my_figures"))
    assert selected_period(response.content.decode()) == ["30d"]


# --- A campaign that finishes while it is watched ----------------------------------------------


def running_campaign(manager, template) -> Campaign:
    values = {
        "name": "Loyalty",
        "template": template,
        "channel": "email",
        "body_lv": "Labdien, {name}! {link}",
        "body_ru": "Здравствуйте, {name}! {link}",
        "body_en": "Hello {name}! {link}",
    }
    campaign = outreach.campaign_create(actor=manager, values=values)
    Campaign.objects.filter(pk=campaign.pk).update(
        state=Campaign.State.RUNNING, launched_at=timezone.now(), fanned_out_at=timezone.now()
    )
    return campaign


def test_while_running_the_poll_answers_with_the_progress_only(manager_client, manager, loyalty):
    campaign = running_campaign(manager, loyalty)
    fragment = manager_client.get(reverse("campaign", args=[campaign.pk]), headers=HTMX)
    html = fragment.content.decode()
    assert 'id="progress"' in html and 'hx-trigger="every 2s"' in html
    assert "hx-swap-oob" not in html


def test_the_poll_that_sees_the_campaign_finished_brings_its_state_and_buttons(
    manager_client, manager, loyalty, django_assert_num_queries
):
    campaign = running_campaign(manager, loyalty)
    assert outreach.campaigns_finish() == 1  # nothing left to send
    # session, user, roles, campaign, counts by state: the buttons cost nothing more
    with django_assert_num_queries(5):
        fragment = manager_client.get(reverse("campaign", args=[campaign.pk]), headers=HTMX)
    html = fragment.content.decode()
    assert "hx-trigger" not in html  # the polling stops
    state = re.search(r'<span [^>]*id="campaign-state"[^>]*>([^<]*)</span>', html)
    assert state is not None and 'hx-swap-oob="true"' in state.group(0)
    assert state.group(1) == "Finished"
    actions = re.search(r'<div [^>]*id="campaign-actions"[^>]*>.*?</div>', html, re.S)
    assert actions is not None and 'hx-swap-oob="true"' in actions.group(0)
    assert "Pause" not in actions.group(0) and "Finished:" in actions.group(0)


def test_a_campaign_paused_at_another_desk_offers_resume_on_the_next_poll(
    manager_client, manager, loyalty
):
    campaign = running_campaign(manager, loyalty)
    outreach.campaign_pause(campaign=campaign, actor=manager)
    html = manager_client.get(reverse("campaign", args=[campaign.pk]), headers=HTMX)
    text = html.content.decode()
    assert re.search(r'id="campaign-state" hx-swap-oob="true">Paused<', text)
    assert ">Resume</button>" in text and ">Pause</button>" not in text


def test_the_full_page_has_one_state_and_one_set_of_buttons(manager_client, manager, loyalty):
    campaign = running_campaign(manager, loyalty)
    html = manager_client.get(reverse("campaign", args=[campaign.pk])).content.decode()
    assert html.count('id="campaign-state"') == 1 and html.count('id="campaign-actions"') == 1
    assert "hx-swap-oob" not in html


# --- The amend form's terms ---------------------------------------------------------------------


def amend_field(html: str, offer: CounterOffer, name: str) -> str:
    found = re.search(rf'<(input|select)[^>]*name="amend-{offer.pk}-{name}"[^>]*>', html)
    assert found is not None, html
    return found.group(0)


def test_the_amend_form_of_the_loyalty_tariff_says_it_is_for_good(
    manager_client, agent, tiers, loyalty
):
    offer = pending_offer(agent, loyalty)
    assert (offer.months, offer.counted_months) == (0, 12)
    html = manager_client.get(
        reverse("offer_amend_form", args=[offer.pk]), headers=HTMX
    ).content.decode()
    months = amend_field(html, offer, "months")
    assert 'value="0"' not in months and "value=" not in months
    assert 'placeholder="for good"' in months
    assert "Empty: for good (its cost is counted over 12 months)." in html
    plan = re.search(rf'<select name="amend-{offer.pk}-new_plan".*?</select>', html, re.S)
    assert plan is not None
    own_plan = '<option value="" selected>Their own plan, at the new-customer price<'
    assert own_plan in plan.group(0)


def test_approving_the_loyalty_tariff_as_pre_filled_keeps_it_for_good(
    manager_client, agent, tiers, loyalty
):
    offer = pending_offer(agent, loyalty)
    prefix = f"amend-{offer.pk}"
    response = manager_client.post(
        reverse("offer_amend", args=[offer.pk]),
        {f"{prefix}-months": "", f"{prefix}-new_plan": "", f"{prefix}-note": "as proposed"},
        headers=HTMX,
    )
    assert response.status_code == 200
    offer.refresh_from_db()
    assert offer.status == CounterOffer.Status.APPROVED
    assert (offer.months, offer.counted_months, offer.total_cost) == (0, 12, Decimal("120.00"))


def test_a_plan_change_for_12_months_is_pre_filled_with_12(manager_client, agent, tiers):
    twelve = offer_template("new-price-12", OfferKind.PLAN_CHANGE, months=12)
    offer = pending_offer(agent, twelve)
    html = manager_client.get(
        reverse("offer_amend_form", args=[offer.pk]), headers=HTMX
    ).content.decode()
    assert 'value="12"' in amend_field(html, offer, "months")


def test_a_discount_is_pre_filled_with_its_percent_and_months(manager_client, agent, tiers):
    big = offer_template(
        "discount-30-12", OfferKind.PERCENT_DISCOUNT, percent=Decimal("30"), months=12
    )
    offer = pending_offer(agent, big)
    html = manager_client.get(
        reverse("offer_amend_form", args=[offer.pk]), headers=HTMX
    ).content.decode()
    assert 'value="30.00"' in amend_field(html, offer, "percent")
    assert 'value="12"' in amend_field(html, offer, "months")
    assert "placeholder" not in amend_field(html, offer, "months")


# --- The filters behind a drill-down, in words ---------------------------------------------------


def test_the_cases_behind_a_figure_name_their_filters_in_words(manager_client):
    north = Team.objects.create(name="North")
    price = CancellationReason.objects.get_or_create(
        code="price", defaults={"category": "price", "name_en": "Price"}
    )[0]
    query = {"what": "saved", "team": north.pk, "reason": price.pk, "channel": "phone"}
    response = manager_client.get(reverse("dashboard_cases"), query)
    assert response.context["chosen"] == [
        ("Team", "North"),
        ("Reason", "Price"),
        ("Channel", "Phone"),
    ]
    html = response.content.decode()
    assert '<span class="badge filter">Reason: Price</span>' in html
    assert f"reason={price.pk}</span>" not in html


def test_an_agents_cases_are_named_as_their_own_whatever_the_address_asks(client, agent):
    agent.first_name, agent.last_name = "Laura", "Kalniņa"
    agent.save()
    other = user_with_role(Role.AGENT, first_name="Bob", last_name="Berg")
    client.force_login(agent)
    response = client.get(reverse("dashboard_cases"), {"what": "closed", "agent": other.pk})
    assert response.context["chosen"] == [("Agent", "Laura Kalniņa")]
