"""An offer accepted on a claimed case, and billing reporting a payment."""

from itertools import count

from retention.cases.services import case_claim
from retention.saves import services as saves
from retention.saves.services import Decision
from subscribers.ingestion import events_ingest
from tests.factories import CaseFactory, SubscriberFactory

_ids = count(1)


def accepted(agent, lead, template, **subscriber):
    case = case_claim(
        case=CaseFactory.create(subscriber=SubscriberFactory.create(**subscriber)), actor=agent
    )
    offer = saves.case_offer_propose(case=case, template=template, actor=agent)
    if offer.status == offer.Status.PENDING:
        saves.offer_decide(offer=offer, actor=lead, decision=Decision.APPROVE)
    saves.offer_present(offer=offer, actor=agent)
    offer = saves.offer_answer(offer=offer, actor=agent, accepted=True)
    return case, offer


def pay(subscriber, amount, on):
    """Billing reports a payment through its API's service."""
    result = events_ingest(
        source="billing",
        items=[
            {
                "external_id": f"pay-{next(_ids)}",
                "account_number": subscriber.account_number,
                "kind": "payment",
                "occurred_at": on.isoformat(),
                "summary": f"Payment {amount}",
                "data": {"amount": amount},
            }
        ],
        skip_invalid=False,
    )
    assert result.items[0].status == "created"
