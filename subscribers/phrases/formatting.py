"""How money, dates, numbers and choices are written: one way per language, on every page."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _


def as_decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def money(value: Any) -> str:
    """An amount in euros in the active language: €1,234.50 in English, €1 234,50 in Latvian
    and Russian. Text that is not a number is shown as it is."""
    amount = as_decimal(value)
    if amount is None:
        return "" if value is None else str(value)
    text = formats.number_format(abs(amount), 2, use_l10n=True, force_grouping=True)
    return f"-€{text}" if amount < 0 else f"€{text}"


def number(value: Any, decimals: int | None = None) -> str:
    """A number in the active language (12.5 or 12,5), without trailing zeros unless
    ``decimals`` is given."""
    amount = as_decimal(value)
    if amount is None:
        return "" if value is None else str(value)
    if decimals is None:
        amount = amount.normalize() if amount != amount.to_integral() else amount.quantize(1)
    return formats.number_format(amount, decimals, use_l10n=True)


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def day(value: Any) -> str:
    """A date as the active language writes it short (d.m.Y)."""
    found = _as_date(value)
    return formats.date_format(found, "SHORT_DATE_FORMAT") if found else str(value or "")


def _in_reader_zone(value: Any) -> datetime | None:
    found = _as_datetime(value)
    if found is not None and timezone.is_aware(found):
        found = timezone.localtime(found)
    return found


def moment(value: Any) -> str:
    """A date and time in the reader's time zone, as the active language writes it short."""
    found = _in_reader_zone(value)
    return formats.date_format(found, "SHORT_DATETIME_FORMAT") if found else str(value or "")


def clock(value: Any) -> str:
    """The time of day of a moment, in the reader's time zone."""
    found = _in_reader_zone(value)
    return formats.time_format(found, "TIME_FORMAT") if found else str(value or "")


def wall(value: Any) -> str:
    """A moment as the clock on the wall where it was taken shows it (a subscriber's local
    time), without moving it into the reader's zone: "Mon 2 Mar 09:00"."""
    found = _as_datetime(value)
    return formats.date_format(found, "D j M H:i") if found else str(value or "")


def month(value: Any) -> str:
    """A billing period "2026-03" as the active language names the month: "March 2026"."""
    try:
        year, number_ = (int(part) for part in str(value).split("-")[:2])
        return formats.date_format(date(year, number_, 1), "YEAR_MONTH_FORMAT")
    except ValueError:
        return str(value)


def duration(value: Any) -> str:
    """Minutes as hours and minutes."""
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        return str(value)
    hours, rest = divmod(minutes, 60)
    if not hours:
        return str(_("%(minutes)s min") % {"minutes": rest})
    if not rest:
        return str(_("%(hours)s h") % {"hours": hours})
    return str(_("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": rest})


def names(value: Mapping[str, Any]) -> str:
    """A name given in each language, in the active one (English when it has none)."""
    language = (translation.get_language() or settings.LANGUAGE_CODE)[:2]
    return str(value.get(language) or value.get("en") or next(iter(value.values()), ""))


@dataclass(frozen=True)
class Label:
    """A choice shown as its label. ``choices`` is a TextChoices class, or an
    "app.Model.field" path, read when first said (the phrases import no models: the models
    say their own text with the phrases)."""

    choices: Any
    lower: bool = False

    def __call__(self, value: Any) -> str:
        label = choice_labels(self.choices).get(value)
        if label is None:
            return str(value)
        text = str(label)
        return text.lower() if self.lower else text


@cache
def choice_labels(choices: Any) -> dict[Any, Any]:
    if isinstance(choices, str):
        app, model, name = choices.split(".")
        return dict(apps.get_model(app, model)._meta.get_field(name).flatchoices)
    return dict(choices.choices)
