"""Every write to the authority tiers (the money limits of who may concede what).

Each creation, change and deletion writes an AuthorityTierChange in the same transaction: who
changed which limit from what to what, so a limit that was raised can always be explained.
"""

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.utils.translation import gettext as _

from offers.models import AuthorityTier, AuthorityTierChange
from offers.steps import desk_user
from retention.core.refusals import NotAllowed
from retention.core.roles import Role, has_role

# What a tier is, in the order its history says it.
TIER_FIELDS = ("name", "rank", "group", "user", "max_monthly", "max_total", "max_cumulative")
MONEY_FIELDS = frozenset({"max_monthly", "max_total", "max_cumulative"})

Action = AuthorityTierChange.Action


def _kept(tier: AuthorityTier, name: str) -> Any:
    """A field's value as the history keeps it: amounts as "20.00" (a form's 20 and the
    database's 20.00 are the same limit), the group and the user by name."""
    value = getattr(tier, name)
    if value is None:
        return None
    if name == "group":
        return value.name
    if name == "user":
        return value.get_username()
    if name in MONEY_FIELDS:
        return f"{Decimal(value):.2f}"
    return value


def _snapshot(tier: AuthorityTier) -> dict[str, Any]:
    return {name: _kept(tier, name) for name in TIER_FIELDS}


def _require_admin(actor: AbstractUser) -> None:
    if not has_role(actor, Role.ADMIN):
        raise NotAllowed(_("Only an administrator changes authority tiers."))


def authority_tier_save(
    *, tier: AuthorityTier | None, values: dict[str, Any], actor: AbstractUser
) -> AuthorityTier:
    """Create a tier (``tier`` None) or change one to ``values`` ({field: value}, any of
    ``TIER_FIELDS``). A save that changes nothing writes nothing, not even a history row."""
    _require_admin(actor)
    unknown = set(values) - set(TIER_FIELDS)
    if unknown:
        raise ValueError(f"not fields of an authority tier: {sorted(unknown)}")
    with transaction.atomic():
        if tier is None or tier.pk is None:
            saved, before = AuthorityTier(), dict.fromkeys(TIER_FIELDS)
        else:
            # Locked, and read again: two administrators saving at once each record the
            # change from what the other left, never from a page that was open for an hour.
            saved = (
                AuthorityTier.objects.select_for_update(of=("self",))
                .select_related("group", "user")
                .get(pk=tier.pk)
            )
            before = _snapshot(saved)
        for name, value in values.items():
            setattr(saved, name, value)
        after = _snapshot(saved)
        changes = {
            name: [before[name], after[name]] for name in TIER_FIELDS if before[name] != after[name]
        }
        created = saved.pk is None
        if not created and not changes:
            return saved
        saved.save()
        AuthorityTierChange.objects.create(
            tier=saved,
            tier_name=saved.name,
            action=Action.CREATED if created else Action.CHANGED,
            actor=desk_user(actor),
            changes=changes,
        )
    return saved


def authority_tier_delete(*, tier: AuthorityTier, actor: AbstractUser) -> None:
    """Delete a tier, keeping in its history what its limits were and who deleted it."""
    _require_admin(actor)
    with transaction.atomic():
        gone = (
            AuthorityTier.objects.select_for_update(of=("self",))
            .select_related("group", "user")
            .filter(pk=tier.pk)
            .first()
        )
        if gone is None:
            return  # deleted a moment ago by someone else, whose deletion is recorded
        before = _snapshot(gone)
        gone.delete()
        AuthorityTierChange.objects.create(
            tier=None,
            tier_name=before["name"],
            action=Action.DELETED,
            actor=desk_user(actor),
            changes={name: [value, None] for name, value in before.items() if value is not None},
        )
