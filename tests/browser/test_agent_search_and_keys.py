"""How an agent finds subscribers and moves with the keyboard, in Chromium: the search by
account number, phone and e-mail, and every shortcut the pages advertise.

test_subscriber_flow covers a search by name; test_desk_flow "n" on the queue; test_agent_queue
"n" on My cases; test_agent_case_actions "c" and "m" doing their work."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from retention.cases.services import case_claim
from retention.models import CancellationCase
from retention.system.services import demo_users_ensure
from tests.browser.login import log_in
from tests.factories import CaseFactory, SubscriberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_finds_a_subscriber_by_account_number_phone_or_e_mail(live_server, page):
    demo_users_ensure()
    SubscriberFactory.create(
        name="Zane Priede",
        account_number="8800417",
        phone="+37126554433",
        email="zane.priede@example.lv",
    )
    SubscriberFactory.create(name="Oskars Lapa", account_number="8800999")

    log_in(page, live_server, "Agent")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Subscribers").click()
    search = page.get_by_label("Account number, name, phone or e-mail")
    results = page.locator("#results")

    search.press_sequentially("88", delay=30)
    expect(results).to_contain_text("Type at least 3 characters.")

    search.fill("")
    search.press_sequentially("8800417", delay=30)
    expect(page.locator("#search-results tbody tr")).to_have_count(1)
    expect(results).to_contain_text("Zane Priede")

    # The phone as people say it, with spaces.
    search.fill("")
    search.press_sequentially("2655 4433", delay=30)
    expect(page.locator("#search-results tbody tr")).to_have_count(1)
    expect(results).to_contain_text("Zane Priede")

    search.fill("")
    search.press_sequentially("nobody@nowhere", delay=30)
    expect(results).to_contain_text("No subscriber matches “nobody@nowhere”.")

    # "/" brings the agent back to the box from anywhere on the page, ready to retype.
    page.get_by_role("heading", level=1).click()
    expect(search).not_to_be_focused()
    page.keyboard.press("/")
    expect(search).to_be_focused()
    page.keyboard.type("zane.priede@")
    expect(search).to_have_value("zane.priede@")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/subscribers/?q=zane.priede%40")
    page.locator("#search-results").get_by_role("link", name="Zane Priede").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Zane Priede")


def test_every_key_the_case_page_advertises_works_there_and_not_while_typing(live_server, page):
    agent = demo_users_ensure()[0]
    case = CaseFactory.create(subscriber=SubscriberFactory.create(name="Ojārs Kalns"))
    case_claim(case=case, actor=agent)

    log_in(page, live_server, "Agent")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    hints = page.locator(".shortcuts kbd")
    advertised = hints.all_inner_texts()
    assert {"c", "m"} <= set(advertised), advertised

    page.keyboard.press("c")
    expect(page.locator("#contact-form").get_by_label("Outcome")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("m")
    note = page.locator("textarea[data-shortcut=m]")
    expect(note).to_be_focused()
    # Typing in a field types: none of the letters jumps anywhere.
    page.keyboard.type("calm now")
    expect(note).to_have_value("calm now")
    expect(note).to_be_focused()
    expect(page).to_have_url(f"{live_server.url}/cases/{case.pk}/")

    # "/" opens the subscriber search, the box ready (waits for the fix of the hint line's
    # "/ search", which did nothing on the case page).
    page.keyboard.press("Escape")
    assert "/" in advertised, advertised
    page.keyboard.press("/")
    expect(page).to_have_url(f"{live_server.url}/subscribers/")
    expect(page.get_by_label("Account number, name, phone or e-mail")).to_be_focused()
    # And the line lists no key that does nothing here ("n" claims only on the queue pages).
    assert set(advertised) <= {"c", "m", "/"}, advertised


def test_a_manager_typing_the_reassign_reason_does_not_claim_the_next_case(live_server, page):
    demo_users_ensure()
    case = CaseFactory.create(subscriber=SubscriberFactory.create(name="Nauris Egle"))

    log_in(page, live_server, "Manager")
    why = page.get_by_label("Why")
    why.click()
    why.press_sequentially("new agent needs an easy one", delay=20)
    expect(why).to_have_value("new agent needs an easy one")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancellation queue")
    case.refresh_from_db()
    assert case.owner is None
    # Out of the field, "n" claims the next case.
    page.keyboard.press("Escape")
    page.keyboard.press("n")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Nauris Egle")
    case.refresh_from_db()
    assert case.status == CancellationCase.Status.IN_PROGRESS


DUPLICATE_IDS = """() => {
  const seen = {};
  for (const el of document.querySelectorAll("[id]")) seen[el.id] = (seen[el.id] || 0) + 1;
  return Object.keys(seen).filter((id) => seen[id] > 1);
}"""


def test_every_id_on_the_agents_and_managers_pages_is_unique_so_each_label_names_one_field(
    live_server, page, chromium
):
    """A label points at its field by id; two fields with one id and the label fills (and a
    screen reader names) the wrong one: the withdraw form's note filled the contact note."""
    agent = demo_users_ensure()[0]
    subscriber = SubscriberFactory.create(name="Sarmīte Ābele")
    case = case_claim(case=CaseFactory.create(subscriber=subscriber), actor=agent)
    CaseFactory.create()

    log_in(page, live_server, "Agent")
    for path in ("/queue/", "/my-cases/", f"/cases/{case.pk}/", f"/subscribers/{subscriber.pk}/"):
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate(DUPLICATE_IDS) == [], path

    desk = chromium.new_context(locale="en-GB", timezone_id="Europe/Riga")
    try:
        manager = desk.new_page()
        log_in(manager, live_server, "Manager")
        expect(manager.get_by_role("heading", level=1)).to_have_text("Cancellation queue")
        assert manager.evaluate(DUPLICATE_IDS) == [], "/queue/ as a manager"
    finally:
        desk.close()


def test_agent_sorts_my_cases_by_a_heading_and_back(live_server, page):
    agent = demo_users_ensure()[0]
    today = timezone.localdate()
    for name, days in (("Beāte Ozola", 6), ("Artis Liepa", 2), ("Cilda Krūmiņa", 9)):
        case = CaseFactory.create(
            subscriber=SubscriberFactory.create(name=name),
            process_by=today + timedelta(days=days),
        )
        case_claim(case=case, actor=agent)
    log_in(page, live_server, "Agent")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My cases").click()
    names = page.locator("#queue-table tbody td a")
    expect(names).to_have_text(["Artis Liepa", "Beāte Ozola", "Cilda Krūmiņa"])  # nearest first

    heading = page.locator("#queue-table thead th").filter(has_text="Subscriber")
    heading.get_by_role("link").click()
    expect(heading).to_have_attribute("aria-sort", "ascending")
    expect(names).to_have_text(["Artis Liepa", "Beāte Ozola", "Cilda Krūmiņa"])
    heading.get_by_role("link").click()
    expect(heading).to_have_attribute("aria-sort", "descending")
    expect(names).to_have_text(["Cilda Krūmiņa", "Beāte Ozola", "Artis Liepa"])
    process_by = page.locator("#queue-table thead th").filter(has_text="Process by")
    process_by.get_by_role("link").click()
    expect(names).to_have_text(["Artis Liepa", "Beāte Ozola", "Cilda Krūmiņa"])
    expect(page.locator("#queue-table thead th[aria-sort]")).to_have_count(1)
