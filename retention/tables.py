from datetime import timedelta
from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from retention.models import CancellationCase


def _row_class(record: CancellationCase) -> str:
    now = timezone.now()
    classes = []
    if record.first_contacted_at is None and record.first_contact_due < now:
        classes.append("overdue")
    if record.process_by <= timezone.localdate(now) + timedelta(days=1):
        classes.append("deadline")
    return " ".join(classes)


class QueueTable(tables.Table):
    """Open cases in queue order. Sorting is fixed: the queue's order is the point."""

    select = tables.CheckBoxColumn(
        accessor="pk", attrs={"th__input": {"aria-label": _("Select all")}}, orderable=False
    )
    priority = tables.Column(verbose_name=_("Priority"))
    subscriber = tables.Column(verbose_name=_("Subscriber"), accessor="subscriber__name")
    reason = tables.Column(verbose_name=_("Reason"), accessor="reason", default="—")
    channel = tables.Column(verbose_name=_("Channel"))
    region = tables.Column(verbose_name=_("Region"), accessor="subscriber__region")
    value = tables.Column(verbose_name=_("€/month"), accessor="subscriber__monthly_price")
    first_contact_due = tables.DateTimeColumn(verbose_name=_("Contact due"), format="d.m H:i")
    process_by = tables.DateColumn(verbose_name=_("Process by"), format="d.m.Y")
    owner = tables.Column(verbose_name=_("Owner"), default="—")
    actions = tables.Column(verbose_name="", accessor="pk", orderable=False, empty_values=())

    class Meta:
        model = CancellationCase
        fields: tuple[str, ...] = ()
        sequence = (
            "select",
            "priority",
            "subscriber",
            "reason",
            "channel",
            "region",
            "value",
            "first_contact_due",
            "process_by",
            "owner",
            "actions",
        )
        orderable = False
        attrs = {"class": "table queue", "id": "queue-table"}
        row_attrs = {"class": _row_class, "data-case": lambda record: record.pk}

    def __init__(self, *args: Any, manager: bool = False, **kwargs: Any) -> None:
        if not manager:
            kwargs["exclude"] = ("select",)
        super().__init__(*args, **kwargs)

    def render_subscriber(self, record: CancellationCase) -> str:
        return format_html(
            '<a href="{}">{}</a> <span class="muted">{}</span>',
            reverse("case", args=[record.pk]),
            record.subscriber.name,
            record.subscriber.account_number,
        )

    def render_owner(self, record: CancellationCase) -> str:
        return record.owner.get_full_name() or record.owner.username if record.owner else "—"

    def render_actions(self, record: CancellationCase) -> str:
        if record.owner_id:
            return ""
        return format_html(
            '<form method="post" action="{}" class="inline"><input type="hidden" '
            'name="csrfmiddlewaretoken" value="{}"><button type="submit">{}</button></form>',
            reverse("case_claim", args=[record.pk]),
            self.csrf_token,
            _("Claim"),
        )

    csrf_token = ""
