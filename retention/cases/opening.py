"""Opening a case: from an agent's call, the API or an import, with its deadlines at once.

A subscriber has at most one open case; a port-out notice binds to the open case or opens one.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from retention.cases.priority import case_priority, process_by_date
from retention.cases.services import (
    OPEN,
    Action,
    Status,
    case_history_record,
    case_locked,
    reason_names,
)
from retention.core.refusals import Conflict, InvalidInput, WrongState
from retention.experiments.assignment import experiment_assign_case
from retention.models import (
    CancellationCase,
    CancellationReason,
    ContactAttempt,
    User,
)
from retention.notifications.reminders import (
    reminders_for_new_case,
)
from subscribers import phrases
from subscribers.desk_calendar import first_contact_due
from subscribers.models import ContactChannel, Subscriber, TimelineEvent
from subscribers.services import timeline_event_record


class CaseAlreadyOpen(Conflict):
    def __init__(self, case: CancellationCase) -> None:
        super().__init__(_("This subscriber already has an open case (#%(id)s).") % {"id": case.pk})
        self.case = case


# How far ahead a subscriber may ask to leave, counted from the day they ask. A fixed-term
# contract runs at most a year, so notice for its end is never further off; a later date is a
# typo (2099, 9999). Unbounded, a port-out, whose switch date is its process-by date, would hold
# its case open for decades. The desk's form, the API and the import all check it here.
REQUESTED_END_MAX_DAYS = 365


class RequestedEndTooLate(InvalidInput):
    """The requested end date is beyond ``REQUESTED_END_MAX_DAYS``."""


def requested_end_problem(*, requested_end: date, asked_on: date) -> str | None:
    """What is wrong with the requested end date of a request made on ``asked_on``, or None."""
    latest = asked_on + timedelta(days=REQUESTED_END_MAX_DAYS)
    if requested_end > latest:
        return _("The requested end date can be at most a year ahead, until %(date)s.") % {
            "date": latest.isoformat()
        }
    return None


@dataclass(frozen=True)
class Intake:
    channel: str
    reason: CancellationReason | None = None
    reason_detail: str = ""
    competitor: str = ""
    requested_end_date: date | None = None
    source: str = "desk"
    external_id: str | None = None


def case_open(
    *, subscriber: Subscriber, intake: Intake, actor: User | None, now: datetime | None = None
) -> CancellationCase:
    """Open a case from any intake (desk, API, import) with its SLA and deadlines.

    An agent opening it from an inbound call owns it at once, and the call is its first
    contact. A second intake for a subscriber with an open case raises ``CaseAlreadyOpen``,
    except a port-out notice, whose switch date then binds the open case.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    port_out = intake.channel == CancellationCase.Channel.PORT_OUT
    if intake.requested_end_date is not None:
        problem = requested_end_problem(requested_end=intake.requested_end_date, asked_on=today)
        if problem:
            raise RequestedEndTooLate(problem)
    with transaction.atomic():
        # Serialises intakes for one subscriber; the partial unique index is the backstop.
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if intake.external_id:
            existing = CancellationCase.objects.filter(
                source=intake.source, external_id=intake.external_id
            ).first()
            if existing:
                return existing
        if subscriber.status in (Subscriber.Status.CANCELLED, Subscriber.Status.CANCELLING):
            raise WrongState(_("The subscriber's cancellation is already processed."))
        open_case = CancellationCase.objects.filter(subscriber=subscriber, status__in=OPEN).first()
        if open_case:
            if port_out:
                return _bind_port_out(open_case, intake, actor, today)
            raise CaseAlreadyOpen(open_case)
        process_by = process_by_date(
            opened=today, requested_end=intake.requested_end_date, port_out=port_out
        )
        priority = case_priority(
            subscriber=subscriber, process_by=process_by, port_out=port_out, today=today
        )
        inbound_call = actor is not None and intake.channel == CancellationCase.Channel.PHONE
        case = CancellationCase(
            subscriber=subscriber,
            channel=intake.channel,
            reason=intake.reason,
            reason_detail=intake.reason_detail,
            competitor=intake.competitor,
            requested_end_date=intake.requested_end_date,
            process_by=process_by,
            first_contact_due=first_contact_due(now),
            priority=priority.score,
            priority_explained=priority.explained,
            opened_at=now,
            opened_by=actor,
            source=intake.source,
            external_id=intake.external_id,
        )
        if inbound_call:
            case.owner, case.claimed_at, case.first_contacted_at = actor, now, now
            case.status = Status.IN_PROGRESS
        try:
            with transaction.atomic():
                case.save()
        except IntegrityError:
            # Either constraint: the same external request at the same moment (return the case
            # it opened), or another open case for this subscriber.
            if intake.external_id:
                same = CancellationCase.objects.filter(
                    source=intake.source, external_id=intake.external_id
                ).first()
                if same:
                    return same
            raise CaseAlreadyOpen(
                CancellationCase.objects.get(subscriber=subscriber, status__in=OPEN)
            ) from None
        case_history_record(
            case, actor, Action.OPENED, to_status=case.status, note=intake.reason_detail
        )
        reminders_for_new_case(case=case)
        # A running experiment on the case's slot draws its arm now, whatever the intake.
        experiment_assign_case(case=case, now=now)
        timeline_event_record(
            subscriber=subscriber,
            kind=TimelineEvent.Kind.PORT_OUT
            if port_out
            else TimelineEvent.Kind.CANCELLATION_REQUEST,
            phrase=_intake_phrase(case),
            actor=actor,
            data={"case": case.pk, "channel": case.channel, "process_by": process_by.isoformat()},
            occurred_at=now,
            source=intake.source,
        )
        if inbound_call:
            ContactAttempt.objects.create(
                case=case,
                subscriber=subscriber,
                channel=ContactChannel.PHONE,
                direction=ContactAttempt.Direction.INBOUND,
                outcome=ContactAttempt.Outcome.REACHED,
                code="contact.inbound_cancel",
                at=now,
                actor=actor,
            )
    return case


def _intake_phrase(case: CancellationCase) -> dict[str, Any]:
    if case.is_port_out:
        return _port_out_phrase(case.process_by, case.competitor)
    if case.reason:
        return phrases.phrase(
            "case.requested_reason", channel=case.channel, reason=reason_names(case.reason)
        )
    return phrases.phrase("case.requested", channel=case.channel)


def _port_out_phrase(switch: date, competitor: str) -> dict[str, Any]:
    if competitor:
        return phrases.phrase("case.port_out_to", date=switch, competitor=competitor)
    return phrases.phrase("case.port_out", date=switch)


def _bind_port_out(
    case: CancellationCase, intake: Intake, actor: User | None, today: date
) -> CancellationCase:
    case = case_locked(case)
    switch = process_by_date(opened=today, requested_end=intake.requested_end_date, port_out=True)
    case.channel = CancellationCase.Channel.PORT_OUT
    case.process_by = min(case.process_by, switch)
    case.competitor = intake.competitor or case.competitor
    case.save(update_fields=["channel", "process_by", "competitor"])
    reminders_for_new_case(case=case)  # the earlier process-by date gets its own reminder
    case_history_record(
        case,
        actor,
        Action.REASON,
        from_status=case.status,
        phrase=phrases.phrase("history.port_out_binds", date=switch),
    )
    timeline_event_record(
        subscriber=case.subscriber,
        kind=TimelineEvent.Kind.PORT_OUT,
        phrase=_port_out_phrase(switch, intake.competitor),
        actor=actor,
        data={"case": case.pk, "process_by": case.process_by.isoformat()},
        source=intake.source,
    )
    return case
