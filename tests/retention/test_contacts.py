"""Every outbound contact goes through the contact policy; a refused one is not recorded as made."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from retention.cases import services as cases
from retention.cases.contacts import contact_log
from retention.core.refusals import ContactRefused, NotAllowed
from retention.models import CaseHistory, ContactAttempt
from subscribers.models import TimelineEvent
from tests.factories import CaseFactory, SubscriberFactory

pytestmark = pytest.mark.django_db
TUESDAY_NOON_RIGA = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
TUESDAY_22_RIGA = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)


@pytest.fixture
def case(agent):
    case = CaseFactory.create(subscriber=SubscriberFactory.create(time_zone="Europe/Riga"))
    cases.case_claim(case=case, actor=agent)
    return case


def call(case, actor, *, direction="outbound", outcome="reached", channel="phone"):
    return contact_log(
        case=case, actor=actor, channel=channel, direction=direction, outcome=outcome, note=""
    )


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_an_allowed_call_is_logged_with_history_timeline_and_first_contact(case, agent):
    attempt = call(case, agent)
    case.refresh_from_db()
    assert case.first_contacted_at == TUESDAY_NOON_RIGA
    assert attempt.outcome == "reached"
    assert case.history.filter(action="contact").exists()
    event = TimelineEvent.objects.get(subscriber=case.subscriber, kind="contact")
    assert event.data["direction"] == "outbound"


@time_machine.travel(TUESDAY_22_RIGA, tick=False)
def test_a_late_evening_call_is_refused_with_the_next_allowed_moment(case, agent):
    with pytest.raises(ContactRefused) as refused:
        call(case, agent)
    assert refused.value.reason == "quiet_hours"
    assert refused.value.next_allowed_at is not None
    assert refused.value.next_allowed_at.isoformat() == "2026-11-25T09:00:00+02:00"
    assert "09:00" in str(refused.value)
    assert not ContactAttempt.objects.exists()
    assert not TimelineEvent.objects.filter(kind="contact").exists()
    refusal = CaseHistory.objects.get(case=case, action="contact_refused")
    assert "Quiet hours" in refusal.text
    case.refresh_from_db()
    assert case.first_contacted_at is None


@time_machine.travel(TUESDAY_22_RIGA, tick=False)
def test_inbound_contacts_are_always_recorded(case, agent):
    call(case, agent, direction="inbound")
    assert ContactAttempt.objects.count() == 1


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_the_cap_counts_contacts_from_every_source(case, agent):
    # Two outreach messages this week (written to the timeline by the outreach sender).
    for days in (1, 3):
        TimelineEvent.objects.create(
            subscriber=case.subscriber,
            kind="contact",
            occurred_at=TUESDAY_NOON_RIGA - timedelta(days=days),
            summary="Outreach e-mail",
            data={"direction": "outbound", "channel": "email"},
            source="outreach",
        )
    with pytest.raises(ContactRefused) as refused:
        call(case, agent)
    assert refused.value.reason == "over_cap"


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_do_not_call_is_respected(agent):
    case = CaseFactory.create(subscriber=SubscriberFactory.create(do_not_call=True))
    cases.case_claim(case=case, actor=agent)
    with pytest.raises(ContactRefused) as refused:
        call(case, agent)
    assert refused.value.reason == "do_not_contact" and refused.value.next_allowed_at is None
    call(case, agent, channel="email", outcome="no_answer")


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_a_port_out_gets_one_save_contact(agent):
    case = CaseFactory.create(channel="port_out")
    cases.case_claim(case=case, actor=agent)
    call(case, agent, outcome="no_answer")
    with pytest.raises(ContactRefused) as refused:
        call(case, agent, channel="sms")
    assert refused.value.reason == "port_out_once"
    assert ContactAttempt.objects.filter(case=case).count() == 1


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_only_the_owner_logs_contacts(case, manager):
    from tests.factories import UserFactory

    stranger = UserFactory.create(username="stranger")
    with pytest.raises(NotAllowed):
        call(case, stranger)
