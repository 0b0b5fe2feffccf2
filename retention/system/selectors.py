"""What the health page reads."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone

from retention.models import (
    Heartbeat,
)


@dataclass(frozen=True)
class Health:
    database_ok: bool
    database_vendor: str
    last_beat_at: datetime | None
    beats: int
    broker: str

    @property
    def beat_age(self) -> timedelta | None:
        return timezone.now() - self.last_beat_at if self.last_beat_at else None

    @property
    def worker_ok(self) -> bool:
        # Three missed beats in a row mean the worker or beat is not running.
        age = self.beat_age
        return age is not None and age <= timedelta(seconds=3 * settings.HEARTBEAT_SECONDS)

    @property
    def ok(self) -> bool:
        return self.database_ok


def health_get() -> Health:
    beat = None
    try:
        beat = Heartbeat.objects.filter(pk=1).first()
        database_ok = True
    except DatabaseError:
        database_ok = False
    broker = settings.CELERY_BROKER_URL.split("://", 1)[0]
    return Health(
        database_ok=database_ok,
        database_vendor=connection.vendor,
        last_beat_at=beat.beat_at if beat else None,
        beats=beat.beats if beat else 0,
        broker=broker,
    )
