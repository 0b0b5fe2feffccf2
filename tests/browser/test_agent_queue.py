"""The agent at the queue, in Chromium: narrowing it with the filters, claiming the next case
with the button and with "n", claiming a row, and being told when a colleague was faster.

test_desk_flow covers "n" on the queue page itself."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from retention.cases.services import case_claim
from retention.models import CancellationCase, CaseHistory, User
from retention.system.services import demo_users_ensure
from tests.browser.clock import next_tuesday_at
from tests.browser.login import log_in
from tests.factories import CaseFactory, SubscriberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Status = CancellationCase.Status
Channel = CancellationCase.Channel


@pytest.fixture
def desk():
    with time_machine.travel(next_tuesday_at(11), tick=True):
        demo_users_ensure()
        yield {u.username: u for u in User.objects.all()}


def case_of(name: str, region: str = "Rīga", **fields) -> CancellationCase:
    subscriber = SubscriberFactory.create(name=name, region=region)
    return CaseFactory.create(subscriber=subscriber, **fields)


def rows(page):
    return page.locator("#queue-table tbody tr")


def row(page, name: str):
    return rows(page).filter(has_text=name)


def test_agent_narrows_the_queue_by_channel_owner_region_and_overdue_and_clears_it(
    live_server, page, desk
):
    case_of("Aina Web", channel=Channel.WEB, priority=90)
    case_of("Boriss Phone", region="Liepāja", channel=Channel.PHONE, priority=80)
    late = timezone.now() - timedelta(hours=2)
    case_of("Cilda Late", channel=Channel.WEB, first_contact_due=late, priority=70)
    mine = case_of("Dainis Mine", channel=Channel.WEB, priority=60)
    case_claim(case=mine, actor=desk["agent"])
    theirs = case_of("Evija Lead", channel=Channel.PHONE, priority=50)
    case_claim(case=theirs, actor=desk["lead"])
    cache.clear()  # the region choices are cached for an hour

    log_in(page, live_server, "Agent")
    counts = page.locator("#results .counts")
    expect(counts).to_contain_text("5 open cases")
    filters = page.locator("#queue-filters")

    filters.get_by_label("Channel").select_option("web")
    expect(counts).to_contain_text("3 open cases")
    expect(rows(page)).to_have_count(3)
    expect(page.locator("#queue-table")).not_to_contain_text("Boriss Phone")
    expect(page).to_have_url(re.compile(r"channel=web"))

    filters.get_by_label("Owner").select_option(label="Mine")
    expect(rows(page)).to_have_count(1)
    expect(row(page, "Dainis Mine")).to_contain_text("Laura Kalniņa")

    filters.get_by_label("Owner").select_option(label="Unclaimed")
    expect(rows(page)).to_have_count(2)
    filters.get_by_label("Overdue only").check()
    expect(rows(page)).to_have_count(1)
    expect(row(page, "Cilda Late")).to_have_class(re.compile(r"\bclock-red\b"))
    expect(counts).to_contain_text("1 overdue or near the deadline")

    # The filtered queue is a link: a reload keeps it.
    page.reload()
    expect(rows(page)).to_have_count(1)
    expect(filters.get_by_label("Overdue only")).to_be_checked()

    filters.get_by_role("link", name="Clear").click()
    expect(rows(page)).to_have_count(5)
    filters.get_by_label("Region").select_option("Liepāja")
    expect(rows(page)).to_have_count(1)
    expect(row(page, "Boriss Phone")).to_be_visible()


def test_agent_claims_next_with_the_button_then_with_n_from_my_cases_until_none_is_left(
    live_server, page, desk
):
    top = case_of("Inese Top", priority=90)
    second = case_of("Kaspars Second", priority=40)

    log_in(page, live_server, "Agent")
    page.get_by_role("button", name="Claim next").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Inese Top")
    expect(page.locator(".messages")).to_contain_text(f"Case #{top.pk} is yours.")
    top.refresh_from_db()
    assert (top.owner, top.status) == (desk["agent"], Status.IN_PROGRESS)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="My cases").click()
    expect(row(page, "Inese Top")).to_be_visible()
    page.keyboard.press("n")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kaspars Second")
    second.refresh_from_db()
    assert second.owner == desk["agent"]

    # Nothing left to claim: back to the queue, told so.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My cases").click()
    expect(rows(page)).to_have_count(2)
    page.keyboard.press("n")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancellation queue")
    expect(page.locator(".messages")).to_contain_text("There is no unclaimed case in the queue.")
    assert CaseHistory.objects.filter(action=CaseHistory.Action.CLAIMED).count() == 2


def test_agent_claims_a_row_and_is_told_when_a_colleague_claimed_one_first(live_server, page, desk):
    wanted = case_of("Linda Row", priority=50)
    contested = case_of("Māris Contested", priority=40)

    log_in(page, live_server, "Agent")
    row(page, "Linda Row").get_by_role("button", name="Claim").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Linda Row")
    expect(page.locator("#case-status")).to_have_text("In progress")
    wanted.refresh_from_db()
    assert wanted.owner == desk["agent"]

    page.go_back()
    expect(row(page, "Māris Contested").get_by_role("button", name="Claim")).to_be_visible()
    # A colleague claims it while the agent's page still offers it.
    case_claim(case=contested, actor=desk["lead"])
    row(page, "Māris Contested").get_by_role("button", name="Claim").click()
    expect(page.locator(".messages")).to_contain_text("Ilze Bērziņa claimed this case first.")
    expect(row(page, "Māris Contested")).to_contain_text("Ilze Bērziņa")
    contested.refresh_from_db()
    assert contested.owner == desk["lead"]
