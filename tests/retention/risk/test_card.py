"""The churn-risk model card: a manager sees what scores the subscribers, how well it did on
months it never saw, what learning adds over the rules, and what changed since the version
before; nobody else sees it."""

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from retention.risk.charts import calibration_chart, calibration_rows
from retention.risk.selectors import FEATURE_LABELS, feature_label, version_weights
from retention.risk.signals import FEATURES
from subscribers.phrases import said
from tests.factories import user_with_role
from tests.retention.risk.factories import RULES_WEIGHTS, risk_model, rules_model

pytestmark = pytest.mark.django_db

URL = reverse("risk_model")
TOO_LITTLE = {
    "code": "risk.model.too_little_history",
    "params": {"positives": 4, "months": 3, "needed": 30},
}


def card_html(client) -> str:
    response = client.get(URL)
    assert response.status_code == 200
    return response.content.decode()


# --- Who sees it --------------------------------------------------------------------------


def test_an_agent_is_refused(agent_client):
    risk_model()
    assert agent_client.get(URL).status_code == 403


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_dashboard_links_to_the_card(manager_client):
    html = manager_client.get(reverse("dashboard")).content.decode()
    assert f'href="{URL}"' in html


# --- A learned model ------------------------------------------------------------------------


def test_a_manager_sees_the_figures_of_the_learned_model_beside_the_rules(manager_client):
    trainer = user_with_role(username="ilze", first_name="Ilze", last_name="Ozola")
    risk_model(version=3, trained_by=trainer)
    html = card_html(manager_client)
    assert "Version 3" in html
    assert "Learned from outcomes" in html
    assert "Ilze Ozola" in html
    # The windows: learned from March to August, measured on September.
    assert "01.03.2026 to 31.08.2026" in html and "01.09.2026 to 01.10.2026" in html
    # Held out: AUC 0.781 against the rules' 0.702 (+0.079); top 10 %: 22.5 % against 15.0 %.
    assert "0.781" in html and "0.702" in html and "+0.079" in html
    assert "22.5 %" in html and "15.0 %" in html and "+7.5 pp" in html
    # Picking at random finds 240 of 4,800: 5.0 %.
    assert "5.0 %" in html
    assert "rule-based because" not in html and 'id="risk-rules-note"' not in html


def test_the_weights_are_labelled_strongest_first_with_the_way_they_push(manager_client):
    risk_model()
    response = manager_client.get(URL)
    weights = response.context["card"].weights
    assert [w.name for w in weights] == [
        "port_out_90d",
        "outages_30d",
        "tenure_years",
        "misfit_eur",
        "usage_known",
    ]
    assert [w.direction for w in weights] == ["up", "up", "down", "up", "none"]
    html = response.content.decode()
    assert "Port-out notice, last 90 days" in html
    assert "Tenure (years)" in html
    assert "raises the risk" in html and "lowers the risk" in html


def test_the_calibration_is_drawn_with_its_diagonal_and_given_as_a_table(manager_client):
    risk_model()
    html = card_html(manager_client)
    assert '<svg viewBox="0 0 302 290" role="img" aria-labelledby="risk-cal-title"' in html
    assert '<title id="risk-cal-title">' in html
    assert 'class="diagonal"' in html
    assert html.count('<circle class="point"') == 10
    assert 'id="risk-cal-table"' in html
    assert "Decile 10: predicted 19.0 %, observed 18.3 % (480 rows)" in html


def test_the_change_since_the_previous_version_names_the_weights_that_moved_most(
    manager_client,
):
    older = {
        "features": ["port_out_90d", "outages_30d", "tenure_years"],
        "coef": [1.0, 0.62, -0.45],
    }
    risk_model(version=1, auc=0.75, precision_top10=0.2, weights=older)
    risk_model(version=2)
    response = manager_client.get(URL)
    change = response.context["card"].change
    assert change.previous.version == 1
    assert change.auc == pytest.approx(0.031)
    assert change.precision_points == pytest.approx(2.5)
    # port-out +0.25, misfit new at 0.2, outages -0.02; tenure and usage_known did not move.
    assert [(w.label, w.change) for w in change.weights] == [
        ("Port-out notice, last 90 days", pytest.approx(0.25)),
        ("Tariff overpayment (€ a month)", pytest.approx(0.2)),
        ("Outages, last 30 days", pytest.approx(-0.02)),
    ]
    html = response.content.decode()
    assert "+0.031" in html and "+2.5 pp" in html
    assert 'id="risk-weight-changes"' in html


def test_after_a_rule_based_version_the_weights_are_not_compared(manager_client):
    rules_model(version=1)
    risk_model(version=2)
    response = manager_client.get(URL)
    assert response.context["card"].change.comparable is False
    html = response.content.decode()
    assert 'id="risk-kind-changed"' in html
    assert 'id="risk-weight-changes"' not in html


def test_between_rule_based_versions_the_points_that_changed_are_listed(manager_client):
    rules_model(version=1, weights={**RULES_WEIGHTS, "points": [6, 40, 8]})
    rules_model(version=2)
    response = manager_client.get(URL)
    change = response.context["card"].change
    assert [(w.label, w.before, w.after) for w in change.weights] == [
        ("Outages, last 30 days", 6, 8)
    ]
    assert "Rules whose points changed most" in response.content.decode()


def test_the_first_version_has_nothing_to_compare_with(manager_client):
    risk_model()
    assert 'id="risk-first"' in card_html(manager_client)


def test_every_version_is_listed_newest_first_with_the_active_one_marked(manager_client):
    risk_model(version=1)
    risk_model(version=2, is_active=False, auc=0.6)
    risk_model(version=3)
    response = manager_client.get(URL)
    card = response.context["card"]
    assert [v.version for v in card.versions] == [3, 2, 1]
    # The previous version is the one numbered before the active one.
    assert card.previous.version == 2
    html = response.content.decode()
    assert html.count('data-version="') == 3
    assert '<tr data-version="3" class="is-active">' in html


# --- A rule-based model ---------------------------------------------------------------------


def test_a_rule_based_model_says_why_and_shows_its_rules(manager_client):
    rules_model(note=TOO_LITTLE)
    response = manager_client.get(URL)
    html = response.content.decode()
    assert "The score is rule-based: there is too little history yet to learn from." in html
    with translation.override("en"):
        note = escape(said(TOO_LITTLE))
    assert note and f'<p id="risk-note">{note}</p>' in html  # the training's note, said
    # The rules, most points first: a port-out (40), outages (8 each, at most 24), first year.
    rules = response.context["card"].weights
    assert [(w.label, w.value, w.cap) for w in rules] == [
        ("Port-out notice, last 90 days", 40, 40),
        ("Outages, last 30 days", 8, 24),
        ("First year as a customer", 8, 8),
    ]
    assert 'id="risk-base"' in html  # every subscriber starts at 3 points
    assert "What learning adds" not in html
    assert 'id="risk-cal-none"' in html  # no held-out rows, no calibration


def test_the_card_is_said_in_the_managers_language(manager_client):
    risk_model()
    manager_client.post(reverse("set_language"), {"language": "lv", "next": URL})
    html = card_html(manager_client)
    assert '<html lang="lv"' in html
    assert "0,781" in html and "22,5 %" in html  # a decimal comma


# --- No model ---------------------------------------------------------------------------------


def test_without_a_model_the_card_says_how_to_train_one(manager_client):
    html = card_html(manager_client)
    assert "Nothing has been trained yet" in html
    assert "manage.py risk_train" in html
    assert 'id="risk-versions"' not in html


def test_versions_without_an_active_one_are_listed_but_none_is_shown_as_scoring(manager_client):
    risk_model(version=1, is_active=False)
    html = card_html(manager_client)
    assert "No version scores subscribers now" in html
    assert 'data-version="1"' in html


# --- Query counts -----------------------------------------------------------------------------


@pytest.mark.parametrize("versions", [2, 30])
def test_the_card_costs_the_same_queries_however_many_versions(
    manager_client, django_assert_num_queries, versions
):
    trainer = user_with_role(username="trainer")
    for version in range(1, versions + 1):
        risk_model(version=version, trained_by=trainer)
    # session, user, roles, every version's list fields, the active and previous versions in
    # full (with who trained the active one)
    with django_assert_num_queries(5):
        manager_client.get(URL)


def test_the_card_without_a_model_costs_one_query_for_the_versions(
    manager_client, django_assert_num_queries
):
    with django_assert_num_queries(4):  # session, user, roles, versions
        manager_client.get(URL)


# --- Reading stored weights defensively -------------------------------------------------------


def test_weights_with_missing_or_odd_keys_show_what_can_be_read(db):
    odd = risk_model(
        weights={"features": ["outages_30d", "new_signal", 7], "coef": [0.5, "x", 1.0, 2.0]}
    )
    assert [(w.label, w.value) for w in version_weights(odd)] == [("Outages, last 30 days", 0.5)]
    assert version_weights(risk_model(version=2, weights={})) == []
    assert version_weights(risk_model(version=3, weights={"coef": [1]})) == []
    unknown = risk_model(version=4, weights={"features": ["brand_new"], "coef": [0.3]})
    assert [w.label for w in version_weights(unknown)] == ["brand_new"]
    rules = rules_model(version=5, weights={**RULES_WEIGHTS, "caps": [24]})
    assert [(w.name, w.cap) for w in version_weights(rules)] == [
        ("port_out_90d", None),
        ("outages_30d", 24),
        ("tenure_years", None),
    ]


def test_a_calibration_that_cannot_be_read_draws_no_chart():
    assert calibration_rows("nonsense") == []
    assert calibration_rows([{"predicted": "a"}, 3, {"predicted": 0.1}]) == []
    rows = calibration_rows([{"predicted": 0.1, "observed": 0.2}, {"predicted": True}])
    assert [(r.decile, r.rows) for r in rows] == [(1, None)]
    assert calibration_chart([], str) is None
    chart = calibration_chart(rows, lambda row: f"decile {row.decile}")
    assert chart is not None and chart.points[0].title == "decile 1"


def test_every_feature_has_a_label_in_each_language():
    names = set(FEATURES)
    assert set(FEATURE_LABELS) == names
    with translation.override("en"):
        assert feature_label("misfit_eur") == "Tariff overpayment (€ a month)"


def test_a_version_without_windows_or_figures_still_shows(manager_client):
    risk_model(
        train_from=None,
        train_to=None,
        test_from=None,
        test_to=None,
        rows_test=0,
        positives_test=0,
        auc=None,
        precision_top10=None,
        rules_auc=None,
        rules_precision_top10=None,
        calibration={"predicted": 0.1},  # not a list: an older release's, say
        weights=["not", "a", "dict"],
        trained_by=None,
    )
    html = card_html(manager_client)
    assert "the nightly run or a command" in html
    assert 'id="risk-cal-none"' in html
