"""Experiments in Chromium: a manager starts one through the form with the keyboard, checks
what will happen and confirms; an agent opens a case in its slot, sees the case's arm first in
the offer builder, proposes another offer; the experiment's page counts the deviation.

``SCREENSHOTS=dir`` keeps a full-page screenshot of each step, to look at what the test saw.
"""

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Page, expect

from offers.models import OfferKind
from retention.cases.services import case_claim
from retention.experiments.assignment import arm_index, case_key, draw_for
from retention.models import (
    CancellationReason,
    Experiment,
    ExperimentAssignment,
    OutreachCampaign,
)
from retention.outreach.audience import campaign_fan_out
from retention.system.services import demo_users_ensure
from tests.browser.axe import accessibility_problems
from tests.browser.clock import next_tuesday_at
from tests.browser.login import log_in
from tests.browser.watch import expect_status
from tests.factories import CaseFactory, SubscriberFactory, offer_template

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shoot(page: Page, name: str) -> None:
    if folder := os.environ.get("SCREENSHOTS"):
        page.set_viewport_size({"width": 1440, "height": 900})
        page.screenshot(path=str(Path(folder) / f"experiments-{name}.png"), full_page=True)


@pytest.fixture
def desk(tiers):
    """A working Tuesday; two offers within an agent's authority; five price cases of long
    standing subscribers, claimed by the demo agent before any experiment runs."""
    with time_machine.travel(next_tuesday_at(11), tick=True):
        agent = demo_users_ensure()[0]
        offer_template(
            "loyalty-5-6",
            OfferKind.FIXED_DISCOUNT,
            amount=Decimal("5"),
            months=6,
            name_en="Loyalty: €5 off for 6 months",
        )
        offer_template(
            "discount-10-6",
            OfferKind.PERCENT_DISCOUNT,
            percent=Decimal("10"),
            months=6,
            name_en="10% off for 6 months",
        )
        price = CancellationReason.objects.get_or_create(
            code="price", defaults={"category": "price", "name_en": "Price"}
        )[0]
        cases = []
        for n in range(5):
            subscriber = SubscriberFactory.create(name=f"Ilga Kalna {n}")
            cases.append(
                case_claim(
                    case=CaseFactory.create(subscriber=subscriber, reason=price), actor=agent
                )
            )
        yield cases


def start_experiment_with_the_keyboard(page: Page, live_server) -> None:
    log_in(page, live_server, "Manager")
    page.goto(f"{live_server.url}/dashboard/")
    page.locator("#experiments-link").click()
    expect(page.locator("h1")).to_have_text("Experiments")
    page.locator("#start-experiment").focus()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Start an experiment")
    page.get_by_label("Name").fill("Price, loyal")
    page.get_by_label("Reason").select_option(label="Price")
    page.get_by_label("Tenure at least, months").fill("37")
    page.get_by_label("Offer 1:", exact=True).select_option(label="Loyalty: €5 off for 6 months")
    page.get_by_label("Share of offer 1, %").fill("45")
    page.get_by_label("Offer 2:", exact=True).select_option(label="10% off for 6 months")
    page.get_by_label("Share of offer 2, %").fill("40")  # 45 + 40 + 10: not 100
    page.get_by_label("Holdout, %").fill("10")
    expect_status(page, 400)  # the form comes back with its error
    page.get_by_label("Holdout, %").press("Enter")  # submits, as Enter in a field does
    expect(page.locator("#experiment-form-errors")).to_contain_text("add up to 95 %")
    shoot(page, "1-form-error")
    assert not accessibility_problems(page, "the experiment form with an error")
    page.get_by_label("Share of offer 2, %").fill("45")
    page.locator("#experiment-review").focus()
    page.keyboard.press("Enter")
    confirm = page.locator("#experiment-confirm")
    expect(confirm).to_contain_text("What will happen")
    expect(page.locator("#confirm-arms")).to_contain_text("Loyalty: €5 off for 6 months — 45 %")
    expect(page.locator("#confirm-arms")).to_contain_text("Holdout")
    shoot(page, "2-confirm")
    assert not accessibility_problems(page, "the experiment's confirmation")
    page.locator("#experiment-confirm-start").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#experiment-status")).to_have_text("Running")
    shoot(page, "3-started")
    assert not accessibility_problems(page, "the experiment page")


def test_a_manager_starts_an_experiment_and_an_agent_works_an_assigned_case(
    live_server, page, desk
):
    start_experiment_with_the_keyboard(page, live_server)
    experiment = Experiment.objects.get()
    arms = list(experiment.arms.select_related("template"))
    weights = [a.weight for a in arms]

    def arm_of(case):
        return arms[
            arm_index(weights=weights, draw=draw_for(seed=experiment.seed, key=case_key(case.pk)))
        ]

    # The drawn arm is known from the seed; take a case the draw puts in an offer arm.
    case = next(c for c in desk if not arm_of(c).is_holdout)
    arm = arm_of(case)
    other = next(a.template for a in arms if a.template and a != arm)

    page.context.clear_cookies()
    log_in(page, live_server, "Agent")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    banner = page.locator("#experiment-arm")
    expect(banner).to_contain_text(
        f"Experiment Price, loyal: this case is in arm ‘{arm.template.name_en}’."
    )
    first_row = page.locator("#offer-builder tbody tr").first
    expect(first_row).to_have_attribute("data-offer", arm.template.code)
    expect(first_row).to_contain_text("Experiment arm")
    shoot(page, "4-case-arm-first")
    assert not accessibility_problems(page, "the case page with an experiment arm")
    another = page.locator(f'#offer-builder tr[data-offer="{other.code}"]')
    another.get_by_role("button", name="Propose").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#offer-status")).to_have_text("Approved")
    assignment = ExperimentAssignment.objects.get(case=case)
    assert assignment.arm == arm and assignment.offered_template == other
    assert assignment.followed is False

    page.context.clear_cookies()
    log_in(page, live_server, "Manager")
    page.goto(f"{live_server.url}/dashboard/experiments/{experiment.pk}/")
    row = page.locator(f"#arm-{arm.pk}")
    expect(row.locator('[data-figure="cases"]')).to_have_text("1")
    expect(row.locator('[data-figure="deviations"]')).to_contain_text("1")
    expect(row.locator('[data-figure="deviations"]')).to_contain_text("of 1 proposed")
    expect(row.locator('[data-figure="versus"]')).to_contain_text("Too small to tell")
    shoot(page, "5-deviation-counted")


@pytest.fixture
def recipients(tiers):
    """Twelve residential subscribers of long standing, reachable by SMS now, and two offers."""
    with time_machine.travel(next_tuesday_at(11), tick=True):
        demo_users_ensure()
        offer_template(
            "loyalty-5-6",
            OfferKind.FIXED_DISCOUNT,
            amount=Decimal("5"),
            months=6,
            name_en="Loyalty: €5 off for 6 months",
        )
        offer_template(
            "discount-10-6",
            OfferKind.PERCENT_DISCOUNT,
            percent=Decimal("10"),
            months=6,
            name_en="10% off for 6 months",
        )
        yield SubscriberFactory.create_batch(12)


def test_a_manager_starts_an_outreach_experiment_and_the_campaign_page_shows_the_held_out(
    live_server, page, monkeypatch, recipients
):
    monkeypatch.setattr("retention.core.broker.enqueue", lambda task, *args: True)
    log_in(page, live_server, "Manager")
    page.goto(f"{live_server.url}/dashboard/experiments/new/")
    page.get_by_label("Name").fill("Outreach, loyal")
    page.get_by_label("Outreach recipients").check()
    page.get_by_label("Tenure at least, months").fill("36")
    page.get_by_label("Offer 1:", exact=True).select_option(label="Loyalty: €5 off for 6 months")
    page.get_by_label("Share of offer 1, %").fill("50")
    page.get_by_label("Holdout, %").fill("50")
    page.locator("#experiment-review").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#experiment-confirm")).to_contain_text("held out on the campaign")
    page.locator("#experiment-confirm-start").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#experiment-status")).to_have_text("Running")
    experiment = Experiment.objects.get()
    assert experiment.audience == Experiment.Audience.OUTREACH
    holdout = experiment.arms.get(template__isnull=True)
    weights = [a.weight for a in experiment.arms.all()]
    held = sum(
        1
        for s in recipients
        if arm_index(weights=weights, draw=draw_for(seed=experiment.seed, key=f"subscriber:{s.pk}"))
        == list(experiment.arms.all()).index(holdout)
    )
    assert 0 < held < 12  # 2 ** -12 each way at a random seed

    # A campaign with another offer, launched through its confirmation.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Outreach").click()
    page.get_by_role("link", name="New campaign").click()
    form = page.locator("#campaign-form")
    form.get_by_label("Name").fill("Winter")
    form.get_by_label("Offer").select_option(label="10% off for 6 months")
    form.get_by_label("Channel").select_option("sms")
    form.get_by_label("not contacted in this many days").fill("0")
    for language in ("Latvian", "Russian", "English"):
        form.get_by_label(f"message ({language})").fill("{name}: {offer}. {link}")
    form.get_by_role("button", name="Save the draft").click()
    expect(page.locator("#campaign-state")).to_have_text("Draft")
    page.get_by_role("link", name="Launch…").click()
    page.get_by_role("button", name=re.compile(r"^Launch now")).click()
    expect(page.locator("#campaign-state")).to_have_text("Running")
    # The worker makes the messages: the held-out recipients' are skipped, with the reason.
    assert campaign_fan_out(campaign=OutreachCampaign.objects.get()) == 12
    skipped = page.locator("#progress-skipped")
    expect(skipped).to_contain_text(f"{held}")
    expect(skipped).to_contain_text(f"held out by an experiment: no message: {held}")
    shoot(page, "6-campaign-held-out")
    assert not accessibility_problems(page, "the campaign page with held-out recipients")

    page.goto(f"{live_server.url}/dashboard/experiments/{experiment.pk}/")
    row = page.locator(f"#arm-{holdout.pk}")
    expect(row.locator('[data-figure="recipients"]')).to_have_text(str(held))
    shoot(page, "7-outreach-experiment")
    assert not accessibility_problems(page, "an outreach experiment's page")
