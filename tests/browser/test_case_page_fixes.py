"""The case page keeps up with what the agent does in it, and its keyboard hints work."""

import zoneinfo
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from retention.cases import services as cases
from retention.models import CancellationCase, User
from retention.system.services import demo_users_ensure
from tests.browser.login import log_in
from tests.factories import CaseFactory, SubscriberFactory
from tests.zones import zone_where_it_is

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def agents_case(name: str) -> CancellationCase:
    demo_users_ensure()
    # Noon where the subscriber lives: an hour from now is within their calling hours.
    subscriber = SubscriberFactory.create(name=name, time_zone=zone_where_it_is(12))
    case = CaseFactory.create(subscriber=subscriber)
    cases.case_claim(case=case, actor=User.objects.get(username="agent"))
    return case


def test_the_call_back_line_shows_a_new_callback_at_once(live_server, page):
    case = agents_case("Anna Ozola")
    log_in(page, live_server, "Agent")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(page.locator("#callback-at")).to_have_count(0)

    # The agent works in Riga, as does the browser.
    at = timezone.now().astimezone(zoneinfo.ZoneInfo("Europe/Riga")) + timedelta(hours=1)
    page.get_by_label("Call back at").fill(at.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Set callback").click()

    # The deadlines card, outside the work area the form swaps, shows it without a reload.
    expect(page.locator("#callback-at")).to_contain_text(at.strftime("%H:%M"))
    expect(page.locator("#case-deadlines")).to_contain_text("Call back at")
    case.refresh_from_db()
    assert case.callback_at == at.replace(second=0, microsecond=0)

    # Moved again: the line follows, and there is still one of it.
    later = at + timedelta(minutes=30)
    page.get_by_label("Call back at").fill(later.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Set callback").click()
    expect(page.locator("#callback-at")).to_contain_text(later.strftime("%H:%M"))
    expect(page.locator("#case-deadlines")).to_have_count(1)
    case.refresh_from_db()
    assert case.callback_at == later.replace(second=0, microsecond=0)


def test_slash_on_the_case_page_opens_the_subscriber_search(live_server, page):
    case = agents_case("Jānis Liepa")
    log_in(page, live_server, "Agent")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(page.locator(".shortcuts kbd", has_text="/")).to_be_visible()

    page.keyboard.press("/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Find a subscriber")
    expect(page.get_by_label("Account number, name, phone or e-mail")).to_be_focused()
