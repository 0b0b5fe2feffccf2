"""The tariff fit in Chromium: an agent sees on a case that the subscriber, a light user on a
flat rate, would pay less on a metered plan, proposes the move to the plan that fits from the
offer builder, a manager approves it, and the agent sees it approved. The subscriber page's
"best plan for how they use it" in English, Latvian and Russian.

``SCREENSHOTS=dir`` keeps a full-page screenshot of each page, to look at what the test saw.
"""

import os
from pathlib import Path

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from retention.cases.services import case_claim
from retention.system.services import demo_users_ensure
from tests.browser.clock import next_tuesday_at
from tests.browser.login import log_in
from tests.factories import CaseFactory, EquipmentFactory
from tests.subscribers.fit_catalogue import fit_move_template, priced_catalogue, user_with_usage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def keep(page: Page, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.fixture
def case(tiers):
    """Anna Liepa pays €29.99 a month for Fibre 300 and is online about 12 hours a month; her
    case is the demo agent's."""
    with time_machine.travel(next_tuesday_at(11), tick=True):
        agent = demo_users_ensure()[0]
        plans = priced_catalogue()
        fit_move_template()
        subscriber = user_with_usage(plans, "light", timezone.localdate(), name="Anna Liepa")
        EquipmentFactory.create(subscriber=subscriber)
        case = CaseFactory.create(subscriber=subscriber)
        yield case_claim(case=case, actor=agent)


def test_agent_sees_the_fit_on_a_case_and_proposes_the_move_a_manager_approves(
    live_server, page, chromium, case
):
    log_in(page, live_server, "Agent")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(page.locator("#case-status")).to_have_text("In progress")

    # Beside plan and price: the verdict, the plan and the saving.
    brief = page.locator("#fit-brief")
    expect(brief).to_contain_text("Light user paying for a flat rate")
    expect(brief).to_contain_text("Stundas 30 would cost €8.40 a month instead of €29.99")
    expect(brief).to_contain_text("saves €21.59 a month")

    # The builder puts the move first, says what it costs them with their usage, and that
    # €21.59 a month is more than an agent concedes alone.
    first = page.locator("#offer-builder tbody tr").first
    expect(first).to_have_attribute("data-offer", "plan-that-fits")
    expect(first).to_contain_text("Move to the plan that fits how they use it")
    expect(first).to_contain_text("Fits how they use it")
    expect(first).to_contain_text("With their usage: about €8.40 a month instead of €29.99.")
    expect(first).to_contain_text("Needs approval")
    keep(page, "case-en")
    first.get_by_placeholder("Note (optional)").fill("Online 12 hours a month")
    first.get_by_role("button", name="Propose").click()
    expect(page.locator("#offer-status")).to_have_text("Pending approval")
    expect(page.locator("#live-offer")).to_contain_text("Stundas 30 at €8.40 a month")

    # A manager approves it from the inbox.
    desk = chromium.new_context(locale="en-GB", timezone_id="Europe/Riga")
    manager_page = desk.new_page()
    try:
        log_in(manager_page, live_server, "Manager")
        manager_page.get_by_role("link", name="Approvals").click()
        item = manager_page.locator("article.approval").filter(has_text="Anna Liepa")
        expect(item).to_contain_text("Stundas 30 at €8.40 a month")
        item.get_by_role("button", name="Approve").click()
        expect(manager_page.locator("#inbox-done")).to_contain_text("approved")
    finally:
        desk.close()

    page.reload()
    expect(page.locator("#offer-status")).to_have_text("Approved")
    expect(page.get_by_role("button", name="Mark as presented")).to_be_visible()


@pytest.mark.parametrize(
    ("language", "pays"), [("en", "€29.99"), ("lv", "€29,99"), ("ru", "€29,99")]
)
def test_the_subscriber_page_explains_the_fit_in_each_language(
    live_server, page, case, language, pays
):
    log_in(page, live_server, "Agent")
    page.goto(f"{live_server.url}/subscribers/{case.subscriber_id}/")
    if language != "en":
        page.locator("#language-select").select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)
    section = page.locator("#fit")
    expect(section).to_be_visible()
    expect(page.locator("#fit-reason")).to_contain_text("Stundas 30")
    expect(page.locator("#fit-reason")).to_contain_text(pays)
    # Twelve bars in each chart, and a row per plan that could fit, theirs and the best marked.
    expect(section.locator("svg rect.bar-gb")).to_have_count(12)
    expect(section.locator("svg rect.bar-hours")).to_have_count(12)
    expect(section.locator("#fit-costs tbody tr")).to_have_count(4)
    expect(section.locator("#fit-costs tr.is-best")).to_contain_text("Stundas 30")
    expect(section.locator("#fit-costs tr.is-own")).to_contain_text("Fibre 300")
    # The charts and the table fit the card: nothing wider than the page.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"]
    keep(page, f"subscriber-{language}")
