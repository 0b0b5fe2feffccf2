"""Background work in Chromium: a manager creates, previews and launches an outreach campaign
and watches its progress bar move without reloading while a subscriber answers through their
link; an agent's bell lights up when a notification arrives."""

from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from offers.models import OfferKind
from retention.models import OutreachCampaign, OutreachMessage, User
from retention.notifications.services import notify
from retention.outreach.audience import campaign_fan_out
from retention.outreach.links import message_token
from retention.outreach.sending import outreach_send
from retention.system.services import demo_users_ensure
from subscribers.phrases import phrase
from tests.browser.login import log_in
from tests.browser.watch import expect_status
from tests.factories import SubscriberFactory, offer_template
from tests.zones import zone_where_it_is

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_previews_and_launches_a_campaign_and_watches_it_go_out(
    live_server, page, chromium, monkeypatch
):
    demo_users_ensure()
    # The migration's catalogue is flushed between transactional tests: put the offer back.
    offer_template(
        "loyalty-tariff",
        OfferKind.PLAN_CHANGE,
        min_tenure_months=12,
        name_en="Loyalty tariff: the new-customer price",
        name_lv="Lojalitātes tarifs: jauna klienta cena",
        name_ru="Тариф лояльности: цена для новых клиентов",
    )
    zone = zone_where_it_is(12)
    for name, language in [("Anna Ozola", "lv"), ("Ivan Petrov", "ru"), ("John Smith", "en")]:
        SubscriberFactory.create(
            name=name, language=language, time_zone=zone, monthly_price=Decimal("29.99")
        )
    # This test plays the worker: launching asks for it after commit, and nothing else runs.
    asked: list[tuple[int, ...]] = []
    monkeypatch.setattr("retention.core.broker.enqueue", lambda task, *args: asked.append(args))

    log_in(page, live_server, "Manager")
    page.get_by_role("link", name="Outreach").click()
    page.get_by_role("link", name="New campaign").click()
    form = page.locator("#campaign-form")
    form.get_by_label("Name").fill("Loyalty tariff for long-standing customers")
    form.get_by_label("Offer").select_option(label="Loyalty tariff: the new-customer price")
    form.get_by_label("Channel").select_option("email")
    form.get_by_label("minimum tenure, months").fill("24")
    form.get_by_label("loyalty penalty at least, %").fill("30")
    form.get_by_label("message (Latvian)").fill("Labdien, {name}! {offer}: {new_price}. {link}")
    form.get_by_label("message (Russian)").fill("Здравствуйте, {name}! {offer}: {new_price}.")
    # A typo in a placeholder is caught before anything is saved.
    form.get_by_label("message (English)").fill("Hello {nmae}! {offer}: {new_price}. {link}")
    expect_status(page, 400)
    form.get_by_role("button", name="Save the draft").click()
    expect(page.locator("#campaign-form")).to_contain_text("Unknown placeholders: nmae")
    assert not OutreachCampaign.objects.exists()

    page.locator("#campaign-form").get_by_label("message (English)").fill(
        "Hello {name}! {offer}: {new_price} instead of {price}. {link}"
    )
    page.locator("#campaign-form").get_by_role("button", name="Save the draft").click()

    # The preview: who matches, and one sample per language, before anything is sent.
    expect(page.locator("#preview-matched")).to_contain_text("3 subscribers match now.")
    expect(page.locator("#sample-lv")).to_contain_text(
        "Labdien, Anna Ozola! Lojalitātes tarifs: jauna klienta cena: €19,99."
    )
    expect(page.locator("#sample-en")).to_contain_text("€19.99 instead of €29.99")
    page.get_by_role("link", name="Launch…").click()
    expect(page.locator("#confirm-reachable")).to_have_text("3")
    page.get_by_role("button", name="Launch now: 3 messages").click()
    expect(page.locator("#campaign-state")).to_have_text("Running")
    expect(page.locator("#progress-creating")).to_be_visible()
    campaign = OutreachCampaign.objects.get()
    assert asked == [(campaign.pk,)]

    # The worker's job, done here: create the messages, then send what is due.
    assert campaign_fan_out(campaign=campaign) == 3
    expect(page.locator("#progress-matched")).to_have_text("3")
    expect(page.locator("#progress-pending")).to_have_text("3")
    result = outreach_send(campaign_id=campaign.pk)
    assert result.sent == 3, result
    # The page refreshes its progress by itself: no reload.
    expect(page.locator("#progress-sent")).to_have_text("3")
    expect(page.locator("#progress-bar")).to_have_attribute("value", "3")
    expect(page.locator("#progress-pending")).to_have_text("0")

    # Ivan follows the link in his e-mail (no login, in Russian) and asks for a call.
    message = OutreachMessage.objects.get(subscriber__name="Ivan Petrov")
    link = reverse("outreach_link", args=[message_token(message)])
    reader = chromium.new_context(locale="en-GB")
    ivan = reader.new_page()
    try:
        ivan.goto(f"{live_server.url}{link}")
        expect(ivan.locator("html")).to_have_attribute("lang", "ru")
        expect(ivan.locator("#offer-h")).to_have_text("Тариф лояльности: цена для новых клиентов")
        ivan.get_by_role("button", name="Позвоните мне, чтобы обсудить").click()
        expect(ivan.locator("#answered")).to_be_visible()
        expect(ivan.locator("#link-actions")).to_have_count(0)
    finally:
        reader.close()
    expect(page.locator("#progress-responded")).to_have_text("1")

    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#campaign-state")).to_have_text("Paused")
    expect(page.get_by_role("button", name="Resume")).to_be_visible()


def test_the_agents_bell_shows_a_new_notification_without_reloading(live_server, page):
    demo_users_ensure()
    agent = User.objects.get(username="agent")
    log_in(page, live_server, "Agent")
    bell = page.locator("#bell")
    expect(bell).to_be_visible()
    expect(page.locator("#bell-count .bell-badge")).to_have_count(0)

    notify(
        recipient=agent, phrase=phrase("notify.callback", name="Anna Ozola", id=1), url="/my-cases/"
    )
    # The bell asks every 20 seconds.
    expect(page.locator("#bell-count .bell-badge")).to_have_text("1", timeout=30_000)

    bell.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    item = page.locator("#notifications li.unread")
    expect(item).to_contain_text("Call back Anna Ozola now")
    # Marking it read swaps the list and tells the bell at once.
    item.get_by_role("button", name="Mark read").click()
    expect(page.locator("#notifications li.unread")).to_have_count(0)
    expect(page.locator("#bell-count .bell-badge")).to_have_count(0)
