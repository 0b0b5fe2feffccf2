import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from subscribers.models import TimelineEvent
from subscribers.selectors import Cursor
from tests.factories import (
    EquipmentFactory,
    SubscriberFactory,
    TimelineEventFactory,
    UserFactory,
)
from tests.subscribers.fit_catalogue import priced_catalogue, user_with_usage

pytestmark = pytest.mark.django_db


def add_events(subscriber, count, *, kind=TimelineEvent.Kind.PAYMENT, start=None):
    start = start or datetime(2024, 1, 1, tzinfo=UTC)
    TimelineEvent.objects.bulk_create(
        TimelineEvent(
            subscriber=subscriber,
            kind=kind,
            occurred_at=start + timedelta(hours=i),
            source="billing",
            summary=f"event {i}",
        )
        for i in range(count)
    )


# --- Search --------------------------------------------------------------------------------


def test_search_finds_by_part_of_a_name_phone_email_and_account(agent_client):
    anna = SubscriberFactory.create(
        name="Anna Bērziņa", phone="+37120000001", email="anna@example.lv", account_number="7700123"
    )
    SubscriberFactory.create(name="Jānis Ozoliņš")
    url = reverse("subscribers:search")
    fragments = ["bērziņ", "BĒRZIŅ" if connection.vendor == "postgresql" else "BēRZ", "0000001"]
    # SQLite folds the case of ASCII letters only; PostgreSQL folds Ē and Ņ as well.
    for fragment in (*fragments, "ANNA@exa", "7700123", "770"):
        response = agent_client.get(url, {"q": fragment})
        assert response.status_code == 200
        assert anna in response.context["result"].subscribers, fragment


def test_search_as_you_type_returns_only_the_results_fragment(agent_client):
    SubscriberFactory.create(name="Anna Bērziņa")
    response = agent_client.get(
        reverse("subscribers:search"), {"q": "Bērz"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "Anna Bērziņa" in html
    assert "<html" not in html


def test_search_says_when_nothing_matches(agent_client):
    response = agent_client.get(reverse("subscribers:search"), {"q": "Nobody-here"})
    assert response.context["result"].subscribers == []
    assert "No subscriber matches" in response.content.decode()


def test_search_caps_results_and_says_there_are_more(agent_client, settings):
    settings.SEARCH_RESULT_LIMIT = 5
    SubscriberFactory.create_batch(8, name="Kalniņš Pēteris")
    result = agent_client.get(reverse("subscribers:search"), {"q": "kalniņ"}).context["result"]
    assert len(result.subscribers) == 5
    assert result.has_more


def test_search_query_count_does_not_grow_with_matches(agent_client, django_assert_num_queries):
    SubscriberFactory.create_batch(3, name="Liepa Ilze")
    url = reverse("subscribers:search")
    # session, user, roles, exact account match, contains match
    with django_assert_num_queries(5):
        agent_client.get(url, {"q": "liepa"})
    SubscriberFactory.create_batch(30, name="Liepa Ilze")
    with django_assert_num_queries(5):
        agent_client.get(url, {"q": "liepa"})


# --- Subscriber page -----------------------------------------------------------------------


def test_subscriber_page_shows_the_loyalty_penalty_in_money_and_percent(agent_client):
    subscriber = SubscriberFactory.create(
        monthly_price="29.99", plan__new_customer_price="19.99", plan__list_price="29.99"
    )
    response = agent_client.get(reverse("subscribers:detail", args=[subscriber.pk]))
    html = response.content.decode()
    assert "€10.00" in html
    assert "+50.0%" in html


def test_subscriber_page_shows_equipment_and_contact_rules(agent_client):
    subscriber = SubscriberFactory.create(do_not_call=True)
    EquipmentFactory.create(subscriber=subscriber, serial="SN-ROUTER-1")
    response = agent_client.get(reverse("subscribers:detail", args=[subscriber.pk]))
    html = response.content.decode()
    assert "SN-ROUTER-1" in html
    windows = {w.channel: w for w in response.context["windows"]}
    assert windows["phone"].reason == "do_not_contact"


def test_unknown_subscriber_is_404(agent_client):
    assert agent_client.get(reverse("subscribers:detail", args=[999999])).status_code == 404


@pytest.mark.parametrize("events", [10, 1000])
def test_subscriber_page_query_count_is_the_same_for_10_and_1000_events(
    agent_client, django_assert_num_queries, events
):
    subscriber = SubscriberFactory.create()
    EquipmentFactory.create_batch(3, subscriber=subscriber)
    add_events(subscriber, events)
    # session, user, roles, subscriber+plan, tariff fit (none), equipment, contact policy (and
    # the desk's calendar: hours and days, two queries the cache then saves), recent contacts,
    # usage months (none: no plans to price), timeline page
    with django_assert_num_queries(12):
        response = agent_client.get(reverse("subscribers:detail", args=[subscriber.pk]))
    assert response.status_code == 200
    assert len(response.context["page"].events) == min(events, 50)


# --- Timeline ------------------------------------------------------------------------------


def test_timeline_pages_walk_every_event_newest_first_without_gaps_or_repeats(agent_client):
    subscriber = SubscriberFactory.create()
    add_events(subscriber, 120)
    # Same timestamp for several events: the id breaks the tie.
    same = datetime(2030, 1, 1, tzinfo=UTC)
    TimelineEventFactory.create_batch(5, subscriber=subscriber, occurred_at=same)
    url = reverse("subscribers:timeline", args=[subscriber.pk])
    seen: list[int] = []
    after = ""
    while True:
        response = agent_client.get(url, {"after": after} if after else {})
        page = response.context["page"]
        seen += [e.pk for e in page.events]
        if not page.next_cursor:
            break
        after = page.next_cursor
    expected = list(
        TimelineEvent.objects.filter(subscriber=subscriber)
        .order_by("-occurred_at", "-id")
        .values_list("pk", flat=True)
    )
    assert seen == expected


def test_timeline_filter_by_kind(agent_client):
    subscriber = SubscriberFactory.create()
    add_events(subscriber, 5, kind=TimelineEvent.Kind.PAYMENT)
    add_events(subscriber, 3, kind=TimelineEvent.Kind.OUTAGE)
    response = agent_client.get(
        reverse("subscribers:timeline", args=[subscriber.pk]), {"kind": ["outage"]}
    )
    assert {e.kind for e in response.context["page"].events} == {"outage"}
    assert len(response.context["page"].events) == 3


def test_timeline_next_link_keeps_the_kind_filter(agent_client, settings):
    settings.TIMELINE_PAGE_SIZE = 2
    subscriber = SubscriberFactory.create()
    add_events(subscriber, 5, kind=TimelineEvent.Kind.OUTAGE)
    response = agent_client.get(
        reverse("subscribers:timeline", args=[subscriber.pk]), {"kind": ["outage"]}
    )
    assert "kind=outage" in response.content.decode()


@pytest.mark.parametrize("depth", [1, 20])
def test_a_deep_timeline_page_costs_the_same_queries_as_the_first(
    agent_client, django_assert_num_queries, settings, depth
):
    settings.TIMELINE_PAGE_SIZE = 5
    subscriber = SubscriberFactory.create()
    add_events(subscriber, 200)
    event = TimelineEvent.objects.filter(subscriber=subscriber).order_by("-occurred_at", "-id")[
        depth * 5 - 1
    ]
    after = Cursor(occurred_at=event.occurred_at, id=event.pk).encode()
    with django_assert_num_queries(5):
        response = agent_client.get(
            reverse("subscribers:timeline", args=[subscriber.pk]), {"after": after}
        )
    assert response.status_code == 200


@pytest.mark.parametrize("bad", ["not-a-cursor", "bm90fGE", "MjAyNC0wMS0wMXwx"])
def test_a_forged_cursor_is_404_not_an_error(agent_client, bad):
    subscriber = SubscriberFactory.create()
    response = agent_client.get(
        reverse("subscribers:timeline", args=[subscriber.pk]), {"after": bad}
    )
    assert response.status_code == 404


def test_an_unknown_kind_is_a_clear_400(agent_client):
    subscriber = SubscriberFactory.create()
    response = agent_client.get(
        reverse("subscribers:timeline", args=[subscriber.pk]), {"kind": ["bogus"]}
    )
    assert response.status_code == 400


# --- Roles ---------------------------------------------------------------------------------


def test_a_user_without_a_role_is_refused(client):
    client.force_login(UserFactory.create(username="nobody"))
    subscriber = SubscriberFactory.create()
    assert client.get(reverse("subscribers:search")).status_code == 403
    assert client.get(reverse("subscribers:detail", args=[subscriber.pk])).status_code == 403


def test_managers_see_subscribers_too(manager_client):
    subscriber = SubscriberFactory.create()
    assert (
        manager_client.get(reverse("subscribers:detail", args=[subscriber.pk])).status_code == 200
    )


def test_fewer_than_three_characters_ask_for_more_without_a_query(
    agent_client, django_assert_num_queries
):
    SubscriberFactory.create(name="Ola Oz")
    with django_assert_num_queries(3):  # session, user, roles
        response = agent_client.get(reverse("subscribers:search"), {"q": "Oz"})
    assert response.context["result"].too_short
    assert "at least 3 characters" in response.content.decode()


# --- Best plan for how they use it ----------------------------------------------------------

TODAY = date(2026, 6, 15)


@pytest.fixture
def plans(db):
    return priced_catalogue()


def fit_page(client, subscriber, language="en"):
    return client.get(
        reverse("subscribers:detail", args=[subscriber.pk]), HTTP_ACCEPT_LANGUAGE=language
    )


@time_machine.travel(datetime(2026, 6, 15, 10, tzinfo=UTC), tick=False)
def test_a_light_user_on_a_flat_rate_is_told_the_metered_plan_and_what_it_saves(
    agent_client, plans
):
    light = user_with_usage(plans, "light", TODAY)
    response = fit_page(agent_client, light)
    html = response.content.decode()
    assert (
        "Online about 12 hours a month: Stundas 30 would have cost €8.40 a month instead of "
        "€29.99; saves €21.59 a month."
    ) in html
    assert "Light user paying for a flat rate" in html
    usage = response.context["usage"]
    # Cheapest first, their own plan among them; the business plan is not sold to them.
    assert [(row.plan.code, str(row.cost)) for row in usage.costs] == [
        ("stundas30", "8.40"),
        ("gb50", "10.00"),
        ("fibre100", "19.99"),
        ("fibre300", "29.99"),
    ]
    assert [row.plan.code for row in usage.costs if row.is_best] == ["stundas30"]
    assert [row.plan.code for row in usage.costs if row.is_own] == ["fibre300"]
    assert str(usage.costs[0].difference) == "-21.59"
    # Twelve months in each chart, July to June's previous month.
    assert len(usage.gb_chart.bars) == len(usage.hours_chart.bars) == 12
    assert usage.gb_chart.labels[0][1] == "Jun" and usage.gb_chart.labels[-1][1] == "May"
    assert html.count('class="bar bar-gb"') == 12
    # The plan card says it briefly, from the stored fit.
    assert (
        "Light user paying for a flat rate: Stundas 30 would cost €8.40 a month instead of "
        "€29.99, saving €21.59." in html
    )


@time_machine.travel(datetime(2026, 6, 15, 10, tzinfo=UTC), tick=False)
@pytest.mark.parametrize(
    ("kind", "sentence"),
    [
        (
            "heavy",
            "Online about 200 hours a month, past the 30 hours their plan includes: paying per "
            "hour cost them €23.40 a month; Fibre 100 would have cost €19.99; saves €3.41 a "
            "month.",
        ),
        (
            "shared",
            "7 people share the line, more than a plan made for one household holds: Biznes 10 "
            "holds them all, at €53.00 a month instead of €29.99; it costs €23.01 a month more.",
        ),
        (
            "fits",
            "Their plan fits how they use it (about 150 hours online and 300 GB a month): no "
            "plan on sale to them would save them €1.00 a month or more.",
        ),
    ],
)
def test_each_verdict_is_said_with_its_figures(agent_client, plans, kind, sentence):
    response = fit_page(agent_client, user_with_usage(plans, kind, TODAY))
    assert sentence in response.content.decode()


@time_machine.travel(datetime(2026, 6, 15, 10, tzinfo=UTC), tick=False)
def test_the_shared_brief_names_the_people_on_the_line(agent_client, plans):
    html = fit_page(agent_client, user_with_usage(plans, "shared", TODAY)).content.decode()
    assert (
        "Shared account on a one-household plan: Biznes 10 holds the 7 people on the line, at "
        "€53.00 a month instead of €29.99." in html
    )
    assert "may cost more" in html


@time_machine.travel(datetime(2026, 6, 15, 10, tzinfo=UTC), tick=False)
def test_the_fit_is_said_in_the_readers_language_with_their_money_format(agent_client, plans):
    light = user_with_usage(plans, "light", TODAY)
    html = fit_page(agent_client, light, "lv").content.decode()
    assert "€21,59" in html and "€8,40" in html
    # The chart's coordinates stay numbers an SVG reads, whatever the language writes.
    assert 'class="bar bar-gb"' in html
    assert not re.search(r' (x|y|width|height)="[0-9.]*,', html)


@time_machine.travel(datetime(2026, 6, 15, 10, tzinfo=UTC), tick=False)
@pytest.mark.parametrize("months", [0, 2])
def test_without_enough_usage_the_page_says_so_plainly(agent_client, plans, months):
    subscriber = user_with_usage(plans, "light", TODAY, months=months)
    response = fit_page(agent_client, subscriber)
    html = response.content.decode()
    assert (
        f"Not enough usage to tell which plan fits: {months} of the last 12 months on record, "
        "and it takes at least 3." in html
    )
    assert "Not enough usage to tell yet." in html
    assert response.context["usage"].result is None
    assert 'id="fit-costs"' not in html
    assert ('class="usage-chart"' in html) is bool(months)


@time_machine.travel(datetime(2026, 6, 15, 10, tzinfo=UTC), tick=False)
@pytest.mark.parametrize("kind", ["light", "shared"])
def test_the_fit_costs_the_subscriber_page_two_queries_more_with_usage(
    agent_client, plans, django_assert_num_queries, kind
):
    subscriber = user_with_usage(plans, kind, TODAY)
    EquipmentFactory.create_batch(3, subscriber=subscriber)
    add_events(subscriber, 60)
    # session, user, roles, subscriber+plan, tariff fit (+its plan, the people on the line),
    # equipment, contact policy (and the desk's calendar, two queries), recent contacts, usage
    # months, the plans to price them on, timeline page
    with django_assert_num_queries(13):
        response = fit_page(agent_client, subscriber)
    assert response.context["usage"].result is not None
