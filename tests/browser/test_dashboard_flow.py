"""The dashboard in Chromium: a manager reads the last 30 days, widens the period to a year by
month, narrows it to a team, drills into the cases behind a tile and exports a table; an agent
sees their own figures against their team's, without the team's money.

The live server's clock cannot be frozen, so the desk is built relative to today (desk time,
Europe/Riga). Nine cases, closed at noon on these days:

    #  agent   team  closed               outcome                 offer accepted
    1  agent   A     today - 3 days       saved                   discount €60, €20.99
    2  agent   A     today - 3 days       cancelled
    3  bob     A     today - 5 days       cancelled, at deadline
    4  nobody  -     today - 5 days       cancelled, at deadline
    5  cid     B     today - 10 days      saved                   plan change €60, €24.99
    6  cid     B     15th, 3 months ago   saved                   discount €30, €15.00
    7  agent   A     15th, 3 months ago   cancelled
    8  bob     A     15th, 5 months ago   saved                   discount €40, €19.99
    9  bob     A     15th, 3 months ago   cancelled, at deadline

Last 30 days: 2 saved of 5 (40.0 %). Last 12 months: 4 of 9 (44.4 %); team A: 2 of 6
(33.3 %), of which #3 and #9 were processed at the deadline. The agent, last 30 days: 1 of 2
(50.0 %) against team A's 1 of 3 (33.3 %).
"""

import csv
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.formats import date_format
from playwright.sync_api import Page, expect

from offers.models import OfferKind
from retention.core.roles import Role
from retention.dashboard import figures
from retention.models import CancellationCase, CancellationReason, Team, User
from retention.system.services import demo_users_ensure
from tests.browser.login import log_in
from tests.factories import SubscriberFactory, user_with_role
from tests.retention.conftest import closed_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Status = CancellationCase.Status
ALL_CHARTS_DRAWN = (
    "() => [...document.querySelectorAll('canvas[data-chart]')]"
    ".every(c => window.Chart && Chart.getChart(c))"
)


@dataclass(frozen=True)
class Closed:
    case: CancellationCase
    day: date
    team: str
    saved: bool
    auto: bool


def fifteenth(today: date, months_ago: int) -> date:
    first = today.replace(day=1)
    for _ in range(months_ago):
        first = (first - timedelta(days=1)).replace(day=1)
    return first.replace(day=15)


def build_desk(today: date) -> list[Closed]:
    """The nine cases of the module docstring, with the figures computed as the beat would."""
    team_a, team_b = Team.objects.create(name="A"), Team.objects.create(name="B")
    agent = User.objects.get(username="agent")
    agent.team = team_a
    agent.save(update_fields=["team"])
    bob = user_with_role(Role.AGENT, username="bob", team=team_a)
    cid = user_with_role(Role.AGENT, username="cid", team=team_b)
    price = CancellationReason.objects.get_or_create(
        code="price", defaults={"category": "price", "name_en": "Price"}
    )[0]
    discount, plan_change = OfferKind.PERCENT_DISCOUNT, OfferKind.PLAN_CHANGE
    in_a_year = today + timedelta(days=365)
    rows = [
        (agent, today - timedelta(days=3), Status.SAVED, False, (discount, "60", "20.99")),
        (agent, today - timedelta(days=3), Status.CANCELLED, False, None),
        (bob, today - timedelta(days=5), Status.CANCELLED, True, None),
        (None, today - timedelta(days=5), Status.CANCELLED, True, None),
        (cid, today - timedelta(days=10), Status.SAVED, False, (plan_change, "60", "24.99")),
        (cid, fifteenth(today, 3), Status.SAVED, False, (discount, "30", "15.00")),
        (agent, fifteenth(today, 3), Status.CANCELLED, False, None),
        (bob, fifteenth(today, 5), Status.SAVED, False, (discount, "40", "19.99")),
        (bob, fifteenth(today, 3), Status.CANCELLED, True, None),
    ]
    desk = []
    for owner, day, status, auto, offer in rows:
        closed = datetime.combine(day, time(12), tzinfo=figures.desk_zone())
        opened = closed - timedelta(hours=4)
        case = closed_case(
            subscriber=SubscriberFactory.create(),
            owner=owner,
            channel=CancellationCase.Channel.PHONE,
            reason=price,
            opened=opened,
            contacted=None if auto else opened + timedelta(minutes=10),
            closed=closed,
            status=status,
            auto=auto,
            offer=(*offer, None if offer[0] == plan_change else in_a_year) if offer else None,
        )
        team = owner.team.name if owner and owner.team else ""
        desk.append(Closed(case, day, team, status == Status.SAVED, auto))
    figures.figures_refresh_range(first=min(c.day for c in desk), last=today)
    figures.loyalty_snapshot_take()
    return desk


def expected_periods(desk: list[Closed], grain: str) -> dict[str, tuple[str, str]]:
    """The label of every day or month with cases, and its (closed, saved), as the table says."""
    closed: Counter[date] = Counter()
    saved: Counter[date] = Counter()
    for c in desk:
        start = c.day.replace(day=1) if grain == "month" else c.day
        closed[start] += 1
        saved[start] += c.saved
    fmt = "YEAR_MONTH_FORMAT" if grain == "month" else "SHORT_DATE_FORMAT"
    with translation.override("en"):
        return {date_format(d, fmt): (str(closed[d]), str(saved[d])) for d in closed}


def expected_month(day: date) -> str:
    with translation.override("en"):
        return date_format(day, "YEAR_MONTH_FORMAT")


def table_rows(page: Page, table: str) -> list[list[str]]:
    return page.locator(f"#{table} tbody tr").evaluate_all(
        "rows => rows.map(r => [...r.cells].map(c => c.textContent.trim()))"
    )


def table_head(page: Page, table: str) -> list[str]:
    return [t.strip() for t in page.locator(f"#{table} thead th").all_text_contents()]


def busy_periods(page: Page) -> dict[str, tuple[str, str]]:
    """The periods table's rows with closed cases: label -> (closed, saved)."""
    head = table_head(page, "table-periods")
    closed, saved = head.index("Closed"), head.index("Saved")
    return {
        row[0]: (row[closed], row[saved])
        for row in table_rows(page, "table-periods")
        if row[closed] != "0"
    }


def charts_drawn_from_the_table(page: Page) -> None:
    """Every canvas has its chart (a swapped-in canvas has none until it is redrawn), and the
    saves chart's labels are the periods table's rows."""
    page.wait_for_function(ALL_CHARTS_DRAWN)
    labels = page.evaluate(
        "() => Chart.getChart(document.querySelector("
        "'canvas[data-chart=\"chart-saves-data\"]')).data.labels"
    )
    assert labels == [row[0] for row in table_rows(page, "table-periods")]


def as_shown(value: str, header: str) -> str:
    """A CSV cell as the table writes it: "33.3" under "(%)" is "33.3 %", empty is "—"."""
    if header.endswith("(%)"):
        return f"{value} %" if value else "—"
    if header.endswith("(EUR)"):
        return f"€{value}" if value else "—"
    return value


def test_manager_reads_narrows_drills_into_and_exports_the_dashboard(live_server, page):
    demo_users_ensure()
    today = figures.desk_today()
    desk = build_desk(today)
    team_a_auto = {f"#{c.case.pk}" for c in desk if c.team == "A" and c.auto}
    assert len(team_a_auto) == 2

    # 1. The manager opens the dashboard from the main navigation.
    log_in(page, live_server, "Manager")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Is retention working, and is it fair?"
    )

    # 2. The last 30 days, by day: 2 saved of 5, every chart drawn, the busy days in the table.
    expect(page.locator("#tile-save-rate .tile-value")).to_have_text("40.0 %")
    expect(page.locator("#tile-save-rate .tile-sub")).to_have_text("2 saved of 5 closed")
    expect(page.locator("#tile-auto .tile-value")).to_have_text("2")
    assert page.locator("canvas[data-chart]").count() == 8
    expect(page.locator("#table-periods tbody tr")).to_have_count(30)
    recent = [c for c in desk if c.day > today - timedelta(days=30)]
    assert busy_periods(page) == expected_periods(recent, "day")
    charts_drawn_from_the_table(page)

    # 3. Last 12 months, by month: only the figures are swapped, and the address follows.
    page.evaluate("window.deskNotReloaded = true")
    filters = page.locator("#dashboard-filters")
    filters.get_by_label("Period", exact=True).select_option(label="Last 12 months")
    expect(page.locator("#tile-save-rate .tile-value")).to_have_text("44.4 %")
    expect(page).to_have_url(re.compile(r"[?&]period=12m(&|$)"))
    filters.get_by_label("By", exact=True).select_option(label="Month")
    expect(page.locator("#table-periods thead th").first).to_have_text("Month")
    expect(page).to_have_url(re.compile(r"[?&]grain=month(&|$)"))
    assert page.evaluate("window.deskNotReloaded") is True
    assert busy_periods(page) == expected_periods(desk, "month")
    months = [row[0] for row in table_rows(page, "table-periods")]
    assert (months[0], months[-1]) == (
        expected_month(today - timedelta(days=364)),
        expected_month(today),
    )
    charts_drawn_from_the_table(page)

    # 4. Team A only: 2 saved of 6.
    filters.get_by_label("Team", exact=True).select_option(label="A")
    expect(page.locator("#tile-save-rate .tile-value")).to_have_text("33.3 %")
    expect(page.locator("#tile-save-rate .tile-sub")).to_have_text("2 saved of 6 closed")
    expect(page).to_have_url(re.compile(r"[?&]team=\d+(&|$)"))
    assert page.evaluate("window.deskNotReloaded") is True
    team_a = [c for c in desk if c.team == "A"]
    assert busy_periods(page) == expected_periods(team_a, "month")
    charts_drawn_from_the_table(page)
    dashboard_url = page.url

    # 5. The team's cases processed at the deadline, and one of them.
    page.locator("#tile-auto").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Processed at the deadline")
    links = page.locator("#drill-cases tbody th a")
    expect(links).to_have_count(2)
    assert set(links.all_text_contents()) == team_a_auto
    case_link = sorted(team_a_auto)[0]
    page.get_by_role("link", name=case_link, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Case {case_link}")
    expect(page.locator("#case-status")).to_have_text("Cancelled")

    # 6. Back on the dashboard, still team A by month: the table's CSV is the table.
    page.go_back()
    expect(page.locator("#drill-cases")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(dashboard_url)
    expect(page.locator("#tile-save-rate .tile-value")).to_have_text("33.3 %")
    shown_head = table_head(page, "table-periods")
    shown_rows = table_rows(page, "table-periods")
    with page.expect_download() as download:
        page.locator("#table-periods caption a.csv").click()
    assert download.value.suggested_filename.startswith("periods-")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    header, *rows = list(csv.reader(text.splitlines()))
    assert [re.sub(r" \((%|EUR|min)\)$", "", h) for h in header] == shown_head
    assert [[as_shown(v, h) for v, h in zip(row, header, strict=True)] for row in rows] == (
        shown_rows
    )
    assert sum(int(row[1]) for row in rows) == 6


def test_an_agent_sees_their_figures_against_the_team_without_its_money(live_server, page):
    demo_users_ensure()
    build_desk(figures.desk_today())

    log_in(page, live_server, "Agent")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My figures").click()
    expect(page).to_have_url(f"{live_server.url}/dashboard/me/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My figures")
    # 1 saved of 2, against team A's 1 of 3.
    expect(page.locator("#tile-save-rate .tile-value")).to_have_text("50.0 %")
    expect(page.locator("#tile-save-rate .tile-sub")).to_have_text("team: 33.3 %")
    page.wait_for_function(ALL_CHARTS_DRAWN)
    rows = {row[0]: row[1:] for row in table_rows(page, "table-me-vs-team")}
    assert rows["Save rate"] == ["50.0 %", "33.3 %"]
    # Retained: what the saved subscriber paid before the offer (every subscriber here €29.99).
    assert rows["Retained monthly revenue"] == ["€29.99", "not shown"]
    assert rows["Cost of concessions"] == ["€60.00", "not shown"]
    assert rows["Cost per save"] == ["€60.00", "not shown"]
    expect(page.locator("#recent-cases tbody tr")).to_have_count(2)
