"""An agent works the queue end to end, in Chromium."""

import pytest
from playwright.sync_api import expect

from retention.system.services import demo_users_ensure
from tests.browser.login import log_in
from tests.browser.watch import expect_status
from tests.factories import CaseFactory, EquipmentFactory, SubscriberFactory
from tests.zones import zone_where_it_is

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_claims_next_is_told_why_a_call_is_blocked_logs_a_contact_and_cancels(
    live_server, page
):
    demo_users_ensure()
    subscriber = SubscriberFactory.create(name="Pēteris Kalniņš", time_zone=zone_where_it_is(3))
    EquipmentFactory.create(subscriber=subscriber, serial="SN-PETERIS-ONT", kind="ont")
    CaseFactory.create(subscriber=subscriber, priority=99)
    CaseFactory.create(priority=5)

    log_in(page, live_server, "Agent")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancellation queue")

    # "n" claims the top case; it is the high-priority one.
    page.keyboard.press("n")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pēteris Kalniņš")
    expect(page.locator("#case-status")).to_have_text("In progress")

    # The page says why calling now is not allowed, before the agent dials.
    phone_rule = page.locator('#case-contact-rules li[data-channel="phone"]')
    expect(phone_rule).to_contain_text("Quiet hours; allowed from")

    # Trying anyway is refused by the server, with the same explanation.
    form = page.locator("#contact-form")
    form.get_by_label("Channel").select_option("phone")
    form.get_by_label("Direction").select_option("outbound")
    form.get_by_label("Outcome").select_option("reached")
    expect_status(page, 409)
    form.get_by_role("button", name="Log contact").click()
    expect(page.locator("#action-error")).to_contain_text("Quiet hours")
    expect(page.locator("#conversation")).to_contain_text("Contact refused by the policy")
    expect(page.locator("#conversation .kind-contact")).to_have_count(0)

    # The subscriber calls in: an inbound contact is logged without a page reload.
    form = page.locator("#contact-form")
    form.get_by_label("Direction").select_option("inbound")
    form.get_by_label("Outcome").select_option("reached")
    form.get_by_label("Note").fill("Called back; is moving abroad")
    form.get_by_role("button", name="Log contact").click()
    expect(page.locator("#conversation")).to_contain_text("Called back; is moving abroad")
    expect(page.locator("#action-error")).to_have_count(0)

    # Process the cancellation on the date offered.
    page.locator("#cancel-form").get_by_role("button", name="Process the cancellation").click()
    # It asks first, saying what will happen; only "Yes" processes it.
    page.locator("#cancel-dialog").get_by_role(
        "button", name="Yes, process the cancellation"
    ).click()
    expect(page.locator("#case-status")).to_have_text("Cancelled")

    # The subscriber page shows the easy return options; one click marks the ONT returned.
    page.get_by_role("link", name="Pēteris Kalniņš").click()
    equipment = page.locator("#equipment-h + table")
    expect(equipment).to_contain_text("Courier pickup")
    expect(equipment).to_contain_text("Drop-off at a partner point")
    expect(equipment).to_contain_text("Prepaid mail label")
    equipment.get_by_role("button", name="Mark returned").click()
    expect(page.locator("#equipment-h + table")).to_contain_text("Returned")
