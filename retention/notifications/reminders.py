"""Reminders and staff notifications.

A ``Reminder`` row is the source of truth: services schedule one with a due time and a key
(scheduling twice is one row), and a beat tick every minute delivers the due ones. Delivery
locks the due rows with ``SKIP LOCKED``, so two ticks at once share the work instead of
doubling it, and checks that the reminder still matters (a callback moved, a case closed).

Staff reminders become ``Notification`` rows in the same transaction as the reminder is marked
delivered; a unique constraint allows one per reminder and recipient. Reminders to a
subscriber leave the system: they obey the contact policy (deferred to the next allowed
moment, dropped for do-not-contact), are claimed, sent with the reminder's key, then marked;
a periodic sweep returns claims a dead worker left behind.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from offers.models import AuthorityTier, BillingState, CounterOffer, OfferKind
from retention.core.messaging import send_to_subscriber
from retention.core.roles import Role
from retention.models import (
    CancellationCase,
    HardshipArrangement,
    Notification,
    Reminder,
    User,
)
from retention.notifications.services import CLAIM_TIMEOUT, notification_new
from subscribers import phrases
from subscribers.models import ContactChannel, Equipment, Subscriber, TimelineEvent
from subscribers.selectors import contact_decision
from subscribers.services import timeline_event_record

Kind = Reminder.Kind


State = Reminder.State


def reminder_schedule(
    *,
    kind: str,
    key: str,
    due_at: datetime,
    recipient: User | None = None,
    case: CancellationCase | None = None,
    offer: CounterOffer | None = None,
    subscriber: Subscriber | None = None,
    note: str = "",
) -> Reminder:
    """Schedule (or move) a reminder. The key names it: asking again updates the due time of
    a pending one instead of adding a second."""
    with transaction.atomic():
        reminder, created = Reminder.objects.select_for_update().get_or_create(
            key=key,
            defaults={
                "kind": kind,
                "due_at": due_at,
                "recipient": recipient,
                "case": case,
                "offer": offer,
                "subscriber": subscriber,
                "note": note[:300],
            },
        )
        if not created and reminder.state == State.PENDING and reminder.due_at != due_at:
            reminder.due_at = due_at
            reminder.save(update_fields=["due_at"])
    return reminder


def _local(day: Any, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)), timezone.get_default_timezone())


def offer_url(offer: CounterOffer) -> str:
    if offer.case_id:
        return reverse("case", args=[offer.case_id])
    return reverse("subscriber_offers", args=[offer.subscriber_id])


def tier_members(tier: AuthorityTier) -> list[User]:
    """Who holds a tier and may decide: its user, or the active managers of its group."""
    if tier.user_id:
        return list(User.objects.filter(pk=tier.user_id, is_active=True))
    return list(
        User.objects.filter(is_active=True, groups=tier.group_id)
        .filter(Q(groups__name=Role.MANAGER) | Q(is_superuser=True))
        .exclude(authority_tier__isnull=False)
        .distinct()
    )


def reminders_for_new_case(*, case: CancellationCase) -> None:
    """First contact due soon and overdue, and the process-by date two days ahead. Called
    again when a port-out moves the process-by date: the old date's reminder is cancelled."""
    Reminder.objects.filter(kind=Kind.PROCESS_BY, case=case, state=State.PENDING).exclude(
        key=f"process-by:{case.pk}:{case.process_by:%Y%m%d}"
    ).update(state=State.CANCELLED)
    warning = case.first_contact_due - timedelta(minutes=settings.SLA_WARNING_MINUTES)
    reminder_schedule(
        kind=Kind.SLA_WARNING, key=f"sla-warning:{case.pk}", due_at=warning, case=case
    )
    reminder_schedule(
        kind=Kind.SLA_BREACHED,
        key=f"sla-breached:{case.pk}",
        due_at=case.first_contact_due,
        case=case,
    )
    reminder_schedule(
        kind=Kind.PROCESS_BY,
        key=f"process-by:{case.pk}:{case.process_by:%Y%m%d}",
        due_at=_local(case.process_by - timedelta(days=2), 9),
        case=case,
    )


def reminder_for_callback(*, case: CancellationCase) -> None:
    """One reminder per callback time. A moved callback cancels the pending reminder of the
    old time; a callback set after the last one was delivered gets a reminder of its own (a
    key per case alone would find the delivered row and never remind again)."""
    if not case.callback_at:
        return
    key = f"callback:{case.pk}:{case.callback_at.astimezone(UTC):%Y%m%dT%H%M%S}"
    Reminder.objects.filter(kind=Kind.CALLBACK, case=case, state=State.PENDING).exclude(
        key=key
    ).update(state=State.CANCELLED)
    reminder_schedule(kind=Kind.CALLBACK, key=key, due_at=case.callback_at, case=case)


def reminder_for_pending_offer(*, offer: CounterOffer) -> None:
    reminder_schedule(
        kind=Kind.APPROVAL_WAITING,
        key=f"approval:{offer.pk}",
        due_at=offer.proposed_at + timedelta(minutes=settings.APPROVAL_REMINDER_MINUTES),
        offer=offer,
    )


def reminders_for_equipment(*, subscriber: Subscriber, items: Iterable[Equipment]) -> None:
    """A week before the generous return window closes, the subscriber is reminded."""
    for item in items:
        if item.return_due_on:
            reminder_schedule(
                kind=Kind.EQUIPMENT_RETURN,
                key=f"equipment:{item.pk}:{item.return_due_on:%Y%m%d}",
                due_at=_local(item.return_due_on - timedelta(days=7), 10),
                subscriber=subscriber,
                note=item.serial,
            )


# How many days before a paused service resumes its agent is reminded.
PAUSE_REMINDER_DAYS = 7


def offer_agent(*, offer: CounterOffer, case: CancellationCase | None = None) -> User:
    """Who looks after an offer once it is accepted: its case's owner (``case``, or the one
    the offer names, fetched), else the agent who made it."""
    if case is None and offer.case_id:
        case = CancellationCase.objects.select_related("owner").get(pk=offer.case_id)
    if case is not None and case.owner is not None:
        return case.owner
    return offer.proposer


def reminder_for_pause_ending(*, offer: CounterOffer) -> None:
    """A week before a paused service resumes (at 9:00 that day), the offer's agent
    (``offer_agent``) is reminded: a good moment to call the subscriber."""
    if offer.runs_until is None:
        return
    agent = offer_agent(offer=offer)
    reminder_schedule(
        kind=Kind.PAUSE_ENDING,
        key=f"pause-ending:{offer.pk}",
        due_at=_local(offer.runs_until - timedelta(days=PAUSE_REMINDER_DAYS), 9),
        recipient=agent,
        offer=offer,
        subscriber=offer.subscriber,
    )


def reminders_for_discounts_ending(*, today: Any = None) -> int:
    """Retention discounts that end in 30 days: the agent who made the offer reviews the
    subscriber's terms before the price rises. Safe to run any number of times a day."""
    today = today or timezone.localdate()
    ending = CounterOffer.objects.filter(
        status=CounterOffer.Status.ACCEPTED,
        runs_until__gt=today,
        runs_until__lte=today + timedelta(days=30),
        proposer__is_active=True,
    ).exclude(kind=OfferKind.PAUSE)  # a pause has its own reminder, a week before the resume
    ending = ending.select_related("subscriber", "proposer")
    scheduled = 0
    for offer in ending:
        reminder_schedule(
            kind=Kind.DISCOUNT_ENDING,
            key=f"discount-ending:{offer.pk}",
            due_at=_local(today, 9),
            recipient=offer.proposer,
            offer=offer,
            subscriber=offer.subscriber,
        )
        scheduled += 1
    return scheduled


@dataclass(frozen=True)
class Tick:
    notified: int
    sent: int
    deferred: int
    cancelled: int


def _managers_of(user: User | None) -> list[User]:
    managers = User.objects.filter(is_active=True, groups__name=Role.MANAGER)
    if user is not None and user.team_id:
        managers = managers.filter(team_id=user.team_id)
    return list(managers.distinct())


class _People:
    """Managers by team and members by tier, read once per batch of a tick rather than once
    per reminder."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, int | None], list[User]] = {}

    def managers_of(self, user: User | None) -> list[User]:
        key = ("team", user.team_id if user is not None else None)
        if key not in self._found:
            self._found[key] = _managers_of(user)
        return self._found[key]

    def of_tier(self, tier: AuthorityTier) -> list[User]:
        key = ("tier", tier.pk)
        if key not in self._found:
            self._found[key] = tier_members(tier)
        return self._found[key]


def _billing_message(
    reminder: Reminder, people_of: _People
) -> tuple[list[User], dict[str, Any], str] | None:
    """Billing refused a decision, or has not confirmed an accepted offer in time: the agent
    who owns the work and their managers are told, whether or not the case is still open (a
    saved case whose offer billing refused is work again)."""
    case, offer = reminder.case, reminder.offer
    if offer is not None:
        if reminder.kind == Kind.BILLING_UNCONFIRMED and offer.billing != BillingState.TOLD:
            return None  # billing answered meanwhile
        agent = offer.case.owner if offer.case and offer.case.owner else offer.proposer
        url = offer_url(offer)
        name = offer.subscriber.name
        if reminder.kind == Kind.BILLING_UNCONFIRMED:
            said = phrases.phrase(
                "notify.billing_unconfirmed", id=offer.pk, name=name, since=offer.answered_at
            )
        else:
            said = phrases.phrase(
                "notify.billing_refused", id=offer.pk, name=name, reason=reminder.note
            )
        return [agent, *people_of.managers_of(agent)], said, url
    if case is not None:
        said = phrases.phrase(
            "notify.billing_cancellation_refused",
            id=case.pk,
            name=case.subscriber.name,
            reason=reminder.note,
        )
        owner = [case.owner] if case.owner else []
        return owner + people_of.managers_of(case.owner), said, reverse("case", args=[case.pk])
    return None


def _staff_message(
    reminder: Reminder, now: datetime, people_of: _People | None = None
) -> tuple[list[User], dict[str, Any], str] | None:
    """Who is told what (a phrase, said in each reader's language), or None when the
    reminder no longer matters."""
    people_of = people_of or _People()
    case, offer = reminder.case, reminder.offer
    if reminder.kind in (Kind.BILLING_REFUSED, Kind.BILLING_UNCONFIRMED):
        return _billing_message(reminder, people_of)
    if case is not None:
        url = reverse("case", args=[case.pk])
        if case.status not in CancellationCase.OPEN_STATUSES:
            return None
        name = case.subscriber.name
        owner = [case.owner] if case.owner else []
        if reminder.kind == Kind.CALLBACK:
            if case.callback_at != reminder.due_at or not owner:
                return None
            return owner, phrases.phrase("notify.callback", name=name, id=case.pk), url
        if reminder.kind in (Kind.SLA_WARNING, Kind.SLA_BREACHED):
            if case.first_contacted_at is not None:
                return None
            if reminder.kind == Kind.SLA_WARNING and now >= case.first_contact_due:
                return None  # a tick running late: the breach notice says it all
            if reminder.kind == Kind.SLA_WARNING:
                code = "notify.sla_warning"
                people = owner or people_of.managers_of(None)
            else:
                code = "notify.sla_breached"
                people = owner + people_of.managers_of(case.owner)
            due = case.first_contact_due
            return people, phrases.phrase(code, name=name, due=due, id=case.pk), url
        if reminder.kind == Kind.PROCESS_BY:
            people = owner or people_of.managers_of(None)
            said = phrases.phrase("notify.process_by", id=case.pk, name=name, date=case.process_by)
            return people, said, url
    if offer is not None:
        url = reverse("case", args=[offer.case_id]) if offer.case_id else ""
        if reminder.kind == Kind.APPROVAL_WAITING:
            if offer.status != CounterOffer.Status.PENDING:
                return None
            people = people_of.of_tier(offer.routed_tier) if offer.routed_tier else []
            people = [p for p in people if p.pk != offer.proposer_id]
            said = phrases.phrase(
                "notify.approval_waiting", id=offer.pk, name=offer.subscriber.name
            )
            return people, said, offer_url(offer)
        if reminder.kind == Kind.CALLBACK and reminder.recipient is not None:
            # A hardship arrangement broke (retention.hardship): its agent calls the subscriber,
            # unless later payments kept it after all.
            broken = HardshipArrangement.objects.filter(
                offer=offer, status=HardshipArrangement.Status.BROKEN
            ).first()
            if broken is None:
                return None
            said = phrases.phrase(
                "notify.hardship_callback", name=offer.subscriber.name, id=broken.pk
            )
            url = reverse("subscribers:detail", args=[offer.subscriber_id])
            return [reminder.recipient], said, url
        if reminder.kind == Kind.DISCOUNT_ENDING:
            if offer.subscriber.status != Subscriber.Status.ACTIVE or reminder.recipient is None:
                return None
            url = reverse("subscriber_offers", args=[offer.subscriber_id])
            said = phrases.phrase(
                "notify.discount_ending", name=offer.subscriber.name, date=offer.runs_until
            )
            return [reminder.recipient], said, url
        if reminder.kind == Kind.PAUSE_ENDING:
            subscriber = offer.subscriber
            if subscriber.paused_until != offer.runs_until or reminder.recipient is None:
                return None  # resumed, refused by billing, or the subscriber left
            url = reverse("subscribers:detail", args=[offer.subscriber_id])
            said = phrases.phrase(
                "notify.pause_ending", name=subscriber.name, date=offer.runs_until
            )
            return [reminder.recipient], said, url
    return None


def reminders_tick(*, now: datetime | None = None, batch: int = 500) -> Tick:
    """Deliver every due reminder once; then send the subscriber reminders claimed here."""
    now = now or timezone.now()
    notified = deferred = cancelled = 0
    claimed: list[int] = []
    while True:
        with transaction.atomic():
            # Lock a batch of ids along the partial index on due_at, then load what delivery
            # needs for those rows alone: joined before the LIMIT, every batch would join and
            # sort every due row, and a backlog would take quadratic time to clear.
            ids = list(
                Reminder.objects.select_for_update(skip_locked=True)
                .filter(state=State.PENDING, due_at__lte=now)
                .order_by("due_at")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                break
            due = list(
                Reminder.objects.filter(pk__in=ids)
                .select_related(
                    "case",
                    "case__owner",
                    "case__subscriber",
                    "offer",
                    "offer__subscriber",
                    "offer__routed_tier",
                    "offer__proposer",
                    "offer__case__owner",
                    "subscriber",
                    "recipient",
                )
                .order_by("due_at", "pk")
            )
            people_of = _People()
            notes: list[Notification] = []
            delivered: list[int] = []
            dropped: list[int] = []
            for reminder in due:
                if reminder.kind == Kind.EQUIPMENT_RETURN:
                    outcome = _subscriber_step(reminder, now)
                    deferred += outcome == "deferred"
                    cancelled += outcome == "cancelled"
                    if outcome == "claimed":
                        claimed.append(reminder.pk)
                    continue
                message = _staff_message(reminder, now, people_of)
                if message is None:
                    dropped.append(reminder.pk)
                    continue
                people, said, url = message
                # An owner who manages their own team is told once.
                unique = {person.pk: person for person in people}.values()
                notes += [notification_new(person, said, url, reminder) for person in unique]
                notified += len(unique)
                delivered.append(reminder.pk)
                cancelled += not unique
            # The batch in three statements, not a few per reminder. The unique key of
            # (reminder, recipient) makes delivering a reminder again add nothing.
            Notification.objects.bulk_create(notes, ignore_conflicts=True)
            Reminder.objects.filter(pk__in=delivered).update(state=State.SENT, delivered_at=now)
            Reminder.objects.filter(pk__in=dropped).update(state=State.CANCELLED)
    sent = sum(_send_claimed(pk, now) for pk in claimed)
    return Tick(notified=notified, sent=sent, deferred=deferred, cancelled=cancelled)


def _subscriber_channel(subscriber: Subscriber) -> str:
    """E-mail when the subscriber takes it, otherwise SMS; the contact policy decides the rest
    (a subscriber who refuses e-mail but has a phone still hears about their equipment)."""
    if subscriber.email and not subscriber.do_not_email:
        return ContactChannel.EMAIL
    return ContactChannel.SMS


def _subscriber_step(reminder: Reminder, now: datetime) -> str:
    subscriber = reminder.subscriber
    item = Equipment.objects.filter(serial=reminder.note).first()
    if subscriber is None or item is None or item.status != Equipment.Status.RETURN_REQUESTED:
        reminder.state = State.CANCELLED
        reminder.save(update_fields=["state"])
        return "cancelled"
    channel = _subscriber_channel(subscriber)
    decision = contact_decision(subscriber=subscriber, channel=channel, now=now)
    if decision.allowed:
        reminder.state, reminder.claimed_at = State.SENDING, now
        reminder.save(update_fields=["state", "claimed_at"])
        return "claimed"
    if decision.next_allowed_at is not None:
        reminder.due_at = decision.next_allowed_at
        reminder.save(update_fields=["due_at"])
        return "deferred"
    reminder.state = State.CANCELLED
    reminder.note = f"{reminder.note} — {decision.reason}"[:300]
    reminder.save(update_fields=["state", "note"])
    return "cancelled"


def _send_claimed(pk: int, now: datetime) -> int:
    """Send one claimed subscriber reminder, then mark it; outside any transaction."""
    reminder = Reminder.objects.select_related("subscriber").get(pk=pk)
    subscriber = reminder.subscriber
    assert subscriber is not None
    item = Equipment.objects.filter(serial=reminder.note.split(" — ")[0]).first()
    with override(subscriber.language):
        body = _(
            "Please return your %(item)s (%(serial)s) by %(date)s: courier pickup, any partner "
            "point or the prepaid mail label. Your billing has already stopped."
        ) % {
            "item": item.get_kind_display() if item else "",
            "serial": reminder.note,
            "date": phrases.day(item.return_due_on) if item else "",
        }
        subject = _("Returning your equipment")
    key = f"reminder-{reminder.pk}"
    channel = _subscriber_channel(subscriber)
    address = subscriber.email if channel == ContactChannel.EMAIL else subscriber.phone
    send_to_subscriber(channel=channel, key=key, to=address, body=body, subject=subject)
    with transaction.atomic():
        marked = Reminder.objects.filter(pk=pk, state=State.SENDING).update(
            state=State.SENT, delivered_at=now
        )
        if marked:
            timeline_event_record(
                subscriber=subscriber,
                kind=TimelineEvent.Kind.CONTACT,
                phrase=phrases.phrase("contact.equipment_reminder", channel=channel),
                data={"direction": "outbound", "channel": channel, "reminder": reminder.pk},
                occurred_at=now,
                source="reminders",
            )
    return marked


def reminders_sweep(*, now: datetime | None = None) -> int:
    """Claims a dead worker left behind go back to pending (the send is keyed: no double)."""
    now = now or timezone.now()
    return Reminder.objects.filter(state=State.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT).update(
        state=State.PENDING, claimed_at=None
    )
