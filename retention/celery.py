import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retention.settings")

app = Celery("retention")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The rooms of the desk that have tasks (retention/<room>/tasks.py). Each task keeps the name it
# had when all tasks lived in retention/tasks.py: the beat schedules stored in the database say
# those names.
app.autodiscover_tasks(
    [
        f"retention.{room}"
        for room in (
            "billing",
            "cases",
            "dashboard",
            "hardship",
            "macros",
            "notifications",
            "outreach",
            "risk",
            "saves",
            "system",
            "tariffs",
        )
    ]
)
