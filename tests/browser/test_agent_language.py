"""An agent switches the desk to Latvian and to Russian, in Chromium: the page they are on turns,
and so does every page after it. test_subscriber_flow covers the subscriber page in Latvian."""

import pytest
from playwright.sync_api import expect

from retention.cases.services import case_claim
from retention.system.services import demo_users_ensure
from tests.browser.login import log_in
from tests.factories import CaseFactory, SubscriberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_switches_the_queue_and_the_case_page_to_latvian_then_russian(live_server, page):
    agent = demo_users_ensure()[0]
    case = case_claim(
        case=CaseFactory.create(subscriber=SubscriberFactory.create(name="Valdis Siliņš")),
        actor=agent,
    )
    heading = page.get_by_role("heading", level=1)

    log_in(page, live_server, "Agent")
    expect(heading).to_have_text("Cancellation queue")
    page.get_by_label("Language").select_option("lv")

    expect(page.locator("html")).to_have_attribute("lang", "lv")
    expect(heading).to_have_text("Atteikumu rinda")
    expect(page).to_have_url(f"{live_server.url}/queue/")
    expect(page.get_by_role("button", name="Paņemt nākamo")).to_be_visible()

    # The next page is Latvian too.
    page.get_by_role("link", name="Valdis Siliņš").click()
    expect(page.locator("#case-status")).to_have_text("Apstrādē")
    expect(page.locator("#log-contact-h")).to_contain_text("Reģistrēt kontaktu")
    expect(page.locator("#conversation-h")).to_contain_text("Saziņa")

    # The switcher names each language in itself; the agent stays on the case.
    page.get_by_label("Valoda").select_option(label="Русский")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page).to_have_url(f"{live_server.url}/cases/{case.pk}/")
    expect(page.locator("#case-status")).to_have_text("В работе")
    expect(page.locator("#log-contact-h")).to_contain_text("Записать контакт")
    page.get_by_role("navigation").get_by_role("link", name="Мои обращения").click()
    expect(heading).to_have_text("Мои обращения")

    page.get_by_label("Язык").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(heading).to_have_text("My cases")
