"""Proactive loyalty outreach (retention.outreach): who matches, one outbox row per subscriber,
sending through the contact policy in the subscriber's own time zone, and the answers.

The clock starts on Tuesday 2026-12-01 10:00 UTC: 12:00 in Riga, 19:00 in Tokyo, 05:00 in
New York. Subscribers pay €29.99 for a plan a new customer gets for €19.99 (a 50% loyalty
penalty), signed up five years ago and their promotion ended four years ago.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core import mail, signing
from django.db import IntegrityError

from offers.models import CounterOffer, OfferKind
from retention.cases.services import case_claim, case_withdraw
from retention.core.messaging import Outgoing, send_sms
from retention.core.refusals import InvalidInput, NotAllowed, WrongState
from retention.core.roles import Role
from retention.models import (
    Notification,
    OutreachCampaign,
    OutreachMessage,
    Reminder,
    Team,
)
from retention.outreach import audience
from retention.outreach import services as outreach
from retention.outreach.audience import campaign_fan_out, campaign_matching
from retention.outreach.links import message_from_token, message_token
from retention.outreach.rendering import body_check, message_render
from retention.outreach.replies import outreach_respond
from retention.outreach.selectors import campaign_progress, campaign_skip_reasons
from retention.outreach.sending import (
    campaigns_standing_top_up,
    campaigns_with_work,
    outreach_send,
    outreach_sweep,
)
from subscribers.models import ContactPolicy, Subscriber, TimelineEvent
from tests.factories import (
    CaseFactory,
    PlanFactory,
    SubscriberFactory,
    offer_template,
    user_with_role,
)

pytestmark = pytest.mark.django_db

D = Decimal
State = OutreachMessage.State
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # Tuesday, 12:00 in Riga
BODIES = {
    "body_lv": "Sveiki, {name}! {offer}: {price} → {new_price}. {link}",
    "body_ru": "Здравствуйте, {name}! {offer}: {price} → {new_price}. {link}",
    "body_en": "Hello {name}! {offer}: {price} → {new_price}. {link}",
}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def sms_folder(settings, tmp_path) -> Path:
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    return tmp_path / "sms"


def sms_sent(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture
def discount(tiers):
    """€5 off for 12 months: €60 in all, within a manager's authority."""
    return offer_template("loyal-5-12", OfferKind.FIXED_DISCOUNT, amount=D("5"), months=12)


@pytest.fixture
def free_month(tiers):
    """A month free: €29.99 a month, over a manager's €25, within a lead's."""
    return offer_template("free-month", OfferKind.FREE_MONTHS, months=1)


def draft(manager, template, **fields) -> OutreachCampaign:
    values = {
        "name": "Loyal customers",
        "template": template,
        "channel": "sms",
        "not_contacted_days": 0,
        **BODIES,
        **fields,
    }
    return outreach.campaign_create(actor=manager, values=values)


def launched(manager, template, **fields) -> OutreachCampaign:
    return outreach.campaign_launch(campaign=draft(manager, template, **fields), actor=manager)


def fanned_out(manager, template, **fields) -> OutreachCampaign:
    campaign = launched(manager, template, **fields)
    campaign_fan_out(campaign=campaign)
    return campaign


def matched(campaign) -> set[int]:
    return set(campaign_matching(campaign).values_list("pk", flat=True))


def message_of(campaign, subscriber) -> OutreachMessage:
    return OutreachMessage.objects.get(campaign=campaign, subscriber=subscriber)


def contacted(subscriber, when, direction="outbound"):
    TimelineEvent.objects.create(
        subscriber=subscriber,
        kind=TimelineEvent.Kind.CONTACT,
        occurred_at=when,
        summary="Called",
        data={"direction": direction, "channel": "phone"},
    )


def send(campaign, at=None, **kwargs):
    return outreach_send(campaign_id=campaign.pk, now=at or NOW, **kwargs)


# --- Who matches ---------------------------------------------------------------------------


def test_minimum_tenure(manager, discount):
    old, new = SubscriberFactory.create(), SubscriberFactory.create(signup_date=date(2026, 1, 10))
    campaign = draft(manager, discount, min_tenure_months=24)
    assert old.pk in matched(campaign) and new.pk not in matched(campaign)


def test_loyalty_penalty_at_least_n_percent(manager, discount):
    plan = PlanFactory.create(new_customer_price=D("20.00"))
    fifty = SubscriberFactory.create(plan=plan, monthly_price=D("30.00"))
    forty_nine = SubscriberFactory.create(plan=plan, monthly_price=D("29.80"))
    cheaper = SubscriberFactory.create(plan=plan, monthly_price=D("15.00"))
    campaign = draft(manager, discount, min_penalty_percent=50)
    assert matched(campaign) == {fifty.pk}
    assert forty_nine.pk in matched(draft(manager, discount, min_penalty_percent=49))
    assert cheaper.pk not in matched(draft(manager, discount, min_penalty_percent=1))


def test_promotion_ended_more_than_n_days_ago(manager, discount):
    long_ago = SubscriberFactory.create(promo_ends_on=NOW.date() - timedelta(days=100))
    recently = SubscriberFactory.create(promo_ends_on=NOW.date() - timedelta(days=30))
    still_on = SubscriberFactory.create(promo_ends_on=NOW.date() + timedelta(days=30))
    never = SubscriberFactory.create(promo_ends_on=None)
    campaign = draft(manager, discount, promo_ended_days=90)
    assert long_ago.pk in matched(campaign)
    assert not matched(campaign) & {recently.pk, still_on.pk, never.pk}


def test_churn_risk_at_least(manager, discount):
    risky, calm = SubscriberFactory.create(churn_risk=70), SubscriberFactory.create(churn_risk=50)
    assert matched(draft(manager, discount, min_risk=60)) == {risky.pk}
    assert {risky.pk, calm.pk} <= matched(draft(manager, discount))


def test_segment_region_and_plan(manager, discount):
    business = SubscriberFactory.create(segment=Subscriber.Segment.SMALL_BUSINESS)
    kurzeme = SubscriberFactory.create(region="Kurzeme")
    fibre = PlanFactory.create()
    on_fibre = SubscriberFactory.create(plan=fibre)
    assert matched(draft(manager, discount, segment="small_business")) == {business.pk}
    assert matched(draft(manager, discount, region="Kurzeme")) == {kurzeme.pk}
    assert matched(draft(manager, discount, plan=fibre)) == {on_fibre.pk}


def test_subscribers_with_an_open_case_or_not_active_are_left_out(manager, agent, discount):
    asking = CaseFactory.create().subscriber
    stayed = case_claim(case=CaseFactory.create(), actor=agent)
    case_withdraw(case=stayed, actor=agent, note="Staying")
    leaving = SubscriberFactory.create(status=Subscriber.Status.CANCELLING)
    campaign = draft(manager, discount)
    assert stayed.subscriber_id in matched(campaign)
    assert not matched(campaign) & {asking.pk, leaving.pk}


def test_subscribers_contacted_by_us_in_the_last_n_days_are_left_out(manager, discount):
    called = SubscriberFactory.create()
    contacted(called, NOW - timedelta(days=3))
    called_long_ago = SubscriberFactory.create()
    contacted(called_long_ago, NOW - timedelta(days=10))
    called_us = SubscriberFactory.create()
    contacted(called_us, NOW - timedelta(days=1), direction="inbound")
    campaign = draft(manager, discount, not_contacted_days=7)
    assert called.pk not in matched(campaign)
    assert {called_long_ago.pk, called_us.pk} <= matched(campaign)
    assert called.pk in matched(draft(manager, discount, not_contacted_days=0))


# --- Fan-out -------------------------------------------------------------------------------


def test_fan_out_creates_one_pending_message_per_matching_subscriber(
    manager, discount, monkeypatch
):
    monkeypatch.setattr(audience, "FAN_OUT_CHUNK", 2)  # several chunks of subscriber ids
    riga = SubscriberFactory.create_batch(5)
    SubscriberFactory.create(region="Kurzeme")
    campaign = launched(manager, discount, region="Rīga")
    assert campaign_fan_out(campaign=campaign) == 5
    messages = OutreachMessage.objects.filter(campaign=campaign)
    assert {m.subscriber_id for m in messages} == {s.pk for s in riga}
    assert {(m.state, m.due_at, m.attempts) for m in messages} == {(State.PENDING, NOW, 0)}
    campaign.refresh_from_db()
    assert campaign.fanned_out_at == NOW


def test_fan_out_twice_adds_nothing(manager, discount):
    SubscriberFactory.create_batch(3)
    campaign = launched(manager, discount)
    assert campaign_fan_out(campaign=campaign) == 3
    assert campaign_fan_out(campaign=campaign) == 0
    assert OutreachMessage.objects.filter(campaign=campaign).count() == 3


def test_the_database_keeps_one_message_per_campaign_and_subscriber(manager, discount):
    subscriber = SubscriberFactory.create()
    campaign = fanned_out(manager, discount)
    with pytest.raises(IntegrityError):
        OutreachMessage.objects.create(campaign=campaign, subscriber=subscriber, due_at=NOW)


def test_a_standing_campaign_adds_subscribers_who_newly_match(manager, discount):
    SubscriberFactory.create_batch(2)
    standing = fanned_out(manager, discount, standing=True)
    one_off = fanned_out(manager, discount, name="Once")
    newcomer = SubscriberFactory.create()
    assert campaigns_standing_top_up() == 1
    assert message_of(standing, newcomer).state == State.PENDING
    assert not OutreachMessage.objects.filter(campaign=one_off, subscriber=newcomer).exists()
    assert campaigns_standing_top_up() == 0


# --- Messages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ["Hello {surname}", "Hello {0}", "Hello {}", "{name.__class__}", "{name[0]}"],
)
def test_a_message_with_an_unknown_placeholder_is_refused(body):
    with pytest.raises(InvalidInput, match="Unknown placeholders"):
        body_check(body)


@pytest.mark.parametrize("body", ["Hello {name", "Hello name}", "{link} }"])
def test_a_message_with_a_stray_brace_is_refused(body):
    with pytest.raises(InvalidInput, match="stray"):
        body_check(body)


def test_a_message_with_known_placeholders_passes():
    body = "{name}, {offer} {price} {new_price} {link}"
    assert body_check(body) == body


def test_a_draft_with_a_bad_message_is_not_saved(manager, discount):
    with pytest.raises(InvalidInput):
        draft(manager, discount, body_ru="Здравствуйте, {имя}!")
    assert not OutreachCampaign.objects.exists()


@pytest.mark.parametrize(
    ("language", "greeting", "offer"),
    [("lv", "Sveiki", "Lojalitātes atlaide"), ("ru", "Здравствуйте", "Скидка за верность")],
)
def test_the_message_is_in_the_subscribers_language_with_the_placeholders_filled(
    manager, discount, language, greeting, offer
):
    discount.name_lv, discount.name_ru = "Lojalitātes atlaide", "Скидка за верность"
    discount.save()
    subscriber = SubscriberFactory.create(name="Anna Bērziņa", language=language)
    campaign = draft(manager, discount, subject="Better terms")
    subject, text, used = message_render(campaign, subscriber, link="https://x/o/t/")
    assert (subject, used) == ("Better terms", language)
    # Money as the subscriber's language writes it: a decimal comma in Latvian and Russian.
    assert text == f"{greeting}, Anna Bērziņa! {offer}: €29,99 → €24,99. https://x/o/t/"


def test_a_language_without_its_own_text_falls_back_to_english(manager, discount):
    subscriber = SubscriberFactory.create(name="Ivan", language="ru")
    campaign = draft(manager, discount, body_ru="")
    _, text, _ = message_render(campaign, subscriber, link="L")
    assert text == "Hello Ivan! loyal-5-12: €29.99 → €24.99. L"


# --- Sending -------------------------------------------------------------------------------


def test_within_allowed_hours_every_message_is_sent_and_recorded_as_a_contact(
    manager, discount, sms_folder
):
    subscribers = SubscriberFactory.create_batch(3)
    campaign = fanned_out(manager, discount)
    result = send(campaign)
    assert (result.sent, result.deferred, result.skipped, result.failed) == (3, 0, 0, 0)
    messages = list(OutreachMessage.objects.filter(campaign=campaign).order_by("pk"))
    assert sms_sent(sms_folder) == sorted(f"outreach-{m.pk}.json" for m in messages)
    assert {(m.state, m.sent_at, m.attempts) for m in messages} == {(State.SENT, NOW, 1)}
    for subscriber, message in zip(subscribers, messages, strict=True):
        event = TimelineEvent.objects.get(subscriber=subscriber, kind=TimelineEvent.Kind.CONTACT)
        assert event.occurred_at == NOW
        assert event.data == {
            "direction": "outbound",
            "channel": "sms",
            "campaign": campaign.pk,
            "message": message.pk,
        }
    body = (sms_folder / f"outreach-{messages[0].pk}.json").read_text(encoding="utf-8")
    assert subscribers[0].name in body and "/o/" in body
    assert send(campaign, NOW + timedelta(minutes=1)).claimed == 0


def test_an_e_mail_campaign_goes_through_the_e_mail_backend(manager, discount, sms_folder):
    subscriber = SubscriberFactory.create(language="en")
    campaign = fanned_out(manager, discount, channel="email", subject="Better terms for you")
    assert send(campaign).sent == 1
    assert [(m.to, m.subject) for m in mail.outbox] == [
        ([subscriber.email], "Better terms for you")
    ]
    assert mail.outbox[0].body.startswith(f"Hello {subscriber.name}! loyal-5-12: €29.99")
    assert sms_sent(sms_folder) == []


def test_a_chunk_claims_at_most_its_limit(manager, discount):
    SubscriberFactory.create_batch(5)
    campaign = fanned_out(manager, discount)
    assert send(campaign, limit=2).sent == 2
    assert send(campaign, limit=2).sent == 2
    assert send(campaign, limit=2).sent == 1


def test_quiet_hours_defer_each_message_to_the_subscribers_next_allowed_moment(
    manager, discount, sms_folder
):
    riga = SubscriberFactory.create(time_zone="Europe/Riga")
    tokyo = SubscriberFactory.create(time_zone="Asia/Tokyo")
    new_york = SubscriberFactory.create(time_zone="America/New_York")
    campaign = fanned_out(manager, discount)
    # Tuesday 18:30 UTC: 20:30 in Riga, Wednesday 03:30 in Tokyo, 13:30 in New York.
    evening = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)
    result = send(campaign, evening)
    assert (result.sent, result.deferred) == (1, 2)
    assert message_of(campaign, new_york).state == State.SENT
    assert [(m.state, m.due_at) for m in (message_of(campaign, s) for s in (riga, tokyo))] == [
        (State.DEFERRED, datetime(2026, 12, 2, 7, 0, tzinfo=UTC)),  # Wednesday 09:00 Riga
        (State.DEFERRED, datetime(2026, 12, 2, 0, 0, tzinfo=UTC)),  # Wednesday 09:00 Tokyo
    ]
    assert len(sms_sent(sms_folder)) == 1
    # Nothing goes before its moment; then each goes at its own.
    assert send(campaign, datetime(2026, 12, 1, 23, 59, tzinfo=UTC)).claimed == 0
    assert send(campaign, datetime(2026, 12, 2, 0, 0, tzinfo=UTC)).sent == 1
    assert message_of(campaign, tokyo).state == State.SENT
    assert send(campaign, datetime(2026, 12, 2, 7, 0, tzinfo=UTC)).sent == 1
    assert len(sms_sent(sms_folder)) == 3


def test_a_friday_evening_message_waits_for_the_weekend_opening(manager, discount):
    riga = SubscriberFactory.create(time_zone="Europe/Riga")
    campaign = fanned_out(manager, discount)
    send(campaign, datetime(2026, 12, 4, 18, 30, tzinfo=UTC))  # Friday 20:30 Riga
    # Saturday 10:00 Riga: weekend hours start later.
    assert message_of(campaign, riga).due_at == datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


def test_do_not_contact_and_no_address_are_skipped_with_the_reason(manager, discount, sms_folder):
    refused = SubscriberFactory.create(do_not_sms=True)
    no_phone = SubscriberFactory.create(phone="")
    campaign = fanned_out(manager, discount)
    result = send(campaign)
    assert (result.sent, result.skipped) == (0, 2)
    assert (message_of(campaign, refused).state, message_of(campaign, refused).skip_reason) == (
        State.SKIPPED,
        "do_not_contact",
    )
    assert message_of(campaign, no_phone).skip_reason == "no_address"
    assert sms_sent(sms_folder) == []
    assert campaign_skip_reasons(campaign) == {"do_not_contact": 1, "no_address": 1}


def test_over_the_cap_waits_until_the_oldest_contact_leaves_the_window(
    manager, discount, sms_folder
):
    subscriber = SubscriberFactory.create()
    contacted(subscriber, NOW - timedelta(days=3))
    contacted(subscriber, NOW - timedelta(days=1))
    campaign = fanned_out(manager, discount)
    assert send(campaign).deferred == 1
    # Seven days after the older contact: Saturday 12:00 Riga, inside weekend hours.
    message = message_of(campaign, subscriber)
    assert (message.state, message.due_at) == (State.DEFERRED, NOW + timedelta(days=4))
    assert sms_sent(sms_folder) == []
    assert send(campaign, NOW + timedelta(days=4)).sent == 1


def test_a_policy_that_allows_no_outbound_contact_skips_the_message(manager, discount):
    ContactPolicy.objects.update(max_outbound=0)
    subscriber = SubscriberFactory.create()
    campaign = fanned_out(manager, discount)
    assert send(campaign).skipped == 1
    assert message_of(campaign, subscriber).skip_reason == "over_cap"


def test_an_outreach_message_counts_towards_the_cap_for_every_other_sender(manager, discount):
    subscriber = SubscriberFactory.create()
    contacted(subscriber, NOW - timedelta(days=2))
    first = fanned_out(manager, discount, name="First")
    second = fanned_out(manager, discount, name="Second")
    assert send(first).sent == 1
    assert send(second).deferred == 1
    assert message_of(second, subscriber).due_at == NOW + timedelta(days=5)


def test_a_paused_campaign_sends_nothing_until_resumed(manager, discount, sms_folder):
    SubscriberFactory.create_batch(2)
    campaign = fanned_out(manager, discount)
    outreach.campaign_pause(campaign=campaign, actor=manager)
    assert send(campaign).claimed == 0
    assert sms_sent(sms_folder) == []
    assert set(OutreachMessage.objects.values_list("state", flat=True)) == {State.PENDING}
    assert campaigns_with_work(now=NOW) == []
    outreach.campaign_resume(campaign=campaign, actor=manager)
    assert campaigns_with_work(now=NOW) == [campaign.pk]
    assert send(campaign).sent == 2


def test_a_draft_is_not_sent_and_only_a_draft_launches(manager, discount):
    SubscriberFactory.create()
    campaign = draft(manager, discount)
    campaign_fan_out(campaign=campaign)
    assert send(campaign).claimed == 0
    outreach.campaign_launch(campaign=campaign, actor=manager)
    with pytest.raises(WrongState):
        outreach.campaign_launch(campaign=campaign, actor=manager)


def test_the_sweep_returns_abandoned_claims_and_the_resend_is_not_doubled(
    manager, discount, sms_folder
):
    subscriber = SubscriberFactory.create()
    campaign = fanned_out(manager, discount)
    message = message_of(campaign, subscriber)
    # A worker claimed the message and handed it to the backend, then died before marking it.
    OutreachMessage.objects.filter(pk=message.pk).update(state=State.SENDING, claimed_at=NOW)
    send_sms(Outgoing(f"outreach-{message.pk}", subscriber.phone, "sent before the crash"))
    assert outreach_sweep(now=NOW + timedelta(minutes=9)) == 0
    later = NOW + timedelta(minutes=11)
    assert outreach_sweep(now=later) == 1
    assert message_of(campaign, subscriber).state == State.PENDING
    assert send(campaign, later).sent == 1
    assert sms_sent(sms_folder) == [f"outreach-{message.pk}.json"]
    message = message_of(campaign, subscriber)
    assert (message.state, message.attempts) == (State.SENT, 1)


def test_a_campaign_with_nothing_left_to_send_is_finished(manager, discount):
    riga = SubscriberFactory.create()
    SubscriberFactory.create(time_zone="Asia/Tokyo")
    campaign = fanned_out(manager, discount)
    standing = fanned_out(manager, discount, name="Standing", standing=True)
    not_fanned_out = launched(manager, discount, name="Later")
    send(campaign)  # 12:00 Riga, 19:00 Tokyo: both go
    send(standing)
    assert outreach.campaigns_finish() == 1
    campaign.refresh_from_db()
    assert campaign.state == OutreachCampaign.State.FINISHED
    for other in (standing, not_fanned_out):
        other.refresh_from_db()
        assert other.state == OutreachCampaign.State.RUNNING
    assert message_of(campaign, riga).state == State.SENT


def test_a_campaign_with_deferred_messages_keeps_running(manager, discount):
    SubscriberFactory.create(time_zone="America/New_York")  # 05:00 there
    campaign = fanned_out(manager, discount)
    assert send(campaign).deferred == 1
    assert outreach.campaigns_finish() == 0
    campaign.refresh_from_db()
    assert campaign.state == OutreachCampaign.State.RUNNING


# --- Answers -------------------------------------------------------------------------------


def sent_message(manager, template, **subscriber_fields) -> OutreachMessage:
    subscriber = SubscriberFactory.create(**subscriber_fields)
    campaign = fanned_out(manager, template)
    send(campaign)
    message = message_of(campaign, subscriber)
    assert message.state == State.SENT
    return message


def test_the_link_names_its_message_and_a_forged_one_is_refused(manager, discount):
    message = sent_message(manager, discount)
    token = message_token(message)
    assert message_from_token(token) == message
    with pytest.raises(signing.BadSignature):
        message_from_token(token[:-2] + ("AA" if token[-2:] != "AA" else "BB"))
    with pytest.raises(signing.BadSignature):
        message_from_token(signing.dumps(message.pk, salt="another-purpose"))


def test_a_link_older_than_thirty_days_is_refused(clock, manager, discount):
    token = message_token(sent_message(manager, discount))
    clock.shift(timedelta(days=31))
    with pytest.raises(signing.SignatureExpired):
        message_from_token(token)


def test_accepting_within_the_campaign_owners_authority_applies_the_offer(manager, discount):
    message = sent_message(manager, discount)
    offer = outreach_respond(message=message, response="accepted")
    assert offer is not None
    assert (offer.status, offer.proposer, offer.runs_until) == (
        CounterOffer.Status.ACCEPTED,
        manager,
        date(2027, 12, 1),
    )
    subscriber = Subscriber.objects.get(pk=message.subscriber_id)
    assert subscriber.monthly_price == D("24.99")
    message.refresh_from_db()
    assert (message.state, message.response, message.responded_at) == (
        State.RESPONDED,
        "accepted",
        NOW,
    )
    answer = TimelineEvent.objects.get(subscriber=subscriber, data__direction="inbound")
    assert answer.code == "outreach.accepted"
    assert "accepted the offer" in answer.text
    assert TimelineEvent.objects.filter(
        subscriber=subscriber, kind=TimelineEvent.Kind.PRICE_CHANGE
    ).exists()


def test_accepting_beyond_the_owners_authority_waits_for_approval(manager, free_month):
    user_with_role(Role.MANAGER, "Retention lead", username="lead")
    message = sent_message(manager, free_month)
    offer = outreach_respond(message=message, response="accepted")
    assert offer is not None
    assert offer.status == CounterOffer.Status.PENDING
    assert offer.routed_tier is not None and offer.routed_tier.name == "Retention lead"
    assert Subscriber.objects.get(pk=message.subscriber_id).monthly_price == D("29.99")
    # The approvers are reminded as for any offer waiting for them.
    waiting = Reminder.objects.get(kind=Reminder.Kind.APPROVAL_WAITING, offer=offer)
    assert waiting.due_at == NOW + timedelta(minutes=60)


def test_asking_for_a_call_tells_the_campaign_owner_and_their_teams_managers(manager, discount):
    team, other = Team.objects.create(name="North"), Team.objects.create(name="South")
    manager.team = team
    manager.save()
    colleague = user_with_role(Role.MANAGER, username="colleague", team=team)
    elsewhere = user_with_role(Role.MANAGER, username="elsewhere", team=other)
    message = sent_message(manager, discount, name="Jānis Ozols")
    assert outreach_respond(message=message, response="call") is None
    text = "Jānis Ozols asked for a call about \u201cLoyal customers\u201d."
    assert [str(n) for n in Notification.objects.filter(recipient=manager)] == [text]
    assert [str(n) for n in Notification.objects.filter(recipient=colleague)] == [text]
    assert not Notification.objects.filter(recipient=elsewhere).exists()
    message.refresh_from_db()
    assert (message.state, message.response) == (State.RESPONDED, "call")
    assert not CounterOffer.objects.exists()


def test_answering_twice_changes_nothing(manager, discount):
    message = sent_message(manager, discount)
    outreach_respond(message=message, response="accepted")
    assert outreach_respond(message=message, response="accepted") is None
    assert outreach_respond(message=message, response="call") is None
    assert CounterOffer.objects.count() == 1
    assert TimelineEvent.objects.filter(data__direction="inbound").count() == 1
    assert not Notification.objects.exists()
    message.refresh_from_db()
    assert message.response == "accepted"


def test_a_message_that_was_not_sent_cannot_be_answered(manager, discount):
    subscriber = SubscriberFactory.create(do_not_sms=True)
    campaign = fanned_out(manager, discount)
    send(campaign)
    with pytest.raises(WrongState, match="not sent"):
        outreach_respond(message=message_of(campaign, subscriber), response="accepted")


def test_an_unknown_answer_is_refused(manager, discount):
    with pytest.raises(InvalidInput, match="Unknown response"):
        outreach_respond(message=sent_message(manager, discount), response="maybe")


def test_only_managers_run_campaigns(agent, discount):
    with pytest.raises(NotAllowed):
        draft(agent, discount)


def test_progress_counts_each_state(manager, discount):
    SubscriberFactory.create()
    SubscriberFactory.create(do_not_sms=True)
    SubscriberFactory.create(time_zone="America/New_York")
    campaign = fanned_out(manager, discount)
    send(campaign)
    progress = campaign_progress(campaign)
    assert progress.matched == 3
    assert (progress.count("sent"), progress.count("skipped"), progress.count("deferred")) == (
        1,
        1,
        1,
    )
    assert progress.percent("sent", "skipped") == 67


def test_a_chunk_reads_the_frequency_cap_once_not_once_per_message(
    manager, discount, settings, tmp_path, django_assert_max_num_queries
):
    """Sending is set-based where it can be: the queries of a chunk do not grow with the
    number of subscribers for the contact-policy lookups."""
    from retention.models import OutreachCampaign

    settings.SMS_FILE_PATH = str(tmp_path)
    subscribers = SubscriberFactory.create_batch(5, time_zone="Europe/Riga")
    campaign = OutreachCampaign.objects.create(
        name="Chunk",
        created_by=manager,
        template=discount,
        channel="sms",
        body_lv="{name}",
        body_ru="{name}",
        body_en="{name}",
        not_contacted_days=0,
        state=OutreachCampaign.State.RUNNING,
    )
    campaign_fan_out(campaign=campaign)
    tuesday_noon = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 12:00 in Riga
    # Once a chunk: the running check, the claim (select, update, savepoints), the campaign,
    # the policy (and the desk's calendar, two when not cached), the messages and the cap's
    # contacts; then four a message: the mark and its timeline event in a transaction. Read
    # once per message, the cap would add five more.
    with (
        time_machine.travel(tuesday_noon, tick=False),
        django_assert_max_num_queries(11 + 5 * 4),
    ):
        result = outreach_send(campaign_id=campaign.pk)
    assert result.sent == len(subscribers)
