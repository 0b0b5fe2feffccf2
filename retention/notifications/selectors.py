"""What the notification bell and page read."""

from retention.models import (
    Notification,
    User,
)


def notifications_unread(*, user: User, limit: int = 10) -> list[Notification]:
    return list(
        Notification.objects.filter(recipient=user, read_at__isnull=True).order_by("-created_at")[
            :limit
        ]
    )


def notifications_for(*, user: User, limit: int = 50) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user).order_by("-created_at", "-pk")[:limit])


def notifications_unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
