"""What the outreach pages and tasks read: a campaign, its progress, its history, and the offer
a subscriber's answer made. Each in a fixed number of queries, however many rows there are."""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404

from offers.models import CounterOffer
from retention.models import CampaignHistory, OutreachCampaign, OutreachMessage
from retention.outreach.audience import campaign_matching
from retention.outreach.links import StopLink
from subscribers.models import ContactChannel, Subscriber

Campaign = OutreachCampaign
MState = OutreachMessage.State
# What counts against a campaign's rate (retention.outreach.sending keeps to it).
THROTTLED_STATES = (MState.SENDING, MState.SENT, MState.RESPONDED, MState.FAILED)


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
    # The provider's answers kept on failed rows, and on deferred rows waiting to be tried
    # again ("<code> <detail>", retention.core.delivery.Result.reason), most first.
    failures: dict[str, int] = field(default_factory=dict)
    retrying: dict[str, int] = field(default_factory=dict)

    def count(self, state: str) -> int:
        return self.by_state.get(state, 0)

    def percent(self, *states: str) -> int:
        if not self.matched:
            return 0
        return round(100 * sum(self.count(s) for s in states) / self.matched)


def campaign_progress(campaign: Campaign) -> Progress:
    """How many messages are in each state, why the skipped ones were, and what the provider
    answered the failed and retrying ones: one query."""
    rows = (
        OutreachMessage.objects.filter(campaign=campaign)
        .values("state", "skip_reason", "error")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_state: dict[str, int] = {}
    reasons: dict[str, dict[str, int]] = {MState.SKIPPED: {}, MState.FAILED: {}, "retry": {}}
    for row in rows:
        state, n = row["state"], row["n"]
        by_state[state] = by_state.get(state, 0) + n
        if state == MState.SKIPPED:
            _add(reasons[state], row["skip_reason"], n)
        elif state == MState.FAILED:
            _add(reasons[state], row["error"], n)
        elif state == MState.DEFERRED and row["error"]:
            _add(reasons["retry"], row["error"], n)
    return Progress(
        matched=sum(by_state.values()),
        by_state=by_state,
        skip_reasons=_most_first(reasons[MState.SKIPPED]),
        failures=_most_first(reasons[MState.FAILED]),
        retrying=_most_first(reasons["retry"]),
    )


def _add(counts: dict[str, int], reason: str, n: int) -> None:
    counts[reason] = counts.get(reason, 0) + n


def _most_first(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


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
            template_id=message.template_id or message.campaign.template_id,
            proposer_id=message.campaign.created_by_id,
            proposed_at__gte=message.responded_at,
        )
        .order_by("proposed_at", "pk")
        .first()
    )


@dataclass(frozen=True)
class LaunchSummary:
    """What launching will do, for the confirmation: who gets a message by the campaign's
    channel now, who is left out and why, when it starts, and how long sending takes."""

    channel: str
    matched: int
    do_not_contact: int
    no_address: int
    starts_at: datetime | None  # None: now
    rate_per_minute: int | None

    @property
    def reachable(self) -> int:
        return self.matched - self.do_not_contact - self.no_address

    @property
    def minutes(self) -> int | None:
        """How long sending takes at the campaign's rate, in whole minutes (at least one);
        None without a rate (as fast as the sender goes)."""
        if not self.rate_per_minute:
            return None
        return max(1, math.ceil(self.reachable / self.rate_per_minute))

    def ends_at(self, now: datetime) -> datetime | None:
        if self.minutes is None:
            return None
        return (self.starts_at or now) + timedelta(minutes=self.minutes)


# Do-not-contact and the address the campaign's channel needs, by channel.
_BLOCKED: dict[str, str] = {ContactChannel.EMAIL: "do_not_email", ContactChannel.SMS: "do_not_sms"}
_ADDRESS: dict[str, str] = {ContactChannel.EMAIL: "email", ContactChannel.SMS: "phone"}


def campaign_launch_summary(
    campaign: Campaign, *, starts_at: datetime | None = None
) -> LaunchSummary:
    """One query, whatever the size: everyone who matches, counted with those who asked not
    to be contacted by the channel and those without an address for it."""
    blocked, address = _BLOCKED[campaign.channel], _ADDRESS[campaign.channel]
    counts = campaign_matching(campaign).aggregate(
        matched=Count("pk"),
        do_not_contact=Count("pk", filter=Q(**{blocked: True})),
        no_address=Count("pk", filter=Q(**{blocked: False, address: ""})),
    )
    return LaunchSummary(
        channel=campaign.channel,
        matched=counts["matched"],
        do_not_contact=counts["do_not_contact"],
        no_address=counts["no_address"],
        starts_at=starts_at,
        rate_per_minute=campaign.rate_per_minute,
    )


def audience_changed_a_lot(*, shown: int, now: int) -> bool:
    """Whether the audience moved enough since the confirmation was shown to ask again: by
    ten people, and by a tenth of those shown."""
    return abs(now - shown) >= max(10, shown // 10)


@dataclass(frozen=True)
class Pace:
    """A throttled running campaign: its rate and when sending should end."""

    rate_per_minute: int
    ends_at: datetime | None


def campaign_pace(campaign: Campaign, progress: Progress, *, now: datetime) -> Pace | None:
    """At the campaign's rate, when what is left (waiting, deferred or being sent) is done; no
    query (the progress has the counts)."""
    if not campaign.rate_per_minute:
        return None
    left = sum(progress.count(s) for s in (MState.PENDING, MState.DEFERRED, MState.SENDING))
    if not left:
        return Pace(campaign.rate_per_minute, None)
    # The budget grows from the start: what has been handed over is ahead of or behind it.
    handed = sum(progress.count(s) for s in THROTTLED_STATES)
    start = campaign.launched_at or now
    due = start + timedelta(minutes=(handed + left) / campaign.rate_per_minute)
    return Pace(campaign.rate_per_minute, max(due, now))


def stop_subscriber(link: StopLink) -> Subscriber | None:
    """The subscriber a valid stop link names (None if they are gone): one query. The signed
    token is the authorisation (an open page)."""
    return Subscriber.objects.filter(pk=link.subscriber_id).first()
