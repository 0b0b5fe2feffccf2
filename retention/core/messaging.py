"""Sending e-mail and SMS to subscribers and staff, through pluggable backends.

Every send carries a key (e.g. ``outreach-1234``) that names the effect. The desk claims an
outbox row, sends, then marks the row sent; a worker killed between the send and the mark
leaves the row to be claimed again, and the backend is asked to send the same key again.
Backends deliver a key once: the file backend refuses to write a key twice, the HTTP provider
receives the key as its idempotency key. E-mail goes through Django's e-mail backends
(``MAILERS``) with the key as its Message-ID.

``SMS_BACKEND`` picks the SMS backend: ``file`` (default; one JSON file per message in
``var/sms``), ``console``, or ``http`` (a provider's JSON API at ``SMS_HTTP_URL`` with
``SMS_HTTP_TOKEN``).
"""

import json
import os
import ssl
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

import httpx
from django.conf import settings
from django.core.mail import EmailMessage
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Outgoing:
    key: str
    to: str
    body: str
    subject: str = ""
    headers: dict[str, str] | None = None  # extra e-mail headers (List-Unsubscribe…)


class AlreadySent(Exception):
    """The backend has delivered this key before: nothing was sent now."""


class SmsBackend(Protocol):
    def send(self, message: Outgoing) -> None: ...


class FileSmsBackend:
    """One file per key under ``SMS_FILE_PATH``; a key already written is not written again."""

    def __init__(self) -> None:
        self.folder = Path(settings.SMS_FILE_PATH)
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, message: Outgoing) -> None:
        path = self.folder / f"{message.key}.json"
        if path.exists():
            raise AlreadySent(message.key)
        # The whole message is written under a hidden temporary name, then linked to the key's
        # name: the link is the send. It fails when the key exists (so it happens once per key),
        # and a worker killed while writing leaves no half-written message under the key.
        fd, partial = tempfile.mkstemp(dir=self.folder, prefix=f".{message.key}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"key": message.key, "to": message.to, "body": message.body}, out)
            os.chmod(partial, 0o644)
            try:
                os.link(partial, path)
            except FileExistsError:
                raise AlreadySent(message.key) from None
        finally:
            os.unlink(partial)


class ConsoleSmsBackend:
    def send(self, message: Outgoing) -> None:
        sys.stdout.write(f"SMS {message.key} to {message.to}: {message.body}\n")


class HttpSmsBackend:
    """A provider's JSON API; the key goes as the Idempotency-Key header, which providers use
    to drop a repeated request. Requests share the process's keep-alive pool (``sms_client``)."""

    def send(self, message: Outgoing) -> None:
        url, body, headers = sms_request(message)
        response = sms_client().post(url, content=body, headers=headers)
        if response.status_code >= 300:
            raise RuntimeError(f"SMS provider answered {response.status_code}")


def sms_request(message: Outgoing) -> tuple[str, bytes, dict[str, str]]:
    """The provider's URL, the JSON body and the per-message headers of one SMS."""
    body = json.dumps({"to": message.to, "text": message.body}).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": message.key}
    return settings.SMS_HTTP_URL, body, headers


def sms_client() -> httpx.Client:
    """The process's HTTP client for the SMS API: one keep-alive pool, as many connections as
    a sender has lanes (retention.core.delivery), with timeouts. https only: the token and the
    subscribers' numbers travel in it."""
    return _sms_client(
        settings.SMS_HTTP_URL,
        settings.SMS_HTTP_TOKEN,
        settings.SEND_CONCURRENCY,
        settings.SMS_HTTP_TIMEOUT,
    )


@cache
def _sms_client(url: str, token: str, connections: int, timeout: float) -> httpx.Client:
    if not url.startswith("https://"):
        raise RuntimeError("SMS_HTTP_URL must be an https:// URL")
    return httpx.Client(
        headers={"Authorization": f"Bearer {token}"},
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        # The system's trust store, or SSL_CERT_FILE where it is set (a local sink's own
        # certificate in tests and the bench), as urllib used to.
        verify=ssl.create_default_context(),
    )


SMS_BACKENDS = {
    "file": "retention.core.messaging.FileSmsBackend",
    "console": "retention.core.messaging.ConsoleSmsBackend",
    "http": "retention.core.messaging.HttpSmsBackend",
}


def sms_backend() -> SmsBackend:
    path = SMS_BACKENDS.get(settings.SMS_BACKEND, settings.SMS_BACKEND)
    backend: SmsBackend = import_string(path)()
    return backend


def send_sms(message: Outgoing) -> None:
    sms_backend().send(message)


def email_message(message: Outgoing) -> EmailMessage:
    """The e-mail of one keyed message: its key is its Message-ID."""
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1]
    return EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers={**(message.headers or {}), "Message-ID": f"<{message.key}@{domain}>"},
    )


def send_email(message: Outgoing) -> None:
    email_message(message).send()


def send_to_subscriber(
    *,
    channel: str,
    key: str,
    to: str,
    body: str,
    subject: str = "",
    headers: dict[str, str] | None = None,
) -> None:
    """Send one keyed message to a subscriber by e-mail or SMS. A key the backend has
    delivered already counts as sent: the caller's row was claimed again after a crash
    between the send and its mark, and now gets marked. ``headers``: e-mail only."""
    message = Outgoing(key, to, body, subject, headers)
    try:
        if channel == "email":
            send_email(message)
        else:
            send_sms(message)
    except AlreadySent:
        pass
