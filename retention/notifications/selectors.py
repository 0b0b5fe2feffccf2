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
