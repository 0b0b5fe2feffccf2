"""A manager moves cases from the queue, in Chromium: one case, several at once, and a row
claimed for themselves. The controls must really post: the queue's rows sit between the
reassign form's parts, and a form nested in another is dropped by the browser."""

import re

import pytest
from playwright.sync_api import expect

from retention.models import CancellationCase, CaseHistory, Notification, Team, User
from retention.system.services import demo_users_ensure
from tests.browser.login import log_in
from tests.factories import CaseFactory, SubscriberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Status = CancellationCase.Status


@pytest.fixture
def desk():
    """The demo logins; the agent and the manager work in one team."""
    demo_users_ensure()
    team = Team.objects.create(name="Rīga desk")
    User.objects.filter(username__in=["agent", "manager"]).update(team=team)
    return {u.username: u for u in User.objects.all()}


def case_of(name: str, **fields) -> CancellationCase:
    return CaseFactory.create(subscriber=SubscriberFactory.create(name=name), **fields)


def row(page, name: str):
    return page.locator("#queue-table tbody tr").filter(has_text=name)


def test_manager_reassigns_an_agents_case_to_a_colleague_with_the_reason(live_server, page, desk):
    away = case_of("Kārlis Zariņš", owner=desk["agent"], status=Status.IN_PROGRESS, priority=90)
    case_of("Other Subscriber", priority=10)

    log_in(page, live_server, "Manager")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancellation queue")
    row(page, "Kārlis Zariņš").get_by_role("checkbox").check()
    page.get_by_label("Assign to").select_option(label="Ilze Bērziņa")
    page.get_by_label("Why").fill("Laura is on leave this week")
    page.get_by_role("button", name="Reassign", exact=True).click()

    expect(page.locator(".messages")).to_contain_text("reassigned")
    expect(row(page, "Kārlis Zariņš")).to_contain_text("Ilze Bērziņa")
    expect(row(page, "Other Subscriber")).to_contain_text("—")
    away.refresh_from_db()
    assert away.owner == desk["lead"]
    assert away.status == Status.IN_PROGRESS
    entry = CaseHistory.objects.get(case=away, action=CaseHistory.Action.REASSIGNED)
    assert entry.actor == desk["manager"]
    assert Notification.objects.filter(recipient=desk["lead"], url=f"/cases/{away.pk}/").exists()

    # The case's history says who moved it and why.
    row(page, "Kārlis Zariņš").get_by_role("link", name="Kārlis Zariņš").click()
    expect(page.locator("#conversation")).to_contain_text("Laura is on leave this week")
    expect(page.locator(".pagehead")).to_contain_text("Owner: Ilze Bērziņa")


def test_manager_reassigns_several_ticked_cases_and_leaves_the_rest(live_server, page, desk):
    first = case_of("Anna Ozola", priority=80)
    second = case_of("Juris Liepa", priority=70)
    untouched = case_of("Marta Kalna", priority=60)

    log_in(page, live_server, "Manager")
    # Nothing ticked: the desk says what is missing and moves nothing.
    page.get_by_label("Assign to").select_option(label="Laura Kalniņa")
    page.get_by_label("Why").fill("Morning batch")
    page.get_by_role("button", name="Reassign", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Choose cases, a person and a reason")
    assert not CancellationCase.objects.filter(owner__isnull=False).exists()

    row(page, "Anna Ozola").get_by_role("checkbox").check()
    row(page, "Juris Liepa").get_by_role("checkbox").check()
    page.get_by_label("Assign to").select_option(label="Laura Kalniņa")
    page.get_by_label("Why").fill("Morning batch")
    page.get_by_role("button", name="Reassign", exact=True).click()

    expect(page.locator(".messages")).to_contain_text("2 cases reassigned")
    expect(row(page, "Anna Ozola")).to_contain_text("Laura Kalniņa")
    expect(row(page, "Juris Liepa")).to_contain_text("Laura Kalniņa")
    expect(row(page, "Marta Kalna").get_by_role("button", name="Claim")).to_be_visible()
    for case in (first, second):
        case.refresh_from_db()
        assert (case.owner, case.status) == (desk["agent"], Status.IN_PROGRESS)
    untouched.refresh_from_db()
    assert (untouched.owner, untouched.status) == (None, Status.NEW)
    assert CaseHistory.objects.filter(action=CaseHistory.Action.REASSIGNED).count() == 2
    assert Notification.objects.filter(recipient=desk["agent"]).count() == 2


def test_manager_reassigns_within_a_filtered_queue_and_stays_on_it(live_server, page, desk):
    case_of("Phone Caller", channel=CancellationCase.Channel.PHONE, priority=80)
    web = case_of("Web Leaver", channel=CancellationCase.Channel.WEB, priority=70)

    log_in(page, live_server, "Manager")
    page.locator("#queue-filters").get_by_label("Channel").select_option("web")
    expect(page.locator("#queue-table")).not_to_contain_text("Phone Caller")
    row(page, "Web Leaver").get_by_role("checkbox").check()
    page.get_by_label("Assign to").select_option(label="Laura Kalniņa")
    page.get_by_label("Why").fill("Web requests go to Laura")
    page.get_by_role("button", name="Reassign", exact=True).click()

    expect(page.locator(".messages")).to_contain_text("reassigned")
    expect(page).to_have_url(re.compile(r"/queue/\?.*channel=web"))
    expect(row(page, "Web Leaver")).to_contain_text("Laura Kalniņa")
    expect(page.locator("#queue-table")).not_to_contain_text("Phone Caller")
    web.refresh_from_db()
    assert web.owner == desk["agent"]


def test_manager_claims_a_row_for_themselves(live_server, page, desk):
    case = case_of("Rūta Krūmiņa")

    log_in(page, live_server, "Manager")
    row(page, "Rūta Krūmiņa").get_by_role("button", name="Claim").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Rūta Krūmiņa")
    expect(page.locator("#case-status")).to_have_text("In progress")
    expect(page.locator(".pagehead")).to_contain_text("Owner: Andris Ozols")
    case.refresh_from_db()
    assert (case.owner, case.status) == (desk["manager"], Status.IN_PROGRESS)
