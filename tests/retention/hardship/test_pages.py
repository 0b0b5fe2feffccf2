"""Where the desk sees an arrangement: the subscriber page's schedule (a fragment the page
loads) and the one line in the case's context pane. Both cost the same queries however many
arrangements and instalments there are."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from offers.models import OfferKind
from retention.cases.services import case_claim
from retention.core.roles import Role
from retention.hardship.services import hardship_tick
from retention.models import HardshipArrangement
from tests.factories import CaseFactory, UserFactory, offer_template, user_with_role
from tests.retention.hardship.helpers import accepted, pay

pytestmark = pytest.mark.django_db

D = Decimal
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def lead(tiers):
    return user_with_role(Role.MANAGER, tiers["lead"].group, username="lead")


def split_for(agent, lead, months, balance="100.00"):
    template = offer_template(f"split-{months}", OfferKind.SPLIT_PAYMENT, months=months)
    _, offer = accepted(agent, lead, template, balance=D(balance))
    return HardshipArrangement.objects.get(offer=offer)


def test_the_subscriber_page_loads_the_schedule(agent_client, agent, lead):
    arrangement = split_for(agent, lead, 3)
    url = reverse("subscribers:detail", args=[arrangement.subscriber_id])
    page = agent_client.get(url).content.decode()
    assert f'hx-get="{reverse("subscriber_hardship", args=[arrangement.subscriber_id])}"' in page
    fragment = agent_client.get(
        reverse("subscriber_hardship", args=[arrangement.subscriber_id])
    ).content.decode()
    assert "Payment arrangements" in fragment
    assert 'data-status="kept"' in fragment
    for text in ("01.01.2027", "01.02.2027", "01.03.2027", "€33.33", "€33.34"):
        assert text in fragment, text


def test_a_subscriber_without_an_arrangement_gets_an_empty_fragment(agent_client):
    from tests.factories import SubscriberFactory

    subscriber = SubscriberFactory.create()
    response = agent_client.get(reverse("subscriber_hardship", args=[subscriber.pk]))
    assert response.status_code == 200
    assert response.content.decode().strip() == ""


def test_the_schedule_shows_what_was_paid_and_what_was_missed(agent_client, agent, lead, clock):
    arrangement = split_for(agent, lead, 3)
    paid_at = datetime(2027, 1, 10, 8, tzinfo=UTC)
    clock.move_to(paid_at)
    hardship_tick(now=paid_at)  # the first instalment missed: broken
    pay(arrangement.subscriber, "20.00", paid_at)
    hardship_tick(now=paid_at)
    fragment = agent_client.get(
        reverse("subscriber_hardship", args=[arrangement.subscriber_id])
    ).content.decode()
    assert 'data-status="broken"' in fragment
    assert "Missed" in fragment and "€20.00" in fragment


def test_the_fragment_needs_a_desk_role(client):
    from tests.factories import SubscriberFactory

    subscriber = SubscriberFactory.create()
    url = reverse("subscriber_hardship", args=[subscriber.pk])
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(UserFactory.create(username="nobody"))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("months", [2, 12])
def test_the_fragment_query_count_is_constant(
    agent_client, agent, lead, django_assert_num_queries, months
):
    subscriber = split_for(agent, lead, months).subscriber
    pay(subscriber, "100.00", NOW)
    hardship_tick(now=NOW)  # completed: its schedule stays on the page
    # session, user, roles, the arrangements (with their offers), their instalments
    with django_assert_num_queries(5):
        response = agent_client.get(reverse("subscriber_hardship", args=[subscriber.pk]))
    assert response.status_code == 200


def test_the_case_pane_says_the_arrangement_and_what_is_due_next(agent_client, agent, lead):
    arrangement = split_for(agent, lead, 3)
    case = case_claim(case=CaseFactory.create(subscriber=arrangement.subscriber), actor=agent)
    html = agent_client.get(reverse("case", args=[case.pk])).content.decode()
    pane = html[html.index('id="context-pane"') : html.index('class="work-pane"')]
    assert "Payment arrangement: kept, next €33.33 due on 01.01.2027" in pane


def test_the_case_pane_says_nothing_without_an_open_arrangement(agent_client, agent):
    case = case_claim(case=CaseFactory.create(), actor=agent)
    html = agent_client.get(reverse("case", args=[case.pk])).content.decode()
    assert 'id="case-arrangement"' not in html
