"""The strict Content Security Policy holds through a working session: an agent and a manager
walk their pages and use the htmx actions, and the browser reports no violation at all.

The policy allows no inline style (style-src 'self'): a `style` attribute in a template or a
swapped fragment, a `<style>` element, or a script calling setAttribute("style", …) is refused
by the browser and reported as a `securitypolicyviolation` event. Every page of the session
reports those events to the test the moment they happen.

The agent resizes the note box before writing, as people do: Chromium records the new size in
the textarea's style attribute, and htmx used to copy that attribute onto the fresh form after
every swap ("settling" it) with setAttribute, one violation per swap.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from retention.cases.services import cases_reassign
from retention.models import CaseHistory, ContactAttempt, Notification, User
from retention.system.services import demo_users_ensure
from tests.browser.login import log_in
from tests.browser.watch import expect_status, page_watch
from tests.factories import CaseFactory, SubscriberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ALL_CHARTS_DRAWN = (
    "() => [...document.querySelectorAll('canvas[data-chart]')]"
    ".every(c => window.Chart && Chart.getChart(c))"
)

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  const target = event.target && event.target.outerHTML
    ? event.target.outerHTML.slice(0, 120) : String(event.target);
  window.reportCspViolation(
    [event.violatedDirective, event.sourceFile + ":" + event.lineNumber, target].join(" | ")
  );
});
"""


def watch_csp(page: Page) -> list[str]:
    """Every CSP violation on this tab from now on, on every page it opens, and every console
    message about one."""
    seen: list[str] = []
    page.expose_function("reportCspViolation", lambda text: seen.append(f"{page.url}: {text}"))
    page.add_init_script(REPORT_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            seen.append(f"console: {message.text}")
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return seen


def drag_to_enlarge(page: Page, selector: str) -> None:
    """Drag the textarea's corner grip down and right, as a person makes a note box bigger."""
    box_element = page.locator(selector).first
    box_element.scroll_into_view_if_needed()
    box = box_element.bounding_box()
    assert box is not None
    corner_x, corner_y = box["x"] + box["width"] - 2, box["y"] + box["height"] - 2
    page.mouse.move(corner_x, corner_y)
    page.mouse.down()
    page.mouse.move(corner_x + 30, corner_y + 80, steps=8)
    page.mouse.up()


def test_an_agent_and_a_manager_work_a_session_without_a_single_csp_violation(
    live_server, page, chromium
):
    demo_users_ensure()
    agent = User.objects.get(username="agent")
    # Riga time, so the callback at noon tomorrow is within the subscriber's calling hours.
    subscriber = SubscriberFactory.create(name="Pēteris Kalniņš", time_zone="Europe/Riga")
    case = CaseFactory.create(subscriber=subscriber)
    CaseFactory.create(priority=5)
    # The manager hands the case to the agent, whose bell then has something to show.
    cases_reassign(
        case_ids=[case.pk],
        to_user=agent,
        actor=User.objects.get(username="manager"),
        reason="Speaks Latvian",
    )
    agent_violations = watch_csp(page)

    # The agent's queue, then the case: a contact, a note in an enlarged box, a callback.
    log_in(page, live_server, "Agent")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancellation queue")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    notes = page.get_by_role("region", name="Callback and notes")
    drag_to_enlarge(page, "#id_text")
    assert "height" in (notes.get_by_label("Note").get_attribute("style") or "")

    contact = page.locator("#contact-form")
    contact.get_by_label("Direction").select_option("inbound")
    contact.get_by_label("Outcome").select_option("reached")
    contact.get_by_label("Note").fill("Called in about the price")
    contact.get_by_role("button", name="Log contact").click()
    expect(page.locator("#conversation")).to_contain_text("Called in about the price")

    drag_to_enlarge(page, "#id_text")
    notes.get_by_label("Note").fill("Wants a cheaper plan; compare with the fibre offer")
    notes.get_by_role("button", name="Add note").click()
    expect(page.locator("#conversation")).to_contain_text("Wants a cheaper plan")

    tomorrow = timezone.localdate() + timedelta(days=1)
    notes.get_by_label("Call back at").fill(f"{tomorrow:%Y-%m-%d}T12:00")
    notes.get_by_role("button", name="Set callback").click()
    expect(page.locator("#conversation")).to_contain_text("Callback set")

    case.refresh_from_db()
    assert timezone.localtime(case.callback_at).date() == tomorrow
    assert ContactAttempt.objects.filter(case=case, note="Called in about the price").exists()
    assert CaseHistory.objects.filter(case=case, action=CaseHistory.Action.NOTE).count() == 1

    # The subscriber page and its timeline filter, the notifications, the search.
    page.get_by_role("link", name="Pēteris Kalniņš").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pēteris Kalniņš")
    with page.expect_response(lambda response: "/timeline/" in response.url):
        page.locator("#timeline-filter").get_by_role("checkbox").first.check()
    expect(page.locator("#timeline")).to_contain_text("No events to show.")
    page.get_by_role("link", name="Notifications").click()
    page.get_by_role("button", name="Mark read").click()
    expect(page.locator("#notifications .unread")).to_have_count(0)
    assert Notification.objects.get(recipient=agent).read_at is not None
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Subscribers").click()
    page.get_by_role("searchbox").fill("Kalniņš")
    expect(page.locator("#search-results")).to_contain_text("Pēteris Kalniņš")

    # A page that is not the agent's: the refusal page, in the same layout.
    expect_status(page, 403)
    page.goto(f"{live_server.url}/approvals/")
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot open this page")

    # The manager, at another desk: approvals, the dashboard narrowed by htmx, outreach.
    desk = chromium.new_context(locale="en-GB", timezone_id="Europe/Riga")
    try:
        manager_page = desk.new_page()
        manager_watch = page_watch(manager_page)
        manager_violations = watch_csp(manager_page)
        log_in(manager_page, live_server, "Manager")
        manager_page.get_by_role("link", name="Approvals").click()
        expect(manager_page.locator("#inbox-empty")).to_be_visible()
        manager_page.get_by_role("link", name="Dashboard").click()
        manager_page.wait_for_function(ALL_CHARTS_DRAWN)
        filters = manager_page.locator("#dashboard-filters")
        filters.get_by_label("Period", exact=True).select_option(label="Last 12 months")
        expect(manager_page).to_have_url(re.compile(r"/dashboard/\?period=12m"))
        manager_page.wait_for_function(ALL_CHARTS_DRAWN)
        manager_page.get_by_role("link", name="Outreach").click()
        manager_page.get_by_role("link", name="New campaign").click()
        expect(manager_page.get_by_role("heading", level=1)).to_be_visible()
    finally:
        desk.close()

    assert agent_violations == []
    assert manager_violations == []
    assert manager_watch.problems() == []
