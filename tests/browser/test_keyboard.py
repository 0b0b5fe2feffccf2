"""The desk by keyboard alone, in Chromium: no click anywhere. An agent logs in, skips to the
queue, moves to a case with j, opens it with Enter, tabs to the contact form and logs a call;
the cancellation's confirmation takes the focus and gives it back; a manager approves an offer
in the inbox. At every step the focused element shows a ring a person can see (tests/browser/
focus.py: at least 2 px, 3:1 against what is behind it, not under anything)."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from offers.models import CounterOffer
from retention.models import CancellationCase, ContactAttempt, User
from retention.system.services import DEMO_USERS, demo_users_ensure
from tests.browser.axe import expect_accessible
from tests.browser.focus import expect_focus_visible, focused
from tests.browser.login import landed
from tests.browser.test_manager_approvals import catalogue, propose  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in_by_keyboard(page: Page, live_server, username: str) -> None:
    demo = next(u for u in DEMO_USERS if u.username == username)
    page.goto(f"{live_server.url}{reverse('login')}")
    expect(page.get_by_label("Username")).to_be_focused()  # autofocus
    expect_focus_visible(page)
    page.keyboard.type(demo.username)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    expect_focus_visible(page)
    page.keyboard.type(demo.password)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Log in")).to_be_focused()
    expect_focus_visible(page)
    page.keyboard.press("Enter")
    landed(page)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def skip_to_content(page: Page) -> None:
    """The first Tab on a page reaches the skip link, visible; Enter puts the focus in main."""
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect_focus_visible(page)
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def tab_until(page: Page, selector: str, *, limit: int = 80) -> list[str]:
    """Tab forward until the focus is inside ``selector``, checking the ring on every element
    passed on the way. Returns what was passed, for a failure's message."""
    passed: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        seen = expect_focus_visible(page)
        passed.append(seen["text"] or seen["element"])
        if page.evaluate("(s) => document.activeElement.closest(s) !== null", selector):
            return passed
    raise AssertionError(f"{limit} Tabs never reached {selector}: {passed}")


def test_an_agent_logs_a_call_by_keyboard_alone(live_server, page, case):
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in_by_keyboard(page, live_server, "agent")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancellation queue")

    skip_to_content(page)
    page.keyboard.press("j")  # the queue's first row, marked and focused
    row = page.locator(f"#queue-table tr[data-case='{case.pk}']")
    expect(row).to_be_focused()
    expect(row).to_have_attribute("aria-current", "true")
    expect_focus_visible(page)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Case #{case.pk}")
    page.wait_for_load_state("load")  # the case page's scripts, before the next key

    # From the top of the case page to the contact form, every stop with its ring (the skip
    # link's Enter has put the focus in main before the first Tab).
    skip_to_content(page)
    tab_until(page, "#contact-form")
    form = page.locator("#contact-form")
    expect(form.get_by_label("Channel")).to_be_focused()
    page.keyboard.type("Phone")  # a closed select takes the typed option
    page.keyboard.press("Tab")
    expect(form.get_by_label("Direction")).to_be_focused()
    page.keyboard.press("Tab")
    expect(form.get_by_label("Outcome")).to_be_focused()
    page.keyboard.type("No answer")
    expect(form.get_by_label("Outcome")).to_have_value("no_answer")
    page.keyboard.press("Tab")
    expect(form.get_by_label("Note")).to_be_focused()
    page.keyboard.type("Rang twice")
    page.keyboard.press("Tab")
    expect(form.get_by_role("button", name="Log contact")).to_be_focused()
    expect_focus_visible(page)
    page.keyboard.press("Enter")

    expect(page.locator("#conversation")).to_contain_text("No answer — Rang twice")
    contact = ContactAttempt.objects.get(case=case)
    assert (contact.channel, contact.outcome, contact.note) == ("phone", "no_answer", "Rang twice")
    # The form came back new; the focus stays on its button, not thrown to the page's top.
    expect(page.locator("#contact-form").get_by_role("button", name="Log contact")).to_be_focused()
    expect_focus_visible(page)


def test_the_cancellations_confirmation_takes_the_focus_and_escape_gives_it_back(
    live_server, page, case
):
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in_by_keyboard(page, live_server, "agent")
    page.goto(f"{live_server.url}{reverse('case', args=[case.pk])}")
    skip_to_content(page)
    tab_until(page, "#cancel-form button.danger")
    process = page.locator("#cancel-form").get_by_role("button", name="Process the cancellation")
    expect(process).to_be_focused()

    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Process the cancellation?")
    expect(dialog).to_be_visible()
    # The safe answer has the focus; the dialog itself passes axe, open.
    expect(dialog.get_by_role("button", name="Go back")).to_be_focused()
    expect_focus_visible(page)
    expect_accessible(page, "the case page with the cancellation's confirmation open")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(process).to_be_focused()
    expect_focus_visible(page)

    # Go back, by keyboard: the focus returns to the button that asked, and nothing changed.
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    page.keyboard.press("Enter")  # on "Go back"
    expect(dialog).to_be_hidden()
    expect(process).to_be_focused()
    case.refresh_from_db()
    assert case.status == CancellationCase.Status.IN_PROGRESS


def test_a_manager_approves_an_offer_by_keyboard_alone(live_server, page, catalogue):  # noqa: F811
    demo_users_ensure()
    agent = User.objects.get(username="agent")
    anna = propose(agent, catalogue["discount"], "Anna Liepa")
    ivan = propose(agent, catalogue["discount"], "Ivan Petrov")
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in_by_keyboard(page, live_server, "manager")

    # To the approvals through the top bar: Tab from the skip link to "Approvals", Enter.
    passed = []
    for _ in range(20):
        page.keyboard.press("Tab")
        seen = expect_focus_visible(page)
        passed.append(seen["text"])
        if seen["text"] == "Approvals":
            break
    else:
        raise AssertionError(passed)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Approvals")
    expect(page.locator("#inbox-count")).to_have_text("2 offers waiting")

    skip_to_content(page)
    tab_until(page, f"#approval-{anna.pk} .decision")
    expect(page.get_by_label("Your note (needed to reject)").first).to_be_focused()
    page.keyboard.type("A fair price for five years")
    page.keyboard.press("Tab")
    approve = page.locator(f"#approval-{anna.pk}").get_by_role("button", name="Approve")
    expect(approve).to_be_focused()
    expect_focus_visible(page)
    page.keyboard.press("Enter")

    done = page.locator("#inbox-done")
    expect(done).to_have_text(f"Offer #{anna.pk} for Anna Liepa: approved.")
    anna.refresh_from_db()
    assert anna.status == CounterOffer.Status.APPROVED
    # The card left the inbox; the focus went to the answer, not to the top of the page, and
    # the next Tab goes on to the next offer.
    expect(done).to_be_focused()
    page.keyboard.press("Tab")
    after = focused(page)
    assert page.evaluate(
        "(id) => document.activeElement.closest('#' + id) !== null", f"approval-{ivan.pk}"
    ), after

    # The amend fold opens from the keyboard too, and its form passes axe.
    tab_until(page, f"#approval-{ivan.pk} details.amend")
    page.keyboard.press("Enter")
    expect(page.locator(f"#approval-{ivan.pk} .amend-body form")).to_be_visible()
    expect_accessible(page, "the approvals with an amend form open")
