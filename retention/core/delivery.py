"""Sending a chunk of keyed messages at provider speed, and telling what each answer means.

A sender's chunk goes out through connections held open: each of a few lanes (threads) keeps
one SMTP connection (Django's mailer, reopened once when the server drops it) and one keep-alive
https connection to the SMS API, from chunk to chunk. With
several lanes a slow provider does not serialise the chunk: while one waits for an answer, the
others send. Every message first takes its slot in the channel's rate limit, which all workers
share (retention.core.ratelimit).

Each message gets one ``Result``:

- ``sent``: the provider took it (or had it already: the key is its idempotency key for SMS and
  its Message-ID for e-mail, so a resend after a crash is dropped there);
- ``retry``: try again later, after ``retry_after`` seconds when the provider said so: HTTP 429,
  5xx and 409, SMTP 4xx replies, timeouts and dropped connections, our own rate limit;
- ``failed``: the provider refused it for good (HTTP 4xx, SMTP 5xx), with its reason;
- ``wait``: not sent, its slot in the rate limit was more than SEND_LONGEST_WAIT away.

Nothing here touches the database: the caller marks its rows from the results.
"""

import contextlib
import email.utils
import http.client
import json
import logging
import re
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, Literal

from django.conf import settings
from django.core.mail import mailers
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend

from retention.core.messaging import (
    AlreadySent,
    Outgoing,
    SmsAnswer,
    SmsBackend,
    email_bytes,
    email_message,
    sms_backend,
    sms_connection,
)
from retention.core.ratelimit import ChannelBucket

log = logging.getLogger(__name__)

Status = Literal["sent", "retry", "failed", "wait"]


@dataclass(frozen=True)
class Result:
    status: Status
    # Why it was not sent, as a code the pages say in the reader's language (SEND_ERRORS in
    # retention.outreach.views), and the provider's own words, quoted as they came.
    code: str = ""
    detail: str = ""
    retry_after: float | None = None  # seconds the provider (or our rate limit) asked for

    @property
    def reason(self) -> str:
        """What the outbox row keeps: ``"<code> <detail>"``, at most 300 characters."""
        return f"{self.code} {self.detail}".strip()[:300]


def reason_code(reason: str) -> tuple[str, str]:
    """A kept ``reason`` back as (code, detail)."""
    code, _space, detail = reason.partition(" ")
    return code, detail


SENT = Result("sent")
# Seconds every worker holds back on a channel whose provider said it is busy without saying
# for how long (429 without Retry-After, SMTP 421).
BUSY_HOLD = 1.0


def deliver(channel: str, messages: Sequence[Outgoing]) -> list[Result]:
    """Send ``messages`` on ``channel`` ("email" or "sms"); one result each, in their order."""
    if not messages:
        return []
    results: list[Result | None] = [None] * len(messages)
    lanes = max(1, min(settings.SEND_CONCURRENCY, len(messages)))
    queue = iter(range(len(messages)))
    taking = threading.Lock()

    def take() -> int | None:
        with taking:
            return next(queue, None)

    if channel != "email" and settings.SMS_BACKEND == "http":
        # A misconfigured provider (not https) stops the chunk here, loudly, rather than
        # failing each of its messages for good: its rows wait for the sweep and a fixed setting.
        sms_connection()
    bucket = ChannelBucket(channel)
    lane = _email_lane if channel == "email" else _sms_lane
    work: Callable[[], None] = lambda: lane(messages, results, take, bucket)  # noqa: E731
    if lanes == 1:
        work()
    else:
        futures = [_pool().submit(work) for _ in range(lanes)]
        for future in futures:
            future.result()
    return [result or Result("retry", "stopped") for result in results]


@cache
def _pool() -> ThreadPoolExecutor:
    """One pool per process, sized to the lanes: threads are reused chunk after chunk."""
    return ThreadPoolExecutor(max_workers=settings.SEND_CONCURRENCY, thread_name_prefix="send")


def _wait_turn(bucket: ChannelBucket) -> Result | None:
    """Sleep until this message's slot; a result (retry later) when the slot is too far."""
    wait = bucket.reserve(longest=settings.SEND_LONGEST_WAIT)
    if wait is None:
        return Result("wait", "rate_limit", retry_after=float(settings.SEND_LONGEST_WAIT))
    if wait:
        time.sleep(wait)
    return None


Take = Callable[[], int | None]


# --- E-mail ---------------------------------------------------------------------------------


def _lane(
    send: Callable[[Outgoing], Result],
    messages: Sequence[Outgoing],
    results: list[Result | None],
    take: Take,
    bucket: ChannelBucket,
) -> None:
    """Take the chunk's next message until none is left: wait for its turn, send it."""
    while (index := take()) is not None:
        if (refusal := _wait_turn(bucket)) is not None:
            results[index] = refusal
            continue
        try:
            results[index] = send(messages[index])
        except Exception as exc:
            # A message that cannot be sent as it is (an address the mail library refuses, a
            # header with a line break…) fails alone, with what was wrong: the rest of the chunk
            # goes on, and the chunk is not claimed and crashed on again and again.
            log.exception("message %s could not be sent", messages[index].key)
            results[index] = Result("failed", "unsendable", f"{type(exc).__name__}: {exc}"[:200])


def _email_lane(
    messages: Sequence[Outgoing], results: list[Result | None], take: Take, bucket: ChannelBucket
) -> None:
    mailer = _mailer()
    _lane(lambda message: mailer.send(message, bucket), messages, results, take, bucket)


class _Mailer:
    """One SMTP connection (or whatever the configured mailer is) for a lane's messages."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.connection: BaseEmailBackend = mailers.default
        self.smtp = isinstance(self.connection, SmtpBackend)
        self.sender = ""

    def send(self, message: Outgoing, bucket: ChannelBucket) -> Result:
        for attempt in (1, 2):
            try:
                self.connection.open()
                self._send(message)
                return SENT
            except AlreadySent:
                return SENT
            except smtplib.SMTPRecipientsRefused as exc:
                code, said = next(iter(exc.recipients.values()), (550, b"refused"))
                return _smtp_reply(int(code), said, bucket)
            except smtplib.SMTPResponseException as exc:
                self._reset_if_broken(exc.smtp_code)
                return _smtp_reply(exc.smtp_code, exc.smtp_error, bucket)
            except (smtplib.SMTPServerDisconnected, ConnectionError, ssl.SSLError) as exc:
                # Dropped: the message may or may not have arrived. Once more on a new
                # connection; the Message-ID lets the relay drop it if it had.
                self._reset()
                if attempt == 2:
                    return Result("retry", "smtp_lost", str(exc)[:200])
            except (TimeoutError, OSError) as exc:
                self._reset()
                return Result("retry", "smtp_unreachable", str(exc)[:200])
        raise AssertionError("unreachable")

    def _send(self, message: Outgoing) -> None:
        if not self.smtp:  # files in development, memory in tests: Django's own message
            self.connection.send_messages([email_message(message)])
            return
        assert isinstance(self.connection, SmtpBackend)
        if not self.sender:
            self.sender = self.connection.prep_address(settings.DEFAULT_FROM_EMAIL)
        # A plain address as it is; anything else (a name, non-ASCII, a line break) through
        # Django's own check, which parses it in a tenth of a millisecond.
        plain = _PLAIN_ADDRESS.fullmatch(message.to)
        to = message.to if plain else self.connection.prep_address(message.to)
        smtp = self.connection.connection
        assert smtp is not None  # opened above
        smtp.sendmail(self.sender, [to], email_bytes(message, to=to))

    def _reset_if_broken(self, code: int) -> None:
        if code == 421:  # the server is closing the connection
            self._reset()

    def _reset(self) -> None:
        # A connection that is gone already closes with an error; the next send opens anew.
        with contextlib.suppress(smtplib.SMTPException, OSError):
            self.connection.close()

    def close(self) -> None:
        self._reset()


_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
_threads = threading.local()


def _mailer() -> _Mailer:
    """This lane thread's mailer. Its SMTP connection stays open from chunk to chunk, as the
    SMS lanes' do: a relay that closed it meanwhile is met with a reconnect and the message
    once more (its Message-ID makes that safe). New when the settings name another relay."""
    key = repr(getattr(settings, "MAILERS", {}).get("default"))
    mailer: _Mailer | None = getattr(_threads, "mailer", None)
    if mailer is None or mailer.key != key:
        if mailer is not None:
            mailer.close()
        mailer = _threads.mailer = _Mailer(key)
    return mailer


def _smtp_reply(code: int, said: Any, bucket: ChannelBucket) -> Result:
    text = said.decode("utf-8", "replace") if isinstance(said, bytes) else str(said)
    detail = f"{code} {text}".strip()[:200]
    if 400 <= code < 500:
        if code == 421:  # the relay is busy as a whole, not with this message: everyone waits
            bucket.hold(BUSY_HOLD)
        return Result("retry", "smtp_deferred", detail)
    return Result("failed", "smtp_refused", detail)


# --- SMS ------------------------------------------------------------------------------------


def _sms_lane(
    messages: Sequence[Outgoing], results: list[Result | None], take: Take, bucket: ChannelBucket
) -> None:
    if settings.SMS_BACKEND == "http":
        _lane(lambda message: _sms_post(message, bucket), messages, results, take, bucket)
    else:
        backend = sms_backend()
        _lane(lambda message: _sms_other(backend, message), messages, results, take, bucket)


def _sms_other(backend: SmsBackend, message: Outgoing) -> Result:
    """A backend other than the provider's API (files in development, the console)."""
    try:
        backend.send(message)
    except AlreadySent:
        pass
    except OSError as exc:
        return Result("retry", "sms_unreachable", str(exc)[:200])
    return SENT


def _sms_post(message: Outgoing, bucket: ChannelBucket) -> Result:
    for attempt in (1, 2):
        connection = sms_connection()
        try:
            answer = connection.post(message)
        except (ConnectionRefusedError, TimeoutError, ssl.SSLError, socket.gaierror) as exc:
            connection.reset()
            return Result("retry", "sms_unreachable", repr(exc)[:200])
        except (ConnectionError, http.client.HTTPException) as exc:
            # The connection went away mid-request (or an idle one the provider had closed):
            # the provider may have the message. Once more on a fresh connection; the
            # Idempotency-Key makes it drop a repeat.
            connection.reset()
            if attempt == 2:
                return Result("retry", "sms_lost", repr(exc)[:200])
            continue
        except OSError as exc:
            connection.reset()
            return Result("retry", "sms_unreachable", repr(exc)[:200])
        return _sms_answer(answer, bucket)
    raise AssertionError("unreachable")


def _sms_answer(answer: SmsAnswer, bucket: ChannelBucket) -> Result:
    status = answer.status
    if status < 300:
        return SENT
    detail = f"{status} {_said(answer.body)}".strip()[:200]
    wait = retry_after_seconds(answer.retry_after)
    if status == 429:
        bucket.hold(wait if wait is not None else BUSY_HOLD)
        return Result("retry", "sms_busy", detail, retry_after=wait)
    if status >= 500 or status in (408, 409, 425):
        return Result("retry", "sms_error", detail, retry_after=wait)
    if status in (401, 403):
        # The desk's credentials, not the message: failing it for good would fail the whole
        # campaign over a token. It waits, doubling, until someone sets the right one.
        log.error("the SMS provider refused the desk's credentials: %s", detail)
        return Result("retry", "sms_credentials", detail, retry_after=wait)
    return Result("failed", "sms_refused", detail)


def _said(body: bytes) -> str:
    """The provider's own words, when it gave some: ``{"error": "..."}`` or plain text."""
    text = body.decode("utf-8", "replace")
    try:
        said = json.loads(text)
    except ValueError:
        return text[:200]
    if isinstance(said, dict):
        return str(said.get("error") or said.get("message") or "")[:200]
    return ""


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: a number of seconds or an HTTP date; None when absent or
    unreadable. Never negative, and never more than an hour (a provider's typo must not park
    a campaign for a day)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), 3600.0)
