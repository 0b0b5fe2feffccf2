from django.db import transaction
from django.db.models import F
from django.utils import timezone

from retention.models import Heartbeat, User


def heartbeat_record() -> Heartbeat:
    """Touch the single heartbeat row (creating it on the first beat)."""
    now = timezone.now()
    with transaction.atomic():
        updated = Heartbeat.objects.filter(pk=1).update(beat_at=now, beats=F("beats") + 1)
        if not updated:
            Heartbeat.objects.get_or_create(pk=1, defaults={"beat_at": now, "beats": 1})
    return Heartbeat.objects.get(pk=1)


def user_update_preferences(*, user: User, actor: User, time_zone: str) -> User:
    if actor.pk != user.pk and not actor.is_superuser:
        raise PermissionError("only the user or a superuser may change these preferences")
    user.time_zone = time_zone
    user.save(update_fields=["time_zone"])
    return user
