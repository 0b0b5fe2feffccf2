"""The tariff fit on the dashboard in Chromium: a manager reads how many subscribers are on a plan
that does not fit, what they overpay and what moving them would cost the provider, clicks a
verdict's count and sees its subscribers, each leading to their page; in English, Latvian and
Russian.

The fits, counted today (what each pays a month now, what the plan that fits would cost):

    subscriber      verdict  pays    would pay
    Light Liepa     light    29.99    8.40
    Light Ozola     light    24.99   12.00
    Heavy Kalns     heavy    45.10   29.99
    Shared SIA      shared   29.99   59.99
    Fits Berzins    fits     29.99   29.99

Four of five do not fit; they overpay 21.59 + 12.99 + 15.11 = 49.69 a month; moving the light
and heavy ones takes the provider 49.69 a month less; moving the shared account brings +30.00.

``SCREENSHOTS=dir`` keeps a screenshot of each page and of the tariff-fit section, to look at.
"""

import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from retention.dashboard import figures
from retention.dashboard.tariff_fit import fit_snapshot_take
from retention.system.services import demo_users_ensure
from subscribers.models import Plan, TariffFit
from tests.browser.login import log_in
from tests.factories import PlanFactory, SubscriberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ("en", "lv", "ru")
# What the reader's language writes: the tile's money and the list's heading.
WRITTEN = {
    "en": ("€49.69", "-€49.69", "+€30.00"),
    "lv": ("€49,69", "-€49,69", "+€30,00"),
    "ru": ("€49,69", "-€49,69", "+€30,00"),
}


def keep(page: Page, name: str, selector: str | None = None) -> None:
    folder = os.environ.get("SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    path = str(Path(folder) / f"{name}.png")
    if selector:
        page.locator(selector).screenshot(path=path)
    else:
        page.screenshot(path=path, full_page=True)


@pytest.fixture
def fits() -> dict[str, TariffFit]:
    today = figures.desk_today()
    flat = PlanFactory.create(name="Fibre 300", code="fibre-300")
    metered = PlanFactory.create(
        name="Stundas 30",
        code="hours-30",
        kind=Plan.Kind.METERED_TIME,
        included_hours=30,
        extra_hour_price=Decimal("0.50"),
    )
    business = PlanFactory.create(
        name="Birojs 10",
        code="office-10",
        kind=Plan.Kind.BUSINESS,
        included_seats=10,
        extra_seat_price=Decimal("3.00"),
    )
    rows = [
        ("Light Liepa", flat, "light", "29.99", metered, "8.40"),
        ("Light Ozola", flat, "light", "24.99", metered, "12.00"),
        ("Heavy Kalns", metered, "heavy", "45.10", flat, "29.99"),
        ("Shared SIA", flat, "shared", "29.99", business, "59.99"),
        ("Fits Berzins", flat, "fits", "29.99", flat, "29.99"),
    ]
    made = {}
    for name, own, verdict, pays, best, would in rows:
        subscriber = SubscriberFactory.create(name=name, plan=own, monthly_price=Decimal(pays))
        made[name] = TariffFit.objects.create(
            subscriber=subscriber,
            computed_on=today,
            months=12,
            current_cost=Decimal(pays),
            best_plan=best,
            best_cost=Decimal(would),
            saving=Decimal(pays) - Decimal(would),
            verdict=verdict,
        )
    fit_snapshot_take(today=today)
    return made


def _switch_language(page: Page, language: str) -> None:
    """As a person does: the language picker in the top bar."""
    picker = page.locator("#language-select")
    if picker.input_value() != language:
        with page.expect_navigation():
            picker.select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)


def test_manager_sees_the_tariff_fit_and_the_subscribers_behind_a_verdict(live_server, page, fits):
    demo_users_ensure()
    log_in(page, live_server, "Manager")
    for language in LANGUAGES:
        overpaid, loss, shared = WRITTEN[language]
        page.goto(f"{live_server.url}{reverse('dashboard')}")
        _switch_language(page, language)
        section = page.locator("#tariff-fit")
        section.scroll_into_view_if_needed()
        expect(page.locator("#tile-misfits .tile-value")).to_have_text("4")
        expect(page.locator("#tile-fit-overpayment .tile-value")).to_have_text(overpaid)
        expect(page.locator("#tile-fit-moves .tile-value")).to_have_text(loss)
        expect(page.locator("#tile-fit-shared .tile-value")).to_have_text(shared)
        expect(page.locator("#fit-honest")).to_contain_text(overpaid)
        keep(page, f"dashboard-tariff-fit-{language}", "#tariff-fit")

        # The light users' count leads to them, who would save most first.
        light = reverse("dashboard_tariff_fit", args=["light"])
        page.locator(f'#table-tariff-fit a[href="{light}"]').click()
        expect(page).to_have_url(f"{live_server.url}{light}")
        rows = page.locator("#fit-subscribers tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text("Light Liepa")
        expect(rows.first).to_contain_text("Stundas 30")
        expect(rows.nth(1)).to_contain_text("Light Ozola")
        keep(page, f"tariff-fit-light-{language}")

        # Each account leads to the subscriber's page.
        liepa = fits["Light Liepa"].subscriber
        account = rows.first.get_by_role("link", name=liepa.account_number)
        expect(account).to_have_attribute("href", reverse("subscribers:detail", args=[liepa.pk]))
        page.locator('.pagehead a[href$="#h-tariff-fit"]').click()
        expect(page.locator("#tariff-fit")).to_be_visible()


def test_an_agent_is_refused_the_subscribers_behind_a_verdict(live_server, page, fits):
    from tests.browser.watch import expect_status

    demo_users_ensure()
    log_in(page, live_server, "Agent")
    expect_status(page, 403)
    response = page.goto(f"{live_server.url}{reverse('dashboard_tariff_fit', args=['light'])}")
    assert response is not None and response.status == 403
