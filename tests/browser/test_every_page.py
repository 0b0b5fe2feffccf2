"""Every page of the desk opened in Chromium by each role, in each language, on the demo data
`make run` loads: every page answers, shows its heading, logs no script error or CSP violation
(the `page` fixture fails the test on those and on any unexpected 4xx/5xx), and has no serious
or critical WCAG 2.2 A/AA violation that axe-core finds (tests/browser/axe.py). A language
changes the words, so each page is checked in each: a longer label can lose its contrast or
its room.

`SCREENSHOTS=dir` keeps a full-page screenshot of each, named role-language-page.png, for a
person to look at.
"""

import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import Page, expect

from offers.models import CounterOffer
from retention.models import (
    CancellationCase,
    Experiment,
    HardshipArrangement,
    OutreachCampaign,
    User,
)
from subscribers.models import Subscriber
from tests.browser.axe import accessibility_problems
from tests.browser.login import log_in

# serialized_rollback: the data the migrations load (the cancellation reasons, the offer
# catalogue's defaults) is there as `make run` has it; a transactional test's flush removes it.
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

LANGUAGES = ("en", "lv", "ru")


@pytest.fixture
def demo_desk(settings, tmp_path):
    """The data `make run` loads, smaller."""
    settings.VAR_DIR = tmp_path
    call_command("seed_demo", subscribers=80, events_per_subscriber=6, heavy_events=40)
    call_command("seed_offers")
    call_command("demo_users")
    call_command("seed_cases", cases=20, history_days=20, history_per_day=3)
    call_command("seed_outreach")
    call_command("seed_hardship")
    call_command("risk_train", if_none=True)  # as make run does: every score computed


def _pages(role: str) -> list[str]:
    case = CancellationCase.objects.filter(owner__username="agent").order_by("pk").first()
    assert case is not None, "the demo gives the agent cases of their own"
    subscriber = Subscriber.objects.order_by("pk").first()
    assert subscriber is not None
    worker = [
        reverse("queue"),
        reverse("my_cases"),
        reverse("my_figures"),
        reverse("callbacks"),
        reverse("case", args=[case.pk]),
        reverse("case_open", args=[subscriber.pk]),
        reverse("subscribers:search") + "?q=a",
        reverse("subscribers:detail", args=[case.subscriber_id]),
        reverse("subscriber_offers", args=[case.subscriber_id]),
        *(
            reverse("subscribers:detail", args=[arrangement.subscriber_id])
            for arrangement in HardshipArrangement.objects.order_by("pk")[:1]
        ),
        reverse("notifications"),
        reverse("preferences"),
        reverse("health"),
    ]
    if role == "Agent":
        return worker
    campaign = OutreachCampaign.objects.order_by("pk").first()
    assert campaign is not None
    manager = [
        reverse("approvals"),
        reverse("delegation"),
        reverse("campaigns"),
        reverse("campaign_create"),
        reverse("campaign", args=[campaign.pk]),
        reverse("dashboard"),
        reverse("dashboard") + "?period=12m&by=agent",
        reverse("dashboard_cases"),
        reverse("dashboard_tariff_fit", args=["light"]),
        reverse("risk_model"),
        reverse("agent_figures", args=[User.objects.get(username="agent").pk]),
        reverse("experiments"),
        reverse("experiment_start"),
    ]
    experiment = Experiment.objects.order_by("pk").first()
    assert experiment is not None, "the demo runs an experiment"
    manager.append(reverse("experiment", args=[experiment.pk]))
    if role == "Manager":
        return worker + manager
    offer = CounterOffer.objects.order_by("pk").first()
    admin = [
        reverse("admin:index"),
        reverse("admin:subscribers_subscriber_changelist"),
        reverse("admin:subscribers_subscriber_change", args=[subscriber.pk]),
        reverse("admin:subscribers_plan_changelist"),
        reverse("admin:offers_offertemplate_changelist"),
        reverse("admin:offers_authoritytier_changelist"),
        reverse("admin:subscribers_contactpolicy_changelist"),
        reverse("admin:retention_cancellationcase_changelist"),
        reverse("admin:retention_riskmodel_changelist"),
        reverse("admin:retention_experiment_changelist"),
        reverse("admin:retention_experimentassignment_changelist"),
    ]
    if offer is not None:
        admin.append(reverse("admin:offers_counteroffer_change", args=[offer.pk]))
    arrangement = HardshipArrangement.objects.order_by("pk").first()
    if arrangement is not None:
        admin.append(reverse("admin:retention_hardshiparrangement_changelist"))
        admin.append(reverse("admin:retention_hardshiparrangement_change", args=[arrangement.pk]))
    return admin


def _switch_language(page: Page, language: str) -> None:
    """As a person does: the language picker in the top bar."""
    picker = page.locator("#language-select")
    if picker.count() == 0:  # the admin has no desk top bar
        return
    if picker.input_value() != language:
        with page.expect_navigation():
            picker.select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)


def _walk(page: Page, live_server, role: str) -> None:
    shots = os.environ.get("SCREENSHOTS")
    log_in(page, live_server, role)
    urls = _pages(role)
    problems = []
    for language in LANGUAGES:
        page.goto(f"{live_server.url}{reverse('preferences')}")
        _switch_language(page, language)
        for url in urls:
            response = page.goto(f"{live_server.url}{url}")
            assert response is not None and response.status == 200, (url, response)
            expect(page.locator("h1").first).to_be_visible()
            # Every page's problems at once: one run shows the whole list to fix.
            problems.append(accessibility_problems(page, f"{role}, {language}, {url}"))
            if shots:
                name = url.strip("/").replace("/", "_").replace("?", "_") or "home"
                path = Path(shots) / f"{role.lower()}-{language}-{name}.png"
                page.screenshot(path=str(path), full_page=True)
    problems = [found for found in problems if found]
    assert not problems, "axe (WCAG 2.2 A/AA) found serious violations:\n" + "\n".join(problems)


def test_an_agent_opens_every_page_of_theirs_in_every_language(demo_desk, live_server, page):
    _walk(page, live_server, "Agent")


def test_a_manager_opens_every_page_of_theirs_in_every_language(demo_desk, live_server, page):
    _walk(page, live_server, "Manager")


def test_an_admin_opens_the_administration_in_every_language(demo_desk, live_server, page):
    _walk(page, live_server, "Admin")


def test_an_agent_is_refused_a_managers_page_with_the_desks_layout(demo_desk, live_server, page):
    from tests.browser.watch import expect_status

    log_in(page, live_server, "Agent")
    expect_status(page, 403)
    response = page.goto(f"{live_server.url}{reverse('approvals')}")
    assert response is not None and response.status == 403
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
