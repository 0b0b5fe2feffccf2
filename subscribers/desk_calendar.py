"""The desk's calendar as the desk reads it, and the services that change it.

``desk_calendar()`` is the calendar of one moment: the hours of each weekday and the days that
differ, read from the admin's tables in two queries and cached (every case on a page asks it),
with the public holidays of ``HOLIDAYS_COUNTRY`` from the ``holidays`` package, worked out once
per year and process. ``add_desk_hours`` is the first-contact SLA's clock: every place that
computes a first-contact due time calls it.
"""

import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

import holidays
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext as _

from retention.core.caching import cached
from retention.core.refusals import InvalidInput, NotAllowed
from retention.core.roles import Role, has_role
from subscribers.calendar import CalendarChange, DeskDay, DeskHours

CACHE_KEY = "subscribers:desk-calendar:v1"
CACHE_SECONDS = 300

# The package's language for each of the desk's languages (it names Latvia's holidays in these).
PACKAGE_LANGUAGES = {"en": "en_US", "lv": "lv", "ru": "ru"}


@lru_cache(maxsize=64)
def package_holidays(country: str, year: int) -> dict[date, dict[str, str]]:
    """The country's public holidays in ``year``, each named in the desk's languages
    ({"en": …, "lv": …, "ru": …}: a phrase parameter said in the reader's language)."""
    found: dict[date, dict[str, str]] = {}
    supported = holidays.country_holidays(country, years=year).supported_languages
    for language, package_language in PACKAGE_LANGUAGES.items():
        language_of = package_language if package_language in supported else None
        named = holidays.country_holidays(country, years=year, language=language_of)
        for day, name in named.items():
            found.setdefault(day, {})[language] = name
    return found


@dataclass(frozen=True)
class DayRule:
    kind: str
    name: str
    hours: tuple[time, time] | None


@dataclass(frozen=True)
class Calendar:
    """The desk's hours and holidays. Picklable: it is what the cache holds."""

    country: str
    zone_name: str
    week: tuple[tuple[time, time] | None, ...]  # Monday first; None: closed
    days: Mapping[date, DayRule] = field(default_factory=dict)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.zone_name)

    def holiday(self, day: date) -> dict[str, str] | None:
        """The public holiday on ``day``, named in each language, or None. A holiday the
        admin added counts; one the admin marked a working day does not."""
        rule = self.days.get(day)
        if rule is not None and rule.kind == DeskDay.Kind.HOLIDAY:
            return {"en": rule.name, "lv": rule.name, "ru": rule.name} if rule.name else {}
        if rule is not None and rule.kind == DeskDay.Kind.WORKING:
            return None
        return package_holidays(self.country, day.year).get(day)

    def holidays_between(self, first: date, last: date) -> frozenset[date]:
        return frozenset(
            first + timedelta(days=n)
            for n in range((last - first).days + 1)
            if self.holiday(first + timedelta(days=n)) is not None
        )

    def hours_on(self, day: date) -> tuple[time, time] | None:
        """When the desk works on ``day`` (its local date), or None when it is closed."""
        rule = self.days.get(day)
        if rule is not None:
            return rule.hours if rule.kind == DeskDay.Kind.WORKING else None
        if package_holidays(self.country, day.year).get(day) is not None:
            return None
        return self.week[day.weekday()]

    def add_desk_hours(self, start: datetime, hours: float) -> datetime:
        """``start`` plus ``hours`` of the desk's working time: its hours on open days, in
        its time zone, skipping closed days and public holidays."""
        zone = self.zone
        local = start.astimezone(zone)
        day = local.date()
        remaining = timedelta(hours=hours)
        for _n in range(400):
            open_hours = self.hours_on(day)
            if open_hours is not None:
                opening = datetime.combine(day, open_hours[0], zone)
                closing = datetime.combine(day, open_hours[1], zone)
                begin = max(local, opening)
                if begin < closing:
                    if begin + remaining <= closing:
                        return begin + remaining
                    remaining -= closing - begin
            day += timedelta(days=1)
        raise AssertionError("the desk's calendar has no working hours in a year")


def _from_settings() -> tuple[tuple[time, time] | None, ...]:
    open_hour, close_hour = settings.WORKING_HOURS
    return tuple(
        (time(open_hour), time(close_hour)) if weekday in settings.WORKING_DAYS else None
        for weekday in range(7)
    )


def _calendar_read() -> Calendar:
    week = list(_from_settings())
    rows = list(DeskHours.objects.all())
    if rows:
        week = [None] * 7
        for row in rows:
            week[row.weekday] = (row.opens, row.closes) if row.is_open else None
    days = {
        row.day: DayRule(
            row.kind,
            row.name,
            (row.opens, row.closes) if row.opens is not None and row.closes is not None else None,
        )
        for row in DeskDay.objects.all()
    }
    return Calendar(settings.HOLIDAYS_COUNTRY, settings.TIME_ZONE, tuple(week), days)


def desk_calendar() -> Calendar:
    """The calendar, cached: two queries when the cache has none, none otherwise."""
    return cached(CACHE_KEY, _calendar_read, timeout=CACHE_SECONDS)


def desk_calendar_forget() -> None:
    """After a change: the next read sees it (in this process and every other one)."""
    try:
        cache.delete(CACHE_KEY)
    except Exception:
        return


def add_desk_hours(start: datetime, hours: float) -> datetime:
    """The first-contact SLA's clock: ``start`` plus ``hours`` of desk time."""
    return desk_calendar().add_desk_hours(start, hours)


def first_contact_due(opened: datetime) -> datetime:
    """When a case opened at ``opened`` must have had its first contact."""
    return add_desk_hours(opened, settings.FIRST_CONTACT_SLA_HOURS)


# --- Services: the admin's edits, each recorded -------------------------------------------


def _kept(value: Any) -> Any:
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _check_admin(actor: AbstractUser) -> None:
    if not has_role(actor, Role.ADMIN):
        raise NotAllowed(_("Only an administrator changes the desk's calendar."))


def _check_hours(opens: time | None, closes: time | None) -> None:
    if opens is None or closes is None:
        raise InvalidInput(_("Give the hours the desk opens and closes."))
    if closes <= opens:
        raise InvalidInput(_("The desk must close after it opens."))


def _record(action: str, subject: str, changes: dict[str, Any], actor: AbstractUser) -> None:
    CalendarChange.objects.create(
        action=action, subject=subject, changes=changes, actor_id=actor.pk
    )
    transaction.on_commit(desk_calendar_forget)
    desk_calendar_forget()


def desk_hours_save(*, weekday: int, values: dict[str, Any], actor: AbstractUser) -> DeskHours:
    """Set one weekday's hours (``is_open``, ``opens``, ``closes``); recorded."""
    _check_admin(actor)
    unknown = set(values) - {"is_open", "opens", "closes"}
    if unknown or not 0 <= weekday <= 6:
        raise ValueError(f"not a weekday's hours: {weekday} {sorted(unknown)}")
    with transaction.atomic():
        row = DeskHours.objects.select_for_update().filter(weekday=weekday).first()
        created = row is None
        row = row or DeskHours(weekday=weekday)
        before = {name: _kept(getattr(row, name)) for name in ("is_open", "opens", "closes")}
        for name, value in values.items():
            setattr(row, name, value)
        _check_hours(row.opens, row.closes)
        after = {name: _kept(getattr(row, name)) for name in ("is_open", "opens", "closes")}
        changes = {k: [None if created else before[k], v] for k, v in after.items()}
        changes = {k: pair for k, pair in changes.items() if pair[0] != pair[1]}
        if not changes:
            return row
        row.save()
        action = CalendarChange.Action.CREATED if created else CalendarChange.Action.CHANGED
        _record(action, f"weekday {weekday}", changes, actor)
    return row


DAY_FIELDS = ("day", "kind", "name", "opens", "closes")


def desk_day_save(
    *, values: dict[str, Any], actor: AbstractUser, day: DeskDay | None = None
) -> DeskDay:
    """Add a calendar day, or change ``day``: a public holiday the package lacks, a day the
    desk is closed, or a package holiday the desk works (with its hours). Recorded."""
    _check_admin(actor)
    unknown = set(values) - set(DAY_FIELDS)
    if unknown:
        raise ValueError(f"not part of a calendar day: {sorted(unknown)}")
    with transaction.atomic():
        row = DeskDay.objects.select_for_update().get(pk=day.pk) if day is not None else None
        created = row is None
        row = row or DeskDay()
        before = {name: _kept(getattr(row, name)) for name in DAY_FIELDS}
        for name, value in values.items():
            setattr(row, name, value)
        if row.kind not in DeskDay.Kind.values:
            raise InvalidInput(_("Choose what kind of day it is."))
        if row.kind == DeskDay.Kind.WORKING:
            _check_hours(row.opens, row.closes)
        else:
            row.opens = row.closes = None
        clash = DeskDay.objects.filter(day=row.day).exclude(pk=row.pk).exists()
        if clash:
            raise InvalidInput(_("The calendar already has %(day)s.") % {"day": row.day})
        after = {name: _kept(getattr(row, name)) for name in DAY_FIELDS}
        changes = {
            k: [None if created else before[k], v]
            for k, v in after.items()
            if created or before[k] != v
        }
        if not changes:
            return row
        row.save()
        action = CalendarChange.Action.CREATED if created else CalendarChange.Action.CHANGED
        _record(action, _kept(row.day), changes, actor)
    return row


def desk_day_delete(*, day: DeskDay, actor: AbstractUser) -> None:
    """Remove a calendar day: the date follows the package and the weekday again. Recorded."""
    _check_admin(actor)
    with transaction.atomic():
        row = DeskDay.objects.select_for_update().filter(pk=day.pk).first()
        if row is None:
            return
        changes = {name: [_kept(getattr(row, name)), None] for name in DAY_FIELDS}
        row.delete()
        _record(CalendarChange.Action.DELETED, _kept(day.day), changes, actor)


@dataclass(frozen=True)
class UpcomingHoliday:
    day: date
    names: dict[str, str]
    working: bool  # the admin marked it a working day
    rule_id: int | None


def upcoming_holidays(*, today: date, years: int = 2) -> list[UpcomingHoliday]:
    """The package's public holidays from ``today`` to the end of the year ``years`` on, with
    what the admin made of each: for the admin's calendar page. One query."""
    calendar = _calendar_read_days()
    found: list[UpcomingHoliday] = []
    for year in range(today.year, today.year + years + 1):
        for day, names in sorted(package_holidays(settings.HOLIDAYS_COUNTRY, year).items()):
            if day < today:
                continue
            rule = calendar.get(day)
            working = rule is not None and rule.kind == DeskDay.Kind.WORKING
            found.append(UpcomingHoliday(day, names, working, rule.pk if rule else None))
    return found


def _calendar_read_days() -> dict[date, DeskDay]:
    return {row.day: row for row in DeskDay.objects.all()}
