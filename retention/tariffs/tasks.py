from celery import shared_task
from django.utils import timezone

from retention.tariffs.services import tariffs_nightly


@shared_task(name="retention.tasks.nightly_tariff_fit", ignore_result=True)
def nightly_tariff_fit() -> None:
    tariffs_nightly(today=timezone.localdate())
