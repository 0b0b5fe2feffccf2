"""Writing to the subscriber from a case: one action, one transaction.

``case_message_send`` logs the contact through the contact policy (``contact_log``: quiet
hours, the cap, do-not-contact, a port-out's one contact; a refusal rolls everything back),
writes the outbox row under the form's one-time key, sets the macro's callback, adds its note,
and asks for the send after commit. A repeated submit with the same key finds the row it made
and does nothing more.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from retention.cases.contacts import contact_log
from retention.cases.services import (
    callback_problem,
    case_add_note,
    case_locked,
    case_require_act,
    case_require_open,
    case_set_callback,
)
from retention.core import broker
from retention.core.refusals import InvalidInput
from retention.macros.rendering import case_live_offer, fill, macro_values
from retention.models import CancellationCase, CaseMessage, ContactAttempt, MessageTemplate, User
from subscribers.models import ContactChannel, Subscriber

CASE_MESSAGE_DELIVER = "retention.tasks.case_message_deliver"
# An SMS provider splits longer texts into many parts; an e-mail may be longer.
MAX_LENGTH = {ContactChannel.SMS: 480, ContactChannel.EMAIL: 5000}


@dataclass(frozen=True)
class Sent:
    message: CaseMessage
    repeated: bool  # the key had been used: nothing new was done
    callback_problem: str  # why the macro's callback was not set, or ""


def macro_callback_at(
    *, template: MessageTemplate, subscriber: Subscriber, now: datetime
) -> datetime | None:
    """When the macro asks to call back: after N hours, or N days later at a wall-clock time in
    the subscriber's time zone."""
    if template.callback_hours:
        return now + timedelta(hours=template.callback_hours)
    if template.callback_days is not None and template.callback_time is not None:
        local = now.astimezone(subscriber.zone)
        day = local.date() + timedelta(days=template.callback_days)
        return datetime.combine(day, template.callback_time, tzinfo=subscriber.zone)
    return None


def case_message_send(
    *,
    case: CancellationCase,
    actor: User,
    template: MessageTemplate,
    subject: str,
    body: str,
    key: str,
    now: datetime | None = None,
) -> Sent:
    now = now or timezone.now()
    body, subject = body.strip(), " ".join(subject.split())
    if not template.is_active:
        raise InvalidInput(_("That message template is no longer in use."))
    if not body:
        raise InvalidInput(_("The message is empty."))
    if len(body) > MAX_LENGTH[ContactChannel(template.channel)]:
        raise InvalidInput(
            _("The message is too long: at most %(n)s characters.")
            % {"n": MAX_LENGTH[ContactChannel(template.channel)]}
        )
    with transaction.atomic():
        case = case_locked(case)
        # The case's lock serialises two submits of one form: the second finds the first's row.
        existing = CaseMessage.objects.filter(key=key).first()
        if existing is not None:
            if existing.case_id != case.pk:
                raise InvalidInput(_("That form was for another case. Reload the page."))
            return Sent(existing, repeated=True, callback_problem="")
        case_require_open(case)
        case_require_act(case, actor)
        subscriber = case.subscriber
        # Through the contact policy like every other contact; a refusal raises here and the
        # whole transaction, this message included, is rolled back.
        contact = contact_log(
            case=case,
            actor=actor,
            channel=template.channel,
            direction=ContactAttempt.Direction.OUTBOUND,
            outcome=ContactAttempt.Outcome.MESSAGE_SENT,
            now=now,
        )
        address = subscriber.email if template.channel == ContactChannel.EMAIL else subscriber.phone
        message = CaseMessage.objects.create(
            case=case,
            subscriber=subscriber,
            contact=contact,
            template=template,
            key=key,
            channel=template.channel,
            language=subscriber.writes_in,
            to=address,
            subject=subject if template.channel == ContactChannel.EMAIL else "",
            body=body,
            actor=actor,
            created_at=now,
        )
        problem = ""
        at = macro_callback_at(template=template, subscriber=subscriber, now=now)
        if at is not None:
            case.refresh_from_db()
            problem = callback_problem(case=case, at=at) or ""
            if not problem:
                case_set_callback(case=case, actor=actor, at=at)
        if template.note.strip():
            # The note is for the desk; its placeholders are filled like the message's.
            values = macro_values(
                subscriber=subscriber,
                agent=actor,
                offer=case_live_offer(case=case),
                language=message.language,
            )
            case_add_note(case=case, actor=actor, text=fill(template.note, values))
        transaction.on_commit(lambda: broker.enqueue(CASE_MESSAGE_DELIVER, message.pk))
    return Sent(message, repeated=False, callback_problem=problem)
