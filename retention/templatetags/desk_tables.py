"""What the desk's table templates (templates/django_tables2/desk*.html) need beyond
django-tables2's own tags: attributes written as the desk's hand-written tables wrote them."""

from typing import Any

from django import template
from django.utils.html import format_html
from django_tables2.utils import AttributeDict, computed_values

register = template.Library()


@register.filter
def attrs(value: AttributeDict) -> str:
    """`` class="num"`` (with its leading space), or nothing for no attributes."""
    html = value.as_html()
    return format_html(" {}", html) if html else ""


@register.simple_tag
def row_attrs(row: Any) -> str:
    """A row's attributes, from its table's ``row_attrs``: without the even/odd class that
    django-tables2 adds to every row (the desk's CSS stripes rows by position)."""
    values = computed_values(row.table.row_attrs, kwargs={"table": row.table, "record": row.record})
    return attrs(AttributeDict(values))
