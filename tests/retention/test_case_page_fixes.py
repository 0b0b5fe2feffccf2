"""The case page does not contradict itself: the contact lines agree with the port-out rule,
the offer builder does not offer what nobody may approve, the deadlines follow an htmx action,
and the keyboard hints advertise only keys that do something there."""

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from offers.models import CounterOffer, OfferKind
from retention.cases import services as cases
from retention.cases.contacts import contact_log
from retention.models import CancellationCase
from subscribers.models import Subscriber
from tests.factories import (
    CaseFactory,
    SubscriberFactory,
    offer_template,
    user_with_role,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
TUESDAY_NOON_RIGA = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
PORT_OUT_BLOCKED = "This subscriber is porting out: the one save contact has been made."


def block(html: str, element_id: str) -> str:
    """The inner HTML of the element with this id (no nested element of the same tag)."""
    found = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', html, re.S)
    assert found, f"no element #{element_id}"
    return found.group(2)


def opening_tag(html: str, pattern: str) -> str:
    """The first opening tag that matches ``pattern``."""
    found = re.search(pattern, html)
    assert found, f"no tag like {pattern}"
    return found.group(0)


def channel_lines(html: str, list_id: str) -> list[tuple[str, str]]:
    """(class, text) of each line of a contact-rules list."""
    return [
        (css, " ".join(re.sub(r"<[^>]+>", " ", text).split()))
        for css, text in re.findall(
            r'<li class="(\w+)"[^>]*>(.*?)</li>', block(html, list_id), re.S
        )
    ]


# --- 1. The contact lines after a port-out's one save contact --------------------------------


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_after_a_port_outs_save_contact_every_channel_says_blocked_and_why(agent_client, agent):
    case = CaseFactory.create(channel=CancellationCase.Channel.PORT_OUT)
    cases.case_claim(case=case, actor=agent)
    contact_log(case=case, actor=agent, channel="phone", direction="outbound", outcome="reached")

    html = agent_client.get(reverse("case", args=[case.pk])).content.decode()

    # The case's own panel: the port-out line, then each channel blocked with that reason.
    rules = channel_lines(html, "case-contact-rules")
    assert rules[0] == (
        "bad",
        "Port-out: the one save contact has been made; no further outbound contact.",
    )
    assert rules[1:] == [
        ("bad", f"Call: {PORT_OUT_BLOCKED}"),
        ("bad", f"E-mail: {PORT_OUT_BLOCKED}"),
        ("bad", f"SMS: {PORT_OUT_BLOCKED}"),
    ]
    # It is the page's only contact panel (the subscriber summary's is not repeated in the
    # context pane), so nothing on the page says otherwise.
    assert 'id="contact-windows"' not in html
    assert "allowed now" not in html


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_before_the_save_contact_a_port_outs_channels_follow_the_contact_policy(
    agent_client, agent
):
    case = CaseFactory.create(channel=CancellationCase.Channel.PORT_OUT)
    cases.case_claim(case=case, actor=agent)
    html = agent_client.get(reverse("case", args=[case.pk])).content.decode()
    assert channel_lines(html, "case-contact-rules") == [
        ("ok", "Call: allowed now"),
        ("ok", "E-mail: allowed now"),
        ("ok", "SMS: allowed now"),
    ]


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_the_fragment_after_the_save_contact_already_shows_every_channel_blocked(
    agent_client, agent
):
    case = CaseFactory.create(channel=CancellationCase.Channel.PORT_OUT)
    cases.case_claim(case=case, actor=agent)
    response = agent_client.post(
        reverse("case_contact", args=[case.pk]),
        {"channel": "phone", "direction": "outbound", "outcome": "reached"},
        headers=HTMX,
    )
    assert response.status_code == 200
    lines = channel_lines(response.content.decode(), "case-contact-rules")
    assert [css for css, _ in lines] == ["bad"] * 4


# --- 2. The offer builder and what nobody may approve ----------------------------------------


@pytest.fixture
def corporate_case(agent, tiers):
    """A claimed case of a corporate subscriber paying €199.99 a month: a free month costs
    €199.99 a month, over even the lead's €60.00."""
    offer_template("free-month", OfferKind.FREE_MONTHS, months=1)
    offer_template("fixed-5-12", OfferKind.FIXED_DISCOUNT, amount=Decimal("5"), months=12)
    subscriber = SubscriberFactory.create(
        segment=Subscriber.Segment.CORPORATE, monthly_price=Decimal("199.99")
    )
    case = CaseFactory.create(subscriber=subscriber)
    cases.case_claim(case=case, actor=agent)
    return case


BEYOND = (
    "Nobody&#x27;s authority covers this offer, not even the highest tier&#x27;s (Retention "
    "lead): €199.99 a month is over the €60.00 limit."
)


def builder_row(html: str, code: str) -> str:
    found = re.search(rf'<tr data-offer="{code}">(.*?)</tr>', html, re.S)
    assert found, f"no builder row for {code}"
    return found.group(1)


def test_the_builder_marks_an_offer_nobody_may_approve_and_offers_no_way_to_propose_it(
    agent_client, corporate_case
):
    html = agent_client.get(reverse("case", args=[corporate_case.pk])).content.decode()
    free_month = builder_row(html, "free-month")
    assert "Beyond every approver's authority" in free_month
    assert BEYOND in free_month
    assert "Needs approval" not in free_month
    assert "<form" not in free_month and "Cannot be proposed" in free_month
    # An offer within the agent's authority is proposed as before.
    fixed = builder_row(html, "fixed-5-12")
    assert "Within yours: approved at once" in fixed and "<form" in fixed


def test_proposing_an_offer_nobody_may_approve_is_refused_in_words_and_changes_nothing(
    agent_client, corporate_case
):
    free_month = offer_template("free-month", OfferKind.FREE_MONTHS, months=1)
    response = agent_client.post(
        reverse("case_offer", args=[corporate_case.pk]), {"template": free_month.pk}, headers=HTMX
    )
    # Not "forbidden to you": nobody could approve it, so the same sentence as the builder's.
    assert response.status_code == 409
    assert BEYOND in block(response.content.decode(), "action-error")
    assert "€10.00" not in block(response.content.decode(), "action-error")
    assert not CounterOffer.objects.exists()
    corporate_case.refresh_from_db()
    assert corporate_case.status == CancellationCase.Status.IN_PROGRESS


def test_a_proactive_offer_nobody_may_approve_is_refused_the_same_way(agent_client, tiers):
    free_month = offer_template("free-month", OfferKind.FREE_MONTHS, months=1)
    subscriber = SubscriberFactory.create(
        segment=Subscriber.Segment.CORPORATE, monthly_price=Decimal("199.99")
    )
    page = agent_client.get(reverse("subscriber_offers", args=[subscriber.pk])).content.decode()
    assert "Beyond every approver's authority" in builder_row(page, "free-month")
    response = agent_client.post(
        reverse("subscriber_offer_propose", args=[subscriber.pk]),
        {"template": free_month.pk},
        headers=HTMX,
    )
    assert response.status_code == 409
    assert BEYOND in block(response.content.decode(), "action-error")
    assert not CounterOffer.objects.exists()


# --- 3. The deadlines follow a callback ------------------------------------------------------


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_setting_a_callback_sends_the_new_call_back_line_with_the_fragment(agent_client, agent):
    case = CaseFactory.create()
    cases.case_claim(case=case, actor=agent)
    response = agent_client.post(
        reverse("case_callback", args=[case.pk]),
        {"callback_at": "2026-11-26T11:00"},
        headers=HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    # Out of band: the deadlines card is outside the work area the form swaps.
    assert re.search(r'<dl class="facts" id="case-deadlines" hx-swap-oob="true">', html)
    deadlines = block(html, "case-deadlines")
    assert "Call back at" in deadlines
    assert "11:00" in block(deadlines, "callback-at")


def test_the_full_page_has_its_deadlines_in_place_not_out_of_band(agent_client, agent):
    case = CaseFactory.create()
    cases.case_claim(case=case, actor=agent)
    html = agent_client.get(reverse("case", args=[case.pk])).content.decode()
    assert html.count('id="case-deadlines"') == 1
    assert "hx-swap-oob" not in opening_tag(html, r'<dl[^>]*id="case-deadlines"[^>]*>')


# --- 4. The keyboard hints -------------------------------------------------------------------


def advertised_keys(html: str) -> list[str]:
    found = re.search(r'<p class="muted shortcuts"[^>]*>(.*?)</p>', html, re.S)
    assert found, "no keyboard hint line"
    return re.findall(r"<kbd>(.)</kbd>", found.group(1))


def shortcut_keys(html: str) -> set[str]:
    return set(re.findall(r'data-shortcut="(.)"', html))


@pytest.mark.parametrize("whose", ["mine", "closed", "someone else's"])
def test_every_key_the_case_page_advertises_does_something_there(agent_client, agent, whose):
    case = CaseFactory.create()
    owner = agent
    if whose == "someone else's":
        owner = user_with_role(*agent.groups.all(), username="other")
    cases.case_claim(case=case, actor=owner)
    if whose == "closed":
        cases.case_withdraw(case=case, actor=agent, note="They stay")
    html = agent_client.get(reverse("case", args=[case.pk])).content.decode()
    keys = advertised_keys(html)
    assert "/" in keys
    assert set(keys) <= shortcut_keys(html), keys
    assert ("c" in keys) == (whose == "mine")


def test_slash_on_the_case_page_leads_to_the_subscriber_search(agent_client, agent):
    case = CaseFactory.create()
    cases.case_claim(case=case, actor=agent)
    html = agent_client.get(reverse("case", args=[case.pk])).content.decode()
    link = opening_tag(html, r'<a [^>]*data-shortcut="/"[^>]*>')
    assert f'href="{reverse("subscribers:search")}"' in link
