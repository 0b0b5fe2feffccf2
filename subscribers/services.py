"""Every write to subscribers, their equipment and their timeline (besides bulk ingestion)."""

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from retention.core.refusals import WrongState
from subscribers import phrases
from subscribers.models import Equipment, Subscriber, TimelineEvent


def timeline_event_record(
    *,
    subscriber: Subscriber,
    kind: str,
    phrase: dict[str, Any] | None = None,
    summary: str = "",
    actor: Any = None,
    data: dict[str, Any] | None = None,
    occurred_at: Any = None,
    source: str = "desk",
) -> TimelineEvent:
    """Append one event to the subscriber's story: what the desk says about it as a
    ``phrase`` (subscribers.phrases.phrase), said in each reader's language, or a ``summary``
    somebody wrote (a note), shown as it is."""
    return TimelineEvent.objects.create(
        subscriber=subscriber,
        kind=kind,
        summary=summary[:300],
        code=phrase["code"] if phrase else "",
        params=phrase["params"] if phrase else {},
        actor=actor if getattr(actor, "pk", None) else None,
        data=data or {},
        occurred_at=occurred_at or timezone.now(),
        source=source,
    )


def subscriber_cancel(*, subscriber: Subscriber, effective_date: date, actor: Any) -> Subscriber:
    """Stop the service and billing on ``effective_date`` and ask for the equipment back.

    Billing ends on the effective date whatever happens to the equipment (DESIGN principle 2):
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
    equipment_request_returns(subscriber=subscriber, effective_date=effective_date, actor=actor)
    return subscriber


def equipment_request_returns(
    *, subscriber: Subscriber, effective_date: date, actor: Any
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
    return items


def equipment_mark_returned(*, equipment: Equipment, actor: Any, method: str = "") -> Equipment:
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
    return item


def subscribers_complete_cancellations(*, today: date | None = None) -> int:
    """Cancelling subscribers whose billing has ended become cancelled. Safe to run twice."""
    today = today or timezone.localdate()
    return Subscriber.objects.filter(
        status=Subscriber.Status.CANCELLING, billing_ends_on__lte=today
    ).update(status=Subscriber.Status.CANCELLED, updated_at=timezone.now())
