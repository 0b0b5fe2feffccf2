"""The campaign criterion "would save at least €X a month on another plan": set-based on the
tariff fit (saving at least X, and a verdict other than "fits"), in the form and on the page,
and the annual notice campaign in the list."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from offers.models import OfferKind
from retention.models import OutreachCampaign
from retention.outreach import services as outreach
from retention.outreach.audience import campaign_matching
from retention.outreach.rendering import campaign_preview
from subscribers.models import TariffFit
from tests.factories import PlanFactory, SubscriberFactory, offer_template

pytestmark = pytest.mark.django_db

D = Decimal
BODIES = {"body_lv": "{link}", "body_ru": "{link}", "body_en": "{link}"}


@pytest.fixture
def loyalty():
    return offer_template("loyalty-tariff", OfferKind.PLAN_CHANGE)


def with_fit(saving: str | None, verdict: str = TariffFit.Verdict.LIGHT, **fields):
    subscriber = SubscriberFactory.create(**fields)
    if saving is not None:
        TariffFit.objects.create(
            subscriber=subscriber,
            computed_on=date(2026, 3, 1),
            months=6,
            current_cost=D("29.99"),
            best_plan=PlanFactory.create(code="small", name="Fibre small"),
            best_cost=D("29.99") - D(saving),
            saving=D(saving),
            verdict=verdict,
        )
    return subscriber


def draft(manager, template, **fields) -> OutreachCampaign:
    values = {
        "name": "Savers",
        "template": template,
        "channel": "email",
        "not_contacted_days": 0,
        **BODIES,
        **fields,
    }
    return outreach.campaign_create(actor=manager, values=values)


def test_the_criterion_picks_exactly_those_who_would_save_at_least_that_much(
    manager, loyalty, django_assert_num_queries
):
    saves_more = with_fit("12.50")
    saves_exactly = with_fit("10.00")
    with_fit("9.99")  # a cent short
    with_fit("15.00", verdict=TariffFit.Verdict.FITS)  # their plan fits them
    with_fit("-4.00", verdict=TariffFit.Verdict.SHARED)  # the plan that fits costs more
    with_fit(None)  # no fit at all
    with_fit("20.00", region="Kurzeme")
    campaign = draft(manager, loyalty, min_saving=D("10.00"), region="Rīga")
    with django_assert_num_queries(1):
        found = set(campaign_matching(campaign).values_list("pk", flat=True))
    assert found == {saves_more.pk, saves_exactly.pk}
    assert campaign_preview(campaign).matched == 2


def test_without_the_criterion_fits_do_not_matter(manager, loyalty):
    people = {with_fit("12.50").pk, with_fit(None).pk, with_fit("1.00").pk}
    campaign = draft(manager, loyalty)
    assert campaign.min_saving is None
    assert set(campaign_matching(campaign).values_list("pk", flat=True)) == people


def test_a_criterion_of_zero_takes_everyone_whose_plan_does_not_fit(manager, loyalty):
    misfit = with_fit("0.00", verdict=TariffFit.Verdict.SPEED)
    with_fit("0.00", verdict=TariffFit.Verdict.FITS)
    campaign = draft(manager, loyalty, min_saving=D("0"))
    assert set(campaign_matching(campaign).values_list("pk", flat=True)) == {misfit.pk}


def form(loyalty, **changes) -> dict:
    return {
        "name": "Savers",
        "template": loyalty.pk,
        "channel": "email",
        "min_tenure_months": 0,
        "min_penalty_percent": 0,
        "promo_ended_days": "",
        "min_risk": 0,
        "segment": "",
        "region": "",
        "plan": "",
        "not_contacted_days": 30,
        "min_saving": "",
        "subject": "",
        **BODIES,
        **changes,
    }


def test_a_manager_sets_the_criterion_in_the_form_and_sees_it_on_the_page(manager_client, loyalty):
    page = manager_client.get(reverse("campaign_create")).content.decode()
    assert 'name="min_saving"' in page and 'id="criterion-saving"' in page
    answer = manager_client.post(reverse("campaign_create"), form(loyalty, min_saving="7.50"))
    assert answer.status_code == 302
    campaign = OutreachCampaign.objects.get()
    assert campaign.min_saving == D("7.50")
    shown = manager_client.get(reverse("campaign", args=[campaign.pk])).content.decode()
    assert re.search(r'id="criterion-saving">€7\.50 a month on the plan that fits', shown)
    edit = manager_client.get(reverse("campaign_edit", args=[campaign.pk])).content.decode()
    assert 'value="7.50"' in edit


def test_the_form_refuses_a_negative_saving(manager_client, loyalty):
    answer = manager_client.post(reverse("campaign_create"), form(loyalty, min_saving="-1"))
    assert answer.status_code == 400
    assert "min_saving" in answer.context["form"].errors
    assert not OutreachCampaign.objects.exists()


def test_a_campaign_without_the_criterion_does_not_show_it(manager_client, manager, loyalty):
    campaign = draft(manager, loyalty)
    shown = manager_client.get(reverse("campaign", args=[campaign.pk])).content.decode()
    assert 'id="criterion-saving"' not in shown
