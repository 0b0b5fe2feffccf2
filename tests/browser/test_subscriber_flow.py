"""An agent's first minutes at the desk, clicked through in Chromium."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from retention.system.services import DEMO_USERS, demo_users_ensure
from subscribers.models import TimelineEvent
from tests.factories import EquipmentFactory, SubscriberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KINDS = [TimelineEvent.Kind.PAYMENT] * 4 + [TimelineEvent.Kind.OUTAGE, TimelineEvent.Kind.TICKET]


@pytest.fixture
def anna():
    subscriber = SubscriberFactory.create(name="Anna Bērziņa", account_number="7700123")
    SubscriberFactory.create(name="Jānis Ozoliņš")
    EquipmentFactory.create(subscriber=subscriber, serial="SN-ANNA-ROUTER")
    start = datetime(2023, 1, 1, tzinfo=UTC)
    TimelineEvent.objects.bulk_create(
        TimelineEvent(
            subscriber=subscriber,
            kind=KINDS[i % len(KINDS)],
            occurred_at=start + timedelta(days=i),
            source="billing",
            summary=f"Event number {i}",
        )
        for i in range(130)
    )
    return subscriber


def test_agent_finds_a_subscriber_reads_the_timeline_filters_it_and_switches_to_latvian(
    live_server, page, anna
):
    demo_users_ensure()
    agent = next(u for u in DEMO_USERS if u.role == "Agent")

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    page.get_by_label("Username").fill(agent.username)
    page.get_by_label("Password").fill(agent.password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Subscribers").click()

    search = page.get_by_label("Account number, name, phone or e-mail")
    expect(search).to_be_focused()
    search.press_sequentially("bērz", delay=40)
    result = page.locator("#search-results").get_by_role("link", name="Anna Bērziņa")
    expect(result).to_be_visible()
    expect(page.locator("#search-results")).not_to_contain_text("Ozoliņš")
    result.click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Anna Bērziņa")
    expect(page.locator("#equipment-h + table")).to_contain_text("SN-ANNA-ROUTER")
    events = page.locator("#timeline-list > li.event")
    expect(events).to_have_count(50)
    expect(events.first).to_contain_text("Event number 129")

    # Scrolling to the end of the list loads older events, twice, then stops.
    page.locator("#timeline-list > li.more").scroll_into_view_if_needed()
    expect(events).to_have_count(100)
    page.locator("#timeline-list > li.more").scroll_into_view_if_needed()
    expect(events).to_have_count(130)
    expect(events.last).to_contain_text("Event number 0")
    expect(page.locator("#timeline-list > li.more")).to_have_count(0)

    # Filter by kind: only outages remain, newest first.
    page.locator("#timeline-filter").get_by_label("Outage").check()
    expect(events).to_have_count(21)
    expect(page.locator("#timeline-list > li.event:not(.kind-outage)")).to_have_count(0)

    # Switch the interface to Latvian.
    page.get_by_label("Language").select_option("lv")
    expect(page.locator("html")).to_have_attribute("lang", "lv")
    expect(page.locator("#timeline-h")).to_have_text("Notikumu vēsture")
