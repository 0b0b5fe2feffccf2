"""The experiments pages: managers only, the form's errors, the confirmation, query counts."""

import pytest
from django.urls import reverse

from retention.experiments.assignment import experiment_assign_case
from retention.experiments.services import ArmSpec, Slot, experiment_start
from retention.models import Experiment, ExperimentAssignment
from tests.factories import CaseFactory
from tests.retention.experiments.helpers import price_reason


def form_data(loyalty, twenty, **changes):
    data = {
        "name": "Price, loyal",
        "reason_category": "price",
        "segments": ["residential"],
        "min_tenure_months": "37",
        "max_tenure_months": "",
        "offer_1": str(loyalty.pk),
        "weight_1": "45",
        "offer_2": str(twenty.pk),
        "weight_2": "45",
        "offer_3": "",
        "weight_3": "",
        "holdout": "10",
    }
    return data | changes


@pytest.mark.parametrize(
    ("name", "method", "args"),
    [
        ("experiments", "get", False),
        ("experiment_start", "get", False),
        ("experiment_start", "post", False),
        ("experiment", "get", True),
        ("experiment_stop", "post", True),
    ],
)
def test_agents_are_refused_every_experiments_page(agent_client, experiment, name, method, args):
    url = reverse(name, args=[experiment.pk] if args else [])
    response = getattr(agent_client, method)(url)
    assert response.status_code == 403
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.RUNNING


def test_a_manager_reviews_then_confirms_and_the_experiment_runs(manager_client, loyalty, twenty):
    url = reverse("experiment_start")
    review = manager_client.post(url, form_data(loyalty, twenty))
    assert review.status_code == 200
    assert "What will happen" in review.content.decode()
    assert not Experiment.objects.exists()
    response = manager_client.post(url, form_data(loyalty, twenty, confirmed="on"))
    experiment = Experiment.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "experiment", args=[experiment.pk]
    )
    assert (experiment.reason_category, experiment.segments) == ("price", ["residential"])
    assert experiment.min_tenure_months == 37 and experiment.max_tenure_months is None
    assert [(a.template, a.weight) for a in experiment.arms.all()] == [
        (loyalty, 45),
        (twenty, 45),
        (None, 10),
    ]


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"weight_2": "40"}, "add up to 95 %"),
        ({"weight_2": ""}, "Give this offer"),
        ({"offer_3": "", "weight_3": "5"}, "Choose an offer for this share"),
        ({"min_tenure_months": "40", "max_tenure_months": "12"}, "below the lower bound"),
        ({"name": ""}, "This field is required"),
        ({"holdout": "abc"}, "Enter a whole number"),
    ],
)
def test_bad_input_is_a_form_error_and_starts_nothing(
    manager_client, loyalty, twenty, changes, error
):
    data = form_data(loyalty, twenty, confirmed="on", **changes)
    response = manager_client.post(reverse("experiment_start"), data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Experiment.objects.exists()


def test_an_overlapping_slot_is_refused_with_the_running_experiments_name(
    manager_client, experiment, loyalty, twenty
):
    data = form_data(loyalty, twenty, name="Another", confirmed="on")
    response = manager_client.post(reverse("experiment_start"), data)
    assert response.status_code == 409
    assert "“Price, loyal” is already running" in response.content.decode()
    assert Experiment.objects.count() == 1


def test_stopping_from_the_page_and_again_says_it_is_stopped(manager_client, experiment):
    url = reverse("experiment_stop", args=[experiment.pk])
    response = manager_client.post(url, {"note": "enough"}, follow=True)
    assert "Stopped: no more cases are assigned to it." in response.content.decode()
    response = manager_client.post(url, {"note": ""}, follow=True)
    assert "This experiment is stopped already." in response.content.decode()


@pytest.mark.parametrize("count", [1, 4])
def test_the_list_page_query_count_is_constant(
    manager_client, manager, loyalty, django_assert_num_queries, count
):
    for n in range(count):
        experiment_start(
            name=f"Tenure {n}",
            slot=Slot(min_tenure_months=n * 10, max_tenure_months=n * 10 + 9),
            arms=[ArmSpec(loyalty, 90), ArmSpec(None, 10)],
            actor=manager,
        )
    # session, user, roles; the experiments with their case counts, their arms, the offers
    with django_assert_num_queries(6):
        response = manager_client.get(reverse("experiments"))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("language", "counted"),
    [
        ("en", ["1 cancellation case", "2 cancellation cases", "5 cancellation cases"]),
        ("lv", ["1 atteikuma lieta", "2 atteikuma lietas", "5 atteikuma lietas"]),
        (
            "ru",
            ["1 обращение о расторжении", "2 обращения о расторжении", "5 обращений о расторжении"],
        ),
    ],
)
def test_the_list_counts_each_experiments_cases_in_the_readers_grammar(
    manager_client, experiment, settings, language, counted
):
    manager_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    said: list[str] = []
    for target in (1, 2, 5):
        while ExperimentAssignment.objects.filter(experiment=experiment).count() < target:
            experiment_assign_case(case=CaseFactory.create(reason=price_reason()))
        body = manager_client.get(reverse("experiments")).content.decode()
        said.append(next((text for text in counted if f">{text}</td>" in body), body))
    assert said == counted


@pytest.mark.parametrize("cases", [2, 30])
def test_the_experiment_page_query_count_is_constant(
    manager_client, experiment, django_assert_num_queries, cases
):
    reason = price_reason()
    for case in CaseFactory.create_batch(cases, reason=reason):
        experiment_assign_case(case=case)
    assert ExperimentAssignment.objects.count() == cases
    # session, user, roles; the experiment (+ who started it), its arms with their offers, its
    # history and who made each change; the figures (one aggregate)
    with django_assert_num_queries(9):
        response = manager_client.get(reverse("experiment", args=[experiment.pk]))
    assert response.status_code == 200


def test_the_start_form_query_count(manager_client, loyalty, django_assert_num_queries):
    # session, user, roles; the offers, read once for the three arms' choices
    with django_assert_num_queries(4):
        response = manager_client.get(reverse("experiment_start"))
    assert response.status_code == 200


@pytest.mark.parametrize("others", [0, 30])
def test_the_case_page_of_an_assigned_case_costs_two_queries_more_whatever_the_experiment_size(
    agent_client, agent, tiers, experiment, django_assert_num_queries, others
):
    from retention.cases.services import case_claim

    reason = price_reason()
    for case in CaseFactory.create_batch(others, reason=reason):
        experiment_assign_case(case=case)
    case = case_claim(case=CaseFactory.create(reason=reason), actor=agent)
    agent_client.get(reverse("case", args=[case.pk]))  # the builder assigns it
    assert ExperimentAssignment.objects.filter(case=case).exists()
    # As test_case_views pins the case page (23, less the desk's calendar, which the first
    # visit cached: 21; the case's query says an experiment runs), the running experiments and
    # the case's assignment with its arm, offer and experiment.
    with django_assert_num_queries(23):
        response = agent_client.get(reverse("case", args=[case.pk]))
    assert response.status_code == 200
    assert "Experiment Price, loyal" in response.content.decode()


def test_a_manager_starts_an_outreach_experiment_and_a_reason_is_refused_for_it(
    manager_client, loyalty, twenty
):
    url = reverse("experiment_start")
    refused = manager_client.post(url, form_data(loyalty, twenty, audience="outreach"))
    assert refused.status_code == 400
    assert "A reason applies to cases only" in refused.content.decode()
    assert not Experiment.objects.exists()
    data = form_data(loyalty, twenty, audience="outreach", reason_category="")
    review = manager_client.post(url, data)
    assert "get no message (shown as held out" in review.content.decode()
    manager_client.post(url, data | {"confirmed": "on"})
    experiment = Experiment.objects.get()
    assert (experiment.audience, experiment.reason_category) == ("outreach", "")


def test_the_case_page_costs_nothing_more_once_every_experiment_is_stopped(
    agent_client, agent, lead, tiers, experiment, django_assert_num_queries
):
    from retention.cases.services import case_claim
    from retention.experiments.services import experiment_stop

    experiment_stop(experiment=experiment, actor=lead)
    case = case_claim(case=CaseFactory.create(), actor=agent)
    agent_client.get(reverse("case", args=[case.pk]))  # the desk's calendar, cached
    # As test_case_views pins the case page (23), less the desk's calendar (two): no query
    # about experiments, the case's own query said none runs.
    with django_assert_num_queries(21):
        response = agent_client.get(reverse("case", args=[case.pk]))
    assert response.status_code == 200
