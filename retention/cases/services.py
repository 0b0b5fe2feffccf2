"""Services for cancellation cases: every state change of a case goes through here.

Each one locks the case row (``case_locked``), checks its current state and the actor's right
to act inside the transaction (``case_require_open``, ``case_require_act``; the contact and save
services use them too), and writes a history row (and a timeline event where the subscriber's
story should show it). Database constraints back the rules: one open case per subscriber, one
id per source.
"""

from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from offers.lifecycle import offers_end_for_case
from retention.cases.selectors import case_can_act
from retention.core.refusals import NotAllowed, WrongState
from retention.core.roles import Role, has_role
from retention.models import (
    CancellationCase,
    CancellationReason,
    CaseHistory,
    User,
)
from retention.notifications.reminders import reminder_for_callback, reminders_for_equipment
from retention.notifications.services import notify
from subscribers import outbound, phrases
from subscribers.models import ContactChannel, Equipment, OutboundEvent, TimelineEvent
from subscribers.outbound import outbound_event_record
from subscribers.selectors import contact_policy_get, next_opening
from subscribers.services import subscriber_cancel, timeline_event_record

Status = CancellationCase.Status
Action = CaseHistory.Action
OPEN = CancellationCase.OPEN_STATUSES


# --- Who may act --------------------------------------------------------------------------------


def case_require_act(case: CancellationCase, actor: User) -> None:
    """Refuse an actor the rule does not let work the case (``case_can_act``: the selector
    that shows the case's buttons asks the same)."""
    if not case_can_act(user=actor, case=case):
        if case.owner is None:
            raise NotAllowed(_("Claim this case before working on it."))
        raise NotAllowed(_("This case belongs to %(owner)s.") % {"owner": _name(case.owner)})


def _name(user: User) -> str:
    return user.get_full_name() or user.username


def case_locked(case: CancellationCase) -> CancellationCase:
    # of=("self",) keeps the owner row unlocked while still loading it for the checks.
    return (
        CancellationCase.objects.select_for_update(of=("self",))
        .select_related("owner", "subscriber")
        .get(pk=case.pk)
    )


def case_require_open(case: CancellationCase) -> None:
    if case.status not in OPEN:
        raise WrongState(
            _("The case is already closed (%(status)s).")
            % {"status": str(case.get_status_display()).lower()}
        )


def case_history_record(
    case: CancellationCase,
    actor: User | None,
    action: str,
    *,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    phrase: dict[str, Any] | None = None,
) -> CaseHistory:
    """``note`` is what somebody wrote; what the desk says is a ``phrase``
    (subscribers.phrases), said in each reader's language."""
    return CaseHistory.objects.create(
        case=case,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status or from_status,
        note=note,
        code=phrase["code"] if phrase else "",
        params=phrase["params"] if phrase else {},
    )


def case_set_status(
    case: CancellationCase,
    actor: User | None,
    action: str,
    status: str,
    note: str = "",
    phrase: dict[str, Any] | None = None,
) -> None:
    previous = case.status
    case.status = status
    case_history_record(
        case, actor, action, from_status=previous, to_status=status, note=note, phrase=phrase
    )


def reason_names(reason: CancellationReason) -> dict[str, str]:
    """A reason's name in each language, kept with the phrase that mentions it: the history
    reads as it was, in the reader's language, without a query per line."""
    names = {"en": reason.name_en, "lv": reason.name_lv, "ru": reason.name_ru}
    return {language: name for language, name in names.items() if name}


# --- Claiming and assignment --------------------------------------------------------------------


def _claim(case: CancellationCase, actor: User, now: datetime) -> None:
    previous = case.status
    case.owner, case.claimed_at = actor, now
    if case.status == Status.NEW:
        case.status = Status.IN_PROGRESS
    case.save(update_fields=["owner", "claimed_at", "status"])
    case_history_record(case, actor, Action.CLAIMED, from_status=previous, to_status=case.status)


def case_claim(*, case: CancellationCase, actor: User) -> CancellationCase:
    if not has_role(actor, Role.AGENT, Role.MANAGER):
        raise NotAllowed(_("Only agents and managers work cases."))
    with transaction.atomic():
        case = case_locked(case)
        case_require_open(case)
        if case.owner_id == actor.pk:
            return case
        if case.owner is not None:
            raise NotAllowed(_("%(owner)s claimed this case first.") % {"owner": _name(case.owner)})
        _claim(case, actor, timezone.now())
    return case


def case_claim_next(*, actor: User) -> CancellationCase | None:
    """Hand the agent the top unclaimed case. Two agents never get the same one: the row is
    locked, and rows another transaction holds are skipped rather than waited for."""
    if not has_role(actor, Role.AGENT, Role.MANAGER):
        raise NotAllowed(_("Only agents and managers work cases."))
    with transaction.atomic():
        case = (
            CancellationCase.objects.select_for_update(skip_locked=True)
            .filter(status=Status.NEW, owner__isnull=True)
            .order_by("-priority", "first_contact_due", "id")
            .first()
        )
        if case is None:
            return None
        _claim(case, actor, timezone.now())
    return case


def case_release(*, case: CancellationCase, actor: User) -> CancellationCase:
    with transaction.atomic():
        case = case_locked(case)
        case_require_open(case)
        case_require_act(case, actor)
        if case.owner_id is None:
            raise WrongState(_("Nobody owns this case."))
        if case.status not in (Status.NEW, Status.IN_PROGRESS):
            raise WrongState(_("A case with an offer under way cannot be released."))
        case.owner, case.claimed_at = None, None
        case_set_status(case, actor, Action.RELEASED, Status.NEW)
        case.save(update_fields=["owner", "claimed_at", "status"])
    return case


def cases_reassign(
    *, case_ids: Iterable[int], to_user: User, actor: User, reason: str
) -> list[CancellationCase]:
    """Managers move open cases to an agent, with the reason recorded on each; all or none."""
    if not has_role(actor, Role.MANAGER, Role.ADMIN):
        raise NotAllowed(_("Only managers reassign cases."))
    if not has_role(to_user, Role.AGENT, Role.MANAGER) or not to_user.is_active:
        raise NotAllowed(_("Cases can only go to an active agent or manager."))
    if not reason.strip():
        raise WrongState(_("Say why the cases are reassigned."))
    now = timezone.now()
    with transaction.atomic():
        # Locked in id order, so two bulk reassignments cannot deadlock each other.
        cases = list(
            CancellationCase.objects.select_for_update(of=("self",))
            .select_related("owner")
            .filter(pk__in=list(case_ids))
            .order_by("pk")
        )
        for case in cases:
            case_require_open(case)
            case_require_act(case, actor)
            previous_owner = case.owner
            previous = case.status
            case.owner, case.claimed_at = to_user, now
            if case.status == Status.NEW:
                case.status = Status.IN_PROGRESS
            case.save(update_fields=["owner", "claimed_at", "status"])
            case_history_record(
                case,
                actor,
                Action.REASSIGNED,
                from_status=previous,
                to_status=case.status,
                phrase=phrases.phrase(
                    "history.reassigned",
                    **{"from": str(previous_owner or "—"), "to": str(to_user), "reason": reason},
                ),
            )
            notify(
                recipient=to_user,
                phrase=phrases.phrase("notify.case_assigned", id=case.pk, reason=reason),
                url=reverse("case", args=[case.pk]),
            )
    return cases


# --- Working the case ---------------------------------------------------------------------------


def case_set_reason(
    *,
    case: CancellationCase,
    actor: User,
    reason: CancellationReason,
    reason_detail: str,
    competitor: str,
) -> CancellationCase:
    with transaction.atomic():
        case = case_locked(case)
        case_require_open(case)
        case_require_act(case, actor)
        before = reason_names(case.reason) if case.reason else phrases.phrase("history.no_reason")
        case.reason, case.reason_detail, case.competitor = reason, reason_detail, competitor
        case.save(update_fields=["reason", "reason_detail", "competitor"])
        case_history_record(
            case,
            actor,
            Action.REASON,
            from_status=case.status,
            phrase=phrases.phrase(
                "history.reason_changed", **{"from": before, "to": reason_names(reason)}
            ),
        )
    return case


def case_add_note(*, case: CancellationCase, actor: User, text: str) -> CaseHistory:
    text = text.strip()
    if not text:
        raise WrongState(_("The note is empty."))
    with transaction.atomic():
        case = case_locked(case)
        case_require_act(case, actor)
        entry = case_history_record(case, actor, Action.NOTE, from_status=case.status, note=text)
        timeline_event_record(
            subscriber=case.subscriber,
            kind=TimelineEvent.Kind.NOTE,
            summary=text,
            actor=actor,
            data={"case": case.pk},
        )
    return entry


def case_deadline(case: CancellationCase) -> datetime:
    """The moment the deadline sweep may process the case: the start of its process-by day,
    desk time (the sweep counts days in the desk's time zone)."""
    return timezone.make_aware(
        datetime.combine(case.process_by, time.min), timezone.get_default_timezone()
    )


def callback_problem(
    *, case: CancellationCase, at: datetime, now: datetime | None = None
) -> str | None:
    """What is wrong with calling the subscriber back at ``at``, or None: it must be in the
    future, before the case's deadline, and within the hours the contact policy allows calls,
    in the subscriber's time zone. The form and the service check the same."""
    now = now or timezone.now()
    if at <= now:
        return _("A callback must be in the future.")
    # Checked before the hours: a year-9999 typo must not reach time zone arithmetic.
    if at >= case_deadline(case):
        return _(
            "A callback must be before the process-by date (%(date)s): the cancellation is "
            "processed that day."
        ) % {"date": phrases.day(case.process_by)}
    hours = contact_policy_get().hours[ContactChannel.PHONE]
    local = at.astimezone(case.subscriber.zone)
    if next_opening(hours=hours, local=local) != local:
        start, end = hours.on(local)
        return _(
            "%(time)s is outside the hours the subscriber may be called, their local time "
            "(%(zone)s): %(start)s–%(end)s that day. The next allowed time is %(next)s."
        ) % {
            "time": formats.date_format(local, "D j M H:i"),
            "zone": case.subscriber.time_zone,
            "start": start.strftime("%H:%M"),
            "end": end.strftime("%H:%M"),
            "next": formats.date_format(next_opening(hours=hours, local=local), "D j M H:i"),
        }
    return None


def case_set_callback(*, case: CancellationCase, actor: User, at: datetime) -> CancellationCase:
    with transaction.atomic():
        case = case_locked(case)
        case_require_open(case)
        case_require_act(case, actor)
        problem = callback_problem(case=case, at=at)
        if problem:
            raise WrongState(problem)
        case.callback_at = at
        case.save(update_fields=["callback_at"])
        reminder_for_callback(case=case)
        case_history_record(
            case,
            actor,
            Action.CALLBACK,
            from_status=case.status,
            phrase=phrases.phrase("history.callback", at=at),
        )
    return case


# --- Closing ------------------------------------------------------------------------------------


def case_withdraw(*, case: CancellationCase, actor: User, note: str) -> CancellationCase:
    """The subscriber changed their mind; what they said is recorded."""
    if not note.strip():
        raise WrongState(_("Record what the subscriber said."))
    with transaction.atomic():
        case = case_locked(case)
        case_require_open(case)
        case_require_act(case, actor)
        case.closed_at, case.outcome_note = timezone.now(), note
        case_set_status(case, actor, Action.WITHDRAWN, Status.WITHDRAWN, note)
        case.save(update_fields=["status", "closed_at", "outcome_note"])
        offers_end_for_case(
            case_id=case.pk, actor=actor, note=phrases.phrase("offer.end.case_withdrawn")
        )
        timeline_event_record(
            subscriber=case.subscriber,
            kind=TimelineEvent.Kind.WITHDRAWN,
            phrase=phrases.phrase("case.withdrawn", note=note),
            actor=actor,
            data={"case": case.pk},
        )
        outbound_event_record(
            type=OutboundEvent.Type.CANCELLATION_WITHDRAWN,
            data=outbound.CancellationWithdrawn(
                subscriber=outbound.subscriber_ref(case.subscriber), case=case.pk
            ),
        )
    return case


def case_cancel(
    *, case: CancellationCase, actor: User, effective_date: date, note: str = ""
) -> CancellationCase:
    """Process the cancellation the subscriber asked for, on a date they are entitled to."""
    today = timezone.localdate()
    with transaction.atomic():
        case = case_locked(case)
        case_require_open(case)
        case_require_act(case, actor)
        if effective_date < today:
            raise WrongState(_("The effective date cannot be in the past."))
        if effective_date > max(case.process_by, today):
            raise WrongState(
                _("The subscriber must be able to leave by %(date)s.")
                % {"date": phrases.day(case.process_by)}
            )
        close_cancelled(case, actor, effective_date, Action.CANCELLED, note)
    return case


def close_cancelled(
    case: CancellationCase,
    actor: User | None,
    effective_date: date,
    action: str,
    note: str,
    phrase: dict[str, Any] | None = None,
) -> None:
    case.closed_at, case.effective_date, case.outcome_note = timezone.now(), effective_date, note
    case.auto_processed = action == Action.AUTO_CANCELLED
    case_set_status(case, actor, action, Status.CANCELLED, note, phrase)
    case.save(
        update_fields=["status", "closed_at", "effective_date", "outcome_note", "auto_processed"]
    )
    offers_end_for_case(
        case_id=case.pk,
        actor=actor,
        note=phrases.phrase("offer.end.case_cancelled"),
        leaving_subscriber_id=case.subscriber_id,
    )
    subscriber_cancel(
        subscriber=case.subscriber, effective_date=effective_date, actor=actor, case_id=case.pk
    )
    reminders_for_equipment(
        subscriber=case.subscriber,
        items=Equipment.objects.filter(
            subscriber=case.subscriber, status=Equipment.Status.RETURN_REQUESTED
        ),
    )
