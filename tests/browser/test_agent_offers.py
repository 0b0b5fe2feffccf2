"""The agent's side of saving a subscriber, in Chromium: an offer within their authority is
approved at once, presented and declined, and another accepted; one beyond it waits for a
manager and is withdrawn.

test_save_flow covers an offer a manager approves from the inbox and the subscriber accepts."""

from decimal import Decimal

import pytest
import time_machine
from playwright.sync_api import expect

from offers.models import CounterOffer, OfferKind
from retention.cases.services import case_claim
from retention.models import CancellationCase
from retention.system.services import demo_users_ensure
from tests.browser.clock import next_tuesday_at
from tests.browser.login import log_in
from tests.factories import CaseFactory, SubscriberFactory, offer_template

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Status = CancellationCase.Status
OfferStatus = CounterOffer.Status


@pytest.fixture
def case(tiers):
    """Gatis pays €29.99 a month; his case is the demo agent's. Three offers suit him: two
    within an agent's authority (€60 an offer), one that needs a manager."""
    with time_machine.travel(next_tuesday_at(11), tick=True):
        agent = demo_users_ensure()[0]
        offer_template(
            "discount-10-6",
            OfferKind.PERCENT_DISCOUNT,
            percent=Decimal("10"),
            months=6,
            name_en="10% off for 6 months",
        )
        offer_template(
            "minus-5-6",
            OfferKind.FIXED_DISCOUNT,
            amount=Decimal("5"),
            months=6,
            name_en="€5 off for 6 months",
        )
        offer_template(
            "discount-30-12",
            OfferKind.PERCENT_DISCOUNT,
            percent=Decimal("30"),
            months=12,
            name_en="30% off for 12 months",
        )
        subscriber = SubscriberFactory.create(name="Gatis Vītols", monthly_price=Decimal("29.99"))
        case = CaseFactory.create(subscriber=subscriber)
        yield case_claim(case=case, actor=agent)


def builder_row(page, code: str):
    return page.locator(f'#offer-builder tr[data-offer="{code}"]')


def open_case(page, live_server, case):
    log_in(page, live_server, "Agent")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(page.locator("#case-status")).to_have_text("In progress")


def test_offer_within_authority_is_approved_at_once_then_declined_and_another_accepted(
    live_server, page, case
):
    open_case(page, live_server, case)
    first = builder_row(page, "discount-10-6")
    expect(first).to_contain_text("Within yours: approved at once")
    expect(first).to_contain_text("€18.00")
    first.get_by_role("button", name="Propose").click()

    live = page.locator("#live-offer")
    expect(page.locator("#offer-status")).to_have_text("Approved")
    expect(live).to_contain_text("Within the proposer's authority")
    offer = CounterOffer.objects.get(case=case)
    assert (offer.status, offer.auto_approved, offer.total_cost) == (
        OfferStatus.APPROVED,
        True,
        Decimal("18.00"),
    )
    # While an offer is under way the builder steps aside.
    expect(page.locator("#offer-builder")).to_have_count(0)

    page.get_by_role("button", name="Mark as presented").click()
    expect(page.locator("#offer-status")).to_have_text("Presented")
    expect(page.locator("#case-status")).to_have_text("Offer presented")

    page.locator("#answer-form").get_by_label("Their answer").fill("Ten percent is not enough")
    page.get_by_role("button", name="Declined").click()
    expect(page.locator("#live-offer")).to_have_count(0)
    expect(page.locator("#case-status")).to_have_text("In progress")
    expect(page.locator("#offer-log")).to_contain_text("Declined")
    offer.refresh_from_db()
    assert offer.status == OfferStatus.DECLINED

    # The builder is back: €5 off, accepted, saves the case.
    builder_row(page, "minus-5-6").get_by_role("button", name="Propose").click()
    expect(page.locator("#offer-status")).to_have_text("Approved")
    page.get_by_role("button", name="Mark as presented").click()
    expect(page.locator("#offer-status")).to_have_text("Presented")
    page.locator("#answer-form").get_by_label("Their answer").fill("Fine, €24.99 it is")
    page.get_by_role("button", name="Accepted: apply it").click()

    expect(page.locator("#case-status")).to_have_text("Saved")
    expect(page.locator("#contact-form")).to_have_count(0)
    case.refresh_from_db()
    assert case.status == Status.SAVED
    assert case.closed_at is not None
    case.subscriber.refresh_from_db()
    assert case.subscriber.monthly_price == Decimal("24.99")
    statuses = dict(CounterOffer.objects.filter(case=case).values_list("template__code", "status"))
    assert statuses == {"discount-10-6": OfferStatus.DECLINED, "minus-5-6": OfferStatus.ACCEPTED}


def test_offer_beyond_authority_waits_for_a_manager_and_the_agent_withdraws_it(
    live_server, page, case
):
    open_case(page, live_server, case)
    big = builder_row(page, "discount-30-12")
    expect(big).to_contain_text("Needs approval")
    big.get_by_placeholder("Note (optional)").fill("Loyal for 5 years")
    big.get_by_role("button", name="Propose").click()

    expect(page.locator("#offer-status")).to_have_text("Pending approval")
    expect(page.locator("#case-status")).to_have_text("Offer pending")
    expect(page.locator("#live-offer")).to_contain_text("Loyal for 5 years")
    expect(page.locator("#live-offer")).to_contain_text("Manager")
    offer = CounterOffer.objects.get(case=case)
    assert offer.status == OfferStatus.PENDING
    assert offer.routed_tier is not None and offer.routed_tier.name == "Manager"
    assert not offer.auto_approved

    # The subscriber will not wait for it.
    page.locator("#live-offer summary", has_text="Withdraw this offer").click()
    page.get_by_label("Why withdraw it?").fill("He decided to leave anyway")
    page.locator("#live-offer").get_by_role("button", name="Withdraw", exact=True).click()

    expect(page.locator("#live-offer")).to_have_count(0)
    expect(page.locator("#case-status")).to_have_text("In progress")
    expect(page.locator("#offer-log")).to_contain_text("Withdrawn")
    expect(builder_row(page, "discount-30-12")).to_be_visible()
    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS
