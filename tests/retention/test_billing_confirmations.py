"""Billing answers the events it was sent: POST /api/v1/events/confirmations.

An accepted offer becomes *applied by billing*, or *refused by billing* with its case reopened
and the agent and their manager reminded; a processed cancellation is confirmed on the
timeline; an answer is given once (the same again is a no-op, a different one a conflict); a
forged call is refused and a bad batch changes nothing. An offer billing is late to confirm
reminds the agent, once.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.test import Client
from django.urls import reverse

from offers.authority import conceded_within_year
from offers.models import BillingState, CounterOffer, OfferHistory, OfferKind
from retention.billing.confirmations import offers_unconfirmed_remind
from retention.cases.services import case_cancel, case_claim
from retention.cases.sweeps import cases_process_overdue
from retention.core.roles import Role
from retention.models import CancellationCase, CaseHistory, Notification, Reminder, Team
from retention.notifications.reminders import reminders_tick
from retention.saves import services as saves
from retention.saves.services import Decision
from subscribers import outbound, phrases
from subscribers.models import FieldHold, OutboundEvent, Subscriber, TimelineEvent
from tests.factories import CaseFactory, offer_template, user_with_role

pytestmark = pytest.mark.django_db

D = Decimal
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
URL = "/api/v1/events/confirmations"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def team(tiers):
    crew = Team.objects.create(name="Riga")
    agent = user_with_role(Role.AGENT, username="agent", team=crew)
    manager = user_with_role(Role.MANAGER, username="manager", team=crew)
    lead = user_with_role(Role.MANAGER, tiers["lead"].group, username="lead")
    return agent, manager, lead


@pytest.fixture
def accepted(team) -> tuple[CounterOffer, OutboundEvent]:
    agent, _, lead = team
    fixed = offer_template("fixed-5-12", OfferKind.FIXED_DISCOUNT, amount=D("5"), months=12)
    case = case_claim(case=CaseFactory.create(), actor=agent)
    offer = saves.case_offer_propose(case=case, template=fixed, actor=agent)
    if offer.status == CounterOffer.Status.PENDING:
        saves.offer_decide(offer=offer, actor=lead, decision=Decision.APPROVE)
    saves.offer_present(offer=offer, actor=agent)
    offer = saves.offer_answer(offer=offer, actor=agent, accepted=True)
    return offer, OutboundEvent.objects.get(type=OutboundEvent.Type.OFFER_ACCEPTED)


def answer(client: Client, *items: dict[str, Any], query: str = "") -> Any:
    return client.post(URL + query, {"confirmations": list(items)}, content_type="application/json")


def test_an_applied_offer_is_applied_by_billing_with_history_and_timeline(api_client, accepted):
    offer, event = accepted
    assert offer.billing == BillingState.TOLD
    response = answer(api_client, {"event": str(event.event_id), "result": "applied"})
    assert response.status_code == 200, response.content
    assert response.json()["recorded"] == 1
    offer.refresh_from_db()
    assert (offer.billing, offer.billing_at, offer.status) == (
        BillingState.APPLIED,
        NOW,
        CounterOffer.Status.ACCEPTED,
    )
    (row,) = offer.history.filter(action=OfferHistory.Action.BILLING_APPLIED)
    assert row.actor is None
    timeline = TimelineEvent.objects.get(subscriber=offer.subscriber, kind="billing")
    assert "Billing applied the offer" in str(timeline)
    event.refresh_from_db()
    assert (event.confirmation, event.confirmed_by) == ("applied", "billing")


def test_the_same_answer_again_changes_nothing(api_client, accepted):
    offer, event = accepted
    item = {"event": str(event.event_id), "result": "applied"}
    answer(api_client, item)
    again = answer(api_client, item)
    assert again.status_code == 200
    assert again.json()["items"][0]["status"] == "duplicate"
    assert offer.history.filter(action=OfferHistory.Action.BILLING_APPLIED).count() == 1
    assert TimelineEvent.objects.filter(kind="billing").count() == 1


def test_a_different_answer_later_is_a_conflict_and_changes_nothing(api_client, accepted):
    offer, event = accepted
    answer(api_client, {"event": str(event.event_id), "result": "applied"})
    refused = answer(api_client, {"event": str(event.event_id), "result": "refused", "reason": "x"})
    assert refused.status_code == 400
    assert refused.json()["items"][0]["status"] == "conflict"
    offer.refresh_from_db()
    assert offer.billing == BillingState.APPLIED
    assert not Reminder.objects.filter(kind=Reminder.Kind.BILLING_REFUSED).exists()


def test_a_refused_offer_reminds_the_agent_and_the_manager(api_client, accepted):
    offer, event = accepted
    response = answer(
        api_client,
        {"event": str(event.event_id), "result": "refused", "reason": "Plan retired"},
    )
    assert response.status_code == 200, response.content
    offer.refresh_from_db()
    assert (offer.billing, offer.billing_note) == (BillingState.REFUSED, "Plan retired")
    assert offer.history.filter(action=OfferHistory.Action.BILLING_REFUSED).count() == 1
    reminders_tick()
    told = Notification.objects.filter(code="notify.billing_refused")
    assert sorted(told.values_list("recipient__username", flat=True)) == ["agent", "manager"]
    note = told.get(recipient__username="agent")
    assert "Plan retired" in str(note)
    assert note.url == reverse("case", args=[offer.case_id])
    reminders_tick()  # delivered once
    assert Notification.objects.filter(code="notify.billing_refused").count() == 2


def test_a_refused_offer_reopens_its_case_for_the_agent_with_a_history_row(
    api_client, accepted, settings
):
    settings.BILLING_REFUSED_DAYS = 7
    offer, event = accepted
    case = offer.case
    assert case.status == CancellationCase.Status.SAVED
    case.process_by = NOW.date() - timedelta(days=1)  # the original deadline has passed
    case.save(update_fields=["process_by"])
    item = {"event": str(event.event_id), "result": "refused", "reason": "Plan retired"}
    assert answer(api_client, item).status_code == 200
    case.refresh_from_db()
    assert (case.status, case.owner.username, case.closed_at, case.outcome_note) == (
        CancellationCase.Status.IN_PROGRESS,
        "agent",
        None,
        "",
    )
    # Seven days from the refusal to agree new terms; the sweep does not cancel it today.
    assert case.process_by == date(2026, 12, 8)
    assert cases_process_overdue(today=NOW.date()) == 0
    (row,) = case.history.filter(action=CaseHistory.Action.REOPENED)
    assert (row.from_status, row.to_status, row.actor) == ("saved", "in_progress", None)
    said = phrases.said({"code": row.code, "params": row.params})
    assert "Plan retired" in said and "2026" in said
    # The agent can agree new terms on the case: a new offer is proposed there.
    fixed = offer_template("fixed-3-6", OfferKind.FIXED_DISCOUNT, amount=D("3"), months=6)
    again = saves.case_offer_propose(case=case, template=fixed, actor=case.owner)
    assert again.case_id == case.pk
    # The same refusal again reopens nothing twice.
    assert answer(api_client, item).json()["items"][0]["status"] == "duplicate"
    assert case.history.filter(action=CaseHistory.Action.REOPENED).count() == 1


def test_a_refusal_keeps_a_later_deadline_and_leaves_an_applied_case_saved(api_client, team):
    agent, _, lead = team
    offers = []
    for number in (1, 2):
        template = offer_template(
            f"fixed-{number}", OfferKind.FIXED_DISCOUNT, amount=D(number), months=12
        )
        case = case_claim(case=CaseFactory.create(), actor=agent)
        offer = saves.case_offer_propose(case=case, template=template, actor=agent)
        if offer.status == CounterOffer.Status.PENDING:
            saves.offer_decide(offer=offer, actor=lead, decision=Decision.APPROVE)
        saves.offer_present(offer=offer, actor=agent)
        offers.append(saves.offer_answer(offer=offer, actor=agent, accepted=True))
    later = NOW.date() + timedelta(days=30)
    CancellationCase.objects.filter(offers=offers[0]).update(process_by=later)
    events = {
        e.payload["data"]["offer"]: e
        for e in OutboundEvent.objects.filter(type=OutboundEvent.Type.OFFER_ACCEPTED)
    }
    refused = {"event": str(events[offers[0].pk].event_id), "result": "refused", "reason": "No"}
    applied = {"event": str(events[offers[1].pk].event_id), "result": "applied"}
    assert answer(api_client, refused, applied).status_code == 200
    first, second = (CancellationCase.objects.get(offers=o) for o in offers)
    assert (first.status, first.process_by) == (CancellationCase.Status.IN_PROGRESS, later)
    assert second.status == CancellationCase.Status.SAVED
    assert not second.history.filter(action=CaseHistory.Action.REOPENED).exists()


def test_a_refused_offer_puts_the_subscribers_price_back_and_the_timeline_says_so(
    api_client, accepted
):
    offer, event = accepted
    subscriber = offer.subscriber
    subscriber.refresh_from_db()
    # The factory's subscriber: a promotion that ended four years ago.
    before, promo_before = offer.price_before, NOW.date() - timedelta(days=4 * 365)
    assert subscriber.monthly_price == before - D("5")
    assert subscriber.holds.filter(released_at__isnull=True).count() == 2  # price, promo end
    item = {"event": str(event.event_id), "result": "refused", "reason": "Plan retired"}
    assert answer(api_client, item).status_code == 200
    subscriber.refresh_from_db()
    assert (subscriber.monthly_price, subscriber.promo_ends_on) == (before, promo_before)
    assert not subscriber.holds.filter(released_at__isnull=True).exists()
    assert set(subscriber.holds.values_list("released_because", flat=True)) == {"refused"}
    restored = TimelineEvent.objects.get(
        subscriber=subscriber, kind=TimelineEvent.Kind.PRICE_CHANGE, data__event__isnull=False
    )
    said = f"Price €{before - D('5')} → €{before} a month: billing kept its price"
    assert str(restored) == f"Price change · {said}"
    # The subscriber never got the concession: it no longer counts against the 12-month limit.
    assert conceded_within_year(subscriber_id=subscriber.pk) == D("0")
    # The same refusal again puts nothing back twice.
    assert answer(api_client, item).json()["items"][0]["status"] == "duplicate"
    assert TimelineEvent.objects.filter(data__event=str(event.event_id)).count() == 1
    assert TimelineEvent.objects.filter(subscriber=subscriber, kind="billing").count() == 1


def test_a_refusal_of_a_hold_that_kept_no_earlier_value_leaves_the_price(api_client, accepted):
    offer, event = accepted
    FieldHold.objects.filter(event=event).update(before=None)  # held before holds kept it
    desk_price = Subscriber.objects.get(pk=offer.subscriber_id).monthly_price
    item = {"event": str(event.event_id), "result": "refused", "reason": "Plan retired"}
    assert answer(api_client, item).status_code == 200
    assert Subscriber.objects.get(pk=offer.subscriber_id).monthly_price == desk_price
    assert not FieldHold.objects.filter(event=event, released_at__isnull=True).exists()


def test_a_refusal_leaves_a_price_a_later_decision_set(api_client, accepted):
    offer, event = accepted
    subscriber = offer.subscriber
    later = D("22.99")
    # A later decision (here a withdrawal that held the price) set the price again meanwhile.
    with transaction.atomic():
        Subscriber.objects.filter(pk=subscriber.pk).update(monthly_price=later)
        outbound.outbound_event_record(
            type=OutboundEvent.Type.CANCELLATION_WITHDRAWN,
            data=outbound.CancellationWithdrawn(
                subscriber=outbound.subscriber_ref(subscriber), case=offer.case_id
            ),
            holds={"monthly_price": later},
        )
    item = {"event": str(event.event_id), "result": "refused", "reason": "Plan retired"}
    assert answer(api_client, item).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.monthly_price == later
    assert not TimelineEvent.objects.filter(
        subscriber=subscriber, kind=TimelineEvent.Kind.PRICE_CHANGE, data__event__isnull=False
    ).exists()


def test_a_refusal_needs_its_reason(api_client, accepted):
    _, event = accepted
    response = answer(api_client, {"event": str(event.event_id), "result": "refused"})
    assert response.status_code == 400
    assert response.json()["items"][0]["status"] == "invalid"


def test_a_processed_cancellation_is_confirmed_on_the_timeline(api_client, team):
    agent = team[0]
    case = case_claim(case=CaseFactory.create(), actor=agent)
    case_cancel(case=case, actor=agent, effective_date=case.process_by)
    event = OutboundEvent.objects.get(type=OutboundEvent.Type.CANCELLATION_PROCESSED)
    assert (
        answer(api_client, {"event": str(event.event_id), "result": "applied"}).status_code == 200
    )
    timeline = TimelineEvent.objects.get(subscriber=case.subscriber, kind="billing")
    assert "Billing confirmed the cancellation" in str(timeline)


def test_a_refused_cancellation_reminds_the_owner_though_the_case_is_closed(api_client, team):
    agent = team[0]
    case = case_claim(case=CaseFactory.create(), actor=agent)
    case_cancel(case=case, actor=agent, effective_date=case.process_by)
    event = OutboundEvent.objects.get(type=OutboundEvent.Type.CANCELLATION_PROCESSED)
    item = {"event": str(event.event_id), "result": "refused", "reason": "Account in dispute"}
    assert answer(api_client, item).status_code == 200
    reminders_tick()
    told = Notification.objects.filter(code="notify.billing_cancellation_refused")
    assert sorted(told.values_list("recipient__username", flat=True)) == ["agent", "manager"]


def test_a_forged_call_is_refused_and_records_nothing(accepted):
    _, event = accepted
    forged = Client(headers={"authorization": "Bearer forged"})
    response = answer(forged, {"event": str(event.event_id), "result": "applied"})
    assert response.status_code == 401
    event.refresh_from_db()
    assert event.confirmation == ""


def test_an_unknown_event_rejects_the_batch_unless_skipped(api_client, accepted):
    _, event = accepted
    good = {"event": str(event.event_id), "result": "applied"}
    unknown = {"event": "00000000-0000-4000-8000-000000000000", "result": "applied"}
    rejected = answer(api_client, good, unknown)
    assert rejected.status_code == 400
    assert [item["status"] for item in rejected.json()["items"]] == ["unknown_event"]
    event.refresh_from_db()
    assert event.confirmation == ""
    skipped = answer(api_client, good, unknown, query="?skip_invalid=true")
    assert skipped.status_code == 200
    assert [item["status"] for item in skipped.json()["items"]] == ["recorded", "unknown_event"]


@pytest.mark.parametrize(
    "item",
    [
        {"event": "not-a-uuid", "result": "applied"},
        {"event": "00000000-0000-4000-8000-000000000000", "result": "maybe"},
        {"event": "00000000-0000-4000-8000-000000000000", "result": "refused", "reason": "a\x00"},
        {"event": "00000000-0000-4000-8000-000000000000", "result": "refused", "reason": "x" * 501},
        "a string",
    ],
)
def test_bad_answers_get_a_clear_400_and_change_nothing(api_client, accepted, item):
    _, event = accepted
    response = answer(api_client, {"event": str(event.event_id), "result": "applied"}, item)
    assert response.status_code == 400
    assert response.json()["items"][0]["index"] == 1
    event.refresh_from_db()
    assert event.confirmation == ""


def test_an_offer_billing_is_late_to_confirm_reminds_the_agent_once(accepted, settings, clock):
    settings.BILLING_CONFIRM_HOURS = 24
    assert offers_unconfirmed_remind() == 0
    clock.shift(timedelta(hours=25))
    assert offers_unconfirmed_remind() == 1
    assert offers_unconfirmed_remind() == 0  # once
    reminders_tick()
    told = Notification.objects.filter(code="notify.billing_unconfirmed")
    assert sorted(told.values_list("recipient__username", flat=True)) == ["agent", "manager"]


def test_a_late_reminder_is_dropped_when_billing_answered_meanwhile(api_client, accepted, clock):
    _, event = accepted
    clock.shift(timedelta(hours=25))
    offers_unconfirmed_remind()
    answer(api_client, {"event": str(event.event_id), "result": "applied"})
    reminders_tick()
    assert not Notification.objects.filter(code="notify.billing_unconfirmed").exists()
