"""Safe launching and "stop contacting me" in Chromium.

The manager drafts a campaign with a rate, sends a test e-mail to themselves (refused while
their account has no e-mail address), schedules it, changes their mind and cancels the schedule,
then launches it through the confirmation that says what will happen. A subscriber opens the
stop link from the e-mail they got and stops e-mails in Latvian; another stops all contact from
the offer's page, in Russian. A manager working in Latvian sends a test of an SMS campaign to
their own mobile number. The test plays the worker, calling the outreach services.

`SCREENSHOTS=dir` keeps screenshots of the confirmation, the campaign pages and the stop page at
1440x900 and 768x1024 (campaigns-<page>-<width>.png).
"""

import json
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from offers.models import OfferKind, OfferTemplate
from retention.models import CampaignHistory, OutreachCampaign, OutreachMessage, User
from retention.outreach import tasks
from retention.outreach.audience import campaign_fan_out
from retention.outreach.links import message_token, stop_preview_link
from retention.system.services import demo_users_ensure
from subscribers.models import Subscriber, TimelineEvent
from tests.browser.login import log_in
from tests.browser.watch import expect_status, page_watch
from tests.factories import SubscriberFactory, offer_template
from tests.zones import zone_where_it_is

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Campaign = OutreachCampaign
SIZES = ((1440, 900), (768, 1024))


def shoot(page: Page, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=f"{folder}/campaigns-{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


@pytest.fixture
def audience():
    demo_users_ensure()
    offer_template(
        "loyalty-tariff",
        OfferKind.PLAN_CHANGE,
        name_en="Loyalty tariff: the new-customer price",
        name_lv="Lojalitātes tarifs: jauna klienta cena",
        name_ru="Тариф лояльности: цена для новых клиентов",
    )
    zone = zone_where_it_is(12)  # midday there: e-mail may go out now
    for name, language in [("Anna Ozola", "lv"), ("Ivan Petrov", "ru"), ("John Smith", "en")]:
        SubscriberFactory.create(name=name, language=language, time_zone=zone)
    SubscriberFactory.create(name="Pēteris Kalns", time_zone=zone, do_not_email=True)


def test_a_manager_tests_schedules_and_launches_a_campaign_after_its_confirmation(
    live_server, page, monkeypatch, audience
):
    asked: list[tuple[int, ...]] = []
    monkeypatch.setattr("retention.core.broker.enqueue", lambda task, *args: asked.append(args))
    log_in(page, live_server, "Manager")

    # A draft with a rate of two messages a minute.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Outreach").click()
    page.get_by_role("link", name="New campaign").click()
    form = page.locator("#campaign-form")
    form.get_by_label("Name").fill("Loyalty tariff, autumn")
    form.get_by_label("Offer").select_option(label="Loyalty tariff: the new-customer price")
    form.get_by_label("Channel").select_option("email")
    form.get_by_label("Messages per minute").fill("2")
    form.get_by_label("not contacted in this many days").fill("0")
    form.get_by_label("message (Latvian)").fill("Labdien, {name}! {offer}: {new_price}. {link}")
    form.get_by_label("message (Russian)").fill("Здравствуйте, {name}! {offer}. {link}")
    form.get_by_label("message (English)").fill("Hello {name}! {offer}: {new_price}. {link}")
    form.get_by_role("button", name="Save the draft").click()
    expect(page.locator("#campaign-state")).to_have_text("Draft")
    expect(page.locator("#campaign-rate")).to_have_text("at most 2 messages a minute")
    campaign = Campaign.objects.get()

    # A test to themselves: refused while their account has no address, then sent.
    test_form = page.locator("#test-form")
    expect(test_form).to_contain_text("Your account has no e-mail address")
    expect_status(page, 409)
    test_form.get_by_role("button", name="Send a test e-mail to me").click()
    expect(page.locator("#action-error")).to_have_text(
        "Your account has no e-mail address: ask an administrator to add one."
    )
    assert mail.outbox == []
    User.objects.filter(username="manager").update(email="andris@desk.example")
    page.goto(f"{live_server.url}{reverse('campaign', args=[campaign.pk])}")
    page.locator("#test-form").get_by_label("Test in").select_option("lv")
    page.locator("#test-form").get_by_role(
        "button", name="Send a test e-mail to andris@desk.example"
    ).click()
    expect(page.get_by_role("status")).to_contain_text(
        "A test is on its way to andris@desk.example"
    )
    expect(page.locator("#campaign-history")).to_contain_text(
        "Test sent to andris@desk.example in Latvian"
    )
    assert len(mail.outbox) == 1, [(m.to, m.subject) for m in mail.outbox]
    (test,) = mail.outbox
    assert test.to == ["andris@desk.example"]
    assert test.body.startswith("Labdien, Andris Ozols! Lojalitātes tarifs")
    assert not OutreachMessage.objects.exists()
    shoot(page, "campaign-draft")

    # Scheduled for tomorrow at 09:00 (the manager's zone): the confirmation says so.
    tomorrow = timezone.localdate() + timedelta(days=1)
    page.locator("#schedule-start").fill(f"{tomorrow.isoformat()}T09:00")
    page.get_by_role("button", name="Schedule…").click()
    expect(page.locator("#confirm-start")).to_contain_text("09:00")
    expect(page.locator("#confirm-matched")).to_have_text("4")
    expect(page.locator("#confirm-dnc")).to_have_text("1")
    expect(page.locator("#confirm-reachable")).to_have_text("3")
    expect(page.locator("#confirm-rate")).to_have_text("at most 2 messages a minute")
    expect(page.locator("#confirm-duration")).to_contain_text("about 2 min")
    expect(page.locator("#confirm-offer")).to_have_text("Loyalty tariff: the new-customer price")
    shoot(page, "confirm-scheduled")
    page.locator("#confirm-launch").click()
    expect(page.locator("#campaign-state")).to_have_text("Scheduled")
    expect(page.locator("#campaign-scheduled")).to_contain_text("Scheduled for")
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.SCHEDULED and not asked
    assert timezone.localtime(campaign.starts_at).hour == 9
    shoot(page, "campaign-scheduled")

    # A change of mind: the schedule is cancelled, and the tick starts nothing.
    page.get_by_role("button", name="Cancel the schedule").click()
    expect(page.locator("#campaign-state")).to_have_text("Draft")
    tasks.outreach_tick()
    assert Campaign.objects.get().state == Campaign.State.DRAFT and not asked

    # Launch now, after the confirmation.
    page.get_by_role("link", name="Launch…").click()
    expect(page.locator("#confirm-start")).to_have_text("Now")
    shoot(page, "confirm-now")
    page.get_by_role("button", name="Launch now: 3 messages").click()
    expect(page.locator("#campaign-state")).to_have_text("Running")
    assert asked == [(campaign.pk,)]
    expect(page.locator("#campaign-history")).to_contain_text("Launched")
    expect(page.locator("#progress-pace")).to_contain_text("At most 2 messages a minute.")
    # The worker creates the messages; the page, refreshing itself, says when it should end.
    assert campaign_fan_out(campaign=Campaign.objects.get()) == 4  # Pēteris is skipped later
    expect(page.locator("#progress-matched")).to_have_text("4")
    expect(page.locator("#progress-pace")).to_contain_text("Expected to end about")
    shoot(page, "campaign-running")


def test_a_manager_in_latvian_sends_a_test_of_an_sms_campaign_to_their_own_phone(
    live_server, page, monkeypatch, settings, tmp_path, audience
):
    monkeypatch.setattr("retention.core.broker.enqueue", lambda task, *args: True)
    settings.SMS_BACKEND, settings.SMS_FILE_PATH = "file", str(tmp_path / "sms")
    from retention.outreach import services as outreach

    manager = User.objects.get(username="manager")
    manager.email = "andris@desk.example"
    manager.save()
    campaign = outreach.campaign_create(
        actor=manager,
        values={
            "name": "Loyalty tariff by SMS",
            "template": OfferTemplate.objects.get(code="loyalty-tariff"),
            "channel": "sms",
            "not_contacted_days": 0,
            "body_lv": "Labdien, {name}! {offer}: {new_price}. {link}",
            "body_ru": "Здравствуйте, {name}! {offer}. {link}",
            "body_en": "Hello {name}! {offer}: {new_price}. {link}",
        },
    )
    log_in(page, live_server, "Manager")
    page.get_by_label("Language").select_option("lv")
    expect(page.locator("html")).to_have_attribute("lang", "lv")

    # No mobile number yet: the form says so, and an e-mail address is no stand-in.
    page.goto(f"{live_server.url}{reverse('campaign', args=[campaign.pk])}")
    test_form = page.locator("#test-form")
    with translation.override("lv"):
        no_number = translation.gettext(
            "Your account has no mobile number: ask an administrator to add one."
        )
        to_phone = translation.gettext("Send a test SMS to %(phone)s") % {"phone": "+37120000000"}
        stop_line = translation.gettext("Stop: %(url)s") % {"url": stop_preview_link()}
    expect(test_form).to_contain_text(no_number)

    User.objects.filter(pk=manager.pk).update(phone="+37120000000")
    page.reload()
    expect(test_form).not_to_contain_text(no_number)
    test_form.locator("select").select_option("lv")
    test_form.get_by_role("button", name=to_phone).click()
    expect(page.get_by_role("status")).to_contain_text("+37120000000")
    expect(page.locator("#campaign-history")).to_contain_text("+37120000000")
    # One SMS, as it arrives on the manager's phone: in Latvian, with the SMS's stop line.
    (sms,) = [json.loads(path.read_text()) for path in (tmp_path / "sms").glob("*.json")]
    assert sms["to"] == "+37120000000"
    assert sms["body"].startswith("Labdien, Andris Ozols! Lojalitātes tarifs")
    assert sms["body"].endswith(f" {stop_line}")
    assert mail.outbox == [] and not OutreachMessage.objects.exists()
    shoot(page, "campaign-test-sms-lv")


def test_a_subscriber_stops_e_mails_from_their_message_in_latvian_and_another_stops_all(
    live_server, chromium, monkeypatch, audience
):
    monkeypatch.setattr("retention.core.broker.enqueue", lambda task, *args: True)
    from retention.outreach import services as outreach
    from retention.outreach.sending import outreach_send

    manager = User.objects.get(username="manager")
    campaign = outreach.campaign_create(
        actor=manager,
        values={
            "name": "Loyalty tariff",
            "template": offer_template("loyalty-tariff", OfferKind.PLAN_CHANGE),
            "channel": "email",
            "not_contacted_days": 0,
            "body_lv": "Labdien, {name}! {link}",
            "body_ru": "Здравствуйте, {name}! {link}",
            "body_en": "Hello {name}! {link}",
        },
    )
    outreach.campaign_launch(campaign=campaign, actor=manager)
    campaign_fan_out(campaign=campaign)
    assert outreach_send(campaign_id=campaign.pk).sent == 3
    anna = Subscriber.objects.get(name="Anna Ozola")
    (to_anna,) = [m for m in mail.outbox if m.to == [anna.email]]
    found = re.search(r"\S+/stop/\S+/", str(to_anna.body))
    assert found, to_anna.body
    stop_link = found.group(0).replace(settings.SITE_URL, live_server.url)

    reader = chromium.new_context(locale="en-GB")
    page = reader.new_page()
    watch = page_watch(page)
    try:
        # Anna follows the stop link in her e-mail: no login, in Latvian, e-mail first.
        page.goto(stop_link)
        expect(page.locator("html")).to_have_attribute("lang", "lv")
        expect(page.locator("#stop-email")).to_have_class("primary")
        shoot(page, "stop-lv")
        anna.refresh_from_db()
        assert not anna.do_not_email  # looking changes nothing
        page.locator("#stop-email").click()
        expect(page.locator(".message.success")).to_be_visible()
        expect(page.locator("#stopped-email")).to_be_visible()
        expect(page.locator("#stop-sms")).to_be_visible()
        shoot(page, "stop-lv-done")
        anna.refresh_from_db()
        assert anna.do_not_email and not anna.do_not_sms and not anna.do_not_call
        event = TimelineEvent.objects.get(subscriber=anna, code="contact.stopped_by_subscriber")
        assert (event.source, event.data["do_not_contact"]) == ("subscriber", "email")

        # Ivan stops all contact from the offer's own page, in Russian.
        ivan_message = OutreachMessage.objects.get(subscriber__name="Ivan Petrov")
        page.goto(
            f"{live_server.url}{reverse('outreach_link', args=[message_token(ivan_message)])}"
        )
        expect(page.locator("html")).to_have_attribute("lang", "ru")
        shoot(page, "offer-link-ru")
        page.locator("#stop-all").click()
        expect(page.locator("#stop-all-done")).to_be_visible()
        ivan = Subscriber.objects.get(name="Ivan Petrov")
        assert ivan.do_not_email and ivan.do_not_sms and ivan.do_not_call
        assert CampaignHistory.objects.filter(campaign=campaign).count() == 2
    finally:
        reader.close()
    assert watch.problems() == []
