"""The system administrator's pages in Chromium: from the desk to the admin, then the change
list, the change form, a save that works and one that is refused with an error a person can
act on, for subscribers, plans, the offer catalogue, authority tiers, the contact policy and a
member of staff's mobile number (the last in Latvian, with the date fields' shortcuts)."""

import re
from datetime import time
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Locator, Page, expect

from offers.models import AuthorityTier, OfferKind, OfferTemplate
from retention.models import User
from retention.system.services import demo_users_ensure
from subscribers.models import ContactHours, ContactPolicy, Plan, Subscriber
from tests.browser.login import log_in
from tests.factories import PlanFactory, SubscriberFactory, authority_tier, offer_template

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin_page(live_server, page: Page) -> Page:
    """The admin, reached as a person does: log in at the desk, follow "Administration"."""
    demo_users_ensure()
    log_in(page, live_server, "Admin")
    page.get_by_role("link", name="Administration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Site administration")
    return page


def open_model(page: Page, model: str) -> None:
    """From the admin's index, the model's row (e.g. "subscriber") to its change list."""
    page.locator(f"tr.model-{model} th a").click()


def field(page: Page, name: str) -> Locator:
    """A field of the change form by its name: the admin labels inline rows per column only."""
    return page.locator(f"#content-main [name='{name}']")


def saved(page: Page) -> Locator:
    return page.locator("ul.messagelist li.success")


def test_admin_changes_a_subscribers_contact_rules_and_cannot_set_a_negative_price(
    admin_page,
):
    page = admin_page
    subscriber = SubscriberFactory.create(
        name="Anna Bērziņa", account_number="7700123", monthly_price=Decimal("29.99")
    )
    SubscriberFactory.create_batch(2)

    open_model(page, "subscriber")
    expect(page.get_by_role("heading", level=1)).to_have_text("Select subscriber to change")
    page.get_by_role("textbox", name="Search").fill("7700123")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.locator("#result_list").get_by_role("link", name="7700123").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change subscriber")

    # A save that works: the phone and do-not-call.
    field(page, "phone").fill("+37120000001")
    field(page, "do_not_call").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(saved(page)).to_contain_text("was changed successfully")
    subscriber.refresh_from_db()
    assert (subscriber.phone, subscriber.do_not_call) == ("+37120000001", True)

    # A refused one: a price below zero is named on its field, and nothing changes.
    page.locator("#result_list").get_by_role("link", name="7700123").click()
    field(page, "monthly_price").fill("-5")
    field(page, "phone").fill("+37129999999")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator(".form-row.field-monthly_price .errorlist")).to_have_text(
        "Ensure this value is greater than or equal to 0."
    )
    expect(page.locator("#content-main")).not_to_contain_text("Constraint")
    subscriber.refresh_from_db()
    assert (subscriber.monthly_price, subscriber.phone) == (Decimal("29.99"), "+37120000001")


def test_admin_changes_a_plans_price_and_cannot_set_a_negative_one(admin_page):
    page = admin_page
    plan = PlanFactory.create(name="Fibre 300", code="fibre-300")
    PlanFactory.create(name="Fibre 100", code="fibre-100")

    open_model(page, "plan")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    rows.filter(has_text="fibre-300").get_by_role("link", name="Fibre 300").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change plan")

    field(page, "new_customer_price").fill("17.99")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(saved(page)).to_contain_text("was changed successfully")
    expect(page.locator("#result_list tbody tr").filter(has_text="fibre-300")).to_contain_text(
        "17.99"
    )
    plan.refresh_from_db()
    assert plan.new_customer_price == Decimal("17.99")

    page.locator("#result_list").get_by_role("link", name="Fibre 300").click()
    field(page, "list_price").fill("-1")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".form-row.field-list_price .errorlist")).to_have_text(
        "Ensure this value is greater than or equal to 0."
    )
    expect(page.locator("#content-main")).not_to_contain_text("Constraint")
    plan.refresh_from_db()
    assert plan.list_price == Decimal("29.99")


def test_admin_edits_an_offer_in_the_catalogue_and_is_told_why_a_percentage_is_wrong(
    admin_page,
):
    page = admin_page
    offer = offer_template(
        "discount-30-12",
        OfferKind.PERCENT_DISCOUNT,
        percent=Decimal("30"),
        months=12,
        name_en="30% off for 12 months",
    )
    offer_template("outage-credit", OfferKind.ONE_TIME_CREDIT, amount=Decimal("15"))

    open_model(page, "offertemplate")
    expect(page.get_by_role("heading", level=1)).to_have_text("Select offer template to change")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    page.locator("#result_list").get_by_role("link", name="discount-30-12").click()

    field(page, "name_en").fill("30% off for 6 months")
    field(page, "months").fill("6")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(saved(page)).to_contain_text("was changed successfully")
    offer.refresh_from_db()
    assert (offer.months, offer.name_en) == (6, "30% off for 6 months")

    page.locator("#result_list").get_by_role("link", name="discount-30-12").click()
    field(page, "percent").fill("150")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".errornote + .errorlist, ul.errorlist.nonfield")).to_contain_text(
        "A percentage discount needs a percentage above 0 and up to 100."
    )
    offer.refresh_from_db()
    assert offer.percent == Decimal("30.00")
    assert OfferTemplate.objects.count() == 2


def test_admin_raises_a_tier_and_cannot_make_a_limit_negative(admin_page):
    page = admin_page
    authority_tier("Agent", 10, "10", "60", "120")
    manager = authority_tier("Manager", 20, "25", "300", "500")

    open_model(page, "authoritytier")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    page.locator("#result_list").get_by_role("link", name="Manager").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change authority tier")

    field(page, "max_total").fill("350")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(saved(page)).to_contain_text("was changed successfully")
    manager.refresh_from_db()
    assert manager.max_total == Decimal("350.00")

    page.locator("#result_list").get_by_role("link", name="Manager").click()
    field(page, "max_monthly").fill("-5")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".form-row.field-max_monthly .errorlist")).to_have_text(
        "A limit cannot be negative."
    )
    manager.refresh_from_db()
    assert manager.max_monthly == Decimal("25.00")
    assert AuthorityTier.objects.count() == 2


def test_admin_tightens_the_contact_policy_and_cannot_end_the_calling_hours_before_they_start(
    admin_page,
):
    page = admin_page
    policy = ContactPolicy.objects.create(max_outbound=2, period_days=7)
    for channel in ("phone", "email", "sms"):
        ContactHours.objects.create(policy=policy, channel=channel)

    open_model(page, "contactpolicy")
    page.locator("#result_list").get_by_role(
        "link", name="at most 2 outbound contacts in 7 days"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change contact policy")

    # A save that works: one contact a week, and calls on weekdays until 19:00 only.
    field(page, "max_outbound").fill("1")
    phone = page.locator("tr.form-row").filter(has=page.locator("option[value=phone]:checked"))
    phone.locator("input[name$='-weekday_end']").fill("19:00")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(saved(page)).to_contain_text("was changed successfully")
    policy.refresh_from_db()
    assert (policy.max_outbound, policy.period_days) == (1, 7)
    assert ContactHours.objects.get(channel="phone").weekday_end == time(19)

    # Refused: a window that ends before it starts, and a period of no days.
    page.locator("#result_list").get_by_role(
        "link", name="at most 1 outbound contacts in 7 days"
    ).click()
    field(page, "period_days").fill("0")
    phone = page.locator("tr.form-row").filter(has=page.locator("option[value=phone]:checked"))
    phone.locator("input[name$='-weekend_end']").fill("08:00")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator(".form-row.field-period_days .errorlist")).to_have_text(
        "Ensure this value is greater than or equal to 1."
    )
    expect(page.locator("#content-main")).to_contain_text(
        "Weekend hours must end after they start."
    )
    expect(page.locator("#content-main")).not_to_contain_text("Constraint")
    policy.refresh_from_db()
    assert policy.period_days == 7
    assert ContactHours.objects.get(channel="phone").weekend_end == time(18)
    assert Subscriber.objects.count() == 0 and Plan.objects.count() == 0


def test_a_latvian_admin_gives_a_manager_a_mobile_number_and_hears_the_date_shortcuts_in_latvian(
    admin_page, live_server, monkeypatch
):
    # The date shortcuts' names come from the desk's catalogue (retention.admin_site); until
    # locale/lv translates them, a stand-in says in which language they were asked for.
    monkeypatch.setattr(
        "retention.admin_site.gettext", lambda msgid: f"[{translation.get_language()}] {msgid}"
    )
    page = admin_page
    page.get_by_role("link", name="View site").click()
    page.locator("#language-select").select_option("lv")
    expect(page.locator("html")).to_have_attribute("lang", "lv")
    manager = User.objects.get(username="manager")
    page.goto(f"{live_server.url}{reverse('admin:retention_user_change', args=[manager.pk])}")
    expect(page.locator("html")).to_have_attribute("lang", "lv")
    today = page.locator(".field-date_joined .datetimeshortcuts a").first
    expect(today).to_have_text("Šodien")
    expect(today).to_have_attribute("aria-label", re.compile(r"^\[lv\] Today \(.+\)$"))

    # As people write it, kept as an SMS provider takes it.
    field(page, "phone").fill("+371 2000-0000")
    page.locator("input[name='_continue']").click()
    expect(page.locator("ul.messagelist li.success")).to_be_visible()
    manager.refresh_from_db()
    assert manager.phone == "+37120000000"
    expect(field(page, "phone")).to_have_value("+37120000000")

    # Without its country code it is refused, on its field, and nothing changes.
    field(page, "phone").fill("20000000")
    page.locator("input[name='_continue']").click()
    with translation.override("lv"):
        refusal = translation.gettext("Enter the number in international form, e.g. +37120000000.")
    expect(page.locator(".form-row.field-phone .errorlist")).to_have_text(refusal)
    manager.refresh_from_db()
    assert manager.phone == "+37120000000"
