"""A subscriber billing creates through the API is scored on arrival: the batch asks the worker,
the worker scores whoever is unscored, and the page has a score with its version at once."""

from typing import Any

import pytest
import time_machine

from retention.risk import tasks
from subscribers.models import Subscriber
from tests.factories import PlanFactory
from tests.ingestion import post_batch

pytestmark = pytest.mark.django_db


def test_a_subscriber_created_through_the_api_is_scored_on_arrival(
    api_client, monkeypatch, django_capture_on_commit_callbacks
):
    PlanFactory.create(code="fibre-300")
    ran: list[str] = []

    def worker(task_name: str, *args: Any) -> bool:
        """The worker, at once: the task the batch asked for, by its name."""
        ran.append(task_name)
        assert task_name == "retention.tasks.risk_score_arrivals"
        tasks.score_arrivals()
        return True

    monkeypatch.setattr("retention.core.broker.enqueue", worker)
    item = {
        "account_number": "LV-777001",
        "name": "Anna Liepa",
        "plan_code": "fibre-300",
        "monthly_price": "19.99",  # what a new customer pays for the plan: no loyalty penalty
        "signup_date": "2026-09-01",
        "region": "Liepaja",
    }
    with (
        time_machine.travel("2026-12-04 10:00Z", tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        answer = post_batch(api_client, "/api/v1/subscribers", "subscribers", [item])

    assert answer.status_code == 200, answer.content
    assert ran == ["retention.tasks.risk_score_arrivals"]
    newcomer = Subscriber.objects.get(account_number="LV-777001")
    assert newcomer.churn_risk_scored_on is not None
    assert newcomer.churn_risk_kind == "rules"  # nothing trained yet: the rules made version 1
    assert newcomer.churn_risk_version == 1
    # 3 base points and 8 for a first-year customer, and the reason says so.
    assert newcomer.churn_risk == 11
    assert newcomer.churn_risk_reasons == [{"code": "risk.new_customer", "params": {"months": 3}}]
