"""The desk's calendar: its hours on each weekday and the days that differ (a public holiday the
holidays package does not know, a day the desk is closed, a package holiday the desk works).

The public holidays themselves come from the ``holidays`` package for ``HOLIDAYS_COUNTRY``
(subscribers.desk_calendar reads both, cached); the first-contact SLA counts desk hours only,
and the contact policy keeps public holidays free of outbound contact. Registered with the other
models in subscribers.models; edited in the admin through subscribers.desk_calendar's services,
which record every change.
"""

from datetime import time

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from retention.core.history import HistoryRecord


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class DeskHours(models.Model):
    """When the desk works on one weekday, in the desk's time zone (TIME_ZONE)."""

    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices, unique=True)
    is_open = models.BooleanField(_("open"), default=True)
    opens = models.TimeField(_("opens"), default=time(8))
    closes = models.TimeField(_("closes"), default=time(18))

    class Meta:
        verbose_name = _("desk hours")
        verbose_name_plural = _("desk hours")
        ordering = ("weekday",)
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6), name="desk_hours_weekday_0_6"
            ),
            models.CheckConstraint(
                condition=models.Q(opens__lt=models.F("closes")), name="desk_hours_open_first"
            ),
        ]

    def __str__(self) -> str:
        return str(self.get_weekday_display())


class DeskDay(models.Model):
    """A date on which the calendar differs from the package's holidays and the weekday's
    hours."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Public holiday (not in the package)")
        CLOSED = "closed", _("Desk closed (not a public holiday)")
        WORKING = "working", _("Working day (not a holiday)")

    day = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(
        _("name"),
        max_length=100,
        blank=True,
        help_text=_("As the desk calls the day, e.g. a one-off public holiday's name."),
    )
    # The desk's hours on a working day; on other kinds the desk is closed all day.
    opens = models.TimeField(_("opens"), null=True, blank=True)
    closes = models.TimeField(_("closes"), null=True, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ("day",)
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="working")
                | models.Q(opens__isnull=False, closes__isnull=False, opens__lt=models.F("closes")),
                name="desk_day_working_hours",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day.isoformat()} {self.get_kind_display()}"


class CalendarChange(HistoryRecord):
    """Who changed the desk's calendar (a weekday's hours, a calendar day) from what to what.
    Append-only, written by subscribers.desk_calendar's services."""

    class Action(models.TextChoices):
        CREATED = "created", pgettext_lazy("calendar", "Created")
        CHANGED = "changed", pgettext_lazy("calendar", "Changed")
        DELETED = "deleted", pgettext_lazy("calendar", "Deleted")

    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    # What was changed: "weekday 0" or "2026-11-18".
    subject = models.CharField(_("what"), max_length=20)
    # {field: [old, new]}; times as "08:00", null for none.
    changes = models.JSONField(_("what changed"), default=dict, blank=True)

    class Meta:
        verbose_name = _("calendar change")
        verbose_name_plural = _("calendar changes")
        indexes = [models.Index(fields=["at"], name="calendar_change_at")]
