"""Outreach campaigns on the dashboard: how many messages each sent, and how many were answered
and accepted."""

from dataclasses import dataclass

from django.db.models import Count

from retention.dashboard.filters import Filters
from retention.dashboard.queries import ratio
from retention.models import OutreachCampaign, OutreachMessage


@dataclass
class CampaignFigures:
    campaign: OutreachCampaign
    matched: int = 0
    sent: int = 0
    deferred: int = 0
    skipped: int = 0
    failed: int = 0
    responded: int = 0
    accepted: int = 0

    @property
    def send_rate(self) -> float | None:
        return ratio(self.sent, self.matched)

    @property
    def response_rate(self) -> float | None:
        return ratio(self.responded, self.sent)

    @property
    def acceptance_rate(self) -> float | None:
        return ratio(self.accepted, self.sent)


def campaigns(filters: Filters, *, limit: int = 20) -> list[CampaignFigures]:
    """Campaigns launched up to the period's end that were running in it, newest first, with
    their messages counted by state (index only) and the answers: three queries."""
    launched = list(
        OutreachCampaign.objects.filter(launched_at__isnull=False)
        .filter(launched_at__date__lte=filters.end)
        .order_by("-launched_at")[:limit]
    )
    out = {c.pk: CampaignFigures(campaign=c) for c in launched}
    State = OutreachMessage.State
    for row in (
        OutreachMessage.objects.filter(campaign__in=list(out))
        .values("campaign_id", "state")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        found = out[row["campaign_id"]]
        found.matched += row["n"]
        if row["state"] in (State.SENT, State.RESPONDED):
            found.sent += row["n"]
        if row["state"] == State.RESPONDED:
            found.responded += row["n"]
        elif row["state"] in (State.DEFERRED, State.PENDING, State.SENDING):
            found.deferred += row["n"]
        elif row["state"] == State.SKIPPED:
            found.skipped += row["n"]
        elif row["state"] == State.FAILED:
            found.failed += row["n"]
    for answered in (
        OutreachMessage.objects.filter(
            campaign__in=list(out),
            state=State.RESPONDED,
            response=OutreachMessage.Response.ACCEPTED,
        )
        .values("campaign_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        out[answered["campaign_id"]].accepted = answered["n"]
    return list(out.values())
