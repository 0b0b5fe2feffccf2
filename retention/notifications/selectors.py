"""What the notification bell and page read."""

from django.db.models import QuerySet

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


def notifications_for(*, user: User) -> QuerySet[Notification]:
    """Every notification of the user, newest first: the page reads it a page at a time."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-pk")


def notifications_unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
