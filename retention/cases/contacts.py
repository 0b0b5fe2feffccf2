"""Logging contacts with a subscriber, through the contact policy: quiet hours per channel, the
frequency cap across all sources and do-not-contact hold for an agent's call as for outreach."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from retention.cases.services import (
    case_history_record,
    case_locked,
    case_require_act,
    case_require_open,
)
from retention.core.refusals import ContactRefused
from retention.models import CancellationCase, CaseHistory, ContactAttempt, User
from subscribers import phrases
from subscribers.models import Subscriber, TimelineEvent
from subscribers.selectors import ContactDecision, contact_decision, contact_refusal_phrase
from subscribers.services import timeline_event_record

Direction = ContactAttempt.Direction


def port_out_contact_used(*, case: CancellationCase) -> bool:
    """A port-out gets at most one save contact: the subscriber has already chosen another
    provider, and asking twice is pressure, not service."""
    return case.is_port_out and case.contacts.filter(direction=Direction.OUTBOUND).exists()


def port_out_refusal_message() -> str:
    return _("This subscriber is porting out: the one save contact has been made.")


@dataclass(frozen=True)
class ChannelRule:
    """May the desk contact the subscriber on this channel now, and if not, why."""

    channel: str
    allowed: bool
    message: str


def case_contact_rules(
    *, decisions: Sequence[ContactDecision], port_out_used: bool
) -> list[ChannelRule]:
    """The contact policy's answer per channel (``decisions``, already computed for the
    subscriber), as it holds for this case: once a port-out's one save contact is made, every
    outbound channel is blocked, as ``contact_log`` refuses them all."""
    if port_out_used:
        return [ChannelRule(d.channel, False, port_out_refusal_message()) for d in decisions]
    return [ChannelRule(d.channel, d.allowed, "" if d.allowed else d.message) for d in decisions]


def contact_log(
    *,
    case: CancellationCase,
    actor: User,
    channel: str,
    direction: str,
    outcome: str,
    note: str = "",
    now: datetime | None = None,
) -> ContactAttempt:
    """Record a contact. An outbound one must be allowed by the policy right now, or it is
    refused with the reason and the next allowed moment, and only the refusal is recorded."""
    now = now or timezone.now()
    refusal: ContactRefused | None = None
    with transaction.atomic():
        case = case_locked(case)
        case_require_open(case)
        case_require_act(case, actor)
        # Locking the subscriber serialises every outbound contact to them, so two agents (or
        # an agent and an outreach send) cannot both squeeze under the cap.
        subscriber = Subscriber.objects.select_for_update().get(pk=case.subscriber_id)
        if direction == Direction.OUTBOUND:
            refusal = _refusal(case, subscriber, channel, now)
        if refusal is not None:
            case_history_record(
                case,
                actor,
                CaseHistory.Action.CONTACT_REFUSED,
                from_status=case.status,
                phrase=phrases.phrase(
                    "history.contact_refused",
                    channel=channel,
                    why=contact_refusal_phrase(
                        reason=refusal.reason,
                        next_allowed_at=refusal.next_allowed_at,
                        holiday=refusal.holiday,
                    ),
                ),
            )
            attempt = None
        else:
            attempt = ContactAttempt.objects.create(
                case=case,
                subscriber=subscriber,
                channel=channel,
                direction=direction,
                outcome=outcome,
                note=note,
                at=now,
                actor=actor,
            )
            if case.first_contacted_at is None:
                case.first_contacted_at = now
                case.save(update_fields=["first_contacted_at"])
            case_history_record(
                case,
                actor,
                CaseHistory.Action.CONTACT,
                from_status=case.status,
                phrase=phrases.phrase(
                    "history.contact_note" if note else "history.contact",
                    direction=direction,
                    channel=channel,
                    outcome=outcome,
                    note=note,
                ),
            )
            timeline_event_record(
                subscriber=subscriber,
                kind=TimelineEvent.Kind.CONTACT,
                phrase=phrases.phrase(
                    "contact.desk", direction=direction, channel=channel, outcome=outcome
                ),
                actor=actor,
                occurred_at=now,
                # The frequency cap counts timeline contacts with this direction.
                data={
                    "direction": direction,
                    "channel": channel,
                    "outcome": outcome,
                    "case": case.pk,
                },
            )
    if refusal is not None:
        raise refusal
    assert attempt is not None
    return attempt


def _refusal(
    case: CancellationCase, subscriber: Subscriber, channel: str, now: datetime
) -> ContactRefused | None:
    if port_out_contact_used(case=case):
        return ContactRefused(
            port_out_refusal_message(),
            reason="port_out_once",
            next_allowed_at=None,
        )
    decision: ContactDecision = contact_decision(subscriber=subscriber, channel=channel, now=now)
    if decision.allowed:
        return None
    return ContactRefused(
        decision.message,
        reason=decision.reason,
        next_allowed_at=decision.next_allowed_at,
        holiday=decision.holiday,
    )
