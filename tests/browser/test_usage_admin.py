"""The administrator loads usage months from a CSV on the Usage page and sees a bad row by its
line; then fixes a plan's pricing on the plan page. ``SCREENSHOTS=dir`` keeps what it saw, in
English, Latvian and Russian."""

import os
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Page, expect

from retention.system.services import demo_users_ensure
from subscribers.models import Usage
from tests.browser.login import log_in
from tests.factories import PlanFactory, SubscriberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = (
    "account_number,period,gb_down,gb_up,hours_online,peak_devices\n"
    "A-1,2026-02,120.5,12,310.5,4\n"
    "A-1,2026-03,=1+2,12,310.5,4\n"
)


def _shot(page: Page, name: str) -> None:
    if folder := os.environ.get("SCREENSHOTS"):
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def _switch_language(page: Page, language: str) -> None:
    picker = page.locator("#language-select")
    if picker.input_value() != language:
        with page.expect_navigation():
            picker.select_option(language)


@pytest.mark.parametrize("language", ["en", "lv", "ru"])
def test_admin_imports_usage_and_sees_the_bad_row(live_server, page: Page, tmp_path, language):
    demo_users_ensure()
    SubscriberFactory.create(account_number="A-1")
    PlanFactory.create(name="Optika 300")
    log_in(page, live_server, "Admin")
    _switch_language(page, language)
    file = tmp_path / "usage.csv"
    file.write_text(CSV, encoding="utf-8")

    with time_machine.travel("2026-04-15 10:00:00+03:00", tick=True):
        page.goto(f"{live_server.url}/admin/subscribers/usage/import/")
        page.locator("input[type=file]").set_input_files(str(file))
        page.locator("#subscriber-import-form input[type=submit]").click()
        expect(page.locator("#import-errors tbody tr")).to_have_count(1)
        expect(page.locator("#import-errors tbody td").first).to_have_text("3")
        assert not Usage.objects.exists()
        _shot(page, f"usage-import-{language}")

        page.locator("input[name=skip_invalid]").check()
        page.locator("input[type=file]").set_input_files(str(file))
        page.locator("#subscriber-import-form input[type=submit]").click()
        expect(page.locator("ul.messagelist li.warning")).to_be_visible()
        assert Usage.objects.count() == 1

        page.goto(f"{live_server.url}/admin/subscribers/usage/")
        expect(page.locator("#result_list tbody tr")).to_have_count(1)
        _shot(page, f"usage-list-{language}")

    page.goto(f"{live_server.url}/admin/subscribers/plan/add/")
    page.locator("[name=code]").fill("time-10")
    page.locator("[name=name]").fill("Time 10")
    page.locator("[name=kind]").select_option("metered_time")
    page.locator("[name=download_mbps]").fill("100")
    page.locator("[name=upload_mbps]").fill("20")
    page.locator("[name=list_price]").fill("9")
    page.locator("[name=new_customer_price]").fill("8")
    page.locator("[name=included_gb]").fill("50")
    page.locator("[name=_save]").click()
    expect(page.locator(".field-included_hours .errorlist")).to_be_visible()
    expect(page.locator(".field-included_gb .errorlist")).to_be_visible()
    _shot(page, f"plan-pricing-{language}")
