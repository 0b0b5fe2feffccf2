"""The demo's usage months (retention.demo.usage) and the fits seed_demo computes from them."""

from collections import Counter
from datetime import date
from io import StringIO
from statistics import mean
from typing import Any

import pytest
from django.core.management import call_command

from retention.demo.generator import DemoGenerator
from retention.demo.loading import reset_demo_data
from retention.demo.plans import PLANS
from retention.demo.rows import Bundle, SeedOptions
from retention.demo.units import epoch_day
from retention.demo.usage import usage_window
from retention.models import TariffFitSnapshot
from subscribers.fit import MIN_MONTHS, fit_window
from subscribers.models import Subscriber, TariffFit, Usage

TODAY = date(2026, 11, 23)
PLAN_IDS = {plan.code: n for n, plan in enumerate(PLANS, 1)}
PLAN_OF = {n: plan for n, plan in enumerate(PLANS, 1)}
START, END = fit_window(TODAY)


def generate(**options: Any) -> list[Bundle]:
    return list(DemoGenerator(SeedOptions(today=TODAY, **options)).bundles(PLAN_IDS))


def seed(**options: Any) -> str:
    out = StringIO()
    args = {"subscribers": 600, "today": TODAY, "no_progress": True, **options}
    call_command("seed_demo", stdout=out, **args)
    return out.getvalue()


def hours(bundle: Bundle) -> float:
    return mean(row[5] / 10 for row in bundle.usage)


def gb(bundle: Bundle) -> float:
    return mean((row[3] + row[4]) / 100 for row in bundle.usage)


@pytest.fixture(scope="module")
def bundles() -> list[Bundle]:
    return generate(subscribers=3000, seed=11)


def test_twelve_months_for_everyone_who_had_the_line_all_year(bundles):
    whole_year = [
        b
        for b in bundles
        if b.subscriber.signup_date < START and b.subscriber.status != "cancelled"
    ]

    assert len(whole_year) > 0.8 * len(bundles)
    for bundle in whole_year:
        months = [row[2] for row in bundle.usage]
        assert months == list(range(12))
        assert {row[1] for row in bundle.usage} == {bundle.subscriber.id}


def test_no_usage_before_signing_up_or_after_leaving(bundles):
    window = usage_window(TODAY)
    newcomers = [b for b in bundles if b.subscriber.signup_date >= START]
    leavers = [b for b in bundles if b.subscriber.status == "cancelled"]
    assert newcomers and leavers

    for bundle in newcomers:
        signed = epoch_day(bundle.subscriber.signup_date)
        assert all(window[row[2]][2] > signed for row in bundle.usage)
        first = bundle.usage[0][2] if bundle.usage else None
        assert first is None or window[first][0] == bundle.subscriber.signup_date.replace(day=1)
    for bundle in leavers:
        assert all(window[row[2]][1] <= bundle.end_day for row in bundle.usage)


def test_usage_ids_run_on_without_gaps(bundles):
    ids = [row[0] for b in bundles for row in b.usage]

    assert ids == list(range(1, len(ids) + 1))


def test_every_pattern_is_there_and_looks_like_itself(bundles):
    by_pattern: dict[str, list[Bundle]] = {}
    for bundle in bundles:
        if len(bundle.usage) == 12:
            by_pattern.setdefault(bundle.pattern, []).append(bundle)

    assert set(by_pattern) == {
        "typical", "light", "heavy", "summer_house", "student", "speed_bound", "shared",
    }  # fmt: skip
    light, heavy = by_pattern["light"], by_pattern["heavy"]
    assert all(hours(b) < 45 and gb(b) < 10 for b in light)
    assert all(gb(b) > 30 and hours(b) > 60 for b in heavy)
    assert all(PLAN_OF[b.subscriber.plan_id].kind != "flat" for b in heavy)
    for bundle in by_pattern["shared"]:
        assert bundle.subscriber.segment == "small_business"
        assert PLAN_OF[bundle.subscriber.plan_id].kind != "business"
        assert min(row[7] for row in bundle.usage) > 5  # people: more than one household
        assert min(row[6] for row in bundle.usage) > 5  # devices at once
    for bundle in by_pattern["speed_bound"]:
        plan = PLAN_OF[bundle.subscriber.plan_id]
        assert max(row[6] for row in bundle.usage) * 25 < plan.download_mbps


def test_seasons_summer_houses_in_summer_students_away_in_summer(bundles):
    summer_months = {
        n for n, (first, _, _) in enumerate(usage_window(TODAY)) if first.month in (6, 7, 8)
    }

    def summer_share(bundle: Bundle) -> float:
        summer = sum(row[3] for row in bundle.usage if row[2] in summer_months)
        return summer / max(sum(row[3] for row in bundle.usage), 1)

    houses = [b for b in bundles if b.pattern == "summer_house" and len(b.usage) == 12]
    students = [b for b in bundles if b.pattern == "student" and len(b.usage) == 12]

    assert houses and students
    assert mean(map(summer_share, houses)) > 0.7
    assert mean(map(summer_share, students)) < 0.1


def test_usage_drops_in_the_months_before_leaving(bundles):
    leavers = [b for b in bundles if b.subscriber.status == "cancelled" and len(b.usage) >= 6]
    assert leavers

    def last_two_against_before(bundle: Bundle) -> float:
        traffic = [row[3] for row in bundle.usage]
        return mean(traffic[-2:]) / mean(traffic[:-3])

    stayers = [b for b in bundles if b.subscriber.status == "active" and len(b.usage) == 12]
    # Seasons move single subscribers' months either way; on average, leaving shows.
    assert mean(map(last_two_against_before, leavers)) < 0.5
    assert 0.8 < mean(map(last_two_against_before, stayers)) < 1.2


def test_the_same_seed_gives_the_same_usage():
    first = generate(subscribers=300, seed=3)
    again = generate(subscribers=300, seed=3)
    other = generate(subscribers=300, seed=4)

    assert [b.usage for b in first] == [b.usage for b in again]
    assert [b.pattern for b in first] == [b.pattern for b in again]
    assert [b.usage for b in first] != [b.usage for b in other]


@pytest.mark.django_db
def test_seed_demo_loads_the_usage_and_computes_every_fit():
    output = seed(seed=5)

    bundles = generate(subscribers=600, seed=5)
    assert Usage.objects.count() == sum(len(b.usage) for b in bundles)
    first = next(b for b in bundles if len(b.usage) == 12)
    loaded = Usage.objects.filter(subscriber_id=first.subscriber.id).order_by("period")
    assert loaded[0].period == START
    assert [(round(u.gb_down * 100), round(u.hours_online * 10)) for u in loaded] == [
        (row[3], row[5]) for row in first.usage
    ]
    eligible = [
        b for b in bundles if b.subscriber.status != "cancelled" and len(b.usage) >= MIN_MONTHS
    ]
    assert TariffFit.objects.count() == len(eligible)
    assert set(TariffFit.objects.values_list("computed_on", flat=True)) == {TODAY}
    assert f"Computed {len(eligible):,} tariff fits" in output
    # The dashboard counts them at once, not only after the first night.
    counted = TariffFitSnapshot.objects.filter(day=TODAY).values_list("subscribers", flat=True)
    assert sum(counted) == len(eligible)


@pytest.mark.django_db
def test_the_demo_has_most_subscribers_fitting_and_every_kind_of_misfit():
    seed(subscribers=2500, heavy=0)

    verdicts = Counter(TariffFit.objects.values_list("verdict", flat=True))
    total = sum(verdicts.values())
    assert verdicts[TariffFit.Verdict.FITS] > total / 2
    for verdict in TariffFit.Verdict.values:
        assert verdicts[verdict] >= 0.01 * total, verdict


@pytest.mark.django_db
def test_reset_removes_usage_and_fits():
    seed(subscribers=80)
    assert Usage.objects.exists() and TariffFit.objects.exists()

    reset_demo_data()

    assert not Usage.objects.exists()
    assert not TariffFit.objects.exists()
    assert not Subscriber.objects.exists()


@pytest.mark.django_db
def test_seed_demo_reset_replaces_usage_and_fits():
    seed(subscribers=80, seed=1)

    seed(subscribers=50, seed=2, reset=True)

    assert Usage.objects.values("subscriber").distinct().count() <= 50
    assert Usage.objects.count() == sum(len(b.usage) for b in generate(subscribers=50, seed=2))
    assert not TariffFit.objects.exclude(subscriber__in=Subscriber.objects.all()).exists()
