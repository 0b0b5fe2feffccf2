"""SLA clocks that mean something: quiet hours on public holidays (agents' calls and outreach),
and countdown badges that are amber when a deadline is near and red only when it is missed."""

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from offers.models import OfferKind
from retention.cases import services as cases
from retention.cases.contacts import contact_log
from retention.cases.selectors import overdue_q
from retention.core.refusals import ContactRefused
from retention.models import CancellationCase, CaseHistory, ContactAttempt, OutreachMessage
from retention.templatetags.clocks import case_urgency, clock_html, clock_state, span_said
from subscribers.desk_calendar import desk_calendar_forget
from subscribers.models import ContactPolicy
from subscribers.selectors import contact_decisions
from subscribers.services import contact_policy_save
from tests.factories import CaseFactory, SubscriberFactory, offer_template
from tests.retention.test_outreach import fanned_out, message_of, send

pytestmark = pytest.mark.django_db

# Wednesday 18 November 2026, Proclamation Day, noon in Riga.
HOLIDAY_NOON = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
THURSDAY_9_RIGA = datetime(2026, 11, 19, 7, 0, tzinfo=UTC)


@pytest.fixture
def case(agent):
    with time_machine.travel(HOLIDAY_NOON - timedelta(days=1), tick=False):
        case = CaseFactory.create(subscriber=SubscriberFactory.create(time_zone="Europe/Riga"))
        cases.case_claim(case=case, actor=agent)
    return case


# --- Quiet hours on a public holiday ----------------------------------------------------------


@time_machine.travel(HOLIDAY_NOON, tick=False)
def test_every_channel_is_closed_on_a_public_holiday_until_the_next_allowed_moment():
    subscriber = SubscriberFactory.create(time_zone="Europe/Riga")
    decisions = contact_decisions(subscriber=subscriber, now=HOLIDAY_NOON)
    assert {d.reason for d in decisions} == {"public_holiday"}
    assert {d.next_allowed_at for d in decisions} == {THURSDAY_9_RIGA}
    assert (
        "Public holiday (Republic of Latvia Proclamation Day); allowed from Thu 19 Nov 09:00"
        in (decisions[0].message)
    )
    with translation.override("lv"):
        assert "Latvijas Republikas Proklamēšanas diena" in decisions[0].message


@time_machine.travel(HOLIDAY_NOON, tick=False)
def test_an_agents_call_on_a_public_holiday_is_refused_with_the_holiday_named(case, agent):
    with pytest.raises(ContactRefused) as refused:
        contact_log(
            case=case,
            actor=agent,
            channel="phone",
            direction="outbound",
            outcome="reached",
            note="",
        )
    assert refused.value.reason == "public_holiday"
    assert refused.value.next_allowed_at == THURSDAY_9_RIGA
    assert "Proclamation Day" in str(refused.value)
    assert not ContactAttempt.objects.exists()
    refusal = CaseHistory.objects.get(case=case, action="contact_refused")
    # Kept as a code and its parameters: each reader reads it in their language.
    assert refusal.params["why"]["code"] == "refusal.public_holiday"
    with translation.override("lv"):
        assert "Proklamēšanas" in refusal.text


@time_machine.travel(HOLIDAY_NOON, tick=False)
def test_an_outreach_message_due_on_a_public_holiday_waits_for_the_next_allowed_moment(manager):
    template = offer_template("loyal-5-12", OfferKind.FIXED_DISCOUNT, amount=Decimal(5), months=12)
    riga = SubscriberFactory.create(time_zone="Europe/Riga")
    campaign = fanned_out(manager, template)
    result = send(campaign, HOLIDAY_NOON)
    assert (result.sent, result.deferred) == (0, 1)
    message = message_of(campaign, riga)
    assert (message.state, message.due_at) == (OutreachMessage.State.DEFERRED, THURSDAY_9_RIGA)
    assert send(campaign, THURSDAY_9_RIGA - timedelta(minutes=1)).claimed == 0


@time_machine.travel(HOLIDAY_NOON, tick=False)
def test_the_admin_switch_allows_contact_on_public_holidays(admin_user, case, agent):
    contact_policy_save(values={"closed_on_public_holidays": False}, actor=admin_user)
    assert not ContactPolicy.objects.get().closed_on_public_holidays
    attempt = contact_log(
        case=case, actor=agent, channel="phone", direction="outbound", outcome="reached", note=""
    )
    assert attempt.at == HOLIDAY_NOON


@time_machine.travel(HOLIDAY_NOON, tick=False)
def test_the_case_page_shows_the_holiday_in_the_contact_rules(agent_client, case):
    page = agent_client.get(reverse("case", args=[case.pk])).content.decode()
    assert "Public holiday (Republic of Latvia Proclamation Day)" in page


@time_machine.travel(datetime(2026, 11, 17, 18, 30, tzinfo=UTC), tick=False)
def test_the_evening_before_a_holiday_the_next_opening_skips_it():
    subscriber = SubscriberFactory.create(time_zone="Europe/Riga")  # Tuesday 20:30 there
    (phone, *_) = contact_decisions(subscriber=subscriber, now=datetime.now(UTC))
    assert (phone.reason, phone.next_allowed_at) == ("quiet_hours", THURSDAY_9_RIGA)


# --- Countdown badges -------------------------------------------------------------------------

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # Tuesday, 12:00 in Riga


@pytest.mark.parametrize(
    ("minutes_left", "state"),
    [(61, "ok"), (60, "ok"), (59, "amber"), (1, "amber"), (0, "amber"), (-1, "red")],
)
def test_a_first_contact_clock_is_amber_within_an_hour_and_red_once_overdue(minutes_left, state):
    due = NOW + timedelta(minutes=minutes_left, seconds=-1 if minutes_left == 0 else 0)
    if minutes_left == 0:
        due = NOW  # exactly due: not yet overdue
    assert clock_state("contact", due, NOW) == state


@pytest.mark.parametrize(
    ("deadline_day", "state"),
    # The deadline is the start of the process-by day (the sweep processes it that day).
    [(date(2026, 11, 28), "ok"), (date(2026, 11, 27), "amber"), (date(2026, 11, 25), "red")],
)
def test_a_process_by_clock_is_amber_within_three_days_and_red_within_one(deadline_day, state):
    assert clock_state("process", deadline_day, NOW) == state


def test_the_thresholds_come_from_the_settings(settings):
    settings.FIRST_CONTACT_AMBER_MINUTES = 15
    assert clock_state("contact", NOW + timedelta(minutes=20), NOW) == "ok"
    assert clock_state("contact", NOW + timedelta(minutes=10), NOW) == "amber"


def test_a_badge_says_how_long_is_left_or_how_late_it_is():
    assert span_said(80 * 60) == "1 h 20 min"
    assert span_said(120 * 60) == "2 h"
    assert span_said(30) == "1 min"
    assert span_said(3 * 86400) == "3 days"
    badge = clock_html(NOW + timedelta(minutes=80), "contact", NOW)
    assert ">contact due in 1 h 20 min</time>" in badge
    assert 'class="clock clock-ok"' in badge
    assert 'datetime="2026-11-24T11:20:00Z"' in badge
    late = clock_html(NOW - timedelta(minutes=25), "contact", NOW)
    assert ">contact overdue by 25 min</time>" in late and "clock-red" in late
    # Friday's process-by date: the sweep takes it at Friday's start, two and a half days on.
    assert ">process by in 2 days</time>" in clock_html(date(2026, 11, 27), "process", NOW)


def test_a_queue_row_is_red_only_when_a_clock_is(agent):
    calm = CaseFactory.create(first_contact_due=NOW + timedelta(hours=3))
    calm.process_by = date(2026, 12, 5)
    soon = CaseFactory.create(first_contact_due=NOW + timedelta(minutes=30))
    soon.process_by = date(2026, 12, 5)
    late = CaseFactory.create(first_contact_due=NOW - timedelta(minutes=1))
    late.process_by = date(2026, 12, 5)
    reached = CaseFactory.create(first_contact_due=NOW - timedelta(hours=1), first_contacted_at=NOW)
    reached.process_by = date(2026, 12, 5)
    assert [case_urgency(c, NOW) for c in (calm, soon, late, reached)] == [
        "",
        "clock-amber",
        "clock-red",
        "",
    ]


def test_the_page_script_gets_its_words_as_json_data_with_the_pages_nonce():
    template = Template("{% load clocks %}{% clock_words %}")
    html = template.render(Context({"csp_nonce": "n0nce"}))
    assert html.startswith('<script type="application/json" id="clock-words" nonce="n0nce">')
    words = json.loads(html.split(">", 1)[1].removesuffix("</script>"))
    assert words["contact_due"] == "contact due in %(time)s"
    assert words["days"]["2"] == "2 days" and words["h_min"] == "%(hours)s h %(minutes)s min"


@time_machine.travel(NOW, tick=False)
def test_the_queue_and_my_cases_show_countdowns_at_a_constant_query_count(
    agent_client, agent, django_assert_num_queries
):
    for n in range(3):
        CaseFactory.create(first_contact_due=NOW + timedelta(minutes=20 * n - 10), owner=agent)
    desk_calendar_forget()
    agent_client.get(reverse("queue"))  # the queue's counts and the calendar are cached now
    with django_assert_num_queries(QUEUE_QUERIES):
        page = agent_client.get(reverse("queue")).content.decode()
    assert page.count('data-clock="contact"') == 3 and page.count('data-clock="process"') == 3
    for n in range(20):
        CaseFactory.create(first_contact_due=NOW + timedelta(hours=n), owner=agent)
    with django_assert_num_queries(QUEUE_QUERIES):
        agent_client.get(reverse("queue"))
    mine = agent_client.get(reverse("my_cases")).content.decode()
    assert "contact overdue by 10 min" in mine and "contact due in 30 min" in mine


QUEUE_QUERIES = 8  # counts, regions and calendar cached: as tests/retention/queue pin it


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 11, 19, 22, 0, tzinfo=UTC),  # midnight in Riga, exactly
        datetime(2026, 11, 20, 10, 0, tzinfo=UTC),  # noon
        datetime(2026, 11, 20, 21, 59, tzinfo=UTC),  # a minute before midnight
    ],
)
def test_the_queues_overdue_count_is_the_red_clocks(now):
    # The count line and the "overdue" filter read overdue_q in SQL; the badges decide in
    # Python. Both must call the same cases red, at every hour of the day.
    with time_machine.travel(now, tick=False):
        days = [date(2026, 11, 18) + timedelta(days=n) for n in range(6)]
        by_day = {
            CaseFactory.create(process_by=day, first_contacted_at=now - timedelta(hours=1)).pk: day
            for day in days
        }
        late = CaseFactory.create(first_contact_due=now - timedelta(minutes=1)).pk
        due = CaseFactory.create(first_contact_due=now + timedelta(minutes=1)).pk
        flagged = set(CancellationCase.objects.filter(overdue_q()).values_list("pk", flat=True))
    red = {pk for pk, day in by_day.items() if clock_state("process", day, now) == "red"}
    assert flagged - {late, due} == red and late in flagged
    assert 0 < len(red) < len(days)
