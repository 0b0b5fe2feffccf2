"""Accessibility beyond the pages test_every_page opens: the pages anyone may open without a
login (the login form, the subscriber's offer and stop links), the states a page reaches only by
interaction (a fold opened, a form fetched), and the top bar at a tablet's 768 px, where nothing
may run off the screen or overlap and every target is at least 24 x 24 px (WCAG 2.2, 2.5.8).

``SCREENSHOTS=dir`` keeps screenshots of the queue, a case and the callbacks at 1440 x 900 and
768 x 1024, in English and Latvian, and one of the focus ring, named a11y-*.png (looked at, not
compared)."""

import os
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from retention.models import CancellationCase, OutreachMessage
from retention.outreach.links import message_token, stop_token
from tests.browser.axe import expect_accessible
from tests.browser.focus import expect_focus_visible
from tests.browser.login import log_in
from tests.browser.test_every_page import _switch_language, demo_desk  # noqa: F401  (a fixture)
from tests.browser.test_outreach_link import sent  # noqa: F401  (a fixture)
from tests.browser.watch import expect_status

# serialized_rollback: the data the migrations load (the cancellation reasons, the offer
# catalogue's defaults) is there as `make run` has it; a transactional test's flush removes it.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = os.environ.get("SCREENSHOTS", "")
DESK = {"width": 1440, "height": 900}
TABLET = {"width": 768, "height": 1024}


def test_the_pages_open_without_a_login_pass_axe(live_server, page, sent):  # noqa: F811
    page.goto(f"{live_server.url}{reverse('login')}")
    expect_accessible(page, "the login page")
    page.get_by_label("Username").fill("agent")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect_accessible(page, "the login page with its error")

    for language, message in sent.items():
        link = reverse("outreach_link", args=[message_token(message)])
        page.goto(f"{live_server.url}{link}")
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect_accessible(page, f"the offer link ({language})")
    page.get_by_role("button", name="Call me to talk about it").click()
    expect(page.locator("#answered")).to_be_visible()
    expect_accessible(page, "the offer link, answered")

    anna: OutreachMessage = sent["lv"]
    token = stop_token(subscriber_id=anna.subscriber_id, channel="email")
    page.goto(f"{live_server.url}{reverse('outreach_stop', args=[token])}")
    expect(page.locator("html")).to_have_attribute("lang", "lv")
    expect_accessible(page, "the stop link (lv)")
    page.locator("#stop-email").click()
    expect(page.locator(".message.success")).to_be_visible()
    expect_accessible(page, "the stop link, stopped (lv)")

    expect_status(page, 404)  # the invalid link answers 404, with its page
    page.goto(f"{live_server.url}{reverse('outreach_link', args=['not-a-token'])}")
    expect(page.locator("#link-invalid")).to_be_visible()
    expect_accessible(page, "an invalid offer link")


def test_states_only_interaction_reaches_pass_axe(demo_desk, live_server, page):  # noqa: F811
    page.set_viewport_size(DESK)
    log_in(page, live_server, "Agent")
    page.goto(f"{live_server.url}{reverse('queue')}")
    page.locator("#save-view summary").click()
    expect(page.locator("#save-view form")).to_be_visible()
    expect_accessible(page, "the queue with 'Save this view' open")

    mine = CancellationCase.objects.filter(owner__username="agent", closed_at__isnull=True)
    case = mine.order_by("pk").first()
    assert case is not None
    page.goto(f"{live_server.url}{reverse('case', args=[case.pk])}")
    choice = page.locator("#macro-choice")
    expect(choice).to_be_visible()
    choice.select_option(index=1)  # htmx fetches the other macro's form
    expect(page.locator("#message-form")).to_be_visible()
    expect_accessible(page, "the case page with another macro's form")

    page.goto(f"{live_server.url}{reverse('subscribers:search')}?q=zzzz-nobody")
    expect_accessible(page, "a subscriber search that finds nobody")
    expect_status(page, 404)
    page.goto(f"{live_server.url}/no-such-page/")
    expect_accessible(page, "the 404 page")


def _topbar_problems(page: Page) -> list[str]:
    """What in the top bar runs past the viewport, overlaps another control, or is smaller than
    24 x 24 px; and whether the page scrolls sideways."""
    return page.evaluate(
        """() => {
        const problems = [];
        const width = document.documentElement.clientWidth;
        if (document.documentElement.scrollWidth > width) {
            problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth}`);
        }
        const controls = [...document.querySelectorAll(".topbar a, .topbar button, .topbar select")]
            .filter((el) => el.offsetParent !== null && !el.closest(".skip-link"));
        const boxes = controls.map((el) => [el, el.getBoundingClientRect()]);
        for (const [el, box] of boxes) {
            const name = (el.innerText || el.getAttribute("aria-label") || el.id).trim();
            if (box.left < 0 || box.right > width) problems.push(`${name} runs off: ${box.right}`);
            if (box.width < 24 || box.height < 24) {
                problems.push(`${name} is ${box.width} × ${box.height}`);
            }
        }
        for (let i = 0; i < boxes.length; i++) {
            for (let j = i + 1; j < boxes.length; j++) {
                const [a, b] = [boxes[i][1], boxes[j][1]];
                const [x, y] = [boxes[i][0], boxes[j][0]];
                if (x.contains(y) || y.contains(x)) continue;
                if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1
                        && b.top < a.bottom - 1) {
                    problems.push(`${boxes[i][0].innerText} overlaps ${boxes[j][0].innerText}`);
                }
            }
        }
        return problems;
    }"""
    )


def _shoot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"a11y-{name}.png"), full_page=False)


def test_the_top_bar_fits_a_tablet_in_every_language(demo_desk, live_server, page):  # noqa: F811
    case = CancellationCase.objects.filter(owner__username="agent").order_by("pk").first()
    assert case is not None
    pages = {"queue": reverse("queue"), "case": reverse("case", args=[case.pk])}
    pages["callbacks"] = reverse("callbacks")
    for role in ("Manager", "Agent"):  # the manager's bar is the longer
        page.context.clear_cookies()
        log_in(page, live_server, role)
        for language in ("en", "lv", "ru"):
            page.goto(f"{live_server.url}{reverse('preferences')}")
            _switch_language(page, language)
            for size in (TABLET, DESK):
                page.set_viewport_size(size)
                for name, url in pages.items():
                    page.goto(f"{live_server.url}{url}")
                    problems = _topbar_problems(page)
                    assert problems == [], (role, language, size, name, problems)
                    if role == "Agent" and language in ("en", "lv"):
                        _shoot(page, f"{name}-{language}-{size['width']}")

    # The focus ring, as a person sees it: the first control of the queue's filters.
    page.set_viewport_size(DESK)
    page.goto(f"{live_server.url}{reverse('queue')}")
    page.locator("#queue-filters select").first.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    expect_focus_visible(page)
    _shoot(page, "focus-ring")
