"""Approval delegations: a manager who is away hands their approvals inbox to another.

A hand-over lends someone authority over money, so every write goes through here and leaves a
DelegationChange row in the same transaction: who created, changed, ended or deleted which
hand-over, from what to what (the delegation page and the admin both call these).
"""

from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from offers.authority import delegation_period_problem
from offers.exceptions import InvalidTerms, OutsideAuthority
from offers.models import ApprovalDelegation, DelegationChange
from offers.steps import desk_user
from retention.core.refusals import WrongState
from retention.core.roles import Role, has_role

Action = DelegationChange.Action
# What a delegation is, in the order its history says it.
FIELDS = ("delegator", "delegate", "starts_at", "ends_at", "note")


def _kept(delegation: ApprovalDelegation) -> dict[str, Any]:
    """The delegation as its history keeps it: the managers by username, times in ISO 8601 in
    UTC (a form's 12:00 in Riga and the database's 10:00 UTC are the same moment)."""
    return {
        "delegator": delegation.delegator.get_username(),
        "delegate": delegation.delegate.get_username(),
        "starts_at": delegation.starts_at.astimezone(UTC).isoformat(),
        "ends_at": delegation.ends_at.astimezone(UTC).isoformat(),
        "note": delegation.note,
    }


def _record(
    delegation: ApprovalDelegation | None,
    actor: AbstractUser,
    action: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> DelegationChange:
    changes = {
        name: [before.get(name), after.get(name)]
        for name in FIELDS
        if before.get(name) != after.get(name)
    }
    return DelegationChange.objects.create(
        delegation=delegation, actor=desk_user(actor), action=action, changes=changes
    )


def _check(delegator: AbstractUser, delegate: AbstractUser, starts_at: Any, ends_at: Any) -> None:
    if not has_role(delegator, Role.MANAGER) or not has_role(delegate, Role.MANAGER):
        raise OutsideAuthority(_("Only managers hand over, and only to a manager."))
    if delegate.pk == delegator.pk:
        raise InvalidTerms(_("Choose someone else."))
    problem = delegation_period_problem(starts_at=starts_at, ends_at=ends_at)
    if problem:
        raise InvalidTerms(problem)


def _require_may_change(delegation: ApprovalDelegation, actor: AbstractUser) -> None:
    if actor.pk != delegation.delegator_id and not has_role(actor, Role.ADMIN):
        raise OutsideAuthority(_("Only the manager who handed over can end it."))


def _locked(delegation: ApprovalDelegation) -> ApprovalDelegation | None:
    return (
        ApprovalDelegation.objects.select_for_update(of=("self",))
        .select_related("delegator", "delegate")
        .filter(pk=delegation.pk)
        .first()
    )


def delegation_create(
    *,
    delegator: AbstractUser,
    delegate: AbstractUser,
    starts_at: datetime,
    ends_at: datetime,
    note: str = "",
    actor: AbstractUser | None = None,
) -> ApprovalDelegation:
    """A manager who will be away hands their approvals inbox to another manager. ``actor``:
    who does it, when not the manager themselves (an admin)."""
    actor = actor or delegator
    if actor.pk != delegator.pk and not has_role(actor, Role.ADMIN):
        raise OutsideAuthority(_("Only the manager who hands over, or an admin, can do that."))
    _check(delegator, delegate, starts_at, ends_at)
    with transaction.atomic():
        delegation = ApprovalDelegation.objects.create(
            delegator=desk_user(delegator),
            delegate=desk_user(delegate),
            starts_at=starts_at,
            ends_at=ends_at,
            note=note,
        )
        _record(delegation, actor, Action.CREATED, {}, _kept(delegation))
    return delegation


def delegation_change(
    *, delegation: ApprovalDelegation, values: dict[str, Any], actor: AbstractUser
) -> ApprovalDelegation:
    """Change a hand-over (``values``: any of FIELDS; an admin's correction). A change that
    changes nothing writes nothing."""
    unknown = set(values) - set(FIELDS)
    if unknown:
        raise ValueError(f"not fields of a delegation: {sorted(unknown)}")
    with transaction.atomic():
        found = _locked(delegation)
        if found is None:
            raise WrongState(_("This delegation no longer exists."))
        _require_may_change(found, actor)
        before = _kept(found)
        for name, value in values.items():
            setattr(found, name, value)
        _check(found.delegator, found.delegate, found.starts_at, found.ends_at)
        after = _kept(found)
        if after == before:
            return found
        found.save()
        _record(found, actor, Action.CHANGED, before, after)
    return found


def delegation_end(*, delegation: ApprovalDelegation, actor: AbstractUser) -> ApprovalDelegation:
    """End a delegation now (the manager is back early). Only the delegator or an admin. One
    that has not started yet is deleted: it never took effect (its history keeps it)."""
    _require_may_change(delegation, actor)
    now = timezone.now()
    with transaction.atomic():
        found = _locked(delegation)
        if found is None or found.ends_at <= now:
            raise WrongState(_("This delegation has ended already."))
        before = _kept(found)
        if found.starts_at >= now:
            found.delete()
            _record(None, actor, Action.DELETED, before, {})
            return found
        found.ends_at = now
        found.save(update_fields=["ends_at"])
        _record(found, actor, Action.ENDED, before, _kept(found))
    return found


def delegation_delete(*, delegation: ApprovalDelegation, actor: AbstractUser) -> None:
    """Delete a hand-over (an admin's correction), keeping in its history what it was."""
    _require_may_change(delegation, actor)
    with transaction.atomic():
        found = _locked(delegation)
        if found is None:
            return  # deleted a moment ago by someone else, whose deletion is recorded
        before = _kept(found)
        found.delete()
        _record(None, actor, Action.DELETED, before, {})
