"""A pause in Chromium: an agent on a "moving" case proposes a 2-month pause at €0 from the
offer builder, a manager approves it (a free pause is beyond an agent's authority), the agent
presents it and records the subscriber's yes; the case closes as saved and the subscriber page
says "Paused until …".

``SCREENSHOTS=dir`` keeps full-page screenshots at 1440 x 900, to look at what the test saw.
"""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import Page, expect

from offers.models import CounterOffer, OfferKind
from offers.pricing import add_months
from retention.cases.services import case_claim
from retention.models import CancellationReason, Team, User
from retention.system.services import demo_users_ensure
from subscribers.phrases import day
from tests.browser.axe import expect_accessible
from tests.browser.clock import next_tuesday_at
from tests.browser.login import log_in
from tests.browser.watch import expect_status
from tests.factories import CaseFactory, SubscriberFactory, authority_tier, offer_template

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shoot(page: Page, name: str) -> None:
    if folder := os.environ.get("SCREENSHOTS"):
        page.set_viewport_size({"width": 1440, "height": 900})
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.fixture
def moving_case():
    """Dace pays €22.00 a month and is moving abroad for a while; her case is the demo
    agent's. A free pause concedes €22.00 a month: over an agent's €10, within a manager's."""
    start = next_tuesday_at(11)
    with time_machine.travel(start, tick=True):
        agent = demo_users_ensure()[0]
        # The migration's defaults are flushed between transactional tests: set them up again.
        authority_tier("Agent", 10, "10", "60", "120")
        authority_tier("Manager", 20, "25", "300", "500")
        offer_template(
            "pause-3",
            OfferKind.PAUSE,
            months=3,
            amount=Decimal("0"),
            reason_categories=["moving", "hardship", "not_using", "other"],
            name_en="Pause for up to 3 months, €0",
        )
        reason = CancellationReason.objects.get_or_create(
            code="moving", defaults={"category": "moving", "name_en": "Moving"}
        )[0]
        subscriber = SubscriberFactory.create(
            name="Dace Liepiņa", monthly_price=Decimal("22.00"), time_zone="Europe/Riga"
        )
        case = CaseFactory.create(
            subscriber=subscriber,
            reason=reason,
            process_by=start.date() + timedelta(days=14),
        )
        yield case_claim(case=case, actor=agent)


def test_an_agent_pauses_a_moving_subscriber_for_two_months_and_saves_the_case(
    live_server, page, chromium, moving_case
):
    case = moving_case
    log_in(page, live_server, "Agent")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    row = page.locator('#offer-builder tr[data-offer="pause-3"]')
    # For someone moving, the pause comes first.
    expect(page.locator("#offer-builder tbody tr").first).to_have_attribute("data-offer", "pause-3")
    expect(row).to_contain_text("Suits the reason")
    expect(row).to_contain_text("Needs approval")
    months = row.get_by_label("Months of the pause")
    fee = row.get_by_label("Fee while paused, €")
    expect(months).to_have_value("3")
    expect(fee).to_have_value("0.00")
    expect_accessible(page)

    # The line follows what the agent types, without a reload: its cost, the new price and
    # whose authority it needs.
    page.evaluate("window.stillTheSamePage = true")
    cost = row.locator('[id^="offer-cost-"]')
    price = row.locator('[id^="offer-price-"]')
    expect(cost).to_contain_text("€66.00")  # the catalogue's three months free
    fee.fill("15")
    expect(cost).to_contain_text("€21.00")  # three months at €7.00 a month
    expect(price).to_have_text("€15.00")
    expect(row).to_contain_text("Within yours: approved at once")
    expect(row.get_by_role("button", name="Propose")).to_have_class("primary")
    expect_status(page, 400)  # more months than a pause may have: said in place of the cost
    months.fill("9")
    expect(cost).to_have_text("Pause for 1 to 3 months.")
    expect(price).to_have_text("—")

    # The agent types the months and the fee as a person would, and proposes it.
    months.fill("2")
    fee.fill("0")
    expect(cost).to_contain_text("€44.00")
    expect(price).to_have_text("€0.00")
    expect(row.locator('[id^="offer-description-"]')).to_have_text(
        "Service paused for 2 months at €0.00 a month"
    )
    expect(row).to_contain_text("Needs approval")
    expect(row.get_by_role("button", name="Propose")).not_to_have_class("primary")
    assert page.evaluate("window.stillTheSamePage") is True
    row.get_by_placeholder("Note (optional)").fill("Working in Norway until spring")
    shoot(page, "pause-builder")
    row.get_by_role("button", name="Propose").click()
    expect(page.locator("#offer-status")).to_have_text("Pending approval")
    expect(page.locator("#case-status")).to_have_text("Offer pending")
    live = page.locator("#live-offer")
    expect(live).to_contain_text("Service paused for 2 months at €0.00 a month")
    expect(live).to_contain_text("€44.00")
    expect(page.locator("#pause-resumes")).to_contain_text(
        "2 months after the subscriber accepts, at €22.00 a month again"
    )
    offer = CounterOffer.objects.get(case=case)
    assert (offer.kind, offer.months, offer.amount, offer.total_cost) == (
        OfferKind.PAUSE,
        2,
        Decimal("0.00"),
        Decimal("44.00"),
    )
    assert offer.routed_tier is not None and offer.routed_tier.name == "Manager"

    # The manager, at another desk, approves it from the inbox.
    desk = chromium.new_context(locale="en-GB", timezone_id="Europe/Riga")
    manager_page = desk.new_page()
    try:
        log_in(manager_page, live_server, "Manager")
        manager_page.get_by_role("link", name="Approvals").click()
        item = manager_page.locator("article.approval").filter(has_text="Dace Liepiņa")
        expect(item).to_contain_text("Service paused for 2 months")
        expect(item).to_contain_text("Working in Norway until spring")
        item.get_by_role("button", name="Approve").click()
        expect(manager_page.locator("#inbox-done")).to_contain_text("approved")
    finally:
        desk.close()

    # The agent presents it and records the subscriber's yes.
    page.reload()
    expect(page.locator("#offer-status")).to_have_text("Approved")
    page.get_by_role("button", name="Mark as presented").click()
    expect(page.locator("#offer-status")).to_have_text("Presented")
    page.locator("#answer-form").get_by_label("Their answer").fill("Yes, pause it")
    page.get_by_role("button", name="Accepted: apply it").click()
    expect(page.locator("#case-status")).to_have_text("Saved")

    offer.refresh_from_db()
    assert offer.runs_until is not None
    assert offer.answered_at is not None
    assert offer.runs_until == add_months(timezone.localdate(offer.answered_at), 2)
    resume = day(offer.runs_until)
    # The answer swaps the work area; the subscriber's pane is read again with the page.
    page.reload()
    pane = page.locator("#context-pane")
    expect(pane.locator("#paused-until")).to_have_text(f"Paused until {resume}")
    expect(page.locator("#offer-log")).to_contain_text(f"resumes {resume}")
    shoot(page, "pause-case-saved")

    # The subscriber page: paused until the resume date, at €0.00 meanwhile.
    page.get_by_role("link", name="Dace Liepiņa").first.click()
    expect(page.locator("#paused-until")).to_have_text(f"Paused until {resume}")
    expect(page.locator("#monthly-price")).to_contain_text("€0.00")
    expect(page.locator("#timeline-h").locator("..")).to_contain_text(
        f"Price €22.00 → €0.00 a month until {resume}"
    )
    expect_accessible(page)
    shoot(page, "pause-subscriber")


def test_a_manager_reprices_the_pause_in_russian_and_proposes_it_within_their_authority(
    live_server, page, moving_case
):
    """The manager works the agent's case (their team's), in Russian: the line follows the
    months and fee typed, says why 9 months cannot be, and a free pause is within a manager's
    €25 a month."""
    case = moving_case
    # The demo's team, which the transactional flush took away: the agent's cases are the
    # manager's to act on.
    riga = Team.objects.create(name="Riga")
    User.objects.filter(username__in=["agent", "manager"]).update(team=riga)
    with translation.override("ru"):
        within = gettext("Within yours: approved at once")
        needs = gettext("Needs approval")
        too_long = gettext("Pause for %(low)s to %(high)s months.") % {"low": 1, "high": 3}
        months_label = gettext("Months of the pause")
        fee_label = gettext("Fee while paused, €")
        propose = gettext("Propose")
    log_in(page, live_server, "Manager")
    page.get_by_label("Language").select_option("ru")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.evaluate("window.stillTheSamePage = true")
    row = page.locator('#offer-builder tr[data-offer="pause-3"]')
    cost = row.locator('[id^="offer-cost-"]')
    expect(cost).to_contain_text("€66,00")  # three months free, in Russian figures
    expect(row).to_contain_text(within)

    expect_status(page, 400)
    row.get_by_label(months_label).fill("9")
    expect(cost).to_have_text(too_long)

    row.get_by_label(months_label).fill("1")
    row.get_by_label(fee_label).fill("0")
    expect(cost).to_contain_text("€22,00")
    expect(row).to_contain_text(within)
    expect(row).not_to_contain_text(needs)
    assert page.evaluate("window.stillTheSamePage") is True
    shoot(page, "pause-builder-manager-ru")
    row.get_by_role("button", name=propose).click()
    expect(page.locator("#live-offer")).to_be_visible()
    offer = CounterOffer.objects.get(case=case)
    assert (offer.months, offer.amount, offer.total_cost, offer.status) == (
        1,
        Decimal("0.00"),
        Decimal("22.00"),
        CounterOffer.Status.APPROVED,
    )
