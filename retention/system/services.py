"""The desk's own writes: the heartbeat, a user's preferences, the demo logins."""

from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from retention.core.refusals import NotAllowed
from retention.models import Heartbeat, User


def heartbeat_record() -> Heartbeat:
    """Touch the single heartbeat row (creating it on the first beat)."""
    now = timezone.now()
    with transaction.atomic():
        updated = Heartbeat.objects.filter(pk=1).update(beat_at=now, beats=F("beats") + 1)
        if not updated:
            Heartbeat.objects.get_or_create(pk=1, defaults={"beat_at": now, "beats": 1})
    return Heartbeat.objects.get(pk=1)


def user_update_preferences(
    *, user: User, actor: User, time_zone: str, email_notifications: bool, language: str = ""
) -> User:
    """Where times are shown, whether notifications also arrive by e-mail, and in which
    language those e-mails are written (empty: the desk's default)."""
    if actor.pk != user.pk and not actor.is_superuser:
        raise NotAllowed(_("Only you can change your own preferences."))
    user.time_zone = time_zone
    user.email_notifications = email_notifications
    user.language = language
    user.save(update_fields=["time_zone", "email_notifications", "language"])
    return user


@dataclass(frozen=True)
class DemoUser:
    role: str
    username: str
    password: str
    first_name: str
    last_name: str
    # Groups besides the role, e.g. "Retention lead" (an authority tier, not a role).
    extra_groups: tuple[str, ...] = ()

    @property
    def groups(self) -> tuple[str, ...]:
        return (self.role, *self.extra_groups)

    @property
    def title(self) -> str:
        """What the login is, for people: the last group is the most specific."""
        return self.groups[-1]


DEMO_USERS = (
    DemoUser("Agent", "agent", "agent-demo-2026", "Laura", "Kalniņa"),
    DemoUser("Manager", "manager", "manager-demo-2026", "Andris", "Ozols"),
    DemoUser(
        "Manager", "lead", "lead-demo-2026", "Ilze", "Bērziņa", extra_groups=("Retention lead",)
    ),
    DemoUser("Admin", "admin", "admin-demo-2026", "Marta", "Liepa"),
)


def demo_users_ensure() -> list[User]:
    """Create the demo logins, or reset their passwords and roles. Development data only."""
    users = []
    with transaction.atomic():
        for demo in DEMO_USERS:
            user, _ = User.objects.get_or_create(
                username=demo.username,
                defaults={"first_name": demo.first_name, "last_name": demo.last_name},
            )
            user.set_password(demo.password)
            user.is_staff = user.is_superuser = demo.role == "Admin"
            user.is_active = True
            user.save()
            user.groups.set([Group.objects.get_or_create(name=name)[0] for name in demo.groups])
            users.append(user)
    return users
