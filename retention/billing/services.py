"""Admins' writes about billing delivery: endpoints registered, changed, enabled or disabled,
and deliveries sent again. Each locks what it changes and records an ``EndpointHistory`` row."""

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from retention.core import broker
from retention.core.refusals import WrongState
from retention.core.roles import Role, require_role
from retention.models import EndpointHistory, EventDelivery, User, WebhookEndpoint
from subscribers.outbound import DELIVER_TASK

Action = EndpointHistory.Action
# What the history shows of a change; the secret only as "changed", never its value.
ENDPOINT_FIELDS = ("name", "url", "event_types", "enabled", "secret")


def endpoint_save(
    *, endpoint: WebhookEndpoint | None, values: dict[str, Any], actor: User
) -> WebhookEndpoint:
    """Register an endpoint (``endpoint`` None) or change one, recording from what to what."""
    require_role(actor, Role.ADMIN)
    with transaction.atomic():
        if endpoint is None:
            saved = WebhookEndpoint.objects.create(**values)
            _history(
                saved,
                actor,
                Action.CREATED,
                {name: [None, _shown(name, value)] for name, value in values.items()},
            )
            return saved
        saved = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        changes: dict[str, list[Any]] = {}
        for name, value in values.items():
            old = getattr(saved, name)
            if old != value:
                changes[name] = [_shown(name, old), _shown(name, value)]
                setattr(saved, name, value)
        if not changes:
            return saved
        if changes.get("enabled") == [False, True]:
            saved.failing_since = None  # a fresh start: failures before count no more
        saved.save()
        _history(saved, actor, Action.CHANGED, changes)
    if saved.enabled:
        transaction.on_commit(lambda: broker.enqueue(DELIVER_TASK))
    return saved


def endpoint_enable(*, endpoint: WebhookEndpoint, actor: User) -> WebhookEndpoint:
    """Deliveries to it start again, in order, beginning with the ones that waited."""
    return _endpoint_switch(endpoint, actor, enabled=True)


def endpoint_disable(*, endpoint: WebhookEndpoint, actor: User) -> WebhookEndpoint:
    """Nothing is sent to it until it is enabled; its events wait (none is dropped)."""
    return _endpoint_switch(endpoint, actor, enabled=False)


def _endpoint_switch(endpoint: WebhookEndpoint, actor: User, *, enabled: bool) -> WebhookEndpoint:
    require_role(actor, Role.ADMIN)
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if locked.enabled == enabled:
            raise WrongState(
                _("The endpoint is already enabled.")
                if enabled
                else _("The endpoint is already disabled.")
            )
        locked.enabled = enabled
        if enabled:
            locked.failing_since = None
        locked.save(update_fields=["enabled", "failing_since"])
        _history(locked, actor, Action.ENABLED if enabled else Action.DISABLED, {})
    if enabled:
        transaction.on_commit(lambda: broker.enqueue(DELIVER_TASK))
    return locked


def delivery_redeliver(*, delivery: EventDelivery, actor: User) -> EventDelivery:
    """Send a delivery again now, with a fresh three days of retries from the first wait: a
    failed one (which holds the subscriber's later events), or a delivered one the receiver
    lost. The event keeps its ``webhook-id``, so a receiver that has it drops the repeat."""
    require_role(actor, Role.ADMIN)
    with transaction.atomic():
        locked = (
            EventDelivery.objects.select_for_update(of=("self",))
            .select_related("event")
            .get(pk=delivery.pk)
        )
        if locked.state == EventDelivery.State.PENDING:
            raise WrongState(_("This delivery is still being tried; it needs no redelivery."))
        EndpointHistory.objects.create(
            endpoint_id=locked.endpoint_id,
            actor=actor,
            action=Action.REDELIVERED,
            note=str(locked.event.event_id),
            changes={
                "state": [locked.state, EventDelivery.State.PENDING],
                "attempts": [locked.attempts, 0],
            },
        )
        # The attempts of this new round count from zero, so its retries start at the first
        # wait again (every earlier attempt stays in the delivery's log).
        locked.attempts = 0
        locked.state = EventDelivery.State.PENDING
        locked.next_attempt_at = timezone.now()
        locked.first_attempt_at = None
        locked.delivered_at = None
        locked.claim = None
        locked.leased_until = None
        locked.save()
    transaction.on_commit(lambda: broker.enqueue(DELIVER_TASK))
    return locked


def _shown(name: str, value: Any) -> Any:
    return "…" if name == "secret" else value


def _history(
    endpoint: WebhookEndpoint, actor: User, action: str, changes: dict[str, list[Any]]
) -> None:
    EndpointHistory.objects.create(endpoint=endpoint, actor=actor, action=action, changes=changes)
