"""The local provider sinks, over real sockets: what they count, how they fail on purpose, and
the desk's existing e-mail and SMS backends delivering to them."""

import contextlib
import email.policy
import json
import signal
import smtplib
import ssl
import subprocess
import sys
import time
from email.parser import BytesParser

import httpx
import pytest
from django.core.mail import EmailMessage, mailers

from retention.core.delivery import SENT, deliver
from retention.core.messaging import Outgoing, send_to_subscriber
from retention.sinks import SmsSink, SmtpSink
from tests.threads import run_at_once


def emails(*keys: str) -> list[EmailMessage]:
    return [
        EmailMessage(
            subject="Your plan",
            body="Hello",
            from_email="desk@example.lv",
            to=["subscriber@example.lv"],
            headers={"Message-ID": f"<{key}@example.lv>"},
        )
        for key in keys
    ]


def sms_post(client: httpx.Client, sink: SmsSink, key: str | None) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(sink.url, json={"to": "+37120000000", "text": "Hi"}, headers=headers)


# --- SMTP -------------------------------------------------------------------------------------


def test_smtp_sink_counts_twenty_messages_over_one_connection(email_to_sink: SmtpSink):
    sent = mailers.default.send_messages(emails(*(f"m{i}" for i in range(20))))

    assert sent == 20
    assert email_to_sink.unique == 20
    assert email_to_sink.duplicates == 0
    assert email_to_sink.connections == 1
    assert email_to_sink.keys["<m0@example.lv>"] == 1


def test_smtp_sink_delays_each_connection_without_holding_up_the_other(smtp_sink: SmtpSink):
    latency = 0.1
    smtp_sink.configure(latency_ms=latency * 1000)

    def client(name: str) -> None:
        with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as smtp:
            for message in emails(*(f"{name}-{i}" for i in range(5))):
                smtp.send_message(message.message())

    started = time.perf_counter()
    assert run_at_once(lambda: client("a"), lambda: client("b"), database=False) == []
    elapsed = time.perf_counter() - started

    assert elapsed >= 5 * latency * 0.9  # each connection waited for its own five
    # ... but not for the other's: both were waiting at once (counted by the sink, not timed,
    # so a busy machine cannot fail it).
    assert smtp_sink.snapshot()["peak_in_flight"] == 2
    assert smtp_sink.unique == 10
    assert smtp_sink.connections == 2


@pytest.mark.parametrize(
    ("kind", "code"), [("temporary", 451), ("permanent", 550)], ids=["451", "550"]
)
def test_smtp_sink_refuses_with_the_reply_chosen(email_to_sink: SmtpSink, kind: str, code: int):
    email_to_sink.configure(error_rate=1.0, error_kind=kind)

    with pytest.raises(smtplib.SMTPDataError) as refused:
        mailers.default.send_messages(emails("refused"))

    assert refused.value.smtp_code == code
    assert email_to_sink.unique == 0
    assert email_to_sink.snapshot()["refused"] == 1


def test_smtp_sink_settings_change_while_it_runs(smtp_sink: SmtpSink):
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as smtp:
        smtp_sink.configure(error_rate=1.0)
        with pytest.raises(smtplib.SMTPDataError):
            smtp.send_message(emails("later")[0].message())
        smtp_sink.configure(error_rate=0.0)
        smtp.send_message(emails("later")[0].message())

    assert smtp_sink.keys == {"<later@example.lv>": 1}
    assert smtp_sink.connections == 1


def test_smtp_sink_refuses_a_seeded_fraction():
    with SmtpSink(error_rate=0.5, seed=7) as sink:
        with smtplib.SMTP(sink.host, sink.port, timeout=10) as smtp:
            for message in emails(*(f"f{i}" for i in range(10))):
                with contextlib.suppress(smtplib.SMTPDataError):
                    smtp.send_message(message.message())
        counts = sink.snapshot()
        sink.reset()
        assert sink.snapshot()["messages"] == 0

    assert counts["messages"] == 10
    assert 0 < counts["refused"] < 10
    assert counts["unique"] == 10 - counts["refused"]


def test_smtp_sink_drops_the_connection_at_every_third_message(email_to_sink: SmtpSink):
    email_to_sink.configure(drop_every=3)

    with pytest.raises(smtplib.SMTPServerDisconnected):
        mailers.default.send_messages(emails("d1", "d2", "d3", "d4"))

    assert set(email_to_sink.keys) == {"<d1@example.lv>", "<d2@example.lv>"}
    assert email_to_sink.snapshot()["dropped"] == 1


def test_smtp_sink_shows_a_resend_of_a_message_whose_answer_was_lost(smtp_sink: SmtpSink):
    smtp_sink.configure(drop_every=2, drop_after_receiving=True)
    first, second = emails("r1", "r2")

    with pytest.raises(smtplib.SMTPServerDisconnected):  # noqa: SIM117 - the resend is apart
        with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as smtp:
            smtp.send_message(first.message())
            smtp.send_message(second.message())
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as smtp:
        smtp.send_message(second.message())

    assert smtp_sink.keys == {"<r1@example.lv>": 1, "<r2@example.lv>": 2}
    assert smtp_sink.duplicates == 1
    assert smtp_sink.connections == 2


# --- SMS --------------------------------------------------------------------------------------


def test_sms_sink_counts_twenty_requests_over_one_keep_alive_connection(sms_sink: SmsSink):
    with httpx.Client() as client:
        answers = [sms_post(client, sms_sink, f"k{i}") for i in range(20)]

    assert {answer.status_code for answer in answers} == {201}
    assert answers[0].json() == {"id": "sms-k0"}
    assert sms_sink.unique == 20
    assert sms_sink.connections == 1


def test_sms_sink_counts_a_repeated_key_as_a_duplicate(sms_sink: SmsSink):
    with httpx.Client() as client:
        first = sms_post(client, sms_sink, "same")
        again = sms_post(client, sms_sink, "same")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert sms_sink.keys == {"same": 2}
    assert sms_sink.duplicates == 1


def test_sms_sink_refuses_a_request_without_a_key(sms_sink: SmsSink):
    with httpx.Client() as client:
        answer = sms_post(client, sms_sink, None)

    assert answer.status_code == 400
    assert sms_sink.unique == 0


def test_sms_sink_throttles_the_next_requests_then_recovers(sms_sink: SmsSink):
    sms_sink.throttle(requests=2, retry_after=3)

    with httpx.Client() as client:
        answers = [sms_post(client, sms_sink, f"t{i}") for i in range(3)]

    assert [answer.status_code for answer in answers] == [429, 429, 201]
    assert answers[0].headers["Retry-After"] == "3"
    assert sms_sink.keys == {"t2": 1}
    assert sms_sink.snapshot()["throttled"] == 2


def test_sms_sink_throttles_for_a_while_until_told_to_stop(sms_sink: SmsSink):
    sms_sink.throttle(seconds=600, retry_after=30)

    with httpx.Client() as client:
        throttled = [sms_post(client, sms_sink, "w").status_code for _ in range(3)]
        sms_sink.unthrottle()
        accepted = sms_post(client, sms_sink, "w")

    assert throttled == [429, 429, 429]
    assert accepted.status_code == 201
    assert sms_sink.keys == {"w": 1}


def test_sms_sink_refuses_a_number_it_was_told_to_refuse_with_400(sms_sink: SmsSink):
    sms_sink.configure(refused_numbers={"+37120000000"})

    with httpx.Client() as client:
        refused = sms_post(client, sms_sink, "n")
        other = client.post(
            sms_sink.url,
            json={"to": "+37129999999", "text": "Hi"},
            headers={"Idempotency-Key": "o"},
        )

    assert (refused.status_code, refused.json()) == (400, {"error": "invalid number"})
    assert other.status_code == 201
    assert sms_sink.keys == {"o": 1}


def test_sms_sink_fails_with_500_while_told_to(sms_sink: SmsSink):
    sms_sink.configure(error_rate=1.0)

    with httpx.Client() as client:
        failed = sms_post(client, sms_sink, "e")
        sms_sink.configure(error_rate=0.0)
        accepted = sms_post(client, sms_sink, "e")

    assert (failed.status_code, accepted.status_code) == (500, 201)
    assert sms_sink.keys == {"e": 1}


def test_sms_sink_drops_the_connection_at_every_second_request(sms_sink: SmsSink):
    sms_sink.configure(drop_every=2)

    with httpx.Client() as client:
        assert sms_post(client, sms_sink, "d1").status_code == 201
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            sms_post(client, sms_sink, "d2")
        assert sms_post(client, sms_sink, "d3").status_code == 201

    assert sms_sink.keys == {"d1": 1, "d3": 1}
    assert sms_sink.snapshot()["dropped"] == 1
    assert sms_sink.connections == 2


def test_sms_sink_delays_each_connection_without_holding_up_the_other(sms_sink: SmsSink):
    latency = 0.1
    sms_sink.configure(latency_ms=latency * 1000)

    def client(name: str) -> None:
        with httpx.Client() as http:
            for i in range(5):
                assert sms_post(http, sms_sink, f"{name}-{i}").status_code == 201

    started = time.perf_counter()
    assert run_at_once(lambda: client("a"), lambda: client("b"), database=False) == []
    elapsed = time.perf_counter() - started

    assert elapsed >= 5 * latency * 0.9
    assert sms_sink.snapshot()["peak_in_flight"] == 2
    assert sms_sink.unique == 10
    assert sms_sink.connections == 2


def test_both_sinks_note_when_each_delivery_arrived(sms_sink: SmsSink, smtp_sink: SmtpSink):
    sms_sink.configure(drop_every=2, drop_after_receiving=True)  # a lost answer counts too
    before = time.monotonic()
    with httpx.Client() as client:
        sms_post(client, sms_sink, "a1")
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            sms_post(client, sms_sink, "a2")
        sms_post(client, sms_sink, "a3")
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=10) as smtp:
        for message in emails("a4", "a5"):
            smtp.send_message(message.message())
    after = time.monotonic()

    for sink, delivered in ((sms_sink, 3), (smtp_sink, 2)):
        arrivals = sink.arrivals
        assert len(arrivals) == delivered == sum(sink.keys.values())
        assert arrivals == sorted(arrivals)
        assert before <= arrivals[0] and arrivals[-1] <= after
    sms_sink.reset()
    assert sms_sink.arrivals == []


# --- the desk's own backends ------------------------------------------------------------------


def test_desk_sms_backend_delivers_once_by_its_key(sms_to_sink: SmsSink):
    send_to_subscriber(channel="sms", key="outreach-7", to="+37120000000", body="Hi")

    assert sms_to_sink.keys == {"outreach-7": 1}


def test_sms_sink_refuses_a_wrong_token(https_sms_sink: SmsSink, settings):
    settings.SMS_BACKEND = "http"
    settings.SMS_HTTP_URL = https_sms_sink.url
    settings.SMS_HTTP_TOKEN = "wrong"

    with pytest.raises(RuntimeError, match="401"):
        send_to_subscriber(channel="sms", key="outreach-8", to="+37120000000", body="Hi")
    assert https_sms_sink.unique == 0


def test_desk_email_carries_its_key_as_message_id(email_to_sink: SmtpSink, settings):
    settings.DEFAULT_FROM_EMAIL = "desk@example.lv"

    send_to_subscriber(
        channel="email", key="outreach-9", to="subscriber@example.lv", subject="S", body="B"
    )

    assert email_to_sink.keys == {"<outreach-9@example.lv>": 1}
    assert email_to_sink.counts.recipients == [
        ("<outreach-9@example.lv>", ("subscriber@example.lv",))
    ]


# --- the command ------------------------------------------------------------------------------


def test_sinks_command_serves_both_and_prints_the_counts_on_ctrl_c():
    process = subprocess.Popen(
        [sys.executable, "-m", "retention.sinks", "--sms-tls"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        smtp_line, sms_line, cert_line = (process.stdout.readline() for _ in range(3))
        smtp_port = int(smtp_line.rsplit(":", 1)[1])
        sms_url = sms_line.split(" at ")[1].strip()
        cert = cert_line.strip().removeprefix("SSL_CERT_FILE=")

        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
            smtp.send_message(emails("cli")[0].message())
        answer = httpx.post(
            sms_url,
            json={"to": "+37120000000", "text": "Hi"},
            headers={"Idempotency-Key": "cli"},
            verify=ssl.create_default_context(cafile=cert),
        )
        assert answer.status_code == 201
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=10)

    assert process.returncode == 0
    counts = json.loads(output)
    assert (counts["smtp"]["unique"], counts["sms"]["unique"]) == (1, 1)


@pytest.mark.parametrize("path", ["chunk", "single"])
def test_desk_email_reaches_the_relay_whole_by_either_path(email_to_sink: SmtpSink, settings, path):
    """A sender's chunk builds the e-mail itself (the legacy e-mail API, for speed), a single
    send through Django's EmailMessage: the relay gets the same message either way."""
    settings.DEFAULT_FROM_EMAIL = "Retention Desk <desk@example.lv>"
    email_to_sink.configure(keep_content=True)
    message = Outgoing(
        key="outreach-11",
        to="anna@example.lv",
        subject="Lojalitātes tarifs jums — €19,99",
        body="Labdien, Anna Ozola!\nStop: https://desk.example.lv/o/stop/abc/\n.\nBeigas",
        headers={"List-Unsubscribe": "<https://desk.example.lv/s/abc/>"},
    )
    if path == "chunk":
        assert deliver("email", [message]) == [SENT]
    else:
        send_to_subscriber(
            channel="email",
            key=message.key,
            to=message.to,
            subject=message.subject,
            body=message.body,
            headers=message.headers,
        )

    (raw,) = email_to_sink.counts.content
    received = BytesParser(policy=email.policy.default).parsebytes(raw)
    assert received["Message-ID"] == "<outreach-11@example.lv>"
    assert received["Subject"] == "Lojalitātes tarifs jums — €19,99"
    assert received["From"] == "Retention Desk <desk@example.lv>"
    assert received["To"] == "anna@example.lv"
    assert received["List-Unsubscribe"] == "<https://desk.example.lv/s/abc/>"
    assert received["Date"] is not None
    assert received.get_content().replace("\r\n", "\n").rstrip("\n") == message.body
    assert email_to_sink.counts.recipients == [("<outreach-11@example.lv>", ("anna@example.lv",))]


def test_a_line_break_in_a_subject_cannot_add_headers(email_to_sink: SmtpSink):
    message = Outgoing(
        key="outreach-12", to="anna@example.lv", subject="Hi\nBcc: all@example.lv", body="B"
    )

    (result,) = deliver("email", [message])

    assert result.status == "failed" and result.code == "unsendable"
    assert email_to_sink.unique == 0
