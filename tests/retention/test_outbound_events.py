"""Every decision billing must act on writes one outbound event in its own transaction: an
offer accepted, a cancellation processed or withdrawn, equipment asked back and returned. A
refused decision writes none, and neither does one whose transaction fails.

The subscribers pay €29.99 for a plan a new customer gets for €19.99; the lead approves what
the agent may not.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction

from offers.models import OfferKind
from retention.cases.services import case_cancel, case_claim, case_withdraw
from retention.cases.sweeps import cases_process_overdue
from retention.core.refusals import WrongState
from retention.core.roles import Role
from retention.saves import services as saves
from retention.saves.services import Decision
from subscribers import outbound
from subscribers.models import Equipment, OutboundEvent
from subscribers.services import equipment_mark_returned
from tests.factories import (
    CaseFactory,
    EquipmentFactory,
    PlanFactory,
    SubscriberFactory,
    offer_template,
    user_with_role,
)

pytestmark = pytest.mark.django_db

D = Decimal
Type = OutboundEvent.Type
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Riga
TODAY = date(2026, 12, 1)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def lead(tiers):
    return user_with_role(Role.MANAGER, tiers["lead"].group, username="lead")


def accepted(agent, lead, template, **subscriber):
    """An offer on a claimed case, approved by the lead, presented and accepted."""
    case = case_claim(
        case=CaseFactory.create(subscriber=SubscriberFactory.create(**subscriber)), actor=agent
    )
    offer = saves.case_offer_propose(case=case, template=template, actor=agent)
    if offer.status == offer.Status.PENDING:
        saves.offer_decide(offer=offer, actor=lead, decision=Decision.APPROVE)
    saves.offer_present(offer=offer, actor=agent)
    saves.offer_answer(offer=offer, actor=agent, accepted=True)
    return case, offer


def only_event(subscriber) -> OutboundEvent:
    (event,) = OutboundEvent.objects.filter(subscriber=subscriber)
    return event


def test_an_accepted_discount_tells_billing_the_new_price_and_until_when(agent, lead):
    big = offer_template("discount-30-12", OfferKind.PERCENT_DISCOUNT, percent=D("30"), months=12)
    case, offer = accepted(agent, lead, big)
    event = only_event(case.subscriber)
    assert (event.type, event.version, event.created_at) == (Type.OFFER_ACCEPTED, 1, NOW)
    assert event.payload == {
        "id": str(event.event_id),
        "type": "offer.accepted",
        "version": 1,
        "timestamp": "2026-12-01T08:00:00Z",
        "data": {
            "subscriber": {
                "id": case.subscriber_id,
                "account_number": case.subscriber.account_number,
            },
            "offer": offer.pk,
            "case": case.pk,
            "kind": "percent_discount",
            "starts_on": "2026-12-01",
            "until": "2027-12-01",
            "monthly_price": {"from": "29.99", "to": "20.99"},
            "plan": None,
            "one_time_credit": None,
            "deferral": None,
            "split": None,
            "pause": None,
        },
    }


def test_a_speed_upgrade_names_both_plans(agent, lead):
    slow = PlanFactory.create(code="fibre-100", download_mbps=100)
    fast = PlanFactory.create(code="fibre-1000", download_mbps=1000, new_customer_price=D("34.99"))
    upgrade = offer_template("upgrade-1000", OfferKind.SPEED_UPGRADE, new_plan=fast, months=6)
    case, _ = accepted(agent, lead, upgrade, plan=slow)
    data = only_event(case.subscriber).payload["data"]
    assert (data["plan"], data["monthly_price"]) == (
        {"from": "fibre-100", "to": "fibre-1000"},
        None,
    )
    assert data["until"] == "2027-06-01"


def test_a_credit_a_deferral_and_a_split_payment_say_what_billing_books(agent, lead):
    credit = offer_template("credit-20", OfferKind.ONE_TIME_CREDIT, amount=D("20"))
    defer = offer_template("defer-30", OfferKind.PAYMENT_DEFERRAL, days=30)
    split = offer_template("split-3", OfferKind.SPLIT_PAYMENT, months=3)
    case, _ = accepted(agent, lead, credit)
    data = only_event(case.subscriber).payload["data"]
    assert (data["one_time_credit"], data["monthly_price"], data["until"]) == ("20.00", None, None)
    # (A deferral and a split payment also start a payment arrangement: its hold is an event
    # of its own, tests/retention/hardship.)
    case, _ = accepted(agent, lead, defer, balance=D("59.98"))
    data = OutboundEvent.objects.get(subscriber=case.subscriber, type=Type.OFFER_ACCEPTED)
    assert data.payload["data"]["deferral"] == {
        "amount": "59.98",
        "days": 30,
        "until": "2026-12-31",
    }
    case, _ = accepted(agent, lead, split, balance=D("100.00"))
    data = OutboundEvent.objects.get(subscriber=case.subscriber, type=Type.OFFER_ACCEPTED).payload[
        "data"
    ]
    # 33.33 a month; the last instalment takes the cent rounding left over.
    assert data["split"] == {"amount": "100.00", "instalments": 3, "monthly": "33.33"}


def test_a_declined_offer_tells_billing_nothing(agent, lead):
    fixed = offer_template("fixed-5-12", OfferKind.FIXED_DISCOUNT, amount=D("5"), months=12)
    case = case_claim(case=CaseFactory.create(), actor=agent)
    offer = saves.case_offer_propose(case=case, template=fixed, actor=agent)
    saves.offer_present(offer=offer, actor=agent)
    saves.offer_answer(offer=offer, actor=agent, accepted=False)
    assert not OutboundEvent.objects.exists()


def test_a_processed_cancellation_then_the_equipment_asked_back_in_that_order(agent):
    case = case_claim(case=CaseFactory.create(), actor=agent)
    router = EquipmentFactory.create(subscriber=case.subscriber, serial="SN1")
    EquipmentFactory.create(
        subscriber=case.subscriber, serial="SN2", kind=Equipment.Kind.SET_TOP_BOX
    )
    case_cancel(case=case, actor=agent, effective_date=TODAY + timedelta(days=7))
    events = list(OutboundEvent.objects.filter(subscriber=case.subscriber).order_by("id"))
    assert [e.type for e in events] == [
        Type.CANCELLATION_PROCESSED,
        Type.EQUIPMENT_RETURN_REQUESTED,
    ]
    assert events[0].payload["data"] == {
        "subscriber": {"id": case.subscriber_id, "account_number": case.subscriber.account_number},
        "case": case.pk,
        "effective_date": "2026-12-08",
        "billing_ends_on": "2026-12-08",
    }
    asked = events[1].payload["data"]
    assert asked["due_on"] == "2027-01-07"
    assert asked["items"] == [
        {"serial": "SN1", "kind": "router"},
        {"serial": "SN2", "kind": "set_top_box"},
    ]
    equipment_mark_returned(equipment=router, actor=agent, method="shop")
    returned = OutboundEvent.objects.filter(subscriber=case.subscriber).latest("id")
    assert returned.type == Type.EQUIPMENT_RETURNED
    assert returned.payload["data"]["item"] == {"serial": "SN1", "kind": "router"}
    assert (returned.payload["data"]["returned_on"], returned.payload["data"]["method"]) == (
        "2026-12-01",
        "shop",
    )


def test_the_deadline_sweep_tells_billing_like_an_agent(clock):
    case = CaseFactory.create(process_by=TODAY - timedelta(days=1))
    assert cases_process_overdue() == 1
    event = only_event(case.subscriber)
    assert (event.type, event.payload["data"]["case"]) == (Type.CANCELLATION_PROCESSED, case.pk)


def test_a_withdrawn_cancellation_is_told_too(agent):
    case = case_claim(case=CaseFactory.create(), actor=agent)
    case_withdraw(case=case, actor=agent, note="Stays after all")
    event = only_event(case.subscriber)
    assert event.type == Type.CANCELLATION_WITHDRAWN
    assert event.payload["data"]["case"] == case.pk


def test_a_refused_decision_writes_no_event(agent):
    case = case_claim(case=CaseFactory.create(), actor=agent)
    with pytest.raises(WrongState):
        case_cancel(case=case, actor=agent, effective_date=TODAY - timedelta(days=1))
    item = EquipmentFactory.create(subscriber=case.subscriber, status=Equipment.Status.RETURNED)
    with pytest.raises(WrongState):
        equipment_mark_returned(equipment=item, actor=agent)
    assert not OutboundEvent.objects.exists()


def test_an_event_goes_with_its_decision_when_the_transaction_fails(agent):
    case = case_claim(case=CaseFactory.create(), actor=agent)
    with pytest.raises(RuntimeError, match="after the decision"), transaction.atomic():
        case_withdraw(case=case, actor=agent, note="Stays after all")
        assert OutboundEvent.objects.count() == 1
        raise RuntimeError("after the decision")
    assert not OutboundEvent.objects.exists()
    case.refresh_from_db()
    assert case.is_open


@pytest.mark.django_db(transaction=True)
def test_an_event_outside_a_transaction_or_with_the_wrong_data_is_refused():
    subscriber = SubscriberFactory.create()
    data = outbound.CancellationWithdrawn(subscriber=outbound.subscriber_ref(subscriber), case=1)
    with pytest.raises(RuntimeError, match="inside the decision's transaction"):
        outbound.outbound_event_record(type=Type.CANCELLATION_WITHDRAWN, data=data)
    with transaction.atomic(), pytest.raises(TypeError):
        outbound.outbound_event_record(type=Type.OFFER_ACCEPTED, data=data)
    assert not OutboundEvent.objects.exists()


def test_every_event_id_is_its_own(agent):
    for _ in range(3):
        case = case_claim(case=CaseFactory.create(), actor=agent)
        case_withdraw(case=case, actor=agent, note="Stays")
    ids = [e.event_id for e in OutboundEvent.objects.all()]
    assert len(set(ids)) == 3
    assert all(str(e.event_id) == e.payload["id"] for e in OutboundEvent.objects.all())


def test_the_api_document_lists_every_event_as_a_webhook_with_its_schema(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert set(schema["webhooks"]) == set(Type.values)
    components = schema["components"]["schemas"]
    for event_type, hook in schema["webhooks"].items():
        ref = hook["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        envelope = components[ref.rpartition("/")[2]]
        assert envelope["properties"]["type"]["const"] == event_type
        assert set(envelope["required"]) == {"id", "type", "version", "timestamp", "data"}
        data = components[envelope["properties"]["data"]["$ref"].rpartition("/")[2]]
        assert "subscriber" in data["required"]
    price = components["OfferAccepted"]["properties"]["monthly_price"]["anyOf"][0]["$ref"]
    assert set(components[price.rpartition("/")[2]]["properties"]) == {"from", "to"}


def test_admins_read_the_events_and_change_none(admin_client, agent):
    case = case_claim(case=CaseFactory.create(), actor=agent)
    case_withdraw(case=case, actor=agent, note="Stays")
    event = OutboundEvent.objects.get()
    changelist = "/admin/subscribers/outboundevent/"
    for q in ("", case.subscriber.account_number, str(event.event_id), "not-a-uuid", "a\x00b"):
        response = admin_client.get(changelist, {"q": q})
        assert response.status_code == 200, q
    assert (
        str(event.event_id)
        in admin_client.get(changelist, {"q": str(event.event_id)}).content.decode()
    )
    page = admin_client.get(f"{changelist}{event.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin_client.post(f"{changelist}{event.pk}/change/", {"type": "x"}).status_code == 403
    assert admin_client.get(f"{changelist}add/").status_code == 403
    assert admin_client.get(f"{changelist}{event.pk}/delete/").status_code == 403
