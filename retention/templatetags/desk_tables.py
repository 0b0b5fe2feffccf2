"""What the desk's table templates (templates/django_tables2/desk*.html) need beyond
django-tables2's own tags: attributes written as the desk's hand-written tables wrote them, and
the links that sort a table or turn its pages, keeping the rest of the address (the filters,
another table's order)."""

from typing import Any

from django import template
from django.http import QueryDict
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
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


def _query(table: Any, **changes: Any) -> str:
    """The address of the page the table is on, with ``changes`` to its parameters: a link's
    ``href``, with the table's id as the fragment so the browser comes back to it."""
    request = getattr(table, "request", None)
    query = request.GET.copy() if request is not None else QueryDict(mutable=True)
    query.pop("format", None)
    for name, value in changes.items():
        query[name] = value
    anchor = table.attrs.get("id", "")
    return f"?{query.urlencode()}" + (f"#{anchor}" if anchor else "")


@register.simple_tag
def sort_link(table: Any, column: Any) -> str:
    """A column's heading as a link that sorts the table by it (ascending first, then the other
    way); the sorted column says which way for a screen reader. A table that was not handed
    the request (``RequestConfig``) has plain headings."""
    if not (table.orderable and column.orderable and getattr(table, "request", None)):
        return column.header
    alias = column.order_by_alias
    if column.is_ordered:
        way = _("sorted descending") if alias.is_descending else _("sorted ascending")
        state = format_html(' <span class="visually-hidden">({})</span>', way)
    else:
        state = mark_safe("")
    href = _query(table, **{table.prefixed_order_by_field: alias.next})
    return format_html('<a href="{}" class="sort">{}{}</a>', href, column.header, state)


@register.simple_tag
def aria_sort(column: Any) -> str:
    if not column.is_ordered:
        return ""
    way = "descending" if column.order_by_alias.is_descending else "ascending"
    return format_html(' aria-sort="{}"', way)


@register.simple_tag
def page_link(table: Any, number: int) -> str:
    """The address of another page of the table."""
    return _query(table, **{table.prefixed_page_field: number})
