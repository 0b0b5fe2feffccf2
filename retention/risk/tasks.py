from celery import shared_task
from django.utils import timezone

from retention.models import User
from retention.risk.services import risk_nightly, risk_score_arrivals, risk_train


@shared_task(name="retention.tasks.nightly_churn_risk", ignore_result=True)
def nightly_churn_risk() -> None:
    risk_nightly(today=timezone.localdate())


@shared_task(name="retention.tasks.risk_score_arrivals", ignore_result=True)
def score_arrivals() -> None:
    risk_score_arrivals(today=timezone.localdate())


@shared_task(name="retention.tasks.risk_train", ignore_result=True)
def train(actor_id: int | None = None) -> None:
    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    risk_train(today=timezone.localdate(), actor=actor)
