"""Countdown badges for a case's deadlines: "contact due in 1 h 20 min", "process by in 2 days",
"contact overdue by 25 min", in the reader's language, ok / amber / red by thresholds
(settings.FIRST_CONTACT_AMBER_MINUTES, PROCESS_BY_AMBER_HOURS, PROCESS_BY_RED_HOURS).

``{% clock case.first_contact_due "contact" %}`` renders a ``<time>`` the page's script
(static/js/clocks.js) counts down every 30 seconds without a reload, with the words of
``{% clock_words %}`` (once a page, in base.html). Per row it costs a subtraction and one
translated string: the queue renders 50 at a time.
"""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from django import template
from django.conf import settings
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext

register = template.Library()

CONTACT, PROCESS = "contact", "process"
OK, AMBER, RED = "ok", "amber", "red"
SEVERITY = {OK: 0, AMBER: 1, RED: 2}


@dataclass(frozen=True)
class Thresholds:
    amber: int  # seconds left below which the clock is amber
    red: int  # seconds left below which it is red (0: once overdue)


def thresholds(kind: str) -> Thresholds:
    if kind == CONTACT:
        return Thresholds(amber=settings.FIRST_CONTACT_AMBER_MINUTES * 60, red=0)
    return Thresholds(
        amber=settings.PROCESS_BY_AMBER_HOURS * 3600, red=settings.PROCESS_BY_RED_HOURS * 3600
    )


def deadline_moment(value: datetime | date) -> datetime:
    """A first-contact due time as it is; a process-by date as the start of that day, desk time:
    the deadline sweep processes the case on that day."""
    if isinstance(value, datetime):
        return value
    return timezone.make_aware(datetime.combine(value, time.min), timezone.get_default_timezone())


def clock_state(kind: str, value: datetime | date, now: datetime) -> str:
    left = (deadline_moment(value) - now).total_seconds()
    limits = thresholds(kind)
    if left < limits.red:
        return RED
    if left < limits.amber:
        return AMBER
    return OK


def span_said(seconds: float) -> str:
    """A stretch of time as the desk says it: "25 min", "1 h 20 min", "3 days" (whole days
    from 48 hours on). Rounded up ahead of a deadline, down past it, never "0 min"."""
    minutes = max(1, int(seconds // 60))
    if minutes >= 48 * 60:
        days = minutes // (24 * 60)
        return ngettext("%(count)s day", "%(count)s days", days) % {"count": days}
    hours, rest = divmod(minutes, 60)
    if not hours:
        return gettext("%(minutes)s min") % {"minutes": rest}
    if not rest:
        return gettext("%(hours)s h") % {"hours": hours}
    return gettext("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": rest}


def _words() -> dict[str, str]:
    return {
        "contact_due": gettext("contact due in %(time)s"),
        "contact_late": gettext("contact overdue by %(time)s"),
        "process_due": gettext("process by in %(time)s"),
        "process_late": gettext("process-by date passed %(time)s ago"),
    }


def clock_text(kind: str, value: datetime | date, now: datetime) -> str:
    left = (deadline_moment(value) - now).total_seconds()
    words = _words()
    said = span_said(-left if left < 0 else left + 59)
    return words[f"{kind}_{'late' if left < 0 else 'due'}"] % {"time": said}


def clock_html(value: datetime | date | None, kind: str, now: datetime) -> str:
    """A countdown to ``value`` (a first-contact due time: "contact"; a process-by date:
    "process"), class ok, amber or red, with the exact time as its title."""
    if value is None:
        return ""
    moment = deadline_moment(value)
    limits = thresholds(kind)
    exact = (
        dateformat.format(timezone.localtime(value), "d.m H:i")
        if isinstance(value, datetime)
        else dateformat.format(value, "d.m.Y")
    )
    return format_html(
        '<time class="clock clock-{}" datetime="{}" data-clock="{}" data-amber="{}" '
        'data-red="{}" title="{}">{}</time>',
        clock_state(kind, value, now),
        moment.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        kind,
        limits.amber,
        limits.red,
        exact,
        clock_text(kind, value, now),
    )


@register.simple_tag(takes_context=True)
def clock(context: template.Context, value: datetime | date | None, kind: str) -> str:
    """``{% clock case.first_contact_due "contact" %}``, against the page's ``now`` (or
    ``clock_now``) when it has one, so a row's clock and its colour agree."""
    now = context.get("clock_now") or context.get("now")
    return clock_html(value, kind, now if isinstance(now, datetime) else timezone.now())


@register.simple_tag(takes_context=True)
def clock_words(context: template.Context) -> SafeString:
    """The words the page's script counts down with, in the page's language (JSON data, not
    run; it carries the page's nonce like every script element)."""
    words: dict[str, Any] = _words()
    words |= {
        "min": gettext("%(minutes)s min"),
        "h": gettext("%(hours)s h"),
        "h_min": gettext("%(hours)s h %(minutes)s min"),
        # Whole days as the server says them, for the counts a deadline has (past a month
        # the script asks the browser's Intl.NumberFormat).
        "days": {
            n: ngettext("%(count)s day", "%(count)s days", n) % {"count": n} for n in range(2, 32)
        },
    }
    payload = json.dumps(words).replace("<", "\\u003c").replace(">", "\\u003e")
    return format_html(
        '<script type="application/json" id="clock-words" nonce="{}">{}</script>',
        context.get("csp_nonce", ""),
        mark_safe(payload),  # noqa: S308 - JSON with < and > escaped
    )


@register.filter
def case_urgency(case: Any, now: datetime) -> str:
    """The row's class: the worse of its open clocks ("clock-red", "clock-amber" or "")."""
    states = [clock_state(PROCESS, case.process_by, now)]
    if not case.first_contacted_at:
        states.append(clock_state(CONTACT, case.first_contact_due, now))
    worst = max(states, key=SEVERITY.__getitem__)
    return "" if worst == OK else f"clock-{worst}"
