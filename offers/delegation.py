"""Approval delegations: a manager who is away hands their approvals inbox to another."""

from datetime import datetime

from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from offers.authority import delegation_period_problem
from offers.exceptions import InvalidTerms, OutsideAuthority
from offers.models import ApprovalDelegation
from offers.steps import desk_user
from retention.core.refusals import WrongState
from retention.core.roles import Role, has_role


def delegation_create(
    *,
    delegator: AbstractUser,
    delegate: AbstractUser,
    starts_at: datetime,
    ends_at: datetime,
    note: str = "",
) -> ApprovalDelegation:
    """A manager who will be away hands their approvals inbox to another manager."""
    if not has_role(delegator, Role.MANAGER) or not has_role(delegate, Role.MANAGER):
        raise OutsideAuthority(_("Only managers hand over, and only to a manager."))
    if delegate.pk == delegator.pk:
        raise InvalidTerms(_("Choose someone else."))
    problem = delegation_period_problem(starts_at=starts_at, ends_at=ends_at)
    if problem:
        raise InvalidTerms(problem)
    return ApprovalDelegation.objects.create(
        delegator=desk_user(delegator),
        delegate=desk_user(delegate),
        starts_at=starts_at,
        ends_at=ends_at,
        note=note,
    )


def delegation_end(*, delegation: ApprovalDelegation, actor: AbstractUser) -> ApprovalDelegation:
    """End a delegation now (the manager is back early). Only the delegator or an admin."""
    if actor.pk != delegation.delegator_id and not has_role(actor, Role.ADMIN):
        raise OutsideAuthority(_("Only the manager who handed over can end it."))
    now = timezone.now()
    with transaction.atomic():
        delegation = ApprovalDelegation.objects.select_for_update().get(pk=delegation.pk)
        if delegation.ends_at <= now:
            raise WrongState(_("This delegation has ended already."))
        if delegation.starts_at >= now:
            delegation.delete()  # never took effect: nothing to keep
            return delegation
        delegation.ends_at = now
        delegation.save(update_fields=["ends_at"])
    return delegation
