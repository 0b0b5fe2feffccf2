"""The billing loop in Chromium, as the people at the desk see it.

Billing is the simulator (retention.demo.billing) on 127.0.0.1: it checks each webhook's
signature, applies the event and calls the desk's confirmations API on the live server. The
test plays the Celery worker (``deliveries_work``), so each step happens when the test says.

- an agent's accepted offer is *applied by billing* on the case, and the timeline says so; a
  processed cancellation is confirmed on the timeline;
- an offer billing refuses reopens the case for the agent, who agrees new terms there;
- an admin sends a delivery again from the admin, and its page lists both attempts.
"""

import os
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from offers.models import BillingState, CounterOffer, OfferKind
from retention.billing.delivery import deliveries_work
from retention.cases.services import case_cancel, case_claim
from retention.demo.billing import BillingSimulator
from retention.models import EventDelivery, User, WebhookEndpoint
from retention.models.billing import webhook_secret_new
from retention.system.services import demo_users_ensure
from subscribers.ingestion import api_token_create
from subscribers.models import OutboundEvent
from tests.browser.login import log_in
from tests.factories import CaseFactory, SubscriberFactory, authority_tier, offer_template
from tests.retention.workers import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def simulator(live_server, refuse: frozenset[str] = frozenset()) -> BillingSimulator:
    """Billing on a port of its own, registered as the desk's endpoint for every event."""
    _, token = api_token_create(name="billing", source="billing")
    secret = webhook_secret_new()
    billing = BillingSimulator(
        secret=secret,
        confirm_url=f"{live_server.url}/api/v1/events/confirmations",
        token=token,
        delay=0.1,
        refuse=refuse,
    )
    WebhookEndpoint.objects.create(
        name="Billing", url=billing.url, secret=secret, event_types=list(OutboundEvent.Type.values)
    )
    return billing.start()


@pytest.fixture
def billing(live_server) -> Iterator[BillingSimulator]:
    found = simulator(live_server)
    yield found
    found.stop()


@pytest.fixture
def refusing(live_server) -> Iterator[BillingSimulator]:
    found = simulator(live_server, refuse=frozenset({OutboundEvent.Type.OFFER_ACCEPTED}))
    yield found
    found.stop()


@pytest.fixture
def claimed_case():
    """A case the demo agent holds, for a subscriber paying €29.99, and an offer within an
    agent's authority in the catalogue."""
    demo_users_ensure()
    authority_tier("Agent", 10, "10", "60", "120")
    offer_template(
        "fixed-5-6", OfferKind.FIXED_DISCOUNT, amount=Decimal("5"), months=6, name_en="€5 off"
    )
    subscriber = SubscriberFactory.create(name="Pēteris Kalniņš", monthly_price=Decimal("29.99"))
    case = CaseFactory.create(subscriber=subscriber)
    return case_claim(case=case, actor=User.objects.get(username="agent"))


def accept_the_offer(page: Page, live_server, case_id: int, code: str = "fixed-5-6") -> None:
    """The agent proposes the offer, presents it and records the subscriber's yes."""
    page.goto(f"{live_server.url}/cases/{case_id}/")
    page.locator(f'#offer-builder tr[data-offer="{code}"]').get_by_role(
        "button", name="Propose"
    ).click()
    expect(page.locator("#offer-status")).to_have_text("Approved")
    page.get_by_role("button", name="Mark as presented").click()
    page.locator("#answer-form").get_by_label("Their answer").fill("Yes, at that price")
    page.get_by_role("button", name="Accepted: apply it").click()
    expect(page.locator("#case-status")).to_have_text("Saved")


def shoot(page: Page, name: str) -> None:
    """``SCREENSHOTS=dir`` keeps a full-page screenshot, to look at what the test saw."""
    if folder := os.environ.get("SCREENSHOTS"):
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def billing_answers(billing: BillingSimulator, count: int) -> None:
    """The worker's turn: deliver what is due; then billing's confirmations arrive."""
    deliveries_work()
    wait_until(
        lambda: len(billing.confirmed) >= count,
        timeout=10,
        failure=lambda: f"billing confirmed {billing.confirmed}, received {billing.received}",
    )


def test_an_accepted_offer_is_applied_by_billing_on_the_case_and_the_timeline(
    live_server, page, billing, claimed_case
):
    log_in(page, live_server, "Agent")
    accept_the_offer(page, live_server, claimed_case.pk)
    offer = CounterOffer.objects.get(case=claimed_case)
    badge = page.locator(f"#offer-{offer.pk}-billing")
    expect(badge).to_have_text("Waiting for billing")

    billing_answers(billing, 1)
    page.reload()
    expect(badge).to_have_text("Applied by billing")
    shoot(page, "agent-en-case-applied")
    expect(page.locator("#timeline-h").locator("..")).to_contain_text("Billing applied the offer")
    assert billing.received == [str(OutboundEvent.objects.get().event_id)]


def test_a_processed_cancellation_is_confirmed_by_billing_on_the_timeline(
    live_server, page, billing, claimed_case
):
    log_in(page, live_server, "Agent")
    page.goto(f"{live_server.url}/cases/{claimed_case.pk}/")
    page.locator("#cancel-form").get_by_role("button", name="Process the cancellation").click()
    # It asks first, saying what will happen; only "Yes" processes it.
    page.locator("#cancel-dialog").get_by_role(
        "button", name="Yes, process the cancellation"
    ).click()
    expect(page.locator("#case-status")).to_have_text("Cancelled")

    billing_answers(billing, 1)
    page.reload()
    expect(page.locator("#timeline-h").locator("..")).to_contain_text(
        "Billing confirmed the cancellation: nothing is billed after"
    )


# The language switcher's label in each language.
SWITCHER = {"en": "Language", "lv": "Valoda", "ru": "Язык"}
# The reopened case in each language: its status, the offer's badge, the history row.
REOPENED_SAID = [
    ("en", "In progress", "Refused by billing", "Billing refused offer"),
    ("lv", "Apstrādē", "Noraidīts norēķinu sistēmā", "Norēķinu sistēma noraidīja piedāvājumu"),
    ("ru", "В работе", "Отклонено биллингом", "Биллинг отклонил предложение"),
]


def test_an_offer_billing_refuses_reopens_the_case_and_the_agent_agrees_new_terms(
    live_server, page, refusing, claimed_case
):
    offer_template(
        "fixed-3-6", OfferKind.FIXED_DISCOUNT, amount=Decimal("3"), months=6, name_en="€3 off"
    )
    log_in(page, live_server, "Agent")
    accept_the_offer(page, live_server, claimed_case.pk)

    billing_answers(refusing, 1)
    offer = CounterOffer.objects.get(case=claimed_case)
    assert offer.billing == BillingState.REFUSED
    page.reload()
    # Billing kept its price: the case shows it again, and the offer builder starts from it.
    expect(page.locator("#monthly-price")).to_contain_text("€29.99")
    # Said in each reader's language (billing's reason is billing's own text).
    shown = "en"
    for language, status, badge, history in [*REOPENED_SAID, REOPENED_SAID[0]]:
        if language != shown:
            page.get_by_label(SWITCHER[shown]).select_option(language)
            shown = language
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("#case-status")).to_have_text(status)
        expect(page.locator(f"#offer-{offer.pk}-billing")).to_have_text(badge)
        expect(page.locator("#conversation")).to_contain_text(
            f"{history} #{offer.pk}: Refused by the billing simulator"
        )
        shoot(page, f"agent-{language}-case-reopened")

    # The work is open again: the agent proposes other terms on the same case.
    accept_the_offer(page, live_server, claimed_case.pk, code="fixed-3-6")
    assert CounterOffer.objects.filter(case=claimed_case).count() == 2


def test_an_admin_sends_a_delivery_again_and_sees_both_attempts(live_server, page, billing):
    demo_users_ensure()
    subscriber = SubscriberFactory.create(account_number="LV-700100")
    case = CaseFactory.create(subscriber=subscriber)
    agent = User.objects.get(username="agent")
    case_cancel(
        case=case_claim(case=case, actor=agent), actor=agent, effective_date=case.process_by
    )
    billing_answers(billing, 1)
    delivery = EventDelivery.objects.get()
    assert delivery.state == EventDelivery.State.DELIVERED

    log_in(page, live_server, "Admin")
    page.get_by_role("link", name="Administration").click()
    page.locator("tr.model-eventdelivery th a").click()
    page.locator(f'#result_list input[value="{delivery.pk}"]').check()
    page.locator("select[name=action]").select_option("redeliver")
    page.get_by_role("button", name="Run").click()
    expect(page.locator("ul.messagelist li.success")).to_have_text("1 delivery will be sent again.")

    deliveries_work()
    page.locator("#result_list").get_by_role("link", name=str(delivery.pk)).click()
    attempts = page.locator("#log-group tbody tr:has(td.field-status_code)")
    expect(attempts).to_have_count(2)
    expect(attempts.first).to_contain_text("200")
    shoot(page, "admin-en-delivery")
    # Billing got the event twice under one webhook-id and applied it once.
    assert len(billing.received) == 2 and len(set(billing.received)) == 1
    assert len(billing.applied) == 1
