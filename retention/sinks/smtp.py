"""A local SMTP server (aiosmtpd) that stands in for the mail relay in tests and the bench.

Every accepted message is counted by its Message-ID. It can answer slowly (per message, without
holding up other connections), refuse a seeded fraction of messages with a temporary (451) or
permanent (550) reply, and drop the connection without a reply after every N-th message.
"""

import asyncio
import random
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from retention.sinks.counting import CountingSink

TEMPORARY_REPLY = "451 4.3.0 Temporary failure (sink)"
PERMANENT_REPLY = "550 5.1.1 Mailbox unavailable (sink)"


@dataclass
class SmtpSinkSettings:
    latency_ms: float = 0
    error_rate: float = 0.0  # fraction of messages refused
    error_kind: Literal["temporary", "permanent"] = "temporary"
    drop_every: int = 0  # 0: never; N: every N-th message loses its connection, no reply
    # A dropped message counts as received (the relay got it, its answer was lost) when true:
    # the client cannot tell, and a resend of it must show up as a duplicate.
    drop_after_receiving: bool = False
    keep_content: bool = False  # keep each delivered message's bytes (``counts.content``)


@dataclass
class SmtpSinkCounts:
    keys: Counter[str] = field(default_factory=Counter)
    arrivals: list[float] = field(default_factory=list)  # time.monotonic() of each delivery
    recipients: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    content: list[bytes] = field(default_factory=list)  # with keep_content
    messages: int = 0  # DATA commands seen, whatever the answer
    refused: int = 0
    dropped: int = 0
    connections: int = 0
    # Messages waiting out their latency now, and the most at once: proof that one slow
    # connection does not hold up another, without timing anything.
    in_flight: int = 0
    peak_in_flight: int = 0


# The Message-ID header among the message's headers (those before the first empty line). A
# search rather than the e-mail parser: the sink answers a thousand messages a second on the
# same cores as the senders it measures, and parsing every header was a tenth of its time.
_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*(.*?)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE)


def message_id(content: bytes) -> str:
    head = content.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    found = _MESSAGE_ID.search(head)
    return found.group(1).decode("ascii", "replace") if found else ""


class _Handler:
    def __init__(self, sink: "SmtpSink") -> None:
        self.sink = sink

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        sink = self.sink
        content = envelope.original_content or b""
        key = message_id(content)
        with sink.lock:
            settings = sink.settings
            sink.counts.messages += 1
            seen = sink.counts.messages
            drop = bool(settings.drop_every) and seen % settings.drop_every == 0
            refuse = not drop and sink.random.random() < settings.error_rate
        if settings.latency_ms:
            # Sleeping in the event loop delays this connection only.
            with sink.lock:
                sink.counts.in_flight += 1
                sink.counts.peak_in_flight = max(sink.counts.peak_in_flight, sink.counts.in_flight)
            try:
                await asyncio.sleep(settings.latency_ms / 1000)
            finally:
                with sink.lock:
                    sink.counts.in_flight -= 1
        if drop:
            with sink.lock:
                sink.counts.dropped += 1
                if settings.drop_after_receiving:
                    sink.record(key, envelope.rcpt_tos, content)
            if isinstance(server.transport, asyncio.Transport):
                server.transport.abort()
            return TEMPORARY_REPLY  # written nowhere: the transport is gone
        if refuse:
            with sink.lock:
                sink.counts.refused += 1
            return PERMANENT_REPLY if settings.error_kind == "permanent" else TEMPORARY_REPLY
        with sink.lock:
            sink.record(key, envelope.rcpt_tos, content)
        return "250 2.0.0 OK"


class _Controller(Controller):
    def __init__(self, sink: "SmtpSink", host: str, port: int) -> None:
        super().__init__(_Handler(sink), hostname=host, port=port)
        self.sink = sink

    def factory(self) -> SMTP:
        # aiosmtpd makes one SMTP protocol object per connection.
        with self.sink.lock:
            self.sink.counts.connections += 1
        return super().factory()

    def _trigger_server(self) -> None:
        # Port 0 binds a free port; aiosmtpd's start-up probe must dial the port it got.
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpSink(CountingSink):
    """``with SmtpSink(latency_ms=50) as sink: ... sink.port ... sink.unique``"""

    counted = ("messages", "refused", "dropped")

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, seed: int = 0, **settings: Any):
        self.lock = threading.Lock()
        self.settings = SmtpSinkSettings(**settings)
        self.counts = SmtpSinkCounts()
        self.random = random.Random(seed)
        self.seed = seed
        self.host = host
        self._controller = _Controller(self, host, port)

    @property
    def port(self) -> int:
        return self._controller.port

    def start(self) -> Self:
        self._controller.start()
        self.reset()  # the start-up probe is not a client's connection
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        with self.lock:
            self.counts = SmtpSinkCounts()
            self.random = random.Random(self.seed)

    def record(self, key: str, recipients: list[str], content: bytes) -> None:
        """Called with ``lock`` held."""
        self.delivered(key)
        self.counts.recipients.append((key, tuple(recipients)))
        if self.settings.keep_content:
            self.counts.content.append(content)
