import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

TIME_ZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]


class User(AbstractUser):
    """A member of staff. Roles are the groups Agent, Manager and Admin (see retention.roles)."""

    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="Europe/Riga"
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"


class Heartbeat(models.Model):
    """One row, touched by the periodic heartbeat task: proof that worker and beat run."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    beat_at = models.DateTimeField(_("last beat"))
    beats = models.PositiveBigIntegerField(_("beats"), default=0)

    class Meta:
        verbose_name = _("heartbeat")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="heartbeat_singleton")]

    def __str__(self) -> str:
        return f"heartbeat #{self.beats} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
