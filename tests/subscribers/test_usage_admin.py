"""The admin of plans' pricing, usage months and tariff fits."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from subscribers.models import Plan, TariffFit
from tests.factories import PlanFactory, SubscriberFactory, UsageFactory

pytestmark = pytest.mark.django_db

PLAN_ADD = "/admin/subscribers/plan/add/"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel("2026-04-15 10:00:00+03:00", tick=False):
        yield


def plan_form(**overrides: Any) -> dict[str, Any]:
    return {
        "code": "time-10",
        "name": "Time 10",
        "kind": "metered_time",
        "download_mbps": 100,
        "upload_mbps": 20,
        "list_price": "9.00",
        "new_customer_price": "8.00",
        "is_sold": "on",
        "sold_to_residential": "on",
        "included_hours": "40",
        "extra_hour_price": "0.50",
        "included_gb": "",
        "extra_gb_price": "",
        "included_seats": "",
        "extra_seat_price": "",
        "extras_cap": "",
        "description_en": "",
        "description_lv": "",
        "description_ru": "",
        **overrides,
    }


def errors_of(response: Any) -> dict[str, list[str]]:
    form = response.context["adminform"].form
    return {name: list(errors) for name, errors in form.errors.items()}


def test_a_metered_plan_is_saved_with_its_pricing(client, admin_user):
    client.force_login(admin_user)

    response = client.post(PLAN_ADD, plan_form(extras_cap="20.00"))

    assert response.status_code == 302
    plan = Plan.objects.get(code="time-10")
    assert (plan.included_hours, plan.extra_hour_price, plan.extras_cap) == (
        40,
        Decimal("0.50"),
        Decimal("20.00"),
    )


def test_the_page_groups_the_pricing_fields_by_kind(client, admin_user):
    client.force_login(admin_user)
    response = client.get(PLAN_ADD)
    names = [fieldset.name for fieldset in response.context["adminform"]]
    assert {"Metered by time", "Metered by volume", "Business / shared"} <= set(names)


def test_a_kinds_missing_fields_are_errors_on_the_fields(client, admin_user):
    client.force_login(admin_user)

    response = client.post(PLAN_ADD, plan_form(included_hours="", extra_hour_price=""))

    errors = errors_of(response)
    assert "Required for a plan of this kind (Metered by time)." in errors["included_hours"]
    assert "extra_hour_price" in errors
    assert "__all__" not in errors  # the field errors, not the constraint's name
    assert not Plan.objects.exists()


def test_another_kinds_fields_are_errors_on_the_fields(client, admin_user):
    client.force_login(admin_user)

    response = client.post(PLAN_ADD, plan_form(included_gb="50", extra_seat_price="3.00"))

    errors = errors_of(response)
    assert set(errors) == {"included_gb", "extra_seat_price"}
    assert "does not use it" in errors["included_gb"][0]


def test_a_flat_plan_takes_no_pricing_fields_and_no_cap(client, admin_user):
    client.force_login(admin_user)

    response = client.post(PLAN_ADD, plan_form(kind="flat", extras_cap="5.00"))

    assert set(errors_of(response)) == {"included_hours", "extra_hour_price", "extras_cap"}
    ok = client.post(PLAN_ADD, plan_form(kind="flat", included_hours="", extra_hour_price=""))
    assert ok.status_code == 302


def test_a_plan_must_be_sold_to_a_segment(client, admin_user):
    client.force_login(admin_user)
    form = plan_form()
    del form["sold_to_residential"]

    response = client.post(PLAN_ADD, form)

    assert "sold_to_residential" in errors_of(response)


def test_a_negative_extra_price_is_refused_on_its_field(client, admin_user):
    client.force_login(admin_user)
    response = client.post(PLAN_ADD, plan_form(extra_hour_price="-1"))
    assert "extra_hour_price" in errors_of(response)


# --- Usage and fits: read only -------------------------------------------------------------


def test_the_usage_list_filters_by_month_and_searches_by_account(
    client, admin_user, django_assert_num_queries
):
    anna = SubscriberFactory.create(account_number="A-1")
    for period in (date(2026, 1, 1), date(2026, 2, 1)):
        UsageFactory.create(subscriber=anna, period=period)
    UsageFactory.create_batch(5, period=date(2026, 2, 1))
    client.force_login(admin_user)

    # Session, user, the sidebar's contact policy check, the count, the page of rows (with
    # their subscribers).
    with django_assert_num_queries(5):
        response = client.get("/admin/subscribers/usage/", {"period": "2026-02"})

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 6
    assert b"2026-03" in response.content  # the filter lists the months, none from the data
    found = client.get("/admin/subscribers/usage/", {"q": "A-1"})
    assert len(found.context["cl"].result_list) == 2


def test_usage_is_read_only_in_the_admin(client, admin_user):
    usage = UsageFactory.create()
    client.force_login(admin_user)

    assert client.get("/admin/subscribers/usage/add/").status_code == 403
    page = client.get(f"/admin/subscribers/usage/{usage.pk}/change/")
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    assert client.post(f"/admin/subscribers/usage/{usage.pk}/delete/").status_code == 403


def test_the_fit_list_is_read_only_biggest_saving_first(
    client, admin_user, django_assert_num_queries
):
    plan = PlanFactory.create()
    for saving in ("3.00", "12.00", "7.50"):
        TariffFit.objects.create(
            subscriber=SubscriberFactory.create(plan=plan),
            computed_on=date(2026, 4, 15),
            months=6,
            current_cost=Decimal("30.00"),
            best_plan=plan,
            best_cost=Decimal("30.00") - Decimal(saving),
            saving=Decimal(saving),
            verdict=TariffFit.Verdict.LIGHT,
        )
    client.force_login(admin_user)

    with django_assert_num_queries(5):
        response = client.get("/admin/subscribers/tarifffit/", {"verdict": "light"})

    savings = [fit.saving for fit in response.context["cl"].result_list]
    assert savings == [Decimal("12.00"), Decimal("7.50"), Decimal("3.00")]
    assert client.get("/admin/subscribers/tarifffit/add/").status_code == 403
