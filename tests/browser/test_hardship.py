"""A subscriber in hardship, in Chromium: the agent proposes a split payment from the offer
builder, presents it, records the yes, and then finds the schedule on the subscriber page
(and the one line about it in the case's context pane).

``SCREENSHOTS=dir`` keeps screenshots at 1440 x 900 of the case and the subscriber page.
"""

import os
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import expect

from offers.models import OfferKind
from retention.cases.services import case_claim
from retention.models import CancellationReason, HardshipArrangement
from retention.system.services import demo_users_ensure
from subscribers.models import OutboundEvent
from tests.browser.axe import expect_accessible
from tests.browser.clock import next_tuesday_at
from tests.browser.login import log_in
from tests.factories import CaseFactory, SubscriberFactory, offer_template

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("SCREENSHOTS", "")
DESK = {"width": 1440, "height": 900}


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=str(Path(SHOTS) / f"hardship-{name}.png"), full_page=True)


@pytest.fixture
def case(tiers):
    """Inese owes €120.00 and asks to leave because she cannot pay; her case is the demo
    agent's."""
    with time_machine.travel(next_tuesday_at(11), tick=True):
        agent = demo_users_ensure()[0]
        offer_template(
            "split-payment-3",
            OfferKind.SPLIT_PAYMENT,
            months=3,
            name_en="Balance in 3 instalments",
        )
        hardship, _ = CancellationReason.objects.get_or_create(
            code="hardship", defaults={"category": "hardship", "name_en": "Financial hardship"}
        )
        subscriber = SubscriberFactory.create(name="Inese Kalniņa", balance=Decimal("120.00"))
        yield case_claim(
            case=CaseFactory.create(subscriber=subscriber, reason=hardship), actor=agent
        )


def test_an_agent_agrees_a_split_payment_and_sees_its_schedule(live_server, page, case):
    page.set_viewport_size(DESK)
    log_in(page, live_server, "Agent")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(page.locator("#case-status")).to_have_text("In progress")

    row = page.locator('#offer-builder tr[data-offer="split-payment-3"]')
    expect(row).to_contain_text("Balance in 3 instalments")
    row.get_by_role("button", name="Propose").click()
    expect(page.locator("#offer-status")).to_have_text("Approved")
    page.get_by_role("button", name="Mark as presented").click()
    expect(page.locator("#offer-status")).to_have_text("Presented")
    page.locator("#answer-form").get_by_label("Their answer").fill("Three payments she can make")
    page.get_by_role("button", name="Accepted: apply it").click()
    expect(page.locator("#case-status")).to_have_text("Saved")

    arrangement = HardshipArrangement.objects.get(subscriber=case.subscriber)
    first, second, third = arrangement.instalments.order_by("number")
    assert (arrangement.status, arrangement.owed) == ("kept", Decimal("120.00"))
    assert [first.amount, second.amount, third.amount] == [Decimal("40.00")] * 3
    assert OutboundEvent.objects.filter(
        subscriber=case.subscriber, type=OutboundEvent.Type.HARDSHIP_HOLD
    ).exists()

    # The case, read again: its context pane names the arrangement and what is due next.
    page.reload()
    line = page.locator("#case-arrangement")
    expect(line).to_contain_text("Payment arrangement: kept, next €40.00 due on")
    expect(line).to_contain_text(first.due_on.strftime("%d.%m.%Y"))
    shot(page, "case")

    # Through the link as a person follows it, by keyboard.
    page.locator("#subscriber-page").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Inese Kalniņa")
    schedule = page.locator("#hardship")
    expect(schedule.get_by_role("heading", name="Payment arrangements")).to_be_visible()
    expect(schedule.locator('[data-status="kept"]')).to_have_text("Kept")
    rows = schedule.locator("table.hardship-schedule tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text(first.due_on.strftime("%d.%m.%Y"))
    expect(rows.nth(0)).to_contain_text("€40.00")
    expect(rows.nth(2)).to_contain_text(third.due_on.strftime("%d.%m.%Y"))
    expect(rows.nth(0)).to_contain_text("Due")
    expect(page.locator("#timeline")).to_contain_text(
        "Payment arrangement: €120.00 in 3 monthly instalments of €40.00"
    )
    expect_accessible(page, "the subscriber page with a payment arrangement")
    schedule.scroll_into_view_if_needed()
    shot(page, "subscriber")
