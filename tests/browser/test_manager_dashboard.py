"""The dashboard's controls in Chromium, beyond what test_dashboard_flow reads: the Period
control names the period the figures cover from the first load, the period and grain change
the figures, the breakdown and the reason and channel filters narrow them, and the cases behind
a tile come as a list and as a CSV file.

The live server's clock cannot be frozen, so the desk is built relative to today (desk time):

    #  channel  reason   closed            outcome
    1  phone    price    today - 2 days    cancelled
    2  phone    price    today - 3 days    saved
    3  web      quality  today - 4 days    cancelled
    4  phone    quality  today - 10 days   saved
    5  web      price    today - 12 days   cancelled
    6  web      price    today - 60 days   saved

Last 7 days: 1 saved of 3. Last 30 days: 2 of 5. Last 90 days: 3 of 6; by channel, phone 2 of
3 and web 1 of 3; for the price reason, 2 of 4 (#2 and #6 saved).
"""

import csv
import re
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from offers.models import OfferKind
from retention.dashboard import figures
from retention.models import CancellationCase, CancellationReason, User
from retention.system.services import demo_users_ensure
from tests.browser.login import log_in
from tests.factories import SubscriberFactory
from tests.retention.conftest import closed_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Status = CancellationCase.Status
Channel = CancellationCase.Channel


def build_desk() -> dict[int, CancellationCase]:
    today = figures.desk_today()
    agent = User.objects.get(username="agent")
    reasons = {
        code: CancellationReason.objects.get_or_create(
            code=code, defaults={"category": code, "name_en": code.title()}
        )[0]
        for code in ("price", "quality")
    }
    rows = [
        (Channel.PHONE, "price", 2, Status.CANCELLED),
        (Channel.PHONE, "price", 3, Status.SAVED),
        (Channel.WEB, "quality", 4, Status.CANCELLED),
        (Channel.PHONE, "quality", 10, Status.SAVED),
        (Channel.WEB, "price", 12, Status.CANCELLED),
        (Channel.WEB, "price", 60, Status.SAVED),
    ]
    desk = {}
    for number, (channel, reason, days_ago, status) in enumerate(rows, start=1):
        closed = datetime.combine(
            today - timedelta(days=days_ago), time(12), tzinfo=figures.desk_zone()
        )
        saved = status == Status.SAVED
        desk[number] = closed_case(
            subscriber=SubscriberFactory.create(name=f"Subscriber {number}"),
            owner=agent,
            channel=channel,
            reason=reasons[reason],
            opened=closed - timedelta(hours=4),
            contacted=closed - timedelta(hours=3),
            closed=closed,
            status=status,
            offer=(OfferKind.PERCENT_DISCOUNT, "60", "20.99", None) if saved else None,
        )
    figures.figures_refresh_range(first=today - timedelta(days=60), last=today)
    return desk


def save_rate(page: Page, text: str) -> None:
    expect(page.locator("#tile-save-rate .tile-sub")).to_have_text(text)


def test_manager_changes_the_period_grain_breakdown_and_filters_then_exports_the_cases(
    live_server, page
):
    demo_users_ensure()
    desk = build_desk()

    log_in(page, live_server, "Manager")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    filters = page.locator("#dashboard-filters")
    period = filters.get_by_label("Period", exact=True)

    # 1. The first load: the control names the 30 days the figures cover.
    expect(period.locator("option:checked")).to_have_text("Last 30 days")
    save_rate(page, "2 saved of 5 closed")
    expect(page.locator("#table-periods tbody tr")).to_have_count(30)
    expect(filters.get_by_label("By", exact=True).locator("option:checked")).to_have_text(
        "Automatic"
    )

    # 2. The period: the last 7 days, then 90 (by week, as the grain is automatic).
    page.evaluate("window.notReloaded = true")
    period.select_option(label="Last 7 days")
    save_rate(page, "1 saved of 3 closed")
    expect(page.locator("#table-periods tbody tr")).to_have_count(7)
    period.select_option(label="Last 90 days")
    save_rate(page, "3 saved of 6 closed")
    expect(page.locator("#table-periods thead th").first).to_have_text("Week")
    expect(page).to_have_url(re.compile(r"[?&]period=90d(&|$)"))

    # 3. The grain: by month.
    filters.get_by_label("By", exact=True).select_option(label="Month")
    expect(page.locator("#table-periods thead th").first).to_have_text("Month")
    expect(page).to_have_url(re.compile(r"[?&]grain=month(&|$)"))

    # 4. The breakdown by channel: phone 2 of 3, web 1 of 3.
    filters.get_by_label("Break down by", exact=True).select_option(label="Channel")
    expect(page.locator("#table-breakdown thead th").first).to_have_text("Channel")
    breakdown = page.locator("#table-breakdown tbody tr")
    expect(breakdown.filter(has_text="Phone").locator("td").nth(0)).to_have_text("3")
    expect(breakdown.filter(has_text="Phone").locator("td").nth(1)).to_have_text("2")
    expect(breakdown.filter(has_text="Web").locator("td").nth(1)).to_have_text("1")

    # 5. Filters: the web channel, then only the price reason instead.
    filters.get_by_label("Channel", exact=True).select_option(label="Web")
    save_rate(page, "1 saved of 3 closed")
    filters.get_by_label("Channel", exact=True).select_option(label="All channels")
    filters.get_by_label("Reason", exact=True).select_option(label="Price")
    save_rate(page, "2 saved of 4 closed")
    expect(page.locator("#tile-save-rate .tile-value")).to_have_text("50.0 %")
    assert page.evaluate("window.notReloaded") is True
    # A reload keeps every choice, and the controls say so.
    page.reload()
    save_rate(page, "2 saved of 4 closed")
    expect(period.locator("option:checked")).to_have_text("Last 90 days")
    expect(filters.get_by_label("Reason", exact=True).locator("option:checked")).to_have_text(
        "Price"
    )

    # 6. The saved cases behind the tile: #2 and #6, with the filters in words.
    page.locator("#tile-save-rate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Saved")
    expect(page.locator(".pagehead .badge.filter")).to_have_text(["Reason: Price"])
    links = page.locator("#drill-cases tbody th a")
    expect(links).to_have_count(2)
    saved = {f"#{desk[2].pk}", f"#{desk[6].pk}"}
    assert set(links.all_text_contents()) == saved

    # 7. The same list as a CSV file.
    with page.expect_download() as download:
        page.locator("#cases-csv").click()
    assert download.value.suggested_filename.startswith("cases-saved-")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    header, *rows = list(csv.reader(text.splitlines()))
    assert header[:3] == ["Case", "Closed on", "Outcome"]
    assert {f"#{row[0]}" for row in rows} == saved
    column = {name: header.index(name) for name in ("Outcome", "Reason", "Channel")}
    assert {(r[column["Outcome"]], r[column["Reason"]]) for r in rows} == {("Saved", "Price")}
    assert sorted(r[column["Channel"]] for r in rows) == ["Phone", "Web"]

    # 8. Back to the dashboard, as it was left.
    page.get_by_role("link", name="← Dashboard").click()
    save_rate(page, "2 saved of 4 closed")
    expect(period.locator("option:checked")).to_have_text("Last 90 days")


def test_manager_sorts_the_breakdown_by_a_heading_from_the_keyboard(live_server, page):
    """Over 90 days by channel: phone saved 2 of 3, web 1 of 3. Sorting by save rate puts web
    first, then, asked again, phone; the filters stay, and the chart keeps its order."""
    demo_users_ensure()
    build_desk()
    log_in(page, live_server, "Manager")
    page.goto(f"{live_server.url}/dashboard/?period=90d&by=channel")
    rows = page.locator("#table-breakdown tbody tr th")
    expect(rows).to_have_text(["Phone", "Web"])
    heading = page.locator("#table-breakdown thead th").filter(has_text="Save rate")
    expect(heading).not_to_have_attribute("aria-sort", re.compile("."))

    heading.get_by_role("link").focus()
    page.keyboard.press("Enter")
    expect(rows).to_have_text(["Web", "Phone"])
    expect(heading).to_have_attribute("aria-sort", "ascending")
    expect(page).to_have_url(re.compile(r"breakdown-sort=save_rate"))
    expect(page.locator("#dashboard-filters").get_by_label("Period", exact=True)).to_have_value(
        "90d"
    )
    # The table is where the browser comes back to, in view.
    expect(page.locator("#table-breakdown")).to_be_in_viewport()

    heading.get_by_role("link").click()
    expect(rows).to_have_text(["Phone", "Web"])
    expect(heading).to_have_attribute("aria-sort", "descending")
    # The other tables keep their own order.
    expect(page.locator("#table-periods thead th[aria-sort]")).to_have_count(0)
