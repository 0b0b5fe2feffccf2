"""What the outreach pages and tasks read: a campaign, its progress, its history, and the offer
a subscriber's answer made. Each in a fixed number of queries, however many rows there are."""

from dataclasses import dataclass, field

from django.db.models import Count
from django.shortcuts import get_object_or_404

from offers.models import CounterOffer
from retention.models import CampaignHistory, OutreachCampaign, OutreachMessage

Campaign = OutreachCampaign
MState = OutreachMessage.State


def campaign_get(*, pk: int) -> Campaign:
    """The campaign with what its page shows of it; raises Http404. The campaign pages are for
    managers, which their views require."""
    return get_object_or_404(
        Campaign.objects.select_related("template", "created_by", "plan"), pk=pk
    )


@dataclass(frozen=True)
class Progress:
    matched: int
    by_state: dict[str, int]
    # Why messages were skipped (do-not-contact, no address…), with how many each, most first.
    skip_reasons: dict[str, int] = field(default_factory=dict)

    def count(self, state: str) -> int:
        return self.by_state.get(state, 0)

    def percent(self, *states: str) -> int:
        if not self.matched:
            return 0
        return round(100 * sum(self.count(s) for s in states) / self.matched)


def campaign_progress(campaign: Campaign) -> Progress:
    """How many messages are in each state, and why the skipped ones were: one query."""
    rows = (
        OutreachMessage.objects.filter(campaign=campaign)
        .values("state", "skip_reason")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_state: dict[str, int] = {}
    reasons: dict[str, int] = {}
    for row in rows:
        by_state[row["state"]] = by_state.get(row["state"], 0) + row["n"]
        if row["state"] == MState.SKIPPED:
            reasons[row["skip_reason"]] = reasons.get(row["skip_reason"], 0) + row["n"]
    ordered = dict(sorted(reasons.items(), key=lambda item: (-item[1], item[0])))
    return Progress(matched=sum(by_state.values()), by_state=by_state, skip_reasons=ordered)


def campaigns_overview(*, limit: int = 100) -> list[tuple[Campaign, Progress]]:
    """The newest campaigns with their progress: two queries, however many there are."""
    campaigns = list(
        Campaign.objects.select_related("template", "created_by").order_by("-created_at", "-pk")[
            :limit
        ]
    )
    counts: dict[int, dict[str, int]] = {c.pk: {} for c in campaigns}
    rows = (
        OutreachMessage.objects.filter(campaign__in=[c.pk for c in campaigns])
        .values("campaign_id", "state")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        counts[row["campaign_id"]][row["state"]] = row["n"]
    return [
        (c, Progress(matched=sum(counts[c.pk].values()), by_state=counts[c.pk])) for c in campaigns
    ]


def campaign_skip_reasons(campaign: Campaign) -> dict[str, int]:
    """Why messages were skipped (do-not-contact, no address…), with how many each."""
    return campaign_progress(campaign).skip_reasons


def campaign_history(*, campaign: Campaign, limit: int = 50) -> list[CampaignHistory]:
    """Who did what to the campaign, newest first, with the people: one query."""
    return list(campaign.history.select_related("actor").order_by("-at", "-id")[:limit])


def message_offer(message: OutreachMessage) -> CounterOffer | None:
    """The offer the subscriber's acceptance made (proposed in the name of the campaign's
    author when they answered), or None when there is none: the answer was a call, or the offer
    could not be made and the author was told why."""
    if message.response != OutreachMessage.Response.ACCEPTED or message.responded_at is None:
        return None
    return (
        CounterOffer.objects.filter(
            subscriber_id=message.subscriber_id,
            template_id=message.campaign.template_id,
            proposer_id=message.campaign.created_by_id,
            proposed_at__gte=message.responded_at,
        )
        .order_by("proposed_at", "pk")
        .first()
    )
