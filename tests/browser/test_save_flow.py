"""The save flow in Chromium: an agent proposes an offer beyond their authority, a manager
approves it from the inbox, the agent presents it and the subscriber accepts."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from offers.models import OfferKind
from retention.cases.services import case_claim
from retention.models import User
from retention.system.services import demo_users_ensure
from tests.browser.login import log_in
from tests.factories import CaseFactory, SubscriberFactory, authority_tier, offer_template

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_proposes_over_authority_manager_approves_subscriber_accepts_case_saved(
    live_server, page, chromium
):
    demo_users_ensure()
    # The migration's defaults are flushed between transactional tests: set them up again.
    authority_tier("Agent", 10, "10", "60", "120")
    authority_tier("Manager", 20, "25", "300", "500")
    offer_template(
        "discount-30-12",
        OfferKind.PERCENT_DISCOUNT,
        percent=Decimal("30"),
        months=12,
        name_en="30% off for 12 months",
    )
    subscriber = SubscriberFactory.create(name="Ilze Bērziņa", monthly_price=Decimal("29.99"))
    case = CaseFactory.create(subscriber=subscriber)
    case_claim(case=case, actor=User.objects.get(username="agent"))

    # The agent: the builder says the 30% discount needs approval; they propose it anyway.
    log_in(page, live_server, "Agent")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    row = page.locator('#offer-builder tr[data-offer="discount-30-12"]')
    expect(row).to_contain_text("Needs approval")
    expect(row).to_contain_text("€108.00")
    row.get_by_placeholder("Note (optional)").fill("Customer for 5 years; competitor offers 19.99")
    row.get_by_role("button", name="Propose").click()
    expect(page.locator("#offer-status")).to_have_text("Pending approval")
    expect(page.locator("#case-status")).to_have_text("Offer pending")

    # The manager, at another desk: the inbox shows the offer with the agent's note.
    desk = chromium.new_context(locale="en-GB", timezone_id="Europe/Riga")
    manager_page = desk.new_page()
    try:
        log_in(manager_page, live_server, "Manager")
        manager_page.get_by_role("link", name="Approvals").click()
        item = manager_page.locator("article.approval").filter(has_text="Ilze Bērziņa")
        expect(item).to_contain_text("competitor offers 19.99")
        expect(item.locator(".cost")).to_contain_text("€108.00")
        item.get_by_label("Your note (needed to reject)").fill("Fair for a 5-year customer")
        item.get_by_role("button", name="Approve").click()
        expect(manager_page.locator("#inbox-done")).to_contain_text("approved")
        expect(manager_page.locator("#inbox-empty")).to_be_visible()
    finally:
        desk.close()

    # The agent presents it and records the subscriber's yes.
    page.reload()
    expect(page.locator("#offer-status")).to_have_text("Approved")
    page.get_by_role("button", name="Mark as presented").click()
    expect(page.locator("#offer-status")).to_have_text("Presented")
    expect(page.locator("#case-status")).to_have_text("Offer presented")
    page.locator("#answer-form").get_by_label("Their answer").fill("Happy to stay at that price")
    page.get_by_role("button", name="Accepted: apply it").click()
    expect(page.locator("#case-status")).to_have_text("Saved")

    # The subscriber page shows the new price, and the timeline says when it changed.
    page.get_by_role("link", name="Ilze Bērziņa").click()
    expect(page.locator("#monthly-price")).to_contain_text("€20.99")
    expect(page.locator("#timeline-h").locator("..")).to_contain_text("Price €29.99 → €20.99")
