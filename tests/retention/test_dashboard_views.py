"""The dashboard pages: who may see what, the numbers on the page, drill-down, CSV, bad input,
and a fixed number of queries whatever the size. The desk is the hand-counted one of
tests/retention/conftest.py."""

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from retention.dashboard import figures
from retention.models import OutreachCampaign, OutreachMessage
from tests.factories import SubscriberFactory, UserFactory, offer_template
from tests.retention.conftest import riga

pytestmark = pytest.mark.django_db

MARCH = {"period": "custom", "start": "2026-03-01", "end": "2026-03-31"}


@pytest.fixture(autouse=True)
def _in_april():
    with time_machine.travel(riga(4, 2, 12), tick=False):
        yield


@pytest.fixture
def computed(desk):
    figures.figures_refresh_range(first=date(2026, 3, 1), last=date(2026, 3, 31))
    figures.loyalty_snapshot_take()
    return desk


def launched_campaign(manager) -> OutreachCampaign:
    return OutreachCampaign.objects.create(
        name="Loyal 2026",
        created_by=manager,
        template=offer_template("t-perk", "loyalty_perk"),
        channel="email",
        state="running",
        launched_at=riga(3, 5, 10),
        body_lv="x",
        body_ru="x",
        body_en="x",
    )


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


# --- Who sees what -------------------------------------------------------------------------------


def test_only_managers_see_the_dashboard(client, agent, manager, computed):
    assert client.get(reverse("dashboard")).status_code == 302  # to the login
    client.force_login(agent)
    assert client.get(reverse("dashboard")).status_code == 403
    assert client.get(reverse("dashboard_export", args=["periods"])).status_code == 403
    client.force_login(manager)
    assert client.get(reverse("dashboard")).status_code == 200


def test_an_agent_sees_their_own_page_but_not_anothers(client, computed):
    ann, bob = computed["ann"], computed["bob"]
    client.force_login(ann)
    assert client.get(reverse("my_figures"), MARCH).status_code == 200
    assert client.get(reverse("agent_figures", args=[bob.pk])).status_code == 404


def test_agents_drill_only_into_their_own_cases(client, computed):
    ann = computed["ann"]
    client.force_login(ann)
    # Asking for bob's cases still shows only ann's: the query is authorised, not the link.
    response = client.get(
        reverse("dashboard_cases"), {**MARCH, "agent": computed["bob"].pk, "what": "closed"}
    )
    assert response.status_code == 200
    shown = {o.case_id for o in response.context["page"]}
    assert shown == {computed["cases"][1].pk, computed["cases"][2].pk}


def test_team_money_only_for_managers_or_with_the_permission(client, computed):
    ann = computed["ann"]
    client.force_login(ann)
    page = client.get(reverse("my_figures"), MARCH)
    rows = {str(r[0]): r for r in page.context["table"].data}
    assert rows["Retained monthly revenue"][2] is None
    assert b"not shown" in page.content
    ann.user_permissions.add(Permission.objects.get(codename="view_team_money"))
    client.force_login(type(ann).objects.get(pk=ann.pk))
    page = client.get(reverse("my_figures"), MARCH)
    rows = {str(r[0]): r for r in page.context["table"].data}
    # Team A: €20.99 retained between two agents who closed cases.
    assert rows["Retained monthly revenue"][2] == Decimal("29.99") / 2


# --- The page --------------------------------------------------------------------------------


def test_the_dashboard_shows_the_hand_counted_figures(manager_client, computed):
    response = manager_client.get(reverse("dashboard"), MARCH)
    assert response.status_code == 200
    whole = response.context["board"].whole
    assert (whole.closed, whole.saved, whole.auto_processed) == (7, 3, 1)
    page = response.content.decode()
    assert 'id="tile-save-rate"' in page and "42.9 %" in page  # 3 of 7
    assert "€150.00" in page  # concessions
    assert "€50.00" in page  # per save
    assert "€929.64" in page  # 12 x 3 x €29.99 - €150
    # Every chart has its data and the table that describes it.
    for name in (
        "saves",
        "money",
        "breakdown",
        "first-contact",
        "fairness",
        "quality",
        "loyalty",
        "campaigns",
    ):
        assert f'data-chart="chart-{name}-data"' in page, name
        assert f'id="chart-{name}-data"' in page, name
    for table in (
        "periods",
        "breakdown",
        "fairness",
        "first-contact",
        "quality-offer",
        "quality-agent",
        "loyalty",
        "campaigns",
    ):
        assert f'id="table-{table}"' in page, table


def test_a_filter_change_swaps_only_the_figures(manager_client, computed):
    response = manager_client.get(
        reverse("dashboard"), {**MARCH, "team": computed["teams"][1].pk}, HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="figures"')
    assert "dashboard-filters" not in page
    assert response.context["board"].whole.closed == 2


def test_numbers_link_to_the_cases_behind_them(manager_client, computed):
    response = manager_client.get(reverse("dashboard"), {**MARCH, "by": "team"})
    board = response.context["board"]
    url = board.drills["auto"]
    drill = manager_client.get(url)
    assert [o.case_id for o in drill.context["page"]] == [computed["cases"][4].pk]
    # A team's "saved" number opens that team's saves.
    table = board.table("breakdown")
    team_b = next(row for row in table.data if row.label == "B")
    saved_column = table.columns["saved"].column
    drill = manager_client.get(board.cell_url(team_b, saved_column))
    assert {o.case_id for o in drill.context["page"]} == {
        computed["cases"][5].pk,
        computed["cases"][7].pk,
    }
    assert f'href="/cases/{computed["cases"][5].pk}/"' in drill.content.decode()


def test_the_drill_down_pages_newest_first(manager_client, computed, monkeypatch):
    from retention.dashboard import drill as dashboard

    monkeypatch.setattr(dashboard, "PAGE_SIZE", 3)
    first = manager_client.get(reverse("dashboard_cases"), {**MARCH, "what": "closed"})
    ids = [o.case_id for o in first.context["page"]]
    assert len(ids) == 3 and first.context["next_query"]
    second = manager_client.get(f"{reverse('dashboard_cases')}?{first.context['next_query']}")
    more = [o.case_id for o in second.context["page"]]
    assert len(more) == 3 and not set(ids) & set(more)
    last = manager_client.get(f"{reverse('dashboard_cases')}?{second.context['next_query']}")
    assert len(last.context["page"]) == 1 and not last.context["next_query"]


def test_export_streams_the_table_with_the_filters(manager_client, computed):
    response = manager_client.get(
        reverse("dashboard_export", args=["breakdown"]), {**MARCH, "by": "team"}
    )
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    assert rows[0][:5] == ["Team", "Closed", "Saved", "Cancelled", "Save rate (%)"]
    assert {r[0]: r[1:3] for r in rows[1:]} == {
        "A": ["4", "1"],
        "B": ["2", "2"],
        "No team": ["1", "0"],
    }
    filtered = csv_rows(
        manager_client.get(
            reverse("dashboard_export", args=["periods"]),
            {**MARCH, "grain": "month", "reason": computed["price"].pk},
        )
    )
    assert filtered[1][:3] == [filtered[1][0], "5", "2"]


def test_every_table_exports(manager_client, computed):
    from retention.dashboard.board import Board

    for name in Board.TABLES:
        response = manager_client.get(reverse("dashboard_export", args=[name]), MARCH)
        assert response.status_code == 200, name
        assert len(csv_rows(response)) >= 1
    assert manager_client.get(reverse("dashboard_export", args=["nope"])).status_code == 404


def test_the_cases_behind_a_figure_export_too(manager_client, computed):
    rows = csv_rows(
        manager_client.get(reverse("dashboard_cases"), {**MARCH, "what": "saved", "format": "csv"})
    )
    assert rows[0][0] == "Case"
    assert {int(r[0]) for r in rows[1:]} == {computed["cases"][n].pk for n in (1, 5, 7)}


def test_campaign_rates(manager_client, computed, manager):
    campaign = launched_campaign(manager)
    states = ["sent"] * 5 + ["responded"] * 3 + ["skipped", "deferred"]
    for n, state in enumerate(states):
        OutreachMessage.objects.create(
            campaign=campaign,
            subscriber=SubscriberFactory.create(),
            state=state,
            due_at=riga(3, 5, 10),
            response="accepted"
            if state == "responded" and n % 2
            else ("call" if state == "responded" else ""),
        )
    response = manager_client.get(reverse("dashboard"), MARCH)
    (found,) = response.context["board"].campaigns
    assert (found.matched, found.sent, found.responded, found.accepted) == (10, 8, 3, 2)
    assert found.send_rate == 0.8 and found.response_rate == 3 / 8
    assert found.acceptance_rate == 2 / 8


# --- Bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"period": "forever"},
        {"period": "custom", "start": "2026-03-10"},
        {"period": "custom", "start": "2026-03-10", "end": "2026-03-01"},
        {"period": "custom", "start": "2020-01-01", "end": "2026-03-01"},
        {"period": "custom", "start": "2026-03-01", "end": "2027-03-01"},
        {"period": "custom", "start": "yesterday", "end": "2026-03-01"},
        {"grain": "hour"},
        {"by": "password"},
        {"team": "999999"},
        {"team": "A"},
        {"reason": "x"},
        {"channel": "pigeon"},
        {"region": "Atlantis"},
    ],
)
def test_bad_filters_are_a_clear_400(manager_client, computed, params):
    for name in ("dashboard", "dashboard_cases"):
        response = manager_client.get(reverse(name), params)
        assert response.status_code == 400, (name, params)
        assert b'role="alert"' in response.content
    assert (
        manager_client.get(reverse("dashboard_export", args=["periods"]), params).status_code == 400
    )


def test_a_forged_page_key_is_a_404(manager_client, computed):
    assert manager_client.get(
        reverse("dashboard_cases"), {"after": "not-a-cursor"}
    ).status_code == (404)
    assert manager_client.get(reverse("dashboard_cases"), {"what": "everything"}).status_code == 400


def test_a_manager_sees_any_agents_page_but_only_workers(manager_client, computed):
    cid = computed["cid"]
    page = manager_client.get(reverse("agent_figures", args=[cid.pk]), MARCH)
    assert page.status_code == 200
    assert page.context["comparison"].my_total.saved == 2
    outsider = UserFactory.create(username="outsider")
    assert manager_client.get(reverse("agent_figures", args=[outsider.pk])).status_code == 404


# --- Constant queries --------------------------------------------------------------------------


def test_the_dashboard_costs_the_same_queries_at_any_size(
    manager_client, computed, manager, django_assert_num_queries
):
    campaign = launched_campaign(manager)
    manager_client.get(reverse("dashboard"))  # the regions of the filter are cached from now
    # session, user, roles; quality by offer kind, series, breakdown (+ reason names), quality
    # by agent (+ names), loyalty, campaigns (+ states, + answers), computed-at; the form's
    # teams, agents and reasons; the latest tariff-fit snapshot.
    with django_assert_num_queries(18):
        manager_client.get(reverse("dashboard"), MARCH)
    OutreachMessage.objects.create(
        campaign=campaign,
        subscriber=SubscriberFactory.create(),
        state="sent",
        due_at=riga(3, 5, 10),
    )
    figures.figures_refresh_range(first=date(2026, 3, 1), last=date(2026, 3, 31))
    with django_assert_num_queries(18):
        manager_client.get(reverse("dashboard"), MARCH)
    # A filter change: the figures only, no form, no tariff fit.
    with django_assert_num_queries(14):
        manager_client.get(reverse("dashboard"), MARCH, HTTP_HX_REQUEST="true")


def test_the_agent_page_and_drill_down_query_counts(client, computed, django_assert_num_queries):
    ann = computed["ann"]
    client.force_login(ann)
    # session, user, roles, permissions (user, group); mine, team's, team's agents, recent,
    # the team's name.
    with django_assert_num_queries(10):
        client.get(reverse("my_figures"), MARCH)
    with django_assert_num_queries(4):
        client.get(reverse("dashboard_cases"), {**MARCH, "what": "closed"})


def test_the_agent_table_leads_to_each_agents_page(manager_client, computed):
    page = manager_client.get(reverse("dashboard"), {**MARCH, "by": "agent"}).content.decode()
    cid = computed["cid"]
    assert f'href="{reverse("agent_figures", args=[cid.pk])}?' in page


def test_the_demo_outreach_gives_the_dashboard_rates(manager, computed):
    """``seed_outreach`` (make run) records a finished campaign once, so the outreach chart has
    send, response and acceptance rates from the start."""
    from django.core.management import call_command

    from retention.dashboard.campaigns import campaigns
    from retention.dashboard.filters import filters_default

    SubscriberFactory.create_batch(40)
    call_command("seed_outreach", stdout=io.StringIO())
    call_command("seed_outreach", stdout=io.StringIO())
    (past,) = [c for c in campaigns(filters_default()) if c.campaign.state == "finished"]
    assert past.matched == OutreachMessage.objects.filter(campaign=past.campaign).count() > 0
    assert past.send_rate is not None and 0 < past.send_rate < 1
    assert past.response_rate and past.acceptance_rate is not None


def test_exports_and_another_agents_page_query_counts(
    manager_client, computed, django_assert_num_queries
):
    manager_client.get(reverse("dashboard"))  # the regions of the filter are cached from now
    # session, user, roles; the breakdown and its names: nothing the table does not show.
    with django_assert_num_queries(5):
        response = manager_client.get(
            reverse("dashboard_export", args=["breakdown"]), {**MARCH, "by": "reason"}
        )
        csv_rows(response)
    # The cases behind a figure as CSV: one query however many rows (streamed in chunks).
    with django_assert_num_queries(4):
        csv_rows(manager_client.get(reverse("dashboard_cases"), {**MARCH, "format": "csv"}))
    # session, user, roles; the agent and team; mine, team's, team's agents, recent.
    with django_assert_num_queries(8):
        manager_client.get(reverse("agent_figures", args=[computed["cid"].pk]), MARCH)


# --- Sorting a table -----------------------------------------------------------------------------


def _labels(response, table: str) -> list[str]:
    return [row.record.label for row in response.context["tables"][table].rows]


def test_a_heading_sorts_its_table_and_only_its_table(
    manager_client, computed, django_assert_num_queries
):
    by_agent = {**MARCH, "by": "agent"}
    unsorted = manager_client.get(reverse("dashboard"), by_agent)
    rows = unsorted.context["tables"]["breakdown"].rows
    by_rate = sorted(
        (r.record for r in rows), key=lambda r: (r.figures.save_rate is None, r.figures.save_rate)
    )
    assert len({r.figures.save_rate for r in by_rate}) > 1  # the order is there to see
    with CaptureQueriesContext(connection) as plain:
        manager_client.get(reverse("dashboard"), by_agent)
    # As many queries as unsorted: the rows are sorted in memory.
    with django_assert_num_queries(len(plain.captured_queries)):
        asc = manager_client.get(reverse("dashboard"), {**by_agent, "breakdown-sort": "save_rate"})
    rates = [r.record.figures.save_rate for r in asc.context["tables"]["breakdown"].rows]
    known = [rate for rate in rates if rate is not None]
    assert known == sorted(known) and rates != list(reversed(rates))
    desc = manager_client.get(reverse("dashboard"), {**by_agent, "breakdown-sort": "-save_rate"})
    rates_desc = [r.record.figures.save_rate for r in desc.context["tables"]["breakdown"].rows]
    assert [r for r in rates_desc if r is not None] == sorted(known, reverse=True)
    # The other tables and the charts keep their order.
    assert _labels(asc, "periods") == _labels(unsorted, "periods")
    assert asc.context["charts"]["breakdown"] == unsorted.context["charts"]["breakdown"]


def test_the_sorted_heading_links_the_other_way_and_keeps_the_filters(manager_client, computed):
    params = {**MARCH, "by": "agent", "breakdown-sort": "saved"}
    page = manager_client.get(reverse("dashboard"), params).content.decode()
    head = re.search(r'<table class="figures" id="table-breakdown">.*?</thead>', page, re.S)
    assert head is not None
    saved = re.search(
        r'<th scope="col" class="([^"]*)"( aria-sort="ascending")?><a href="([^"]+)"[^>]*>Saved',
        head.group(0),
    )
    assert saved is not None and "asc" in saved.group(1).split() and saved.group(2)
    href = saved.group(3).replace("&amp;", "&")
    assert "breakdown-sort=-saved" in href and "by=agent" in href and "start=2026-03-01" in href
    assert href.endswith("#table-breakdown")
    # Any other column's link sorts by it, ascending first.
    assert "breakdown-sort=save_rate" in head.group(0).replace("&amp;", "&")
    # Periods sort by their date, not by how their label reads.
    table = manager_client.get(reverse("dashboard"), {**MARCH, "periods-sort": "-label"})
    keys = [r.record.key for r in table.context["tables"]["periods"].rows]
    assert keys == sorted(keys, reverse=True)


@pytest.mark.parametrize("sort", ["nonsense", "-", "label,label", "figures__closed", "\x00"])
def test_a_sort_by_no_column_is_ignored(manager_client, computed, sort):
    plain = manager_client.get(reverse("dashboard"), MARCH)
    response = manager_client.get(reverse("dashboard"), {**MARCH, "breakdown-sort": sort})
    assert response.status_code == 200
    assert _labels(response, "breakdown") == _labels(plain, "breakdown")


def test_time_to_first_contact_keeps_the_order_of_time(manager_client, computed):
    response = manager_client.get(reverse("dashboard"), {**MARCH, "first-contact-sort": "-cases"})
    table = response.context["tables"]["first_contact"]
    assert not table.orderable
    assert str(next(iter(table.rows)).record.label) == "Within 15 minutes"
