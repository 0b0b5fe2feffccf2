"""The steps every change of a counter-offer takes: lock the row, then write its history row
and the subscriber's timeline event in the same transaction (offers.services, offers.lifecycle).
"""

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.utils.translation import gettext as _

from offers.exceptions import OutsideAuthority
from offers.models import CounterOffer, OfferHistory
from offers.pricing import Cost, Terms, offer_phrase
from retention.core.roles import Role, has_role
from subscribers import phrases
from subscribers.services import timeline_event_record


def desk_user(user: AbstractUser | None) -> Any:
    """``user`` for a foreign key to the desk's User model. Offers may not import that model,
    so the acting user is typed as the AbstractUser it subclasses; the type checker knows
    each key by the concrete model, and this is the one place that bridges the two."""
    return user


def display_name(user: AbstractUser) -> str:
    return user.get_full_name() or user.username


def locked(offer: CounterOffer) -> CounterOffer:
    return (
        CounterOffer.objects.select_for_update(of=("self",))
        .select_related(
            "subscriber", "subscriber__plan", "new_plan", "decided_by", "template", "proposer"
        )
        .get(pk=offer.pk)
    )


Note = str | dict[str, Any]  # what somebody wrote, or a phrase the desk says (a system note)


def history_add(
    offer: CounterOffer,
    actor: AbstractUser | None,
    action: str,
    from_status: str,
    note: Note = "",
    data: dict[str, Any] | None = None,
    to_status: str = "",
) -> OfferHistory:
    said = note if isinstance(note, dict) else None
    return OfferHistory.objects.create(
        offer=offer,
        actor=desk_user(actor),
        action=action,
        from_status=from_status,
        to_status=to_status or offer.status,
        note="" if said else str(note),
        code=said["code"] if said else "",
        params=said["params"] if said else {},
        data=data or {},
    )


def written(note: Note) -> str:
    """What somebody wrote, for the offer's own note fields; a system note is not theirs."""
    return "" if isinstance(note, dict) else note.strip()


def timeline_add(
    offer: CounterOffer, kind: str, code: str, actor: AbstractUser | None, **params: Any
) -> None:
    """The offer's event on the subscriber's timeline: a phrase with the offer's terms in it,
    said in each reader's language."""
    timeline_event_record(
        subscriber=offer.subscriber,
        kind=kind,
        phrase=phrases.phrase(code, offer=offer_phrase(offer), **params),
        actor=actor,
        data={"offer": offer.pk, "case": offer.case_id, "cost": str(offer.total_cost)},
    )


def cost_set(offer: CounterOffer, terms: Terms, cost: Cost) -> None:
    terms.onto(offer)
    offer.new_plan = terms.new_plan
    offer.monthly_concession = cost.monthly
    offer.counted_months = cost.months
    offer.one_time_concession = cost.one_time
    offer.total_cost = cost.total
    offer.new_monthly_price = cost.new_monthly_price


def valid_until_from(now: datetime, days: int, deadline: datetime | None) -> datetime:
    until = now + timedelta(days=days)
    return min(until, deadline) if deadline else until


def require_worker(actor: AbstractUser) -> None:
    if not has_role(actor, Role.AGENT, Role.MANAGER):
        raise OutsideAuthority(_("Only agents and managers make offers."))
