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
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

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
    to drop a repeated request."""

    def send(self, message: Outgoing) -> None:
        if not settings.SMS_HTTP_URL.startswith("https://"):
            raise RuntimeError("SMS_HTTP_URL must be an https:// URL")
        request = urllib.request.Request(  # noqa: S310 - checked to be https above
            settings.SMS_HTTP_URL,
            data=json.dumps({"to": message.to, "text": message.body}).encode(),
            headers={
                "Authorization": f"Bearer {settings.SMS_HTTP_TOKEN}",
                "Content-Type": "application/json",
                "Idempotency-Key": message.key,
            },
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            if response.status >= 300:
                raise RuntimeError(f"SMS provider answered {response.status}")


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


def send_email(message: Outgoing) -> None:
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1]
    EmailMessage(
        subject=message.subject,
        body=message.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to],
        headers={**(message.headers or {}), "Message-ID": f"<{message.key}@{domain}>"},
    ).send()


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
