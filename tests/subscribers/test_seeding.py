import json
from collections import Counter
from datetime import date, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F

from retention.demo.generator import DemoGenerator
from retention.demo.plans import PLANS
from retention.demo.rows import Bundle, SeedOptions
from retention.demo.world import heavy_account_numbers
from subscribers.models import Equipment, Plan, Subscriber, TimelineEvent

TODAY = date(2026, 11, 23)
PLAN_IDS = {plan.code: n for n, plan in enumerate(PLANS, 1)}


def seed(**options: Any) -> str:
    out = StringIO()
    args = {"subscribers": 300, "today": TODAY, "no_progress": True, **options}
    call_command("seed_demo", stdout=out, **args)
    return out.getvalue()


def generate(**options: Any) -> list[Bundle]:
    return list(DemoGenerator(SeedOptions(today=TODAY, **options)).bundles(PLAN_IDS))


def test_same_seed_gives_the_same_data():
    first = generate(subscribers=200, seed=7)
    again = generate(subscribers=200, seed=7)
    other = generate(subscribers=200, seed=8)

    assert [b.subscriber for b in first] == [b.subscriber for b in again]
    assert [b.events for b in first] == [b.events for b in again]
    assert [b.equipment for b in first] == [b.equipment for b in again]
    assert [b.subscriber.name for b in first] != [b.subscriber.name for b in other]


def test_heavy_accounts_do_not_depend_on_the_seed():
    bundles = generate(subscribers=50, seed=99, heavy=3, heavy_events=10)

    assert [b.subscriber.account_number for b in bundles[:3]] == heavy_account_numbers(3)
    assert heavy_account_numbers(2) == ["9000000001", "9000000002"]


def test_generated_text_needs_no_escaping_for_copy():
    for bundle in generate(subscribers=400, heavy=1, heavy_events=500):
        texts = [*map(str, bundle.subscriber), *(str(v) for e in bundle.equipment for v in e)]
        texts += [str(value) for event in bundle.events for value in event]
        assert not any(ch in text for text in texts for ch in "\t\n\r\\")
        for event in bundle.events:
            assert isinstance(json.loads(event[7]), dict)


def test_events_average_the_requested_number_per_subscriber():
    bundles = generate(subscribers=1000, heavy=0, events_per_subscriber=20)

    average = sum(len(b.events) for b in bundles) / len(bundles)
    assert 18 <= average <= 22


@pytest.mark.django_db
def test_loads_plans_of_every_kind_including_some_no_longer_sold():
    seed()

    assert set(Plan.objects.values_list("kind", flat=True)) == set(Plan.Kind.values)
    assert Plan.objects.filter(is_sold=False).exists()
    assert (
        Plan.objects.filter(new_customer_price__lt=F("list_price")).count() == Plan.objects.count()
    )


@pytest.mark.django_db
def test_long_tenure_subscribers_pay_more_than_new_customers():
    seed()

    penalised = Subscriber.objects.filter(
        monthly_price__gt=F("plan__new_customer_price"),
        signup_date__lt=TODAY - timedelta(days=3 * 365),
        status=Subscriber.Status.ACTIVE,
    )
    assert penalised.count() > 30
    subscriber = penalised.first()
    assert subscriber is not None
    kinds = set(subscriber.events.values_list("kind", flat=True))
    assert {TimelineEvent.Kind.PROMO_ENDED, TimelineEvent.Kind.PRICE_CHANGE} <= kinds
    codes = [reason["code"] for reason in subscriber.churn_risk_reasons]
    assert "risk.loyalty_penalty" in codes  # a phrase, said in the reader's language


@pytest.mark.django_db
def test_first_year_subscribers_have_a_promo_that_ends_in_the_future():
    seed()

    newcomers = Subscriber.objects.filter(signup_date__gt=TODAY - timedelta(days=300))
    assert newcomers.exists()
    assert not newcomers.filter(promo_ends_on__lte=TODAY, segment="residential").exists()


@pytest.mark.django_db
def test_outages_hit_many_subscribers_of_one_region_at_the_same_time():
    seed()

    clusters = (
        TimelineEvent.objects.filter(kind=TimelineEvent.Kind.OUTAGE)
        .values("occurred_at", "data__incident")
        .annotate(hit=Count("subscriber"), regions=Count("subscriber__region", distinct=True))
        .filter(hit__gte=3)
    )
    assert clusters.exists()
    assert all(cluster["regions"] == 1 for cluster in clusters)


@pytest.mark.django_db
def test_arrears_missed_payments_equipment_and_contact_flags_are_there():
    seed()

    in_arrears = Subscriber.objects.filter(arrears__gt=0)
    assert in_arrears.exists()
    debtor = in_arrears.first()
    assert debtor is not None
    assert debtor.events.filter(kind=TimelineEvent.Kind.MISSED_PAYMENT).exists()
    assert "risk.arrears" in [reason["code"] for reason in debtor.churn_risk_reasons]
    assert Equipment.objects.filter(status=Equipment.Status.ON_LOAN).count() >= 300
    assert Equipment.objects.values("kind").distinct().count() >= 4
    assert 0 < Subscriber.objects.filter(do_not_call=True).count() < 30
    assert Subscriber.objects.filter(churn_risk__gte=50).exists()


@pytest.mark.django_db
def test_names_are_latvian_russian_and_english():
    seed()

    names = list(Subscriber.objects.values_list("name", flat=True))
    languages = Counter(Subscriber.objects.values_list("language", flat=True))
    assert any("ņ" in name or "ī" in name or "ā" in name for name in names)
    assert languages["lv"] > languages["ru"] > languages["en"] > 0
    assert Subscriber.objects.exclude(time_zone="Europe/Riga").exists()
    assert set(Subscriber.objects.values_list("region", flat=True)) == {
        "Rīga", "Pierīga", "Kurzeme", "Vidzeme", "Zemgale", "Latgale",
    }  # fmt: skip


@pytest.mark.django_db
def test_heavy_subscribers_have_the_requested_number_of_events():
    seed(heavy=2, heavy_events=700)

    for account in heavy_account_numbers(2):
        subscriber = Subscriber.objects.get(account_number=account)
        assert subscriber.segment == Subscriber.Segment.CORPORATE
        assert subscriber.events.count() == 700


@pytest.mark.django_db
def test_if_empty_does_nothing_the_second_time():
    seed(subscribers=50)
    events = TimelineEvent.objects.count()

    output = seed(subscribers=80, if_empty=True)

    assert "exist already" in output
    assert Subscriber.objects.count() == 50
    assert TimelineEvent.objects.count() == events


@pytest.mark.django_db
def test_refuses_to_load_over_existing_subscribers_without_reset():
    seed(subscribers=50)

    with pytest.raises(CommandError, match="--reset"):
        seed(subscribers=50)


@pytest.mark.django_db
def test_reset_replaces_the_data_and_new_rows_get_fresh_ids():
    seed(subscribers=50, seed=1)

    seed(subscribers=60, seed=2, reset=True)

    assert Subscriber.objects.count() == 60
    created = Subscriber.objects.create(
        account_number="X1",
        name="New",
        region="Rīga",
        signup_date=TODAY,
        monthly_price=1,
        plan=Plan.objects.get(code="optika-100"),
    )
    assert created.pk > 60


@pytest.mark.django_db
def test_loaded_rows_match_the_generator():
    seed(subscribers=120, seed=5)

    bundles = generate(subscribers=120, seed=5)
    loaded = dict(Subscriber.objects.values_list("account_number", "name"))
    assert loaded == {b.subscriber.account_number: b.subscriber.name for b in bundles}
    assert TimelineEvent.objects.count() == sum(len(b.events) for b in bundles)
    event = (
        TimelineEvent.objects.filter(kind=TimelineEvent.Kind.PAYMENT)
        .exclude(subscriber__account_number__in=heavy_account_numbers(2))
        .first()
    )
    assert event is not None
    assert event.data["amount"]
    assert (event.external_id or "").startswith("PAY-")


@pytest.mark.django_db
@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY path is PostgreSQL-only")
def test_copy_load_puts_back_exactly_the_same_indexes_and_constraints():
    def schema() -> list[tuple[str, str]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename LIKE 'subscribers_%' "
                "UNION ALL SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid::regclass::text LIKE 'subscribers_%' OR confrelid <> 0 "
                "ORDER BY 1, 2"
            )
            return cursor.fetchall()

    before = schema()
    seed()
    assert schema() == before
