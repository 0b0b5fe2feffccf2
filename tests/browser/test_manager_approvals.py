"""The manager's approvals in Chromium: reject, amend and approve offers from the inbox, as a
person does, and hand the inbox to another manager while away, then take it back."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from offers.models import ApprovalDelegation, CounterOffer, OfferKind
from retention.cases.services import case_claim
from retention.models import CancellationCase, Notification, User
from retention.saves import services as saves
from retention.system.services import demo_users_ensure
from tests.browser.login import log_in, log_in_as
from tests.browser.watch import expect_status
from tests.factories import CaseFactory, SubscriberFactory, authority_tier, offer_template

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Status = CounterOffer.Status
Case = CancellationCase.Status


def propose(agent: User, template, name: str) -> CounterOffer:
    """An offer beyond the agent's authority (€60 an offer), waiting in the manager's inbox."""
    case = CaseFactory.create(subscriber=SubscriberFactory.create(name=name))
    case_claim(case=case, actor=agent)
    offer = saves.case_offer_propose(case=case, template=template, actor=agent, note="please")
    assert offer.status == Status.PENDING
    return offer


@pytest.fixture
def catalogue():
    # The migration's defaults are flushed between transactional tests: set them up again.
    authority_tier("Agent", 10, "10", "60", "120")
    authority_tier("Manager", 20, "25", "300", "500")
    authority_tier("Retention lead", 30, "60", "1000", "1500")
    return {
        # €9.00 a month for 12 months: €108.
        "discount": offer_template(
            "discount-30-12",
            OfferKind.PERCENT_DISCOUNT,
            percent=Decimal("30"),
            months=12,
            name_en="30% off for 12 months",
        ),
        # €10.00 a month, for good (counted over 12 months): €120.
        "loyalty": offer_template(
            "loyalty-tariff", OfferKind.PLAN_CHANGE, name_en="Loyalty tariff"
        ),
    }


def test_manager_rejects_amends_and_approves_offers_in_the_inbox(live_server, page, catalogue):
    demo_users_ensure()
    agent = User.objects.get(username="agent")
    anna = propose(agent, catalogue["discount"], "Anna Liepa")
    ivan = propose(agent, catalogue["discount"], "Ivan Petrov")
    rita = propose(agent, catalogue["loyalty"], "Rita Zariņa")

    log_in(page, live_server, "Manager")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Approvals")
    expect(page.locator("#inbox-count")).to_have_text("3 offers waiting")
    card = page.locator("article.approval").filter(has_text="Rita Zariņa")
    # Money as money: €10.00 a month for good, counted over 12 months.
    expect(card.locator(".cost")).to_have_text("€120.00 (€10.00 × 12)")
    expect(card).to_contain_text("€0.00 (with this one €120.00)")

    # 1. Rejecting needs a reason: without one the offer stays and the inbox says why.
    card = page.locator(f"#approval-{anna.pk}")
    expect_status(page, 400)
    card.get_by_role("button", name="Reject").click()
    expect(page.locator("#inbox-error")).to_contain_text("This field is required")
    anna.refresh_from_db()
    assert anna.status == Status.PENDING
    card = page.locator(f"#approval-{anna.pk}")
    card.get_by_label("Your note (needed to reject)").fill("Too generous for a 5-month-old debt")
    card.get_by_role("button", name="Reject").click()
    expect(page.locator("#inbox-done")).to_have_text(f"Offer #{anna.pk} for Anna Liepa: rejected.")
    expect(page.locator(f"#approval-{anna.pk}")).to_have_count(0)
    anna.refresh_from_db()
    assert anna.status == Status.REJECTED
    assert anna.decision_note == "Too generous for a 5-month-old debt"
    assert anna.decided_by == User.objects.get(username="manager")
    # The agent works the case again.
    assert CancellationCase.objects.get(offers=anna).status == Case.IN_PROGRESS

    # 2. Amend Ivan's discount down to 20% for 6 months, and approve it so.
    card = page.locator(f"#approval-{ivan.pk}")
    card.get_by_text("Amend the terms and approve").click()
    amend = card.locator(".amend-body form")
    expect(amend.get_by_label("Discount, %")).to_have_value("30.00")
    expect(amend.get_by_label("Months")).to_have_value("12")
    amend.get_by_label("Discount, %").fill("20")
    amend.get_by_label("Months").fill("6")
    amend.get_by_label("Why these terms?").fill("Enough to match the competitor")
    amend.get_by_role("button", name="Approve with these terms").click()
    expect(page.locator("#inbox-done")).to_have_text(f"Offer #{ivan.pk} for Ivan Petrov: approved.")
    ivan.refresh_from_db()
    assert (ivan.status, ivan.percent, ivan.months) == (Status.APPROVED, Decimal("20.00"), 6)
    assert ivan.total_cost == Decimal("36.00")  # €6.00 a month for 6 months
    # Approved, not yet presented: the case still waits on its offer.
    assert CancellationCase.objects.get(offers=ivan).status == Case.OFFER_PENDING

    # 3. The loyalty tariff's amend form shows its real terms: for good, on their own plan.
    card = page.locator(f"#approval-{rita.pk}")
    card.get_by_text("Amend the terms and approve").click()
    amend = card.locator(".amend-body form")
    months = amend.get_by_label("Months")
    expect(months).to_have_value("")
    expect(months).to_have_attribute("placeholder", "for good")
    expect(amend).to_contain_text("Empty: for good (its cost is counted over 12 months).")
    expect(amend.get_by_label("New plan").locator("option:checked")).to_have_text(
        "Their own plan, at the new-customer price"
    )
    # Approved as it stands, with the plain Approve button.
    card.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator("#inbox-done")).to_have_text(f"Offer #{rita.pk} for Rita Zariņa: approved.")
    expect(page.locator("#inbox-empty")).to_have_text("Nothing is waiting for you.")
    rita.refresh_from_db()
    assert (rita.status, rita.months, rita.total_cost) == (Status.APPROVED, 0, Decimal("120.00"))

    # The agent is told of each decision.
    assert Notification.objects.filter(recipient=agent).count() == 3


def test_manager_hands_the_inbox_to_the_lead_while_away_and_ends_it(
    live_server, page, chromium, catalogue
):
    demo_users_ensure()
    manager = User.objects.get(username="manager")
    propose(User.objects.get(username="agent"), catalogue["discount"], "Anna Liepa")
    until = timezone.localtime() + timedelta(days=3)

    log_in(page, live_server, "Manager")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    page.get_by_role("link", name="Away? Hand your approvals to another manager").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hand over approvals")
    expect(page.locator("#delegations-given")).to_have_text("None.")
    form = page.locator("#delegation-form")
    # An end before the start is refused, and nothing is handed over.
    form.get_by_label("Hand my approvals to").select_option(label="Ilze Bērziņa")
    form.get_by_label("Until").fill(
        (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    )
    expect_status(page, 400)
    form.get_by_role("button", name="Hand over").click()
    expect(page.locator("#delegation-form")).to_contain_text("The end must come after the start.")
    assert not ApprovalDelegation.objects.exists()

    form = page.locator("#delegation-form")
    form.get_by_label("Hand my approvals to").select_option(label="Ilze Bērziņa")
    form.get_by_label("Until").fill(until.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("Note").fill("Holiday")
    form.get_by_role("button", name="Hand over").click()
    # (Dates are written as the language writes them; the minute is the same in every one.)
    told = page.locator("ul.messages")
    expect(told).to_contain_text("Ilze Bērziņa decides your approvals until")
    expect(told).to_contain_text(f"{until:%H:%M}.")
    expect(page.locator("#delegations-given")).to_contain_text("Ilze Bērziņa")
    expect(page.locator("#delegations-given")).to_contain_text("Holiday")
    handed = ApprovalDelegation.objects.get()
    assert (handed.delegator, handed.delegate.username) == (manager, "lead")
    assert handed.ends_at == until.replace(second=0, microsecond=0)

    # The lead, at their desk, sees whose approvals they decide.
    desk = chromium.new_context(locale="en-GB", timezone_id="Europe/Riga")
    lead = desk.new_page()
    try:
        log_in_as(lead, live_server, "lead")
        lead.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
        told = lead.locator("#inbox .message.info")
        expect(told).to_contain_text("You decide for Andris Ozols until")
        expect(told).to_contain_text(f"{until:%H:%M}.")
        expect(lead.locator("article.approval")).to_contain_text("Anna Liepa")
    finally:
        desk.close()

    # Back early: the manager ends the hand-over.
    page.locator("#delegations-given").get_by_role("button", name="End now").click()
    expect(page.locator("ul.messages")).to_contain_text("The delegation has ended.")
    expect(page.locator("#delegations-given")).to_have_text("None.")
    handed.refresh_from_db()
    assert handed.ends_at <= timezone.now()


def test_the_inbox_refresh_waits_while_the_amend_form_is_open_and_then_catches_up(
    live_server, page, catalogue
):
    demo_users_ensure()
    agent = User.objects.get(username="agent")
    anna = propose(agent, catalogue["discount"], "Anna Liepa")

    page.clock.install()  # the inbox refreshes every 15 s: the test moves the page's clock
    # Counts the inbox's refreshes that are really sent (app.js cancels a paused one before).
    page.add_init_script(
        "window.inboxSends = 0; document.addEventListener('htmx:beforeSend', e => {"
        " if (e.detail.elt.id === 'inbox') window.inboxSends++; });"
    )
    log_in(page, live_server, "Manager")
    page.goto(f"{live_server.url}/approvals/")
    card = page.locator("article.approval").filter(has_text="Anna Liepa")
    card.get_by_text("Amend the terms and approve").click()
    months = card.get_by_label("Months")
    months.fill("6")
    page.get_by_role("heading", level=1).click()  # focus leaves the inbox

    # A new offer arrives; the timer fires twice; no refresh goes out, the amendment stays.
    propose(agent, catalogue["discount"], "Ivan Petrov")
    page.clock.run_for(31_000)
    assert page.evaluate("window.inboxSends") == 0
    expect(months).to_have_value("6")

    # Folded away and untouched, the inbox catches up at the next tick.
    months.fill(str(anna.months))
    card.locator("summary").click()
    page.get_by_role("heading", level=1).click()
    page.clock.run_for(16_000)
    expect(page.locator("#inbox-count")).to_have_text("2 offers waiting")
    assert page.evaluate("window.inboxSends") == 1
