"""A campaign's whole life in Chromium: the manager drafts it, narrows it after the preview,
launches, pauses, resumes, and watches it finish without reloading the page. The test plays
the worker, calling the outreach services in its own thread."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from offers.models import OfferKind
from retention.models import OutreachCampaign, OutreachMessage
from retention.outreach import services as outreach
from retention.outreach.audience import campaign_fan_out
from retention.outreach.sending import outreach_send
from retention.system.services import demo_users_ensure
from tests.browser.login import log_in
from tests.factories import SubscriberFactory, offer_template
from tests.zones import zone_where_it_is

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Campaign = OutreachCampaign


def test_manager_narrows_launches_pauses_resumes_and_watches_a_campaign_finish(
    live_server, page, monkeypatch
):
    demo_users_ensure()
    offer_template(
        "loyalty-tariff",
        OfferKind.PLAN_CHANGE,
        min_tenure_months=12,
        name_en="Loyalty tariff: the new-customer price",
    )
    zone = zone_where_it_is(12)  # midday there: e-mail may go out now
    for name, years in [("Anna Ozola", 5), ("John Smith", 6), ("Ivan Petrov", 3)]:
        SubscriberFactory.create(
            name=name,
            language="en",
            time_zone=zone,
            monthly_price=Decimal("29.99"),
            signup_date=timezone.localdate() - timedelta(days=years * 365 + 2),
        )
    # Launching and resuming ask the worker, after commit; the test is the worker.
    asked: list[tuple[int, ...]] = []
    monkeypatch.setattr("retention.core.broker.enqueue", lambda task, *args: asked.append(args))

    # 1. A draft for everyone with two years or more: all three match.
    log_in(page, live_server, "Manager")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Outreach").click()
    page.get_by_role("link", name="New campaign").click()
    form = page.locator("#campaign-form")
    form.get_by_label("Name").fill("Loyalty tariff, long-standing")
    form.get_by_label("Offer").select_option(label="Loyalty tariff: the new-customer price")
    form.get_by_label("Channel").select_option("email")
    form.get_by_label("minimum tenure, months").fill("24")
    for language in ("Latvian", "Russian", "English"):
        form.get_by_label(f"message ({language})").fill("Hello {name}! {offer}. {link}")
    form.get_by_role("button", name="Save the draft").click()
    expect(page.locator("#campaign-state")).to_have_text("Draft")
    expect(page.locator("#preview-matched")).to_contain_text("3 subscribers match now.")
    campaign = Campaign.objects.get()
    assert campaign.state == Campaign.State.DRAFT and not asked

    # 2. The preview is more than planned: narrow it to four years and more.
    page.get_by_role("link", name="Edit the draft").click()
    page.locator("#campaign-form").get_by_label("minimum tenure, months").fill("48")
    page.locator("#campaign-form").get_by_role("button", name="Save the draft").click()
    expect(page.locator("#preview-matched")).to_contain_text("2 subscribers match now.")
    expect(page.locator("#preview")).not_to_contain_text("Ivan Petrov")
    campaign.refresh_from_db()
    assert campaign.min_tenure_months == 48

    # 3. Launch, after the confirmation: running, and the worker is asked once.
    page.get_by_role("link", name="Launch…").click()
    expect(page.locator("#confirm-reachable")).to_have_text("2")
    assert not asked
    page.get_by_role("button", name="Launch now: 2 messages").click()
    expect(page.locator("#campaign-state")).to_have_text("Running")
    expect(page.get_by_role("link", name="Edit the draft")).to_have_count(0)
    assert asked == [(campaign.pk,)]
    assert campaign_fan_out(campaign=campaign) == 2
    expect(page.locator("#progress-matched")).to_have_text("2")
    expect(page.locator("#progress-pending")).to_have_text("2")

    # 4. Pause: the worker finds nothing to send while it is paused.
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#campaign-state")).to_have_text("Paused")
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)
    assert Campaign.objects.get().state == Campaign.State.PAUSED
    assert outreach_send(campaign_id=campaign.pk).claimed == 0
    assert not OutreachMessage.objects.filter(state=OutreachMessage.State.SENT).exists()

    # 5. Resume: running again, the worker asked again, and the messages go out.
    page.get_by_role("button", name="Resume").click()
    expect(page.locator("#campaign-state")).to_have_text("Running")
    assert asked == [(campaign.pk,), (campaign.pk,)]
    page.evaluate("window.notReloaded = true")
    assert outreach_send(campaign_id=campaign.pk).sent == 2
    expect(page.locator("#progress-sent")).to_have_text("2")
    expect(page.locator("#progress-pending")).to_have_text("0")
    # Still running until the beat's sweep sees nothing left.
    expect(page.locator("#campaign-state")).to_have_text("Running")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()

    # 6. It finishes: the heading's state and the buttons follow, without a reload.
    assert outreach.campaigns_finish() == 1
    expect(page.locator("#campaign-state")).to_have_text("Finished")
    expect(page.locator("#progress-state")).to_have_text("Finished")
    expect(page.get_by_role("button", name="Pause")).to_have_count(0)
    expect(page.get_by_role("button", name="Resume")).to_have_count(0)
    expect(page.locator("#campaign-finished")).to_have_text(
        "Finished: every message was sent, skipped or failed."
    )
    assert page.evaluate("window.notReloaded") is True
    # The polling stops with it.
    expect(page.locator("#progress")).not_to_have_attribute("hx-trigger", "every 2s")

    # 7. The list of campaigns says the same.
    page.get_by_role("link", name="Outreach campaigns").click()
    row = page.locator(f"#campaign-{campaign.pk}")
    expect(row).to_contain_text("Finished")
    cells = row.locator("td.num")
    expect(cells.nth(0)).to_have_text("2")  # messages
    expect(cells.nth(1)).to_have_text("2")  # sent
