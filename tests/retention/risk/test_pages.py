"""The churn-risk card on the subscriber page and on the case page (the same summary): the score
with its meter, the reasons in the reader's language, which model scored it and when, and a
plain line when the score is rule-based. All of it is on the subscriber's row: no query more."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import override

from retention.cases import services as cases
from subscribers.phrases import said
from tests.factories import CaseFactory, SubscriberFactory

pytestmark = pytest.mark.django_db

REASONS = [
    {"code": "risk.port_out", "params": {}},
    {"code": "risk.outages_30d", "params": {"count": 2, "hours": 5}},
    {"code": "risk.misfit", "params": {"amount": "12.50"}},
]
RULE_BASED = "A rule-based score: there is too little history yet to learn from."


def reasons_said() -> list[str]:
    """The reasons as an English reader sees them (the catalogue words them)."""
    with override("en"):
        return [escape(said(reason)) for reason in REASONS]


def scored(kind: str = "learned", **fields):
    values = {
        "churn_risk": 72,
        "churn_risk_reasons": REASONS,
        "churn_risk_version": 4,
        "churn_risk_scored_on": date(2026, 12, 5),
        "churn_risk_kind": kind,
        **fields,
    }
    return SubscriberFactory.create(**values)


def subscriber_html(client, subscriber) -> str:
    response = client.get(reverse("subscribers:detail", args=[subscriber.pk]))
    assert response.status_code == 200
    return response.content.decode()


def case_html(client, agent, subscriber) -> str:
    case = CaseFactory.create(subscriber=subscriber)
    cases.case_claim(case=case, actor=agent)
    response = client.get(reverse("case", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_subscriber_page_explains_a_learned_score(agent_client):
    html = subscriber_html(agent_client, scored())
    assert '<meter min="0" max="100" low="40" high="70" optimum="0" value="72"' in html
    items = html.split('id="risk-reasons">')[1].split("</ul>")[0]
    assert items == "".join(f"<li>{reason}</li>" for reason in reasons_said())
    assert "€12.50" in items  # the amount in the reader's money
    assert "Model v4, scored on 05.12.2026." in html
    assert RULE_BASED not in html
    assert "Not scored yet" not in html


def test_the_subscriber_page_says_when_the_score_is_rule_based(agent_client):
    html = subscriber_html(agent_client, scored("rules", churn_risk_version=1))
    assert "Model v1, scored on 05.12.2026." in html
    assert RULE_BASED in html


def test_a_subscriber_never_scored_is_said_to_be_so(agent_client):
    html = subscriber_html(agent_client, SubscriberFactory.create())
    assert "Not scored yet." in html
    assert "<meter" not in html.split('id="churn-risk"')[1].split("</section>")[0]


def test_a_score_without_reasons_says_nothing_raises_it(agent_client):
    html = subscriber_html(agent_client, scored(churn_risk=3, churn_risk_reasons=[]))
    assert 'id="risk-reasons-none"' in html


def test_the_reasons_are_said_in_the_readers_language(agent_client):
    old_plan = {"code": "risk.old_plan", "params": {"plan": "Fibre 100"}}
    subscriber = scored(churn_risk_reasons=[old_plan])
    agent_client.post(reverse("set_language"), {"language": "lv", "next": "/"})
    html = subscriber_html(agent_client, subscriber)
    assert '<html lang="lv"' in html
    assert "Tarifs vairs netiek pārdots (Fibre 100)" in html


def test_the_case_page_shows_the_reasons_and_the_rule_based_line(agent_client, agent):
    html = case_html(agent_client, agent, scored("rules"))
    for reason in reasons_said():
        assert f"<li>{reason}</li>" in html
    assert "Model v4, scored on 05.12.2026." in html
    assert RULE_BASED in html


def test_the_case_page_of_a_subscriber_never_scored(agent_client, agent):
    html = case_html(agent_client, agent, SubscriberFactory.create())
    assert "Not scored yet." in html


def test_the_explained_score_costs_the_subscriber_page_no_query(
    agent_client, django_assert_num_queries
):
    subscriber = scored("rules")
    # session, user, roles, subscriber+plan, tariff fit (none), equipment, contact policy (and
    # the desk's calendar: hours and days, two queries the cache then saves), recent contacts,
    # usage months (none), timeline page: as without a score
    with django_assert_num_queries(12):
        subscriber_html(agent_client, subscriber)


def test_the_explained_score_costs_the_case_page_no_query(
    agent_client, agent, django_assert_num_queries
):
    case = CaseFactory.create(subscriber=scored("rules"))
    cases.case_claim(case=case, actor=agent)
    # as tests/retention/test_case_views.py pins it for a case without a score
    with django_assert_num_queries(22):
        response = agent_client.get(reverse("case", args=[case.pk]))
    assert response.status_code == 200
