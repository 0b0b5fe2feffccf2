"""My notifications, newest first, as the notifications page lists them: a list, one item a
notification, a page at a time (django-tables2 rows written by
templates/django_tables2/desk_list.html, with its links to newer and older pages)."""

from typing import Any

import django_tables2 as tables
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.backends.utils import csrf_input
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from retention.models import Notification
from subscribers.phrases import moment, said


class Part(tables.Column):
    """A part of a notification's line; nothing where it has nothing to say."""

    empty_values = ()


class NotificationsTable(tables.Table):
    # A list shows no headings: the columns go unnamed.
    created_at = Part()
    new = Part(accessor="read_at")
    text = Part(accessor="url")
    read = Part(accessor="read_at")

    def __init__(self, items: QuerySet[Notification], *, request: HttpRequest):
        super().__init__(
            items,
            attrs={"class": "plain notes"},
            row_attrs={
                "id": lambda record: f"notification-{record.pk}",
                "class": lambda record: "note" if record.read_at else "note unread",
            },
            template_name="django_tables2/desk_list.html",
            orderable=False,
            empty_text=gettext_lazy("Nothing yet."),
        )
        self.empty_id = "notifications-empty"
        self.url_prefix = reverse("notifications")
        self.new_label = _("new")
        self.read_label = _("Mark read")
        self.csrf = csrf_input(request)

    def render_created_at(self, value: Any) -> str:
        iso = dateformat.format(timezone.localtime(value), "c")
        return format_html('<time datetime="{}">{}</time>', iso, moment(value))

    def render_new(self, value: Any) -> str:
        return "" if value else format_html('<span class="badge new">{}</span>', self.new_label)

    def render_text(self, value: str, record: Notification) -> str:
        text = said(record)
        return format_html('<a href="{}">{}</a>', value, text) if value else text

    def render_read(self, value: Any, record: Notification) -> str:
        if value:
            return ""
        # The list comes back on the page it was on.
        page = f"?{self.prefixed_page_field}={self.page.number}" if self.page.number > 1 else ""
        action = f"{self.url_prefix}{record.pk}/read/{page}"
        return format_html(
            '<form method="post" action="{}" hx-post="{}" hx-target="#notifications" '
            'hx-swap="outerHTML" class="inline">{}'
            '<button type="submit" class="small">{}</button></form>',
            action,
            action,
            self.csrf,
            self.read_label,
        )
