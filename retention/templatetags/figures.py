"""How the dashboard writes its numbers: ``{{ value|figure:"percent" }}``."""

import json
from typing import Any

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.template.defaultfilters import floatformat
from django.utils.translation import gettext as _

from subscribers import phrases

register = template.Library()


def duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 60:
        return _("%(minutes)d min") % {"minutes": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(hours)d h %(minutes)d min") % {"hours": hours, "minutes": minutes}
    days, hours = divmod(hours, 24)
    return _("%(days)d d %(hours)d h") % {"days": days, "hours": hours}


@register.filter
def figure(value: Any, kind: str = "count") -> str:
    """A number as the dashboard shows it; "—" where there is nothing to divide by."""
    if value is None:
        return "—"
    if kind == "percent":
        return f"{floatformat(value * 100, 1)} %"
    if kind == "money":
        return phrases.money(value)  # as every page writes money
    if kind == "seconds":
        return duration(float(value))
    if kind == "text":
        return str(value)
    if isinstance(value, int):
        return floatformat(value, "g")
    return floatformat(value, "1g")


@register.filter
def chart_json(value: Any) -> str:
    """A chart's data as JSON text, for a hidden element that the template escapes. Not a
    <script>: htmx (allowScriptTags: false) drops every script from the fragments it swaps in."""
    return json.dumps(value, cls=DjangoJSONEncoder)
