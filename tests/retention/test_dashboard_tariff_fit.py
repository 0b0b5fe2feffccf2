"""Tariff fit on the dashboard: the nightly snapshot by verdict, the figures a manager reads
from it, and the list of subscribers behind each verdict.

The hand-made fits (what each pays a month now, what the plan that fits would cost):

    subscriber  verdict  pays    would pay  saving
    light-1     light    29.99    9.99      20.00
    light-2     light    25.00   12.50      12.50
    heavy       heavy    48.20   29.99      18.21
    shared-1    shared   29.99   49.99     -20.00   (the plan made for sharing costs more)
    shared-2    shared   60.00   49.99      10.01
    speed       speed    39.99   29.99      10.00
    fits-1      fits     29.99   29.99       0.00
    fits-2      fits     20.49   19.99       0.50   (below the least saving worth a move)

Six of eight are on a plan that does not fit; they overpay 20.00 + 12.50 + 18.21 + 10.01 +
10.00 = 70.72 a month. Moving the light, heavy and speed ones changes the provider's revenue by
-32.50 - 18.21 - 10.00 = -60.71 a month; moving the shared accounts by -10.00 + 19.99 = +9.99.
"""

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from retention.dashboard import tariff_fit
from retention.dashboard.tariff_fit import fit_snapshot_take, tariff_fit_figures
from retention.models import TariffFitSnapshot
from subscribers.models import TariffFit
from tests.factories import PlanFactory, SubscriberFactory
from tests.retention.conftest import riga

pytestmark = pytest.mark.django_db

TODAY = date(2026, 4, 2)
D = Decimal

FITS = [
    ("light-1", "light", "29.99", "9.99"),
    ("light-2", "light", "25.00", "12.50"),
    ("heavy", "heavy", "48.20", "29.99"),
    ("shared-1", "shared", "29.99", "49.99"),
    ("shared-2", "shared", "60.00", "49.99"),
    ("speed", "speed", "39.99", "29.99"),
    ("fits-1", "fits", "29.99", "29.99"),
    ("fits-2", "fits", "20.49", "19.99"),
]


@pytest.fixture(autouse=True)
def _in_april():
    with time_machine.travel(riga(4, 2, 12), tick=False):
        yield


def make_fit(name: str, verdict: str, pays: str, would: str, *, best=None) -> TariffFit:
    subscriber = SubscriberFactory.create(name=name, plan=PlanFactory.create(name=f"Own {name}"))
    return TariffFit.objects.create(
        subscriber=subscriber,
        computed_on=TODAY,
        months=12,
        current_cost=D(pays),
        best_plan=best or PlanFactory.create(name=f"Fits {name}"),
        best_cost=D(would),
        saving=D(pays) - D(would),
        verdict=verdict,
    )


@pytest.fixture
def fits() -> dict[str, TariffFit]:
    return {name: make_fit(name, *rest) for name, *rest in FITS}


def snapshot_rows(day: date) -> dict[str, tuple]:
    return {
        s.verdict: (s.subscribers, s.current_total, s.best_total, s.overpayment)
        for s in TariffFitSnapshot.objects.filter(day=day)
    }


# --- The snapshot ------------------------------------------------------------------------


def test_the_snapshot_counts_and_sums_each_verdict_exactly(fits):
    assert fit_snapshot_take(today=TODAY) == 8
    assert snapshot_rows(TODAY) == {
        "light": (2, D("54.99"), D("22.49"), D("32.50")),
        "heavy": (1, D("48.20"), D("29.99"), D("18.21")),
        "shared": (2, D("89.99"), D("99.98"), D("10.01")),
        "speed": (1, D("39.99"), D("29.99"), D("10.00")),
        "cheaper": (0, D("0"), D("0"), D("0")),
        "fits": (2, D("50.48"), D("49.98"), D("0.50")),
    }


def test_the_snapshot_takes_one_aggregate_query(fits, django_assert_num_queries):
    # the GROUP BY; in the transaction (a savepoint in a test) the lock, the day's delete and
    # the insert of its six rows
    with django_assert_num_queries(6):
        fit_snapshot_take(today=TODAY)


def test_taking_the_snapshot_twice_a_day_writes_the_same_rows(fits):
    fit_snapshot_take(today=TODAY)
    first = snapshot_rows(TODAY)
    fit_snapshot_take(today=TODAY)
    assert snapshot_rows(TODAY) == first
    assert TariffFitSnapshot.objects.filter(day=TODAY).count() == 6
    # A later run the same day counts the fits as they are then, replacing the day's rows.
    TariffFit.objects.filter(pk=fits["heavy"].pk).update(verdict="fits", saving=0)
    fit_snapshot_take(today=TODAY)
    assert snapshot_rows(TODAY)["heavy"] == (0, D("0"), D("0"), D("0"))
    assert TariffFitSnapshot.objects.filter(day=TODAY).count() == 6


def test_a_day_without_fits_is_counted_as_none():
    fit_snapshot_take(today=TODAY)
    figures = tariff_fit_figures()
    assert figures.day == TODAY
    assert (figures.misfits, figures.with_fit, figures.share) == (0, 0, None)


def test_the_figures_come_from_the_latest_snapshot(fits):
    fit_snapshot_take(today=date(2026, 3, 31))
    TariffFit.objects.filter(verdict="light").delete()
    fit_snapshot_take(today=TODAY)
    figures = tariff_fit_figures()
    assert figures.day == TODAY
    assert figures.misfits == 4
    assert figures.with_fit == 6


def test_the_figures_say_what_the_misfits_overpay_and_what_moving_them_costs(fits):
    fit_snapshot_take(today=TODAY)
    figures = tariff_fit_figures()
    assert [r.verdict for r in figures.rows] == ["light", "heavy", "shared", "speed", "cheaper"]
    assert (figures.misfits, figures.with_fit, figures.share) == (6, 8, 0.75)
    assert figures.overpayment == D("70.72")
    # The provider earns less when the subscribers whose plan holds them move ...
    assert (figures.moves_count, figures.moves_change) == (4, D("-60.71"))
    assert figures.moves_loss == D("60.71")
    # ... and the shared accounts, counted apart, may raise it.
    assert (figures.shared.subscribers, figures.shared.revenue_change) == (2, D("9.99"))
    assert figures.revenue_change == D("-50.72")


# --- The dashboard -----------------------------------------------------------------------


def _tile(html: str, tile_id: str) -> str:
    start = html.index(f'id="{tile_id}"')
    return html[start : html.index("</div>", start)]


def test_the_dashboard_shows_the_tariff_fit_figures(manager_client, fits):
    fit_snapshot_take(today=TODAY)
    html = manager_client.get(reverse("dashboard")).content.decode()
    assert 'id="h-tariff-fit"' in html
    assert "Every subscriber with a fit, counted 02.04.2026." in html
    assert ">6<" in _tile(html, "tile-misfits")
    assert "75.0 % of 8 subscribers with a fit" in _tile(html, "tile-misfits")
    assert "€70.72" in _tile(html, "tile-fit-overpayment")
    assert "-€60.71" in _tile(html, "tile-fit-moves")
    assert "4 subscribers whose plan holds them" in _tile(html, "tile-fit-moves")
    assert "+€9.99" in _tile(html, "tile-fit-shared")
    # In plain words, even though the provider earns less.
    assert "the provider would take €60.71 a month less" in html
    assert "changes the provider's revenue by +€9.99 a month" in html
    # Each verdict's count leads to its subscribers.
    table = html[html.index('id="table-tariff-fit"') :]
    assert f'href="{reverse("dashboard_tariff_fit", args=["light"])}">2</a>' in table
    assert f'href="{reverse("dashboard_tariff_fit", args=["shared"])}">2</a>' in table
    # No subscribers, no link.
    assert reverse("dashboard_tariff_fit", args=["cheaper"]) not in table


def test_before_the_first_count_the_dashboard_says_so(manager_client):
    html = manager_client.get(reverse("dashboard")).content.decode()
    assert "Not counted yet" in html
    assert 'id="tile-misfits"' not in html  # no zeros that look like a count
    assert 'id="table-tariff-fit"' not in html


def test_a_night_without_misfits_says_every_plan_fits(manager_client, fits):
    TariffFit.objects.exclude(verdict="fits").delete()
    fit_snapshot_take(today=TODAY)
    html = manager_client.get(reverse("dashboard")).content.decode()
    assert "Every subscriber with a fit is on a plan that fits how they use it." in html


@pytest.mark.parametrize(
    ("language", "overpaid", "loss"),
    [("en", "€70.72", "-€60.71"), ("lv", "€70,72", "-€60,71"), ("ru", "€70,72", "-€60,71")],
)
def test_the_figures_are_written_in_the_readers_language(
    manager_client, fits, language, overpaid, loss
):
    fit_snapshot_take(today=TODAY)
    manager_client.post(reverse("set_language"), {"language": language, "next": "/"})
    html = manager_client.get(reverse("dashboard")).content.decode()
    assert f'lang="{language}"' in html
    assert overpaid in _tile(html, "tile-fit-overpayment")
    assert loss in _tile(html, "tile-fit-moves")


def test_the_tariff_fit_costs_the_dashboard_one_query_and_a_filter_change_none(
    manager_client, fits, django_assert_num_queries
):
    fit_snapshot_take(today=TODAY)
    manager_client.get(reverse("dashboard"))  # the regions of the filter are cached from now
    # On an empty desk: session, user, roles; quality by offer kind, series, breakdown,
    # quality by agent, loyalty, campaigns, computed-at; the form's teams, agents and reasons;
    # the latest tariff-fit snapshot (tests/retention/test_dashboard_views.py pins a full desk).
    with django_assert_num_queries(14):
        manager_client.get(reverse("dashboard"))
    TariffFitSnapshot.objects.filter(day=TODAY).delete()
    with django_assert_num_queries(14):  # none yet: the same query finds nothing
        manager_client.get(reverse("dashboard"))
    # The figures the filters change, swapped alone: the snapshot is not read.
    with django_assert_num_queries(10):
        manager_client.get(reverse("dashboard"), HTTP_HX_REQUEST="true")


def test_the_tariff_fit_table_exports(manager_client, fits):
    fit_snapshot_take(today=TODAY)
    response = manager_client.get(reverse("dashboard_export", args=["tariff-fit"]))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = body.splitlines()
    assert lines[0].startswith("Verdict,Subscribers,")
    assert lines[1].startswith("Light user paying for a flat rate,2,54.99,22.49,32.50,-32.50")


# --- The subscribers behind a verdict ----------------------------------------------------


def test_only_managers_see_the_subscribers_behind_a_verdict(client, agent, manager, fits):
    url = reverse("dashboard_tariff_fit", args=["light"])
    assert client.get(url).status_code == 302  # to the login
    client.force_login(agent)
    assert client.get(url).status_code == 403
    client.force_login(manager)
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("verdict", ["fits", "nonsense"])
def test_only_the_verdicts_of_a_misfit_have_a_list(manager_client, verdict):
    assert manager_client.get(reverse("dashboard_tariff_fit", args=[verdict])).status_code == 404


def test_the_list_shows_each_subscriber_and_links_to_their_page(manager_client, fits):
    html = manager_client.get(reverse("dashboard_tariff_fit", args=["shared"])).content.decode()
    assert "<h1>Shared account on a one-household plan</h1>" in html
    headings = ["Account", "Name", "Plan", "Pays a month", "Plan that fits", "Would pay"]
    for heading in [*headings, "Saving a month"]:
        assert f">{heading}</th>" in html
    shared_2, shared_1 = fits["shared-2"], fits["shared-1"]
    detail = reverse("subscribers:detail", args=[shared_2.subscriber_id])
    assert f'<a href="{detail}">{shared_2.subscriber.account_number}</a>' in html
    rows = html[html.index('id="fit-subscribers"') :]
    # Who would save most first: the account that would pay more comes last.
    assert rows.index("shared-2") < rows.index("shared-1")
    assert "Own shared-2" in rows and "Fits shared-2" in rows
    assert "€60.00" in rows and "€49.99" in rows and "€10.01" in rows and "-€20.00" in rows
    assert shared_1.subscriber.name in rows


def test_the_list_pages_by_key_at_the_same_cost(
    manager_client, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(tariff_fit, "PAGE_SIZE", 2)
    best = PlanFactory.create(name="Metered")
    # Two with the same saving: the subscriber's id breaks the tie, so none is shown twice.
    made = [
        make_fit(name, "light", pays, "10.00", best=best)
        for name, pays in [("a", "30.00"), ("b", "25.00"), ("c", "25.00"), ("d", "12.00")]
    ]
    url = reverse("dashboard_tariff_fit", args=["light"])
    # session, user, roles; the page of fits with their subscribers and plans.
    with django_assert_num_queries(4):
        first = manager_client.get(url)
    seen = list(first.context["page"])
    token = first.context["next_cursor"]
    assert token
    with django_assert_num_queries(4):
        second = manager_client.get(url, {"after": token})
    seen += second.context["page"]
    assert second.context["next_cursor"] == ""
    ties = sorted(made[1:3], key=lambda fit: -fit.pk)
    assert [f.subscriber.name for f in seen] == ["a", *(f.subscriber.name for f in ties), "d"]
    assert 'rel="next"' not in second.content.decode()
    assert "First page" in second.content.decode()


def test_a_forged_page_key_is_a_404(manager_client):
    url = reverse("dashboard_tariff_fit", args=["light"])
    assert manager_client.get(url, {"after": "not-a-cursor"}).status_code == 404
