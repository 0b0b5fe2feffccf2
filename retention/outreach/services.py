"""Proactive loyalty outreach: campaigns, their outbox of messages, sending and responses.

The ``OutreachMessage`` row is the outbox (DESIGN section 6). Launching a campaign creates one
row per matching subscriber with set-based SQL (``INSERT … SELECT … ON CONFLICT DO NOTHING``,
in chunks of subscriber ids), before anything is sent; a unique constraint keeps it to one per
campaign and subscriber. Senders claim due rows with ``SKIP LOCKED``, apply the contact policy
(outside allowed hours: deferred to the subscriber's next allowed moment; do-not-contact or
over the cap: skipped with the reason), send with the message's key and mark the row sent.
Celery messages only say "look at campaign N": a lost one delays the work until the next tick,
a repeated one finds nothing left to claim, and rows a dead worker left claimed go back to the
queue after ``CLAIM_TIMEOUT``.
"""

import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.db.models import Count, F, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from offers import services as offer_services
from offers.exceptions import InvalidTerms, OutsideAuthority
from offers.models import CounterOffer
from offers.pricing import Terms, add_months, offer_cost, terms_validate
from retention.core import broker
from retention.core.messaging import send_to_subscriber
from retention.core.refusals import WrongState
from retention.core.roles import Role, require_role
from retention.models import CancellationCase, OutreachCampaign, OutreachMessage, User
from retention.notifications.reminders import CLAIM_TIMEOUT, notify, reminder_for_pending_offer
from subscribers import phrases
from subscribers.models import ContactChannel, Subscriber, TimelineEvent
from subscribers.phrases import money
from subscribers.selectors import contact_decision, contact_policy_get, outbound_contacts_of
from subscribers.services import timeline_event_record

Campaign = OutreachCampaign
Message = OutreachMessage
MState = OutreachMessage.State
# The task that fans out and sends a campaign (retention.outreach.tasks).
OUTREACH_WORK = "retention.tasks.outreach_work"
FAN_OUT_CHUNK = 50_000
LINK_MAX_AGE = timedelta(days=30)
PLACEHOLDERS = ("name", "offer", "price", "new_price", "link")


class CampaignError(Exception):
    """The campaign cannot do that now; the message says why."""


# --- Who matches --------------------------------------------------------------------------------


def campaign_matching(campaign: Campaign, *, now: datetime | None = None) -> QuerySet[Subscriber]:
    """Active subscribers who fit the criteria, have no open case and were not contacted in
    the campaign's quiet period. One query, whatever the size."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    subscribers = Subscriber.objects.filter(status=Subscriber.Status.ACTIVE)
    if campaign.min_tenure_months:
        months = campaign.min_tenure_months
        subscribers = subscribers.filter(signup_date__lte=add_months(today, -months))
    if campaign.min_penalty_percent:
        factor = Decimal(100 + campaign.min_penalty_percent) / 100
        subscribers = subscribers.filter(monthly_price__gte=F("plan__new_customer_price") * factor)
        subscribers = subscribers.filter(monthly_price__gt=F("plan__new_customer_price"))
    if campaign.promo_ended_days is not None:
        subscribers = subscribers.filter(
            promo_ends_on__lte=today - timedelta(days=campaign.promo_ended_days)
        )
    if campaign.min_risk:
        subscribers = subscribers.filter(churn_risk__gte=campaign.min_risk)
    if campaign.segment:
        subscribers = subscribers.filter(segment=campaign.segment)
    if campaign.region:
        subscribers = subscribers.filter(region=campaign.region)
    if campaign.plan_id:
        subscribers = subscribers.filter(plan_id=campaign.plan_id)
    open_cases = CancellationCase.objects.filter(status__in=CancellationCase.OPEN_STATUSES).values(
        "subscriber_id"
    )
    subscribers = subscribers.exclude(pk__in=open_cases)
    if campaign.not_contacted_days:
        contacted = TimelineEvent.objects.filter(
            kind=TimelineEvent.Kind.CONTACT,
            data__direction="outbound",
            occurred_at__gt=now - timedelta(days=campaign.not_contacted_days),
        ).values("subscriber_id")
        subscribers = subscribers.exclude(pk__in=contacted)
    return subscribers


# --- Messages -----------------------------------------------------------------------------------


def message_token(message: Message) -> str:
    return signing.dumps(message.pk, salt="outreach")


def message_from_token(token: str) -> Message:
    """The message a link names; raises signing.BadSignature for a forged or expired link."""
    pk = signing.loads(token, salt="outreach", max_age=LINK_MAX_AGE)
    return Message.objects.select_related(
        "campaign", "campaign__template", "campaign__created_by", "subscriber", "subscriber__plan"
    ).get(pk=pk)


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def message_render(
    campaign: Campaign, subscriber: Subscriber, *, link: str
) -> tuple[str, str, str]:
    """The subject and text in the subscriber's language, and that language."""
    language = subscriber.language if subscriber.language in ("lv", "ru", "en") else "lv"
    body = getattr(campaign, f"body_{language}") or campaign.body_en
    # Amounts as the text's language writes them (the English text when theirs is missing).
    written_in = language if getattr(campaign, f"body_{language}") else "en"
    terms = Terms.of(campaign.template)
    cost = offer_cost(terms=terms, subscriber=subscriber)
    # The offer's name in the subscriber's language, not the sender's (a worker runs in the
    # default language, a manager previews in theirs).
    with override(language):
        label = campaign.template.label
    with override(written_in):
        price, new_price = money(subscriber.monthly_price), money(cost.new_monthly_price)
    values = _Values(name=subscriber.name, offer=label, price=price, new_price=new_price, link=link)
    text = string.Formatter().vformat(body, (), values)
    return campaign.subject or label, text, language


def body_check(body: str) -> str:
    """Raise CampaignError for a placeholder that does not exist or is malformed."""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(body) if name is not None}
    except ValueError as exc:
        raise CampaignError(
            _("The message has a stray { or }: %(error)s") % {"error": exc}
        ) from None
    unknown = fields - set(PLACEHOLDERS)
    if unknown:
        raise CampaignError(
            _("Unknown placeholders: %(names)s. Use %(known)s.")
            % {
                "names": ", ".join(sorted(unknown)),
                "known": ", ".join("{" + p + "}" for p in PLACEHOLDERS),
            }
        )
    return body


@dataclass(frozen=True)
class Preview:
    matched: int
    samples: list[tuple[Subscriber, str, str]]  # subscriber, language, text


def campaign_preview(campaign: Campaign, *, samples: int = 3) -> Preview:
    matching = campaign_matching(campaign)
    matched = matching.count()
    found = []
    for language in ("lv", "ru", "en"):
        for subscriber in matching.filter(language=language).select_related("plan")[:1]:
            _, text, lang = message_render(campaign, subscriber, link=f"{settings.SITE_URL}/o/…/")
            found.append((subscriber, lang, text))
    return Preview(matched=matched, samples=found[:samples])


# --- Drafts -------------------------------------------------------------------------------------

# What a manager sets on a draft; a launched campaign keeps what it was launched with.
DRAFT_FIELDS = (
    "name",
    "template",
    "channel",
    "min_tenure_months",
    "min_penalty_percent",
    "promo_ended_days",
    "min_risk",
    "segment",
    "region",
    "plan",
    "not_contacted_days",
    "standing",
    "subject",
    "body_lv",
    "body_ru",
    "body_en",
)


def _draft_check(values: dict[str, Any]) -> None:
    unknown = set(values) - set(DRAFT_FIELDS)
    if unknown:
        raise ValueError(f"not draft fields: {sorted(unknown)}")
    if values.get("channel", ContactChannel.EMAIL) not in (
        ContactChannel.EMAIL,
        ContactChannel.SMS,
    ):
        raise CampaignError(_("A campaign goes out by e-mail or SMS."))
    for language in ("lv", "ru", "en"):
        body_check(values.get(f"body_{language}", ""))


def campaign_create(*, actor: User, values: dict[str, Any]) -> Campaign:
    """A new draft; nothing is sent until it is launched."""
    require_role(actor, Role.MANAGER)
    _draft_check(values)
    return Campaign.objects.create(created_by=actor, state=Campaign.State.DRAFT, **values)


def campaign_update(*, campaign: Campaign, actor: User, values: dict[str, Any]) -> Campaign:
    """Change a draft. Once launched, the criteria and messages are what subscribers got."""
    require_role(actor, Role.MANAGER)
    _draft_check(values)
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.state != Campaign.State.DRAFT:
            raise CampaignError(_("Only a draft campaign can be changed."))
        for name, value in values.items():
            setattr(campaign, name, value)
        campaign.save(update_fields=list(values))
    return campaign


# --- Launching ----------------------------------------------------------------------------------


def _locked(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


def campaign_launch(*, campaign: Campaign, actor: User) -> Campaign:
    """Start the campaign: its messages are created by the worker (set-based) and sent as the
    contact policy allows. The request only changes the state and asks for the work."""
    require_role(actor, Role.MANAGER)
    terms = Terms.of(campaign.template)
    try:
        terms_validate(terms)
    except InvalidTerms as exc:
        raise CampaignError(str(exc)) from None
    for language in ("lv", "ru", "en"):
        body_check(getattr(campaign, f"body_{language}"))
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.state != Campaign.State.DRAFT:
            raise CampaignError(_("Only a draft campaign can be launched."))
        campaign.state, campaign.launched_at = Campaign.State.RUNNING, timezone.now()
        campaign.save(update_fields=["state", "launched_at"])
        _enqueue_after_commit(campaign.pk)
    return campaign


def campaign_pause(*, campaign: Campaign, actor: User) -> Campaign:
    require_role(actor, Role.MANAGER)
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.state != Campaign.State.RUNNING:
            raise CampaignError(_("Only a running campaign can be paused."))
        campaign.state = Campaign.State.PAUSED
        campaign.save(update_fields=["state"])
    return campaign


def campaign_resume(*, campaign: Campaign, actor: User) -> Campaign:
    require_role(actor, Role.MANAGER)
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.state != Campaign.State.PAUSED:
            raise CampaignError(_("Only a paused campaign can be resumed."))
        campaign.state = Campaign.State.RUNNING
        campaign.save(update_fields=["state"])
        _enqueue_after_commit(campaign.pk)
    return campaign


def _enqueue_after_commit(campaign_id: int) -> None:
    transaction.on_commit(lambda: broker.enqueue(OUTREACH_WORK, campaign_id))


def campaign_fan_out(*, campaign: Campaign, now: datetime | None = None) -> int:
    """Create the campaign's message rows for everyone who matches, chunk by chunk of
    subscriber ids; safe to repeat (existing rows are left alone). Returns rows added."""
    now = now or timezone.now()
    matching = campaign_matching(campaign, now=now)
    table = Message._meta.db_table
    added = 0
    last = 0
    top = Subscriber.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    while last < top:
        upper = last + FAN_OUT_CHUNK
        chunk = matching.filter(pk__gt=last, pk__lte=upper).annotate(sid=F("pk")).values("sid")
        sql, params = chunk.query.sql_with_params()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} "
                "(campaign_id, subscriber_id, state, due_at, attempts, skip_reason, error,"
                " response)"
                f" SELECT %s, s.sid, 'pending', %s, 0, '', '', '' FROM ({sql}) AS s"
                # WHERE true: SQLite would read ON CONFLICT as a join condition otherwise.
                " WHERE true ON CONFLICT (campaign_id, subscriber_id) DO NOTHING",
                [campaign.pk, connection.ops.adapt_datetimefield_value(now), *params],
            )
            added += max(cursor.rowcount, 0)
        last = upper
    Campaign.objects.filter(pk=campaign.pk).update(fanned_out_at=now)
    return added


# --- Sending ------------------------------------------------------------------------------------


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
        running = Campaign.objects.filter(pk=campaign_id, state=Campaign.State.RUNNING).exists()
        if not running:
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
    policy = contact_policy_get()
    messages = list(
        Message.objects.filter(pk__in=ids)
        .select_related("subscriber", "subscriber__plan")
        .order_by("pk")
    )
    # The frequency cap's contacts for the whole chunk in one query, not one per message.
    recent = outbound_contacts_of(
        subscriber_ids=[m.subscriber_id for m in messages], since=now - policy.period
    )
    for message in messages:
        outcome = _send_one(campaign, message, now, policy, recent[message.subscriber_id])
        setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def _send_one(
    campaign: Campaign, message: Message, now: datetime, policy: Any, recent: list[datetime]
) -> str:
    subscriber = message.subscriber
    decision = contact_decision(
        subscriber=subscriber, channel=campaign.channel, now=now, policy=policy, recent=recent
    )
    if not decision.allowed:
        if decision.reason in ("quiet_hours", "over_cap") and decision.next_allowed_at:
            _mark(message, MState.DEFERRED, due_at=decision.next_allowed_at)
            return "deferred"
        _mark(message, MState.SKIPPED, skip_reason=decision.reason)
        return "skipped"
    link = f"{settings.SITE_URL}{reverse('outreach_link', args=[message_token(message)])}"
    subject, body, _language = message_render(campaign, subscriber, link=link)
    key = f"outreach-{message.pk}"
    address = subscriber.email if campaign.channel == ContactChannel.EMAIL else subscriber.phone
    try:
        send_to_subscriber(
            channel=campaign.channel, key=key, to=address, body=body, subject=subject
        )
    except Exception as exc:
        _mark(message, MState.FAILED, error=str(exc)[:300])
        return "failed"
    with transaction.atomic():
        marked = Message.objects.filter(pk=message.pk, state=MState.SENDING).update(
            state=MState.SENT, sent_at=now
        )
        if marked:
            # Counted by the contact policy's frequency cap, like an agent's call.
            timeline_event_record(
                subscriber=subscriber,
                kind=TimelineEvent.Kind.CONTACT,
                phrase=phrases.phrase(
                    "outreach.sent", channel=campaign.channel, campaign=campaign.name
                ),
                data={
                    "direction": "outbound",
                    "channel": campaign.channel,
                    "campaign": campaign.pk,
                    "message": message.pk,
                },
                occurred_at=now,
                source="outreach",
            )
    return "sent"


def _mark(message: Message, state: str, **fields: Any) -> None:
    Message.objects.filter(pk=message.pk, state=MState.SENDING).update(state=state, **fields)


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


def campaigns_finish(*, now: datetime | None = None) -> int:
    """Running campaigns (not standing ones) with nothing left to send are finished."""
    left = Message.objects.filter(
        state__in=[MState.PENDING, MState.DEFERRED, MState.SENDING]
    ).values("campaign_id")
    return (
        Campaign.objects.filter(
            state=Campaign.State.RUNNING, standing=False, fanned_out_at__isnull=False
        )
        .exclude(pk__in=left)
        .update(state=Campaign.State.FINISHED)
    )


def campaigns_standing_top_up(*, now: datetime | None = None) -> int:
    """Nightly: subscribers who newly match a running standing campaign get their message."""
    added = 0
    for campaign in Campaign.objects.filter(state=Campaign.State.RUNNING, standing=True):
        added += campaign_fan_out(campaign=campaign, now=now)
    return added


@dataclass(frozen=True)
class Progress:
    matched: int
    by_state: dict[str, int]

    def count(self, state: str) -> int:
        return self.by_state.get(state, 0)

    def percent(self, *states: str) -> int:
        if not self.matched:
            return 0
        return round(100 * sum(self.count(s) for s in states) / self.matched)


def campaign_progress(campaign: Campaign) -> Progress:
    rows = (
        Message.objects.filter(campaign=campaign).values("state").annotate(n=Count("pk")).order_by()
    )
    by_state = {row["state"]: row["n"] for row in rows}
    return Progress(matched=sum(by_state.values()), by_state=by_state)


def campaigns_overview(*, limit: int = 100) -> list[tuple[Campaign, Progress]]:
    """The newest campaigns with their progress: two queries, however many there are."""
    campaigns = list(
        Campaign.objects.select_related("template", "created_by").order_by("-created_at", "-pk")[
            :limit
        ]
    )
    counts: dict[int, dict[str, int]] = {c.pk: {} for c in campaigns}
    rows = (
        Message.objects.filter(campaign__in=[c.pk for c in campaigns])
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
    rows = (
        Message.objects.filter(campaign=campaign, state=MState.SKIPPED)
        .values("skip_reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "skip_reason")
    )
    return {row["skip_reason"]: row["n"] for row in rows}


# --- Responses ----------------------------------------------------------------------------------


def outreach_respond(*, message: Message, response: str) -> CounterOffer | None:
    """The subscriber followed their link: accept the offer (applied as in the offers workflow,
    within the authority of the manager who launched the campaign) or ask for a call."""
    if response not in (Message.Response.ACCEPTED, Message.Response.CALL):
        raise CampaignError(_("Unknown response."))
    now = timezone.now()
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .select_related("campaign", "campaign__template", "campaign__created_by", "subscriber")
            .get(pk=message.pk)
        )
        if message.response:
            return None  # answered already: the link is not a button to press twice
        if message.state not in (MState.SENT, MState.RESPONDED):
            raise CampaignError(_("This message was not sent."))
        campaign, subscriber = message.campaign, message.subscriber
        message.state, message.response, message.responded_at = MState.RESPONDED, response, now
        message.save(update_fields=["state", "response", "responded_at"])
        timeline_event_record(
            subscriber=subscriber,
            kind=TimelineEvent.Kind.CONTACT,
            phrase=phrases.phrase(
                "outreach.accepted" if response == Message.Response.ACCEPTED else "outreach.call",
                campaign=campaign.name,
            ),
            data={"direction": "inbound", "campaign": campaign.pk, "message": message.pk},
            occurred_at=now,
            source="outreach",
        )
        if response == Message.Response.CALL:
            _ask_for_call(campaign, subscriber)
            return None
        return _accept(campaign, subscriber)


def _ask_for_call(campaign: Campaign, subscriber: Subscriber) -> None:
    url = reverse("subscriber_offers", args=[subscriber.pk])
    said = phrases.phrase("notify.outreach_call", name=subscriber.name, campaign=campaign.name)
    people = {campaign.created_by.pk: campaign.created_by}
    team = campaign.created_by.team_id
    if team is not None:
        for manager in User.objects.filter(is_active=True, groups__name=Role.MANAGER, team_id=team):
            people[manager.pk] = manager
    for person in people.values():
        notify(recipient=person, phrase=said, url=url)


def _accept(campaign: Campaign, subscriber: Subscriber) -> CounterOffer | None:
    actor = campaign.created_by
    try:
        offer = offer_services.offer_propose(
            subscriber=subscriber,
            template=campaign.template,
            proposer=actor,
            note=phrases.phrase("offer.from_outreach", campaign=campaign.name),
        )
        if offer.status == CounterOffer.Status.APPROVED:
            offer = offer_services.offer_present(
                offer=offer, actor=actor, note=phrases.phrase("offer.outreach_link")
            )
            offer = offer_services.offer_accept(
                offer=offer, actor=actor, note=phrases.phrase("offer.accepted_online")
            )
        elif offer.status == CounterOffer.Status.PENDING:
            # Its approvers are reminded like those of an offer made on the desk.
            reminder_for_pending_offer(offer=offer)
        return offer
    except (InvalidTerms, WrongState, OutsideAuthority) as exc:
        # Why it failed is the refusal's own message, in the language it was raised in.
        notify(
            recipient=actor,
            phrase=phrases.phrase(
                "notify.outreach_failed", name=subscriber.name, campaign=campaign.name, why=str(exc)
            ),
            url=reverse("subscriber_offers", args=[subscriber.pk]),
        )
        return None
