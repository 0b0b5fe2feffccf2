"""Writing to the subscriber from a case: macros per language, the one action that sends,
logs, sets the callback and notes, through the contact policy, sent once through the outbox."""

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from retention.cases import services as cases
from retention.cases.contacts import contact_log
from retention.core.refusals import ContactRefused, NotAllowed, WrongState
from retention.core.roles import Role
from retention.macros import sending
from retention.macros.rendering import fill, macro_render
from retention.macros.services import case_message_send
from retention.models import (
    CancellationCase,
    CancellationReason,
    CaseHistory,
    CaseMessage,
    ContactAttempt,
    MessageTemplate,
)
from subscribers.models import Subscriber, TimelineEvent
from tests.factories import CaseFactory, SubscriberFactory, TimelineEventFactory, user_with_role

pytestmark = pytest.mark.django_db
TUESDAY_NOON_RIGA = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
TUESDAY_22_RIGA = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _sms_folder(settings, tmp_path):
    settings.SMS_FILE_PATH = str(tmp_path / "sms")


@pytest.fixture
def enqueued(monkeypatch):
    asked: list[tuple[str, tuple]] = []

    def enqueue(name: str, *args: object) -> bool:
        asked.append((name, args))
        return True

    monkeypatch.setattr("retention.core.broker.enqueue", enqueue)
    return asked


def macro(**fields) -> MessageTemplate:
    values = {
        "name": "Price letter",
        "channel": "email",
        "subject_en": "Your {plan}",
        "subject_lv": "Jūsu {plan}",
        "body_en": "Hello {name}, you pay {price} on {plan}.",
        "body_lv": "Labdien, {name}! Jūs maksājat {price} par {plan}.",
        "body_ru": "",
        "callback_days": 2,
        "callback_time": time(10, 0),
        "note": "Sent the price letter to {name}",
    }
    values.update(fields)
    return MessageTemplate.objects.create(**values)


def claimed(agent, **subscriber) -> CancellationCase:
    case = CaseFactory.create(
        subscriber=SubscriberFactory.create(name="Ilze Bērziņa", **subscriber)
    )
    cases.case_claim(case=case, actor=agent)
    return case


def counts(case: CancellationCase) -> tuple[int, ...]:
    case.refresh_from_db()
    return (
        CaseMessage.objects.count(),
        ContactAttempt.objects.filter(case=case).count(),
        case.history.filter(action=CaseHistory.Action.NOTE).count(),
        TimelineEvent.objects.filter(subscriber=case.subscriber_id).count(),
        int(case.callback_at is not None),
    )


# --- Rendering ----------------------------------------------------------------------------------


def test_a_macro_is_rendered_in_the_subscribers_language(agent):
    subscriber = SubscriberFactory.create(name="Ilze", language=Subscriber.Language.LATVIAN)
    rendered = macro_render(template=macro(), subscriber=subscriber, agent=agent)
    assert rendered.language == "lv" and not rendered.fell_back
    assert rendered.subject == f"Jūsu {subscriber.plan.name}"
    assert rendered.body.startswith("Labdien, Ilze! Jūs maksājat €29,99")


def test_a_missing_language_falls_back_to_english_and_says_so(agent):
    subscriber = SubscriberFactory.create(name="Oleg", language=Subscriber.Language.RUSSIAN)
    rendered = macro_render(template=macro(), subscriber=subscriber, agent=agent)
    assert rendered.language == "en" and rendered.wanted == "ru" and rendered.fell_back
    assert rendered.body.startswith("Hello Oleg, you pay €29.99")


def test_placeholders_are_filled_once_and_template_syntax_stays_literal(agent):
    subscriber = SubscriberFactory.create(name="{plan} {{ settings.SECRET_KEY }}")
    body = "{name} / {{ request.user }} {% debug %} {unknown} {plan}"
    rendered = macro_render(template=macro(body_lv=body), subscriber=subscriber, agent=agent)
    plan = subscriber.plan.name
    assert rendered.body == (
        "{plan} {{ settings.SECRET_KEY }} / {{ request.user }} {% debug %} {unknown} " + plan
    )
    assert (
        fill(
            "{name}{name}",
            {"name": "{name}"}
            | dict.fromkeys(("plan", "price", "new_customer_price", "offer", "agent"), ""),
        )
        == "{name}{name}"
    )


# --- The send service ---------------------------------------------------------------------------


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_sending_writes_the_outbox_row_contact_callback_note_and_timeline_once(
    agent, enqueued, django_capture_on_commit_callbacks
):
    case = claimed(agent)
    template = macro()
    before = counts(case)
    with django_capture_on_commit_callbacks(execute=True):
        sent = case_message_send(
            case=case, actor=agent, template=template, subject="S", body="B", key="k1"
        )
    assert not sent.repeated
    message = sent.message
    assert (message.channel, message.to, message.state) == (
        "email",
        case.subscriber.email,
        "pending",
    )
    assert message.contact.outcome == ContactAttempt.Outcome.MESSAGE_SENT
    assert message.contact.direction == "outbound"
    assert counts(case) == (
        before[0] + 1,
        before[1] + 1,
        before[2] + 1,
        before[3] + 2,  # the contact, and the note
        1,
    )
    # Two days later at 10:00 in the subscriber's zone (Riga, UTC+2 in November).
    assert case.callback_at == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    assert case.history.filter(action="note").get().note == "Sent the price letter to Ilze Bērziņa"
    assert enqueued == [("retention.tasks.case_message_deliver", (message.pk,))]


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_a_repeated_submit_with_the_same_key_sends_once(agent, enqueued):
    case = claimed(agent)
    template = macro()
    first = case_message_send(
        case=case, actor=agent, template=template, subject="", body="B", key="k"
    )
    after_first = counts(case)
    again = case_message_send(
        case=case, actor=agent, template=template, subject="", body="B", key="k"
    )
    assert again.repeated and again.message.pk == first.message.pk
    assert counts(case) == after_first


@time_machine.travel(TUESDAY_22_RIGA, tick=False)
def test_a_refusal_by_the_contact_policy_changes_nothing_and_says_when(agent, enqueued):
    case = claimed(agent)
    before = counts(case)
    history = case.history.count()
    with pytest.raises(ContactRefused) as refused:
        case_message_send(
            case=case, actor=agent, template=macro(channel="sms"), subject="", body="B", key="q"
        )
    assert refused.value.reason == "quiet_hours"
    assert refused.value.next_allowed_at is not None
    assert counts(case) == before and case.history.count() == history
    assert enqueued == []


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_do_not_contact_and_a_port_outs_one_contact_refuse_the_message(agent, enqueued):
    case = claimed(agent, do_not_email=True)
    with pytest.raises(ContactRefused):
        case_message_send(case=case, actor=agent, template=macro(), subject="", body="B", key="a")
    port_out = CaseFactory.create(channel=CancellationCase.Channel.PORT_OUT)
    cases.case_claim(case=port_out, actor=agent)
    contact_log(
        case=port_out, actor=agent, channel="phone", direction="outbound", outcome="reached"
    )
    with pytest.raises(ContactRefused) as refused:
        case_message_send(
            case=port_out, actor=agent, template=macro(), subject="", body="B", key="b"
        )
    assert refused.value.reason == "port_out_once"
    assert not CaseMessage.objects.exists()


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_a_closed_case_or_a_colleagues_case_cannot_send(agent, enqueued):
    colleague = user_with_role(Role.AGENT, username="colleague")
    theirs = claimed(colleague)
    with pytest.raises(NotAllowed):
        case_message_send(case=theirs, actor=agent, template=macro(), subject="", body="B", key="c")
    closed = claimed(agent)
    cases.case_withdraw(case=closed, actor=agent, note="Stays")
    with pytest.raises(WrongState):
        case_message_send(case=closed, actor=agent, template=macro(), subject="", body="B", key="d")
    assert not CaseMessage.objects.exists()


# --- Delivery -----------------------------------------------------------------------------------


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_the_task_run_twice_sends_once(agent, enqueued, settings):
    case = claimed(agent)
    email = case_message_send(
        case=case, actor=agent, template=macro(), subject="Hi", body="Body", key="e"
    ).message
    assert sending.case_message_deliver(message_id=email.pk) is True
    assert sending.case_message_deliver(message_id=email.pk) is False
    assert len(mail.outbox) == 1 and mail.outbox[0].subject == "Hi"
    email.refresh_from_db()
    assert email.state == "sent" and email.attempts == 1

    sms = case_message_send(
        case=case, actor=agent, template=macro(channel="sms"), subject="", body="Text", key="f"
    ).message
    sending.case_message_deliver(message_id=sms.pk)
    sending.case_message_deliver(message_id=sms.pk)
    files = list(Path(settings.SMS_FILE_PATH).glob("*.json"))
    assert [json.loads(f.read_text())["body"] for f in files] == ["Text"]


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_a_claim_a_dead_worker_left_is_swept_back_and_the_backend_drops_the_repeat(
    agent, enqueued, settings
):
    case = claimed(agent)
    sms = case_message_send(
        case=case, actor=agent, template=macro(channel="sms"), subject="", body="Once", key="g"
    ).message
    sending.case_message_deliver(message_id=sms.pk)
    # The worker died between the send and the mark: the row is still claimed.
    CaseMessage.objects.filter(pk=sms.pk).update(state="sending")
    assert sending.case_messages_sweep() == []  # not stale yet
    later = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    assert sending.case_messages_sweep(now=later) == [sms.pk]
    assert sending.case_message_deliver(message_id=sms.pk, now=later) is True
    assert len(list(Path(settings.SMS_FILE_PATH).glob("*.json"))) == 1


# --- The page -----------------------------------------------------------------------------------


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_the_form_sends_once_and_the_conversation_shows_it(agent_client, agent, enqueued):
    case = claimed(agent)
    template = macro()
    page = agent_client.get(reverse("case", args=[case.pk])).content.decode()
    assert "Write to the subscriber" in page and "Labdien, Ilze Bērziņa!" in page
    data = {"template": template.pk, "subject": "Cena", "body": "Labdien! <b>x</b>", "key": "kk"}
    for _ in range(2):  # a double click
        response = agent_client.post(reverse("case_message", args=[case.pk]), data, headers=HTMX)
        assert response.status_code == 200
    assert CaseMessage.objects.count() == 1
    html = response.content.decode()
    assert "Labdien! &lt;b&gt;x&lt;/b&gt;" in html and "Message sent" in html


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_a_macro_whose_callback_cannot_be_set_sends_and_says_why(agent_client, agent, enqueued):
    case = claimed(agent)
    template = macro(callback_days=30)  # after the process-by date
    data = {"template": template.pk, "subject": "S", "body": "B", "key": "late"}
    response = agent_client.post(reverse("case_message", args=[case.pk]), data, headers=HTMX)
    assert response.status_code == 200
    assert 'id="action-notice"' in response.content.decode()
    assert "Sent, but its callback was not set: A callback must be before the process-by" in (
        response.content.decode()
    )
    case.refresh_from_db()
    assert (CaseMessage.objects.count(), case.callback_at) == (1, None)
    # Without JavaScript the notice survives the redirect.
    data["key"] = "late-2"
    page = agent_client.post(reverse("case_message", args=[case.pk]), data, follow=True)
    assert "Sent, but its callback was not set" in page.content.decode()


@time_machine.travel(TUESDAY_22_RIGA, tick=False)
def test_a_blocked_channel_answers_with_the_explanation(agent_client, agent, enqueued):
    case = claimed(agent)
    template = macro(channel="sms")
    data = {"template": template.pk, "body": "Hi", "key": "z"}
    response = agent_client.post(reverse("case_message", args=[case.pk]), data, headers=HTMX)
    assert response.status_code == 409
    assert "Quiet hours; allowed from Wed 25 Nov" in response.content.decode()
    assert not CaseMessage.objects.exists()


def test_macros_for_the_cases_reason_are_offered_first(agent_client, agent):
    case = claimed(agent)
    other = macro(name="A general note")
    for_price = macro(name="Zz price")
    for_price.reasons.set([CancellationReason.objects.get(code="price")])
    page = agent_client.get(reverse("case", args=[case.pk])).content.decode()
    assert page.index("Zz price") < page.index(other.name)


def test_the_compose_card_previews_the_chosen_macro(agent_client, agent):
    case = claimed(agent, language=Subscriber.Language.RUSSIAN)
    macro(name="First")
    second = macro(name="Second", body_en="Second text for {name}")
    response = agent_client.get(
        reverse("case_compose", args=[case.pk]), {"macro": second.pk}, headers=HTMX
    )
    html = response.content.decode()
    assert "Second text for Ilze Bērziņa" in html
    assert "This template has no Russian text" in html


# --- The workspace: context, stream and query count ---------------------------------------------


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_the_context_pane_shows_the_subscribers_situation(agent_client, agent):
    case = claimed(agent)
    TimelineEventFactory.create(
        subscriber=case.subscriber,
        kind="outage",
        summary="Outage 6 h in Rīga",
        occurred_at=TUESDAY_NOON_RIGA - timedelta(days=10),
    )
    TimelineEventFactory.create(
        subscriber=case.subscriber,
        kind="ticket",
        summary="Ticket: slow Wi-Fi",
        occurred_at=TUESDAY_NOON_RIGA - timedelta(days=20),
    )
    TimelineEventFactory.create(
        subscriber=case.subscriber,
        kind="outage",
        summary="An old outage",
        occurred_at=TUESDAY_NOON_RIGA - timedelta(days=120),
    )
    html = agent_client.get(reverse("case", args=[case.pk])).content.decode()
    pane = html[html.index('id="context-pane"') : html.index('class="work-pane"')]
    for text in (
        "Plan and price",
        "New customers pay",
        "Loyalty penalty",
        "Promo ends",
        "Customer since",
        "Balance",
        "Arrears",
        "Churn risk",
        "Equipment",
        "Contact rules right now",
        "1 outage",
        "1 ticket",
        "Outage 6 h in Rīga",
        "Ticket: slow Wi-Fi",
    ):
        assert text in pane, text
    assert "An old outage" not in pane


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_the_conversation_is_one_stream_newest_first_and_bounded(agent_client, agent):
    with time_machine.travel(TUESDAY_NOON_RIGA - timedelta(hours=4), tick=False):
        case = claimed(agent)
    with time_machine.travel(TUESDAY_NOON_RIGA - timedelta(hours=3), tick=False):
        contact_log(
            case=case,
            actor=agent,
            channel="phone",
            direction="inbound",
            outcome="reached",
            note="Called in",
        )
    with time_machine.travel(TUESDAY_NOON_RIGA - timedelta(hours=2), tick=False):
        cases.case_add_note(case=case, actor=agent, text="Wants a cheaper plan")
    html = agent_client.get(reverse("case", args=[case.pk])).content.decode()
    stream = html[html.index('id="conversation"') :]
    assert (
        stream.index("Wants a cheaper plan") < stream.index("Called in") < stream.index("Claimed")
    )
    for i in range(30):
        cases.case_add_note(case=case, actor=agent, text=f"note {i}")
    html = agent_client.get(reverse("case", args=[case.pk])).content.decode()
    stream = html[html.index('id="conversation"') :]
    assert stream.count('class="stream-item') == 20
    assert 'id="conversation-all"' in stream
    every = agent_client.get(reverse("case", args=[case.pk]), {"stream": "all"}).content.decode()
    assert every.count('class="stream-item') == 33  # claim, contact, 31 notes


@pytest.mark.parametrize("size", [2, 40])
def test_the_case_page_query_count_does_not_grow_with_the_story(
    agent_client, agent, django_assert_num_queries, size, enqueued
):
    with time_machine.travel(TUESDAY_NOON_RIGA, tick=False):
        case = claimed(agent)
        template = macro(callback_days=None, callback_time=None)
        for i in range(size):
            cases.case_add_note(case=case, actor=agent, text=f"note {i}")
            contact_log(
                case=case, actor=agent, channel="phone", direction="inbound", outcome="reached"
            )
            TimelineEventFactory.create(subscriber=case.subscriber, kind="outage")
            TimelineEventFactory.create(subscriber=case.subscriber, kind="ticket")
        case_message_send(
            case=case, actor=agent, template=template, subject="", body="B", key=f"s{size}"
        )
    # As test_case_views pins it (20), and with macros the live offer a message speaks of (+1).
    with django_assert_num_queries(21):
        response = agent_client.get(reverse("case", args=[case.pk]))
    assert response.status_code == 200
