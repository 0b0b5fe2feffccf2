"""The annual best tariff notice in Chromium: each subscriber's link opens, in their language,
the plan that fits them and what it saves; "switch" moves them to it and the page says it is
done. A manager sees the standing notice of the year among the campaigns, and sets the "would
save at least" criterion on a campaign of their own.

``SCREENSHOTS=dir`` keeps a full-page screenshot of each page, to look at what the test saw.
"""

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from offers.models import OfferKind
from retention.models import OutreachCampaign, OutreachMessage
from retention.outreach.links import message_token
from retention.outreach.notice import notices_nightly
from retention.outreach.sending import outreach_send
from retention.system.services import demo_users_ensure
from subscribers.models import Subscriber, TariffFit
from tests.browser.login import log_in
from tests.factories import PlanFactory, SubscriberFactory, authority_tier, offer_template
from tests.zones import zone_where_it_is

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

D = Decimal
NAMES = {"en": "John Smith", "lv": "Anna Ozola", "ru": "Ivan Petrov"}


def keep(page: Page, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@pytest.fixture
def notices(monkeypatch) -> dict[str, OutreachMessage]:
    """This year's notice, sent to John (English), Anna (Latvian) and Ivan (Russian), light
    users who pay €29.99 on Fibre big; Fibre small would cost them €15.50 with their usage."""
    demo_users_ensure()
    authority_tier("Manager", 20, "25", "300", "500")
    offer_template("plan-that-fits", OfferKind.PLAN_CHANGE, to_fitting_plan=True)
    monkeypatch.setattr("retention.core.broker.enqueue", lambda task, *args: None)
    big = PlanFactory.create(code="big", name="Fibre big", new_customer_price=D("24.99"))
    small = PlanFactory.create(
        code="small", name="Fibre small", download_mbps=100, new_customer_price=D("14.99")
    )
    today = timezone.localdate()
    zone = zone_where_it_is(12)
    for language, name in NAMES.items():
        subscriber = SubscriberFactory.create(
            name=name,
            language=language,
            time_zone=zone,
            plan=big,
            monthly_price=D("29.99"),
            signup_date=date(today.year - 3, 1, 1),
            do_not_sms=True,
        )
        TariffFit.objects.create(
            subscriber=subscriber,
            computed_on=today,
            months=6,
            current_cost=D("29.99"),
            best_plan=small,
            best_cost=D("15.50"),
            saving=D("14.49"),
            verdict=TariffFit.Verdict.LIGHT,
        )
    assert notices_nightly(today=today) == 3
    campaign = OutreachCampaign.objects.get(purpose="best_tariff", year=today.year)
    assert outreach_send(campaign_id=campaign.pk).sent == 3
    return {
        m.subscriber.language: m
        for m in OutreachMessage.objects.filter(campaign=campaign).select_related("subscriber")
    }


@pytest.mark.parametrize("language", ["en", "lv", "ru"])
def test_a_subscriber_sees_their_best_tariff_and_switches_to_it(
    live_server, page, notices, language
):
    message = notices[language]
    page.goto(f"{live_server.url}{reverse('outreach_link', args=[message_token(message)])}")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("nav")).to_have_count(0)  # not the desk: no login, no menu
    expect(page.locator("#plan-now")).to_have_text("Fibre big")
    expect(page.locator("#plan-best")).to_have_text("Fibre small")
    expect(page.locator("#saving")).to_contain_text("14,49" if language != "en" else "14.49")
    keep(page, f"notice-{language}")

    page.locator("#switch").click()

    expect(page.locator("#switched")).to_contain_text("Fibre small")
    expect(page.locator("#switch")).to_have_count(0)
    expect(page.locator("#plan-now")).to_have_text("Fibre small")
    keep(page, f"notice-{language}-switched")
    subscriber = Subscriber.objects.select_related("plan").get(pk=message.subscriber_id)
    assert (subscriber.plan.code, subscriber.monthly_price) == ("small", D("14.99"))


@pytest.mark.parametrize("language", ["en", "lv", "ru"])
def test_a_manager_sees_the_annual_notice_and_the_saving_criterion(
    live_server, page, notices, language
):
    log_in(page, live_server, "Manager")
    page.goto(f"{live_server.url}{reverse('preferences')}")
    picker = page.locator("#language-select")
    if picker.input_value() != language:
        with page.expect_navigation():
            picker.select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)
    year = timezone.localdate().year
    campaign = OutreachCampaign.objects.get(purpose="best_tariff", year=year)
    page.goto(f"{live_server.url}{reverse('campaigns')}")
    row = page.locator(f"#campaign-{campaign.pk}")
    expect(row).to_contain_text(str(year))
    expect(row.locator(".badge.notice")).to_be_visible()
    keep(page, f"campaigns-{language}")

    row.get_by_role("link").first.click()
    expect(page.locator("#notice-about")).to_be_visible()
    expect(page.locator("#progress-sent")).to_have_text("3")
    keep(page, f"notice-campaign-{language}")

    page.goto(f"{live_server.url}{reverse('campaign_create')}")
    saving = page.locator("#criterion-saving input")
    expect(saving).to_be_visible()
    keep(page, f"campaign-form-{language}")
    page.locator("#id_name").fill("Savers")
    page.locator("#id_template").select_option(index=1)
    saving.fill("7.50")
    for body in ("#id_body_lv", "#id_body_ru", "#id_body_en"):
        page.locator(body).fill("{name}: {link}")
    page.locator("#campaign-form button[type=submit]").click()
    amount = "€7.50" if language == "en" else "€7,50"
    expect(page.locator("#criterion-saving")).to_contain_text(amount)
    keep(page, f"campaign-draft-{language}")
