"""The queue as a team uses it, in Chromium: an agent saves a view and sees its count, sorts by
a column, walks the rows with j/k and opens one with Enter, ticks rows with x for a bulk note
and a callback, and finds the callback on his agenda; a manager shares a view with the team,
which the agent then sees, and releases cases in bulk, told which stayed and why.

``SCREENSHOTS=dir`` keeps screenshots of the queue and the agenda at 1440x900 and 768x1024."""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.cache import cache
from playwright.sync_api import Page, expect

from retention.models import CancellationCase, CaseHistory, SavedView, Team, User
from retention.system.services import demo_users_ensure
from tests.browser.clock import next_tuesday_at
from tests.browser.login import log_in
from tests.factories import CaseFactory, SubscriberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Status = CancellationCase.Status
MORNING = next_tuesday_at(11)


@pytest.fixture
def desk():
    with time_machine.travel(MORNING, tick=True):
        demo_users_ensure()
        team = Team.objects.create(name="Rīga desk")
        User.objects.filter(username__in=["agent", "manager"]).update(team=team)
        cache.clear()
        yield {u.username: u for u in User.objects.all()}


def case_of(name: str, *, days: int, **fields) -> CancellationCase:
    subscriber = SubscriberFactory.create(name=name, region="Rīga", phone="+371 2000 0000")
    return CaseFactory.create(
        subscriber=subscriber, process_by=MORNING.date() + timedelta(days=days), **fields
    )


def row(page: Page, name: str):
    return page.locator("#queue-table tbody tr").filter(has_text=name)


def names(page: Page) -> list[str]:
    return [
        n.strip() for n in page.locator("#queue-table tbody tr td:nth-child(3) a").all_inner_texts()
    ]


def shoot(page: Page, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS")
    if not folder:
        return
    for width, height in ((1440, 900), (768, 1024)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(Path(folder) / f"queue-{name}-{width}x{height}.png"))
    page.set_viewport_size({"width": 1440, "height": 900})


def test_an_agent_saves_a_view_sorts_walks_with_keys_and_works_cases_in_bulk(
    live_server, page, desk
):
    agent = desk["agent"]
    anna = case_of("Anna Ozola", days=9, owner=agent, status=Status.IN_PROGRESS, priority=80)
    juris = case_of("Juris Liepa", days=3, owner=agent, status=Status.IN_PROGRESS, priority=60)
    marta = case_of("Marta Kalna", days=6, owner=agent, status=Status.IN_PROGRESS, priority=70)
    case_of("Unclaimed Person", days=5, priority=90)
    case_of("Colleague Case", days=4, owner=desk["lead"], status=Status.IN_PROGRESS, priority=50)
    page.set_viewport_size({"width": 1440, "height": 900})

    with time_machine.travel(MORNING, tick=True):
        log_in(page, live_server, "Agent")
        page.get_by_role("link", name="Queue", exact=True).click()
        # Narrow to his own cases and save that as a view.
        page.get_by_label("Owner").select_option(label="Mine")
        expect(page.locator("#results .counts")).to_contain_text("3 open cases")
        page.locator("#save-view summary").click()
        page.get_by_label("Name of the view").fill("My open cases")
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator(".messages")).to_contain_text("is saved")
        mine = page.locator("#queue-views li.active")
        expect(mine).to_contain_text("My open cases")
        expect(mine.locator(".view-count")).to_have_text("3")
        assert SavedView.objects.get().filters == {"owner": "me"}

        # Sort by the process-by date, then the other way round.
        page.get_by_role("link", name="Process by").click()
        expect(page.locator("th[aria-sort='ascending']")).to_have_text("Process by")
        assert names(page) == ["Juris Liepa", "Marta Kalna", "Anna Ozola"]
        assert "view=" in page.url and "sort=process_by" in page.url
        page.get_by_role("link", name="Process by").click()
        expect(page.locator("th[aria-sort='descending']")).to_have_text("Process by")
        assert names(page) == ["Anna Ozola", "Marta Kalna", "Juris Liepa"]
        shoot(page, "agent")

        # j and k move the marked row; Enter opens its case.
        page.locator("h1").click()
        page.keyboard.press("j")
        expect(row(page, "Anna Ozola")).to_have_class(re.compile(r"\bcurrent\b"))
        page.keyboard.press("j")
        page.keyboard.press("j")
        page.keyboard.press("k")
        expect(row(page, "Marta Kalna")).to_have_class(re.compile(r"\bcurrent\b"))
        expect(page.locator("#queue-shortcuts")).to_contain_text("next/previous case")
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(rf"/cases/{marta.pk}/$"))
        page.go_back()

        # x ticks the marked row: a note on two cases at once.
        page.locator("h1").click()
        page.keyboard.press("j")
        page.keyboard.press("x")
        page.keyboard.press("j")
        page.keyboard.press("j")
        page.keyboard.press("x")
        expect(row(page, "Anna Ozola").get_by_role("checkbox")).to_be_checked()
        expect(row(page, "Juris Liepa").get_by_role("checkbox")).to_be_checked()
        expect(row(page, "Marta Kalna").get_by_role("checkbox")).not_to_be_checked()
        page.get_by_label("Note", exact=True).fill("Waiting for the new tariff sheet")
        page.get_by_role("button", name="Add note").click()
        expect(page.locator(".messages")).to_contain_text("Note added to 2 cases.")
        notes = CaseHistory.objects.filter(action=CaseHistory.Action.NOTE)
        assert sorted(n.case_id for n in notes) == sorted([anna.pk, juris.pk])
        # Back where it was: the view and its sort.
        expect(page.locator("th[aria-sort='descending']")).to_have_text("Process by")

        # A callback at 15:00 today for one case, the agent's own time.
        at = MORNING.replace(hour=15)
        row(page, "Juris Liepa").get_by_role("checkbox").check()
        page.get_by_label("Call back at").fill(at.strftime("%Y-%m-%dT%H:%M"))
        page.get_by_role("button", name="Set callback").click()
        expect(page.locator(".messages")).to_contain_text("Callback set on 1 case.")
        juris.refresh_from_db()
        assert juris.callback_at == at

        # The agenda lists it, reached from the navigation.
        page.get_by_role("link", name="Callbacks", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("My callbacks today")
        agenda = page.locator("#agenda-table tbody tr")
        expect(agenda).to_have_count(1)
        expect(agenda.first).to_contain_text("15:00")
        expect(agenda.first).to_contain_text("Juris Liepa")
        expect(agenda.first).to_contain_text("In progress")
        shoot(page, "agenda")
        agenda.first.get_by_role("link", name="Juris Liepa").click()
        expect(page).to_have_url(re.compile(rf"/cases/{juris.pk}/$"))

        # The same pages in Latvian.
        page.goto(f"{live_server.url}/queue/?view={SavedView.objects.get().pk}")
        page.locator("#language-select").select_option("lv")
        expect(page.locator("html")).to_have_attribute("lang", "lv")
        shoot(page, "agent-lv")
        page.goto(f"{live_server.url}/queue/callbacks/")
        shoot(page, "agenda-lv")


def test_a_manager_shares_a_view_with_the_team_and_releases_cases_in_bulk(
    live_server, page, desk, chromium
):
    agent = desk["agent"]
    web = case_of("Web Request", days=5, channel="web", owner=agent, status=Status.IN_PROGRESS)
    case_of("Phone Request", days=5, channel="phone")
    unclaimed = case_of("Nobody Yet", days=6, channel="web")
    page.set_viewport_size({"width": 1440, "height": 900})

    with time_machine.travel(MORNING, tick=True):
        log_in(page, live_server, "Manager")
        page.get_by_label("Channel").select_option(label="Web")
        expect(page.locator("#results .counts")).to_contain_text("2 open cases")
        page.locator("#save-view summary").click()
        page.get_by_label("Name of the view").fill("Web requests")
        page.get_by_label("Share with my team").check()
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator(".messages")).to_contain_text("is saved")
        expect(page.locator("#queue-views")).to_contain_text("Team views")
        shoot(page, "manager")

        # Release both: the agent's case goes back to the queue; the unowned one stays, and
        # the page says why.
        row(page, "Web Request").get_by_role("checkbox").check()
        row(page, "Nobody Yet").get_by_role("checkbox").check()
        page.get_by_role("button", name="Release to the queue").click()
        expect(page.locator(".messages")).to_contain_text("1 case is back in the queue.")
        expect(page.locator(".messages")).to_contain_text(
            f"#{unclaimed.pk} Nobody Yet: Nobody owns this case."
        )
        web.refresh_from_db()
        assert (web.owner, web.status) == (None, Status.NEW)

        # The agent of the team sees the team's view, with its count.
        context = chromium.new_context(locale="en-GB", timezone_id="Europe/Riga")
        other = context.new_page()
        log_in(other, live_server, "Agent")
        other.goto(f"{live_server.url}/queue/")
        shared = other.locator("#queue-views li").filter(has_text="Web requests")
        expect(shared.locator(".view-count")).to_have_text("2")
        shared.get_by_role("link").click()
        expect(other.locator("#results .counts")).to_contain_text("2 open cases")
        # An agent does not get the controls that change a team's view.
        expect(other.locator(".manage-view")).to_have_count(0)
        context.close()
