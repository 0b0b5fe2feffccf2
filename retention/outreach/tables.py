"""The campaigns list: each campaign with how far its messages have got.

Rows are ``outreach.selectors.campaigns_overview()``'s pairs (campaign, progress): the campaign
with its offer and author read along, and the messages counted by state beforehand, so no
column reads the database.
"""

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from subscribers.phrases import day

DESK_TABLE = "django_tables2/desk.html"
NUMBER = {"th": {"class": "num"}, "td": {"class": "num"}}


def _sent(state: str, verbose_name: Any) -> tables.Column:
    """How many of the campaign's messages are in ``state``."""
    return tables.Column(verbose_name, accessor=f"1__by_state__{state}", default=0, attrs=NUMBER)


class CampaignsTable(tables.Table):
    """Newest first; handed the request (``RequestConfig``), its headings sort the rows."""

    name = tables.Column(_("Campaign"), accessor="0__title", order_by="0__name")
    state = tables.Column(_("State"), accessor="0__state")
    offer = tables.Column(_("Offer"), accessor="0__template__label")
    channel = tables.Column(_("Channel"), accessor="0__channel")
    matched = tables.Column(_("Messages"), accessor="1__matched", attrs=NUMBER)
    sent = _sent("sent", _("Sent"))
    deferred = _sent("deferred", _("Deferred"))
    skipped = _sent("skipped", _("Skipped"))
    failed = _sent("failed", _("Failed"))
    responded = _sent("responded", _("Responded"))
    created = tables.Column(_("Created"), accessor="0__created_at")

    def __init__(self, rows: list[tuple[Any, Any]]):
        super().__init__(
            rows,
            attrs={"class": "table", "id": "campaigns"},
            row_attrs={"id": lambda record: f"campaign-{record[0].pk}"},
            template_name=DESK_TABLE,
            empty_text=_("No campaign yet."),
        )
        self.empty_id = "campaigns-empty"
        self.campaign_prefix = reverse("campaign", args=[0]).removesuffix("0/")

    def render_name(self, value: str, record: tuple[Any, Any]) -> str:
        campaign = record[0]
        standing: str
        if campaign.is_notice:
            standing = format_html(' <span class="badge notice">{}</span>', _("annual, standing"))
        elif campaign.standing:
            standing = format_html(' <span class="badge">{}</span>', _("standing"))
        else:
            standing = ""
        return format_html(
            '<a href="{}{}/">{}</a>{}', self.campaign_prefix, campaign.pk, value, standing
        )

    # The rows are pairs, not campaigns: django-tables2 finds no choices to show by itself.
    def render_state(self, value: str, record: tuple[Any, Any]) -> str:
        campaign = record[0]
        return format_html(
            '<span class="badge campaign-{}">{}</span>', value, campaign.get_state_display()
        )

    def render_channel(self, record: tuple[Any, Any]) -> str:
        return record[0].get_channel_display()

    def render_created(self, value: Any, record: tuple[Any, Any]) -> str:
        author = record[0].created_by
        when = day(timezone.localtime(value))
        if record[0].is_notice:
            return f"{when} · {_('the desk')}"
        return f"{when} · {author.get_full_name() or author.username}"
