"""The churn-risk model in Chromium: a manager follows the dashboard's link to the model card and
reads the held-out AUC beside the rules' and the calibration chart; an agent opens a case and
reads why the subscriber is at risk, and that the score is rule-based; an administrator asks
for a new model from the admin. In English, Latvian and Russian.

``SCREENSHOTS=dir`` keeps a screenshot of each page and of the chart and the risk card, to look
at.
"""

import os
from datetime import date
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from retention.cases import services as cases
from retention.models import User
from retention.risk.admin import TRAIN_TASK
from retention.system.services import demo_users_ensure
from tests.browser.login import log_in
from tests.factories import CaseFactory, SubscriberFactory
from tests.retention.risk.factories import risk_model, rules_model

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ("en", "lv", "ru")
# The held-out AUC as each language writes it.
AUC = {"en": "0.781", "lv": "0,781", "ru": "0,781"}
REASONS = [
    {"code": "risk.port_out", "params": {}},
    {"code": "risk.outages_30d", "params": {"count": 2, "hours": 5}},
    {"code": "risk.misfit", "params": {"amount": "12.50"}},
]


def keep(page: Page, name: str, selector: str | None = None) -> None:
    folder = os.environ.get("SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    path = str(Path(folder) / f"{name}.png")
    if selector:
        page.locator(selector).screenshot(path=path)
    else:
        page.screenshot(path=path, full_page=True)


def _switch_language(page: Page, language: str) -> None:
    """As a person does: the language picker in the top bar."""
    picker = page.locator("#language-select")
    if picker.input_value() != language:
        with page.expect_navigation():
            picker.select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)


def test_a_manager_follows_the_dashboard_to_the_model_card(live_server, page):
    demo_users_ensure()
    risk_model(version=1, auc=0.75, precision_top10=0.2)
    risk_model(version=2, trained_by=User.objects.get(username="admin"))
    log_in(page, live_server, "Manager")
    for language in LANGUAGES:
        page.goto(f"{live_server.url}{reverse('dashboard')}")
        _switch_language(page, language)
        with page.expect_navigation():
            page.locator("#risk-model-link").click()
        assert page.url.endswith(reverse("risk_model"))
        expect(page.locator("#tile-auc .tile-value")).to_have_text(AUC[language])
        expect(page.locator("#risk-compare-auc")).to_contain_text(AUC[language])
        chart = page.locator("#risk-cal-svg")
        expect(chart).to_be_visible()
        expect(chart.locator("circle.point")).to_have_count(10)
        expect(chart.locator("line.diagonal")).to_have_count(1)
        expect(page.locator("#risk-weights-table tbody tr")).to_have_count(5)
        expect(page.locator("#risk-versions-table tbody tr")).to_have_count(2)
        expect(page.locator("#risk-delta-auc")).to_contain_text("+0")
        # The figures behind the chart open in place.
        page.locator(".risk-cal-figures summary").click()
        expect(page.locator("#risk-cal-table tbody tr")).to_have_count(10)
        keep(page, f"risk-model-{language}")
        keep(page, f"risk-model-chart-{language}", "#risk-calibration")


def test_a_manager_reads_that_the_score_is_rule_based(live_server, page):
    demo_users_ensure()
    rules_model(
        note={
            "code": "risk.model.too_little_history",
            "params": {"positives": 4, "months": 3, "needed": 30},
        }
    )
    log_in(page, live_server, "Manager")
    for language in LANGUAGES:
        page.goto(f"{live_server.url}{reverse('risk_model')}")
        _switch_language(page, language)
        expect(page.locator("#risk-rules-note")).to_be_visible()
        expect(page.locator("#risk-note")).not_to_be_empty()
        expect(page.locator("#risk-weights-table tbody tr")).to_have_count(3)
        keep(page, f"risk-model-rules-{language}")


def test_an_agent_reads_why_the_subscriber_is_at_risk_on_the_case(live_server, page):
    demo_users_ensure()
    subscriber = SubscriberFactory.create(
        name="Anna Ozola",
        churn_risk=72,
        churn_risk_reasons=REASONS,
        churn_risk_version=1,
        churn_risk_scored_on=date(2026, 12, 5),
        churn_risk_kind="rules",
    )
    case = CaseFactory.create(subscriber=subscriber)
    cases.case_claim(case=case, actor=User.objects.get(username="agent"))
    log_in(page, live_server, "Agent")
    for language in LANGUAGES:
        page.goto(f"{live_server.url}{reverse('case', args=[case.pk])}")
        _switch_language(page, language)
        card = page.locator("#churn-risk")
        card.scroll_into_view_if_needed()
        expect(card.locator("#risk-value")).to_have_text("72")
        expect(card.locator("meter")).to_have_attribute("value", "72")
        expect(card.locator("#risk-reasons li")).to_have_count(3)
        for reason in card.locator("#risk-reasons li").all():
            expect(reason).not_to_be_empty()
        expect(card.locator("#risk-scored")).to_contain_text("v1")
        expect(card.locator("#risk-rule-based")).to_be_visible()
        keep(page, f"risk-case-{language}")
        keep(page, f"risk-case-card-{language}", "#churn-risk")


def test_an_administrator_asks_for_a_new_model(live_server, page, monkeypatch):
    asked: list[tuple[str, tuple[object, ...]]] = []
    monkeypatch.setattr(
        "retention.core.broker.enqueue", lambda task, *args: asked.append((task, args))
    )
    demo_users_ensure()
    risk_model()
    log_in(page, live_server, "Admin")
    page.goto(f"{live_server.url}{reverse('admin:retention_riskmodel_changelist')}")
    keep(page, "risk-admin-list")
    page.locator("#risk-train-link").click()
    expect(page.locator("#risk-train-form")).to_be_visible()
    keep(page, "risk-admin-train")
    with page.expect_navigation():
        page.locator("#risk-train-form input[type=submit]").click()
    expect(page.locator(".messagelist")).to_contain_text("manage.py risk_train")
    assert asked == [(TRAIN_TASK, (User.objects.get(username="admin").pk,))]
