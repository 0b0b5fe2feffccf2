"""How every template says stored things, money, dates and numbers: one way per language.

``{% load phrases %}``, then ``{{ event|said }}`` for a timeline event, history row,
notification or risk reason; ``{{ subscriber.balance|money }}`` (€1,234.50 / €1 234,50);
``{{ case.process_by|day }}``, ``{{ event.occurred_at|moment }}``, ``{{ percent|number:1 }}``.
"""

from typing import Any

from django import template

from subscribers import phrases

register = template.Library()


@register.filter
def said(value: Any) -> str:
    return phrases.said(value)


@register.filter
def money(value: Any) -> str:
    return phrases.money(value)


@register.filter
def number(value: Any, decimals: int | str | None = None) -> str:
    return phrases.number(value, None if decimals in (None, "") else int(decimals))


@register.filter(expects_localtime=True)
def day(value: Any) -> str:
    return phrases.day(value) if value not in (None, "") else ""


@register.filter(expects_localtime=True)
def moment(value: Any) -> str:
    return phrases.moment(value) if value not in (None, "") else ""
