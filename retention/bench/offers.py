"""The bench agent's counter-offers, kept from run to run and topped up through the services:
cases in progress for the offer builder, and offers waiting for a manager (the approvals
inbox's backlog)."""

import time
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from offers.authority import Authority, authority_for, conceded_within_year
from offers.exceptions import InvalidTerms, OutsideAuthority
from offers.models import CounterOffer, OfferTemplate
from offers.pricing import Terms, offer_cost, terms_validate
from offers.selectors import template_eligible
from retention.bench.queue import SEED_SOURCE, heavy_queryset
from retention.bench.results import Log
from retention.cases.selectors import cases_open
from retention.cases.services import case_claim, case_release
from retention.core.refusals import WrongState
from retention.demo.offers import offer_catalogue_defaults, offer_catalogue_for_plans
from retention.models import CancellationCase, User
from retention.saves.selectors import approvals_inbox
from retention.saves.services import case_offer_propose
from subscribers.models import Subscriber

# The bench agent holds this many claimed cases for the offer builder (only the owner of a case
# in progress sees it) and keeps this many offers waiting for a manager, whose inbox shows the
# oldest INBOX_SIZE (25).
BUILDER_CASES = 200
PENDING_OFFERS = 200
# Catalogue offers the bench agent proposes, in this order of preference: beyond an agent's
# authority (so they wait) and, for most subscribers, within a manager's (so the inbox has them).
PENDING_TEMPLATES = ("discount-30-12", "free-month")


def ensure_catalogue(*, log: Log) -> None:
    """The authority tiers and offer catalogue as ``make run`` has them (loading the data
    empties the catalogue; see retention.demo.offers); both steps only add what is missing."""
    added = offer_catalogue_defaults() + sum(s.created for s in offer_catalogue_for_plans())
    if added:
        log(f"Restored {added:,} offers to the catalogue (the data load had emptied it).")


def _offer_candidates(today: date) -> QuerySet[CancellationCase]:
    """Unclaimed seed cases of active subscribers with a day left before the process-by date
    (an offer must be settled by then), heavy subscribers left to their own figure."""
    return (
        cases_open()
        .filter(
            source=SEED_SOURCE,
            status=CancellationCase.Status.NEW,
            owner__isnull=True,
            process_by__gt=today,
            subscriber__status=Subscriber.Status.ACTIVE,
        )
        .exclude(subscriber_id__in=heavy_queryset().values("pk"))
    )


def ensure_builder_cases(agent: User, *, log: Log) -> list[int]:
    """BUILDER_CASES open cases in progress owned by the bench agent, whose case page shows the
    offer builder (eligibility, cost, authority): those of earlier runs, topped up by claiming
    unclaimed seed cases through case_claim."""
    owned = cases_open().filter(owner=agent, status=CancellationCase.Status.IN_PROGRESS)
    missing = BUILDER_CASES - owned.count()
    if missing > 0:
        log(f"Claiming {missing:,} cases for the bench agent's offer builder…")
        start = time.perf_counter()
        for case in _offer_candidates(timezone.localdate()).order_by("?")[:missing]:
            case_claim(case=case, actor=agent)
        log(f"  claimed in {time.perf_counter() - start:.1f} s.")
    cases = list(owned.order_by("pk").values_list("pk", flat=True)[:BUILDER_CASES])
    if missing <= 0:
        log(f"Reusing the bench agent's {len(cases):,} cases in progress for the offer builder.")
    return cases


def _waits_for_manager(
    template: OfferTemplate,
    case: CancellationCase,
    *,
    today: date,
    agent: Authority,
    manager: Authority,
) -> bool:
    """Whether the subscriber is eligible for the template and its cost is beyond the agent's
    authority (so the offer waits) but within the manager's (so their inbox shows it)."""
    subscriber = case.subscriber
    reason = case.reason.category if case.reason else ""
    if not template_eligible(
        template=template, subscriber=subscriber, reason_category=reason, today=today
    ):
        return False
    terms = Terms.of(template)
    try:
        terms_validate(terms, subscriber)
    except InvalidTerms:
        return False
    cost = offer_cost(terms=terms, subscriber=subscriber)
    figures = {
        "monthly": cost.monthly,
        "total": cost.total,
        "cumulative": conceded_within_year(subscriber_id=subscriber.pk) + cost.total,
    }
    return not agent.covers(**figures) and manager.covers(**figures)


def ensure_pending_offers(agent: User, manager: User, *, log: Log) -> dict[str, Any]:
    """A backlog of PENDING_OFFERS offers waiting for approval, proposed by the bench agent on
    cases they claim (case_claim, case_offer_propose) from the PENDING_TEMPLATES, for
    subscribers eligible for one whose cost only a manager may approve. Offers still pending
    from earlier runs count; only what is missing is proposed."""
    pending = CounterOffer.objects.filter(status=CounterOffer.Status.PENDING, proposer=agent)
    missing = PENDING_OFFERS - pending.count()
    proposed = 0
    if missing > 0:
        log(f"Proposing {missing:,} offers beyond an agent's authority, for the approvals inbox…")
        start = time.perf_counter()
        proposed, skipped = _propose(agent, manager, missing)
        log(
            f"  {proposed:,} proposed in {time.perf_counter() - start:.1f} s "
            f"({skipped:,} subscribers skipped: not eligible, or not a manager's to approve)."
        )
    total = pending.count()
    if missing <= 0:
        log(f"Reusing the {total:,} offers the bench agent has waiting for approval.")
    inbox = len(approvals_inbox(user=manager).items)
    if total < PENDING_OFFERS:
        log(f"  only {total:,} of {PENDING_OFFERS:,} pending offers could be proposed.")
    return {"pending_offers": total, "proposed": proposed, "inbox_items": inbox}


def _propose(agent: User, manager: User, missing: int) -> tuple[int, int]:
    """Propose up to ``missing`` offers a manager must decide; (proposed, skipped)."""
    templates = list(
        OfferTemplate.objects.filter(code__in=PENDING_TEMPLATES, is_active=True).select_related(
            "new_plan"
        )
    )
    templates.sort(key=lambda t: PENDING_TEMPLATES.index(t.code))
    if not templates:
        raise RuntimeError(f"none of the offers {', '.join(PENDING_TEMPLATES)} is active")
    today = timezone.localdate()
    authorities = {"agent": authority_for(agent), "manager": authority_for(manager)}
    # Several candidates for each offer missing: not every subscriber is eligible.
    candidates = (
        _offer_candidates(today)
        .select_related("subscriber", "subscriber__plan", "reason")
        .order_by("?")[: missing * 5]
    )
    proposed = skipped = 0
    for case in candidates:
        template = next(
            (t for t in templates if _waits_for_manager(t, case, today=today, **authorities)),
            None,
        )
        if template is None or not _proposed(case, template, agent):
            skipped += 1
            continue
        proposed += 1
        if proposed == missing:
            break
    return proposed, skipped


def _proposed(case: CancellationCase, template: OfferTemplate, agent: User) -> bool:
    """Claim the case and propose the offer on it; released again when refused."""
    case = case_claim(case=case, actor=agent)
    try:
        case_offer_propose(case=case, template=template, actor=agent, note="Benchmark backlog")
    except (InvalidTerms, WrongState, OutsideAuthority):
        case_release(case=case, actor=agent)
        return False
    return True
