"""Every write to subscribers, their equipment and their timeline (besides bulk ingestion), and
to the contact policy. What billing must act on also goes out as an outbound event, in the same
transaction (subscribers.outbound)."""

from datetime import date, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from retention.core.refusals import NotAllowed, WrongState
from retention.core.roles import Role, has_role
from subscribers import outbound, phrases
from subscribers.models import (
    CONTACT_HOURS_FIELDS,
    ContactChannel,
    ContactHours,
    ContactPolicy,
    ContactPolicyChange,
    Equipment,
    OutboundEvent,
    Subscriber,
    TimelineEvent,
)
from subscribers.outbound import outbound_event_record


def timeline_event_build(
    *,
    subscriber: Subscriber,
    kind: str,
    phrase: dict[str, Any] | None = None,
    summary: str = "",
    actor: AbstractUser | None = None,
    data: dict[str, Any] | None = None,
    occurred_at: Any = None,
    source: str = "desk",
) -> TimelineEvent:
    """One event of the subscriber's story, not saved yet: what the desk says about it as a
    ``phrase`` (subscribers.phrases.phrase), said in each reader's language, or a ``summary``
    somebody wrote (a note), shown as it is."""
    return TimelineEvent(
        subscriber=subscriber,
        kind=kind,
        summary=summary[:300],
        code=phrase["code"] if phrase else "",
        params=phrase["params"] if phrase else {},
        actor_id=actor.pk if actor is not None else None,
        data=data or {},
        occurred_at=occurred_at or timezone.now(),
        source=source,
    )


def timeline_event_record(**event: Any) -> TimelineEvent:
    """Append one event to the subscriber's story (the arguments of ``timeline_event_build``)."""
    built = timeline_event_build(**event)
    built.save(force_insert=True)
    return built


def timeline_events_record(*, events: list[TimelineEvent]) -> list[TimelineEvent]:
    """Append many built events in one INSERT (a sender's chunk)."""
    return TimelineEvent.objects.bulk_create(events, batch_size=1000)


def subscriber_cancel(
    *,
    subscriber: Subscriber,
    effective_date: date,
    actor: AbstractUser | None,
    case_id: int | None = None,
) -> Subscriber:
    """Stop the service and billing on ``effective_date`` and ask for the equipment back; billing
    hears of both (outbound events). ``case_id``: the cancellation case this processes.

    Billing ends on the effective date whatever happens to the equipment:
    nothing here waits for a return. Call inside the caller's transaction.
    """
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    if subscriber.status == Subscriber.Status.CANCELLED:
        raise WrongState("The subscriber is already cancelled.")
    today = timezone.localdate()
    subscriber.status = (
        Subscriber.Status.CANCELLED if effective_date <= today else Subscriber.Status.CANCELLING
    )
    subscriber.billing_ends_on = effective_date
    subscriber.save(update_fields=["status", "billing_ends_on", "updated_at"])
    timeline_event_record(
        subscriber=subscriber,
        kind=TimelineEvent.Kind.CANCELLED,
        phrase=phrases.phrase("subscriber.cancelled", date=effective_date),
        actor=actor,
        data={"effective_date": effective_date.isoformat()},
    )
    outbound_event_record(
        type=OutboundEvent.Type.CANCELLATION_PROCESSED,
        data=outbound.CancellationProcessed(
            subscriber=outbound.subscriber_ref(subscriber),
            case=case_id,
            effective_date=effective_date,
            billing_ends_on=effective_date,
        ),
        holds={"status": subscriber.status, "billing_ends_on": effective_date},
    )
    equipment_request_returns(subscriber=subscriber, effective_date=effective_date, actor=actor)
    return subscriber


def equipment_request_returns(
    *, subscriber: Subscriber, effective_date: date, actor: AbstractUser | None
) -> list[Equipment]:
    """Every item on loan gets a generous return window and all three easy return options."""
    due = effective_date + timedelta(days=settings.EQUIPMENT_RETURN_DAYS)
    items = list(
        Equipment.objects.select_for_update().filter(
            subscriber=subscriber, status=Equipment.Status.ON_LOAN
        )
    )
    for item in items:
        item.status = Equipment.Status.RETURN_REQUESTED
        item.return_due_on = due
    Equipment.objects.bulk_update(items, ["status", "return_due_on"])
    if items:
        timeline_event_record(
            subscriber=subscriber,
            kind=TimelineEvent.Kind.EQUIPMENT_RETURN_REQUESTED,
            phrase=phrases.phrase(
                "equipment.return_requested",
                date=due,
                serials=", ".join(item.serial for item in items),
            ),
            actor=actor,
            data={"serials": [item.serial for item in items], "due": due.isoformat()},
        )
        outbound_event_record(
            type=OutboundEvent.Type.EQUIPMENT_RETURN_REQUESTED,
            data=outbound.EquipmentReturnRequested(
                subscriber=outbound.subscriber_ref(subscriber),
                due_on=due,
                items=[outbound.item_of(item) for item in items],
            ),
        )
    return items


def equipment_mark_returned(
    *, equipment: Equipment, actor: AbstractUser, method: str = ""
) -> Equipment:
    with transaction.atomic():
        item = Equipment.objects.select_for_update().get(pk=equipment.pk)
        if item.status not in (Equipment.Status.ON_LOAN, Equipment.Status.RETURN_REQUESTED):
            raise WrongState(
                _("This item is already %(status)s.") % {"status": item.get_status_display()}
            )
        item.status = Equipment.Status.RETURNED
        item.returned_on = timezone.localdate()
        if method:
            item.return_method = method
        item.save(update_fields=["status", "returned_on", "return_method"])
        timeline_event_record(
            subscriber=item.subscriber,
            kind=TimelineEvent.Kind.EQUIPMENT_RETURNED,
            phrase=phrases.phrase("equipment.returned", kind=item.kind, serial=item.serial),
            actor=actor,
            data={"serial": item.serial, "method": item.return_method},
        )
        outbound_event_record(
            type=OutboundEvent.Type.EQUIPMENT_RETURNED,
            data=outbound.EquipmentReturned(
                subscriber=outbound.subscriber_ref(item.subscriber),
                item=outbound.item_of(item),
                returned_on=item.returned_on,
                method=item.return_method,
            ),
        )
    return item


def subscribers_complete_cancellations(*, today: date | None = None) -> int:
    """Cancelling subscribers whose billing has ended become cancelled. Safe to run twice."""
    today = today or timezone.localdate()
    return Subscriber.objects.filter(
        status=Subscriber.Status.CANCELLING, billing_ends_on__lte=today
    ).update(status=Subscriber.Status.CANCELLED, updated_at=timezone.now())


# --- Contact preferences ------------------------------------------------------------------------

DO_NOT_CONTACT_FIELDS: dict[str, str] = {
    ContactChannel.PHONE: "do_not_call",
    ContactChannel.EMAIL: "do_not_email",
    ContactChannel.SMS: "do_not_sms",
}


def subscriber_contact_stop(
    *,
    subscriber: Subscriber,
    channels: list[str],
    actor: AbstractUser | None = None,
    source: str = "desk",
    via: str = "",
    now: Any = None,
) -> list[str]:
    """Do not contact the subscriber by these channels any more (every later contact checks
    it: the contact policy). Each channel newly stopped is a timeline event (who asked: the
    staff member, or with no actor the subscriber through ``via``, e.g. "link"). A channel
    stopped already changes nothing: returns the channels that changed, empty when none did."""
    unknown = set(channels) - set(DO_NOT_CONTACT_FIELDS)
    if unknown:
        raise ValueError(f"not contact channels: {sorted(unknown)}")
    now = now or timezone.now()
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        changed = [
            c
            for c in ContactChannel.values
            if c in channels and not getattr(subscriber, DO_NOT_CONTACT_FIELDS[c])
        ]
        if not changed:
            return []
        for channel in changed:
            setattr(subscriber, DO_NOT_CONTACT_FIELDS[channel], True)
        subscriber.save(update_fields=[DO_NOT_CONTACT_FIELDS[c] for c in changed] + ["updated_at"])
        code = "contact.stopped_by_subscriber" if actor is None else "contact.stopped_by_staff"
        for channel in changed:
            timeline_event_record(
                subscriber=subscriber,
                kind=TimelineEvent.Kind.CONTACT,
                phrase=phrases.phrase(code, channel=channel),
                actor=actor,
                data={"direction": "inbound", "do_not_contact": channel, "via": via},
                occurred_at=now,
                source=source,
            )
    return changed


# --- The contact policy -------------------------------------------------------------------------

POLICY_FIELDS = ("max_outbound", "period_days", "closed_on_public_holidays")


def _policy_kept(policy: ContactPolicy | None, hours: dict[str, ContactHours]) -> dict[str, Any]:
    """The policy as its history keeps it: the cap, the period, and each channel's hours as
    "phone.weekday_end": "19:00"."""
    kept: dict[str, Any] = dict.fromkeys(POLICY_FIELDS)
    if policy is not None:
        kept.update({name: getattr(policy, name) for name in POLICY_FIELDS})
    for channel, row in hours.items():
        for name in CONTACT_HOURS_FIELDS:
            value: time = getattr(row, name)
            kept[f"{channel}.{name}"] = value.strftime("%H:%M")
    return kept


def contact_policy_save(*, values: dict[str, Any], actor: AbstractUser) -> ContactPolicy:
    """Create or change the one contact policy. ``values`` may hold ``max_outbound``,
    ``period_days`` and ``hours`` ({channel: {"weekday_start": time, …}}); a channel it leaves
    out keeps its hours. Writes a ContactPolicyChange with every field that changed, from what
    to what; a save that changes nothing writes nothing.

    The policy is read afresh on every contact decision (subscribers.selectors
    .contact_policy_get), so a change applies from the next one."""
    if not has_role(actor, Role.ADMIN):
        raise NotAllowed(_("Only an administrator changes the contact policy."))
    unknown = set(values) - {*POLICY_FIELDS, "hours"}
    hours_given: dict[str, dict[str, Any]] = values.get("hours") or {}
    unknown |= set(hours_given) - set(ContactChannel.values)
    if unknown:
        raise ValueError(f"not part of the contact policy: {sorted(unknown)}")
    with transaction.atomic():
        # Locked, and read again with its hours: two administrators saving at once each record
        # the change from what the other left.
        policy = ContactPolicy.objects.select_for_update().filter(pk=1).first()
        created = policy is None
        hours: dict[str, ContactHours] = {}
        if policy is not None:
            rows = ContactHours.objects.select_for_update().filter(policy=policy)
            hours = {row.channel: row for row in rows}
        before = _policy_kept(policy, hours)
        policy = policy or ContactPolicy(pk=1)
        for name in POLICY_FIELDS:
            if name in values:
                setattr(policy, name, values[name])
        for channel, given in hours_given.items():
            row = hours.get(channel) or ContactHours(channel=channel)
            for name in CONTACT_HOURS_FIELDS:
                if name in given:
                    setattr(row, name, given[name])
            hours[channel] = row
        after = _policy_kept(policy, hours)
        changes = {
            name: [before.get(name), value]
            for name, value in after.items()
            if before.get(name) != value
        }
        if not created and not changes:
            return policy
        if created or any(name in changes for name in POLICY_FIELDS):
            policy.save()
        for channel, row in hours.items():
            if row.pk is None or any(
                f"{channel}.{name}" in changes for name in CONTACT_HOURS_FIELDS
            ):
                row.policy = policy
                row.save()
        ContactPolicyChange.objects.create(
            action=ContactPolicyChange.Action.CREATED
            if created
            else ContactPolicyChange.Action.CHANGED,
            actor_id=actor.pk,
            changes=changes,
        )
    return policy
