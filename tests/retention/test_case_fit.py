"""The tariff fit on the case page (the plan card's brief) and in its offer builder (the move to
the plan that fits), and on the subscriber's proactive offers page.

Catalogue and usage: tests/subscribers/fit_catalogue.py.
"""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from offers.models import CounterOffer
from retention.cases import services as cases
from tests.factories import CaseFactory, EquipmentFactory
from tests.subscribers.fit_catalogue import fit_move_template, priced_catalogue, user_with_usage

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 16, 8, 0, tzinfo=UTC)  # a Tuesday, 11:00 in Riga
TODAY = date(2026, 6, 16)
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def plans(db):
    return priced_catalogue()


@pytest.fixture
def move(db):
    return fit_move_template()


def claimed_case(subscriber, agent):
    case = CaseFactory.create(subscriber=subscriber)
    cases.case_claim(case=case, actor=agent)
    return case


def builder_codes(response):
    return [choice.template.code for choice in response.context["offers"].choices]


def test_the_agent_sees_the_fit_beside_plan_and_price_and_the_move_first(
    agent_client, agent, tiers, plans, move
):
    case = claimed_case(user_with_usage(plans, "light", TODAY), agent)
    response = agent_client.get(reverse("case", args=[case.pk]))
    html = response.content.decode()
    assert (
        "Light user paying for a flat rate: Stundas 30 would cost €8.40 a month instead of "
        "€29.99, saving €21.59." in html
    )
    assert "saves €21.59 a month" in html
    assert builder_codes(response)[0] == "plan-that-fits"
    assert "With their usage: about €8.40 a month instead of €29.99." in html
    # The subscriber page's full explanation is not repeated on the case.
    assert 'id="fit-costs"' not in html


def test_a_case_without_usage_says_there_is_not_enough_and_offers_no_move(
    agent_client, agent, tiers, plans, move
):
    case = claimed_case(user_with_usage(plans, "light", TODAY, months=0), agent)
    response = agent_client.get(reverse("case", args=[case.pk]))
    assert "Not enough usage to tell yet." in response.content.decode()
    assert "plan-that-fits" not in builder_codes(response)


def test_the_agent_proposes_the_move_from_the_case(agent_client, agent, tiers, plans, move):
    case = claimed_case(user_with_usage(plans, "light", TODAY), agent)
    response = agent_client.post(
        reverse("case_offer", args=[case.pk]), {"template": move.pk}, headers=HTMX
    )
    assert response.status_code == 200
    offer = CounterOffer.objects.get(case=case)
    assert offer.status == CounterOffer.Status.PENDING  # 21.59 a month: beyond an agent's 10
    assert offer.new_plan == plans["stundas30"] and offer.to_fitting_plan
    assert "Stundas 30 at €8.40 a month" in response.content.decode()


@pytest.mark.parametrize("kind", ["light", "fits", None])
def test_the_case_page_query_count_is_the_same_with_and_without_a_fit(
    agent_client, agent, tiers, plans, move, django_assert_num_queries, kind
):
    subscriber = user_with_usage(plans, kind or "light", TODAY, months=12 if kind else 0)
    EquipmentFactory.create_batch(2, subscriber=subscriber)
    case = claimed_case(subscriber, agent)
    # As test_case_views pins it: the fit is one query (its plan and the people on the line
    # joined in), and the builder prices the move from it without another.
    with django_assert_num_queries(22):
        response = agent_client.get(reverse("case", args=[case.pk]))
    assert response.status_code == 200


@pytest.mark.parametrize("kind", ["light", None])
def test_the_subscriber_offers_page_offers_the_move_at_the_same_query_count(
    agent_client, agent, tiers, plans, move, django_assert_num_queries, kind
):
    subscriber = user_with_usage(plans, kind or "light", TODAY, months=12 if kind else 0)
    # As tests/retention/test_offer_views.py pins it (the desk's calendar included).
    with django_assert_num_queries(16):
        response = agent_client.get(reverse("subscriber_offers", args=[subscriber.pk]))
    assert ("plan-that-fits" in builder_codes(response)) is bool(kind)
