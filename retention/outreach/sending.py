"""Sending a campaign's messages: the outbox is the ``OutreachMessage`` row.

Senders claim due rows with ``SKIP LOCKED``, apply the contact policy (outside allowed hours:
deferred to the subscriber's next allowed moment; do-not-contact or over the cap: skipped with
the reason), send with the message's key and mark the row sent. Celery messages only say "look
at campaign N": a lost one delays the work until the next tick, a repeated one finds nothing
left to claim, and rows a dead worker left claimed go back to the queue after
``CLAIM_TIMEOUT``.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from retention.core.delivery import Result, deliver
from retention.core.messaging import Outgoing
from retention.models import OutreachCampaign, OutreachMessage
from retention.notifications.services import CLAIM_TIMEOUT
from retention.outreach.audience import campaign_fan_out
from retention.outreach.links import message_link, stop_link, stop_one_click_link, stop_token
from retention.outreach.rendering import campaign_said, message_render, with_stop
from retention.outreach.selectors import THROTTLED_STATES
from subscribers import phrases
from subscribers.models import ContactChannel, Subscriber, TariffFit, TimelineEvent
from subscribers.selectors import (
    WAIT_REASONS,
    ContactDecision,
    contact_decision,
    contact_policy_get,
    outbound_contacts_of,
)
from subscribers.services import timeline_event_build, timeline_events_record

Campaign = OutreachCampaign
Message = OutreachMessage
MState = OutreachMessage.State


@dataclass
class SendResult:
    sent: int = 0
    deferred: int = 0
    skipped: int = 0
    failed: int = 0

    @property
    def claimed(self) -> int:
        return self.sent + self.deferred + self.skipped + self.failed


def outreach_send(
    *, campaign_id: int, now: datetime | None = None, limit: int | None = None
) -> SendResult:
    """Claim a chunk of the campaign's due messages and send them. Nothing to claim (paused,
    finished, or another worker has them): an empty result."""
    now = now or timezone.now()
    limit = limit or settings.OUTREACH_CHUNK
    result = SendResult()
    with transaction.atomic():
        running = (
            Campaign.objects.filter(pk=campaign_id, state=Campaign.State.RUNNING)
            .values("rate_per_minute", "launched_at")
            .first()
        )
        if running is None:
            return result
        if running["rate_per_minute"]:
            # Workers claiming for one throttled campaign take turns (the campaign row's lock,
            # held until their claim commits): each counts what the one before handed over.
            Campaign.objects.select_for_update().filter(pk=campaign_id).values("pk").first()
            budget = throttle_budget(
                campaign_id=campaign_id,
                rate_per_minute=running["rate_per_minute"],
                launched_at=running["launched_at"],
                now=now,
            )
            limit = min(limit, budget)
            if limit <= 0:
                return result
        ids = list(
            Message.objects.select_for_update(skip_locked=True)
            .filter(
                campaign_id=campaign_id,
                state__in=[MState.PENDING, MState.DEFERRED],
                due_at__lte=now,
            )
            .order_by("due_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        Message.objects.filter(pk__in=ids).update(
            state=MState.SENDING, claimed_at=now, attempts=F("attempts") + 1
        )
    if not ids:
        return result
    campaign = Campaign.objects.select_related("template", "created_by").get(pk=campaign_id)
    policy = contact_policy_get(today=timezone.localdate(now))
    messages = list(
        Message.objects.filter(pk__in=ids)
        .select_related("subscriber", "subscriber__plan", "template")
        .order_by("pk")
    )
    # The frequency cap's contacts for the whole chunk in one query, not one per message.
    recent = outbound_contacts_of(
        subscriber_ids=[m.subscriber_id for m in messages], since=now - policy.period
    )
    # A notice says each subscriber's tariff fit: the chunk's fits in one query.
    fits: dict[int, TariffFit] = {}
    if campaign.is_notice:
        fits = {
            fit.subscriber_id: fit
            for fit in TariffFit.objects.filter(
                subscriber_id__in=[m.subscriber_id for m in messages]
            ).select_related("best_plan")
        }
    chunk = _Chunk(campaign, now)
    for message in messages:
        _prepare(
            chunk,
            message,
            policy,
            recent[message.subscriber_id],
            fits.get(message.subscriber_id),
        )
    for channel, outgoing in chunk.outgoing.items():
        results = deliver(channel, [o for _m, o in outgoing])
        for (message, _o), delivered in zip(outgoing, results, strict=True):
            chunk.delivered(message, channel, delivered)
    chunk.mark()
    return chunk.result


def throttle_budget(
    *, campaign_id: int, rate_per_minute: int, launched_at: datetime | None, now: datetime
) -> int:
    """How many more messages the campaign may hand to the sender now: ``rate`` times the
    minutes since it started, less those already handed over. Kept in the database (one count
    on the progress index), so any number of workers together keep to it."""
    if launched_at is None:
        return 0
    elapsed = max((now - launched_at).total_seconds(), 0.0)
    allowed = int(rate_per_minute * elapsed / 60)
    handed = Message.objects.filter(campaign_id=campaign_id, state__in=THROTTLED_STATES).count()
    return allowed - handed


# A notice the law asks to give goes by e-mail, or by SMS where e-mail may not be used (asked
# not to, or no address): do-not-contact is kept per channel, not for the notice as a whole.
NOTICE_CHANNELS = (ContactChannel.EMAIL, ContactChannel.SMS)


def _decide(
    campaign: Campaign, subscriber: Any, now: datetime, policy: Any, recent: list[datetime]
) -> ContactDecision:
    """The channel to use now, or why none may be used: the first allowed channel; else the
    one allowed soonest (quiet hours, over the cap: deferred); else the first refusal."""
    channels = NOTICE_CHANNELS if campaign.is_notice else (campaign.channel,)
    decisions = [
        contact_decision(subscriber=subscriber, channel=c, now=now, policy=policy, recent=recent)
        for c in channels
    ]
    allowed = [d for d in decisions if d.allowed]
    if allowed:
        return allowed[0]
    later = [d for d in decisions if d.reason in WAIT_REASONS and d.next_allowed_at]
    if later:
        return min(later, key=lambda d: d.next_allowed_at or now)
    return decisions[0]


class _Chunk:
    """What one claimed chunk comes to: the messages to send by channel, then every row's
    mark, written together (``mark``) once the chunk has been sent."""

    def __init__(self, campaign: Campaign, now: datetime) -> None:
        self.campaign = campaign
        self.now = now
        self.result = SendResult()
        self.outgoing: dict[str, list[tuple[Message, Outgoing]]] = defaultdict(list)
        self.sent: list[tuple[Message, str]] = []
        # (state, fields) → the messages to mark so: one UPDATE per distinct mark.
        self.marks: dict[tuple[str, tuple[tuple[str, Any], ...]], list[int]] = defaultdict(list)

    def send(self, message: Message, channel: str, outgoing: Outgoing) -> None:
        self.outgoing[channel].append((message, outgoing))

    def set(self, message: Message, outcome: str, state: str, **fields: Any) -> None:
        setattr(self.result, outcome, getattr(self.result, outcome) + 1)
        self.marks[(state, tuple(sorted(fields.items())))].append(message.pk)

    def delivered(self, message: Message, channel: str, delivered: Result) -> None:
        if delivered.status == "sent":
            self.result.sent += 1
            self.sent.append((message, channel))
        elif delivered.status == "failed":
            self.set(message, "failed", MState.FAILED, error=delivered.reason)
        elif delivered.status == "wait":
            # Our own rate limit: not sent at all, so it costs no attempt.
            wait = timedelta(seconds=delivered.retry_after or settings.SEND_LONGEST_WAIT)
            self.set(
                message,
                "deferred",
                MState.DEFERRED,
                due_at=self.now + wait,
                error=delivered.reason,
                refund=True,
            )
        elif message.attempts >= settings.SEND_MAX_ATTEMPTS:
            # Tried enough: it fails with the last answer (the row keeps how many tries).
            self.set(message, "failed", MState.FAILED, error=delivered.reason)
        else:
            wait = retry_wait(attempts=message.attempts, retry_after=delivered.retry_after)
            self.set(
                message, "deferred", MState.DEFERRED, due_at=self.now + wait, error=delivered.reason
            )

    def mark(self) -> None:
        """Every row of the chunk in one transaction: a handful of UPDATEs and one INSERT of
        the sent ones' timeline contacts, however many messages there are. Only rows still
        claimed by this chunk (``sending`` since its claim) are marked, so a row the sweep
        handed to another worker meanwhile is left to it, even once that worker has claimed it
        again, and its contact is written once."""
        with transaction.atomic():
            ours = Message.objects.filter(state=MState.SENDING, claimed_at=self.now)
            for (state, fields), ids in self.marks.items():
                values = dict(fields)
                if values.pop("refund", False):
                    values["attempts"] = F("attempts") - 1
                ours.filter(pk__in=ids).update(state=state, **values)
            if not self.sent:
                return
            still = set(
                ours.select_for_update()
                .filter(pk__in=[m.pk for m, _c in self.sent])
                .values_list("pk", flat=True)
            )
            Message.objects.filter(pk__in=still).update(
                state=MState.SENT, sent_at=self.now, error=""
            )
            said = campaign_said(self.campaign)
            # Counted by the contact policy's frequency cap, like an agent's call.
            timeline_events_record(
                events=[
                    timeline_event_build(
                        subscriber=message.subscriber,
                        kind=TimelineEvent.Kind.CONTACT,
                        phrase=phrases.phrase("outreach.sent", channel=channel, campaign=said),
                        data={
                            "direction": "outbound",
                            "channel": channel,
                            "campaign": self.campaign.pk,
                            "message": message.pk,
                        },
                        occurred_at=self.now,
                        source="outreach",
                    )
                    for message, channel in self.sent
                    if message.pk in still
                ]
            )


def retry_wait(*, attempts: int, retry_after: float | None) -> timedelta:
    """How long a message the provider asked to retry waits: doubling from SEND_RETRY_BASE
    with each try, or the provider's Retry-After if that is longer; at most an hour."""
    backoff = settings.SEND_RETRY_BASE * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(max(backoff, retry_after or 0.0), 3600.0))


def _prepare(
    chunk: _Chunk,
    message: Message,
    policy: Any,
    recent: list[datetime],
    fit: TariffFit | None,
) -> None:
    """Decide what becomes of one message: skipped, deferred, or sent on which channel."""
    campaign, now = chunk.campaign, chunk.now
    subscriber = message.subscriber
    leaving = subscriber.status in (Subscriber.Status.CANCELLING, Subscriber.Status.CANCELLED)
    if campaign.is_notice and (fit is None or leaving):
        # Left, or no usage to judge by any more, since the notice was due: nothing to say.
        reason = "no_fit" if fit is None else "not_active"
        chunk.set(message, "skipped", MState.SKIPPED, skip_reason=reason)
        return
    decision = _decide(campaign, subscriber, now, policy, recent)
    if not decision.allowed:
        if decision.reason in WAIT_REASONS and decision.next_allowed_at:
            # Waiting for allowed hours or the cap, not for the provider: no error to show, and
            # not sent at all, so no try of the provider's is used up.
            chunk.set(
                message,
                "deferred",
                MState.DEFERRED,
                due_at=decision.next_allowed_at,
                error="",
                refund=True,
            )
            return
        chunk.set(message, "skipped", MState.SKIPPED, skip_reason=decision.reason)
        return
    channel = decision.channel
    subject, body, language = message_render(
        campaign, subscriber, link=message_link(message), fit=fit, template=message.template
    )
    token = stop_token(subscriber_id=subscriber.pk, channel=channel)
    stop = stop_link(subscriber_id=subscriber.pk, channel=channel, token=token)
    body = with_stop(body, channel=channel, url=stop, language=language)
    address = subscriber.email if channel == ContactChannel.EMAIL else subscriber.phone
    chunk.send(
        message,
        channel,
        Outgoing(
            key=f"outreach-{message.pk}",
            to=address,
            body=body,
            subject=subject,
            headers=stop_headers(subscriber_id=subscriber.pk, channel=channel, token=token),
        ),
    )


def stop_headers(*, subscriber_id: int, channel: str, token: str = "") -> dict[str, str]:
    """RFC 8058 one-click unsubscribe for an e-mail: mail clients show "Unsubscribe" and POST
    to the address themselves. None for an SMS. ``token``: the stop token, if made already."""
    if channel != ContactChannel.EMAIL:
        return {}
    url = stop_one_click_link(subscriber_id=subscriber_id, channel=channel, token=token)
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def outreach_sweep(*, now: datetime | None = None) -> int:
    """Messages a dead worker left claimed go back to the queue; their key stays the same,
    so a message the backend already took is not sent twice."""
    now = now or timezone.now()
    return Message.objects.filter(state=MState.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT).update(
        state=MState.PENDING
    )


def campaigns_with_work(*, now: datetime | None = None) -> list[int]:
    """Running campaigns that have messages due, or still need their messages created."""
    now = now or timezone.now()
    running = Campaign.objects.filter(state=Campaign.State.RUNNING)
    due = Message.objects.filter(
        campaign__state=Campaign.State.RUNNING,
        state__in=[MState.PENDING, MState.DEFERRED],
        due_at__lte=now,
    ).values("campaign_id")
    return list(
        running.filter(Q(fanned_out_at__isnull=True) | Q(pk__in=due)).values_list("pk", flat=True)
    )


def campaigns_standing_top_up(*, now: datetime | None = None) -> int:
    """Nightly: subscribers who newly match a running standing campaign get their message."""
    added = 0
    for campaign in Campaign.objects.filter(state=Campaign.State.RUNNING, standing=True):
        added += campaign_fan_out(campaign=campaign, now=now)
    return added
