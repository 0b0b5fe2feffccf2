"""Open cases as the desk lists them (my cases; the queue's rows as the benchmark compares
them): one row a case, a late first contact or a near deadline marked on the row.

Each case comes with its subscriber, reason and owner read along; no column reads the database.
What every row needs (the time now, the case URLs' common prefix, the repeated labels) is
worked out once per table, not once per row.
"""

from datetime import timedelta
from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from retention.models import CancellationCase
from retention.templatetags.clocks import CONTACT, PROCESS, case_urgency, clock_html

DESK_TABLE = "django_tables2/desk.html"


class UnnamedColumn(tables.Column):
    """A column whose heading only a screen reader reads (a checkbox, a button): not a sort."""

    empty_values = ()

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, orderable=False, **kwargs)

    @property
    def header(self) -> str:
        return format_html('<span class="visually-hidden">{}</span>', self.verbose_name)


class CasesTable(tables.Table):
    """Open cases, for the agent who works them. ``selectable`` adds a checkbox to each row
    for a manager's reassign form (it sits after the table and gathers them by form=). Handed
    the request (``RequestConfig``), its headings sort the rows it holds."""

    select = UnnamedColumn(gettext_lazy("Select"), accessor="pk")
    priority = tables.Column(gettext_lazy("Priority"))
    subscriber = tables.Column(gettext_lazy("Subscriber"), accessor="subscriber__name")
    reason = tables.Column(gettext_lazy("Reason"), accessor="reason__label")
    channel = tables.Column(gettext_lazy("Channel"))
    region = tables.Column(gettext_lazy("Region"), accessor="subscriber__region", default="")
    monthly_price = tables.Column(gettext_lazy("€/month"), accessor="subscriber__monthly_price")
    first_contact_due = tables.Column(
        gettext_lazy("Contact due"), attrs={"td": {"class": "first_contact_due"}}
    )
    process_by = tables.Column(gettext_lazy("Process by"), attrs={"td": {"class": "process_by"}})
    owner = tables.Column(gettext_lazy("Owner"), orderable=False)
    actions = UnnamedColumn(gettext_lazy("Actions"), accessor="owner")

    def __init__(self, cases: list[CancellationCase], *, selectable: bool = False):
        super().__init__(
            cases,
            attrs={"class": "table queue", "id": "queue-table"},
            row_attrs={"class": self._urgency, "data-case": lambda record: record.pk},
            template_name=DESK_TABLE,
            empty_text=gettext_lazy("No open case matches."),
            exclude=() if selectable else ("select",),
        )
        self.now = timezone.now()
        self.tomorrow = timezone.localdate(self.now) + timedelta(days=1)
        self.case_prefix = reverse("case", args=[0]).removesuffix("0/")
        self.claim_label = _("Claim")
        self.select_label = _("Select case")
        self.contacted_label = _("contacted")

    def _urgency(self, record: CancellationCase) -> str:
        # Red: a first contact overdue or the deadline within a day; amber: soon (clocks).
        return case_urgency(record, self.now)

    def render_select(self, value: int) -> str:
        return format_html(
            '<input type="checkbox" name="select" value="{}" form="reassign-form" '
            'aria-label="{} #{}">',
            value,
            self.select_label,
            value,
        )

    def render_subscriber(self, value: str, record: CancellationCase) -> str:
        return format_html(
            '<a href="{}{}/">{}</a> <span class="muted">{}</span>',
            self.case_prefix,
            record.pk,
            value,
            record.subscriber.account_number,
        )

    def render_first_contact_due(self, value: Any, record: CancellationCase) -> str:
        if record.first_contacted_at:
            return format_html(
                '<span class="muted">{} {}</span>',
                self.contacted_label,
                dateformat.format(timezone.localtime(record.first_contacted_at), "d.m H:i"),
            )
        return clock_html(value, CONTACT, self.now)

    def render_process_by(self, value: Any) -> str:
        return clock_html(value, PROCESS, self.now)

    def render_owner(self, value: Any) -> str:
        return value.get_full_name() or value.username

    def render_actions(self, value: Any, record: CancellationCase) -> str:
        if value is not None:
            return ""
        return format_html(
            '<button type="submit" form="claim-form" formaction="{}{}/claim/">{}</button>',
            self.case_prefix,
            record.pk,
            self.claim_label,
        )
