"""The desk's people: users, their teams, and the proof of life of the background jobs."""

import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

TIME_ZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]

# The one form an SMS provider takes from every country (E.164): "+", the country code and the
# number, at most 15 digits. Subscribers' numbers come from billing as they are; a member of
# staff's is typed in by hand, so it is checked (the admin form drops spaces and dashes first).
MOBILE_NUMBER = RegexValidator(
    r"^\+[1-9][0-9]{6,14}$",
    _("Enter the number in international form, e.g. +37120000000."),
)


class User(AbstractUser):
    """A member of staff. Roles are the groups Agent, Manager and Admin (see retention.roles)."""

    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="Europe/Riga"
    )
    email_notifications = models.BooleanField(
        _("notify me by e-mail too"),
        default=False,
        help_text=_("Reminders and decisions also arrive by e-mail."),
    )
    language = models.CharField(
        _("language of e-mails"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        default="",
        help_text=_("Notifications sent by e-mail are written in it; empty: the desk's default."),
    )
    phone = models.CharField(
        _("mobile number"),
        max_length=32,
        blank=True,
        validators=[MOBILE_NUMBER],
        help_text=_("Test SMS of a campaign go to it, e.g. +37120000000."),
    )
    team = models.ForeignKey(
        "retention.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("team"),
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


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
