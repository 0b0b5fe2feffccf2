"""A local HTTP/1.1 SMS provider that stands in for the real one in tests and the bench.

It accepts what ``HttpSmsBackend`` posts (JSON ``{"to", "text"}``, ``Idempotency-Key``, a bearer
token when one is set) and counts deliveries per key. An asyncio loop in its own thread serves
any number of keep-alive connections at once; latency is a sleep in that loop, so slow answers
do not queue behind each other. It can answer 500 to a seeded fraction of requests, 429 with
``Retry-After`` for the next K requests or for a while, 400 to numbers it is told to refuse, and
close the connection without an answer on every N-th request.
"""

import asyncio
import json
import random
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Self

from retention.sinks.counting import CountingSink

REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    401: "Unauthorized",
    405: "Method Not Allowed",
    411: "Length Required",
    429: "Too Many Requests",
    500: "Internal Server Error",
}
MAX_BODY = 64 * 1024


@dataclass
class SmsSinkSettings:
    latency_ms: float = 0
    error_rate: float = 0.0  # fraction of requests answered 500
    drop_every: int = 0  # 0: never; N: every N-th request loses its connection, no answer
    # A dropped request counts as delivered when true (the provider sent the SMS, its answer was
    # lost): a resend must then show up as a duplicate unless the key is honoured.
    drop_after_receiving: bool = False
    token: str = ""  # when set, requests without "Authorization: Bearer <token>" get 401
    # Numbers the provider will not take (no such subscriber, a landline): 400, for good.
    refused_numbers: set[str] = field(default_factory=set)


@dataclass
class SmsSinkCounts:
    keys: Counter[str] = field(default_factory=Counter)
    arrivals: list[float] = field(default_factory=list)  # time.monotonic() of each delivery
    requests: int = 0
    throttled: int = 0
    failed: int = 0
    dropped: int = 0
    rejected: int = 0  # 400, 401, 405, 411
    connections: int = 0
    # Requests waiting out their latency now, and the most at once: proof that one slow
    # connection does not hold up another, without timing anything.
    in_flight: int = 0
    peak_in_flight: int = 0


@dataclass
class _Throttle:
    requests: int = 0  # answer 429 to this many more requests
    until: float = 0.0  # and/or until this time.monotonic()
    retry_after: int = 1


@dataclass
class _Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


class SmsSink(CountingSink):
    """``with SmsSink(latency_ms=20) as sink: httpx.post(sink.url, ...); sink.unique``"""

    counted = ("requests", "throttled", "failed", "dropped", "rejected")

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        **settings: Any,
    ):
        self.lock = threading.Lock()
        self.settings = SmsSinkSettings(**settings)
        self.counts = SmsSinkCounts()
        self.random = random.Random(seed)
        self.seed = seed
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self._throttle = _Throttle()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://{self.host}:{self.port}/messages"

    # --- running ------------------------------------------------------------------------------

    def start(self) -> Self:
        assert self._thread is None, "already running"
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10) or self._error is not None:
            raise RuntimeError(f"SMS sink did not start: {self._error!r}")
        return self

    def stop(self) -> None:
        assert self._loop is not None and self._thread is not None, "not running"
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        if self._thread.is_alive():
            raise RuntimeError("SMS sink did not stop")
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self, ready: threading.Event) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            server = self._server = loop.run_until_complete(
                asyncio.start_server(self._serve, self.host, self.port, ssl=self.ssl_context)
            )
        except OSError as error:
            self._error = error
            ready.set()
            loop.close()
            return
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        loop.run_forever()
        server.close()
        server.abort_clients()
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.run_until_complete(server.wait_closed())
        loop.close()

    # --- settings and counts ------------------------------------------------------------------

    def throttle(self, *, requests: int = 0, seconds: float = 0, retry_after: int = 1) -> None:
        """Answer 429 with ``Retry-After`` to the next ``requests`` requests and to every request
        for the next ``seconds``; then accept again."""
        with self.lock:
            until = time.monotonic() + seconds if seconds else 0.0
            self._throttle = _Throttle(requests, until, retry_after)

    def unthrottle(self) -> None:
        with self.lock:
            self._throttle = _Throttle()

    def reset(self) -> None:
        with self.lock:
            self.counts = SmsSinkCounts()
            self.random = random.Random(self.seed)
            self._throttle = _Throttle()

    # --- serving ------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self.lock:
            self.counts.connections += 1
        try:
            while True:
                request_line = await reader.readline()
                if not request_line:
                    break
                method, _target, version = request_line.decode("latin-1").split(maxsplit=2)
                headers: dict[str, str] = {}
                while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                if length > MAX_BODY:
                    break
                body = await reader.readexactly(length) if length else b""
                answer = self._answer(method, headers, body)
                latency = self.settings.latency_ms
                if latency:
                    with self.lock:
                        self.counts.in_flight += 1
                        self.counts.peak_in_flight = max(
                            self.counts.peak_in_flight, self.counts.in_flight
                        )
                    try:
                        await asyncio.sleep(latency / 1000)
                    finally:
                        with self.lock:
                            self.counts.in_flight -= 1
                if answer.drop:
                    writer.transport.abort()
                    return
                keep_alive = version.strip() == "HTTP/1.1" and headers.get("connection") != "close"
                payload = json.dumps(answer.body).encode()
                head = [
                    f"HTTP/1.1 {answer.status} {REASONS[answer.status]}",
                    "Content-Type: application/json",
                    f"Content-Length: {len(payload)}",
                    f"Connection: {'keep-alive' if keep_alive else 'close'}",
                    *(f"{name}: {value}" for name, value in answer.headers.items()),
                ]
                writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)
                await writer.drain()
                if not keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ValueError, ssl.SSLError):
            pass  # a client that went away or spoke nonsense: its connection ends here
        finally:
            writer.close()

    def _answer(self, method: str, headers: dict[str, str], body: bytes) -> _Answer:
        with self.lock:
            counts, settings = self.counts, self.settings
            counts.requests += 1
            key = headers.get("idempotency-key", "")
            refusal = self._refusal(method, headers, body, key)
            if refusal is not None:
                counts.rejected += 1
                return refusal
            if settings.drop_every and counts.requests % settings.drop_every == 0:
                counts.dropped += 1
                if settings.drop_after_receiving:
                    self.delivered(key)
                return _Answer(0, {}, drop=True)
            throttle = self._throttle
            if throttle.requests > 0 or time.monotonic() < throttle.until:
                throttle.requests = max(0, throttle.requests - 1)
                counts.throttled += 1
                return _Answer(
                    429,
                    {"error": "rate limited"},
                    {"Retry-After": str(throttle.retry_after)},
                )
            if self.random.random() < settings.error_rate:
                counts.failed += 1
                return _Answer(500, {"error": "provider failure (sink)"})
            self.delivered(key)
            # A repeated key gets the first answer's id, as providers honouring it do.
            return _Answer(201 if counts.keys[key] == 1 else 200, {"id": f"sms-{key}"})

    def _refusal(
        self, method: str, headers: dict[str, str], body: bytes, key: str
    ) -> _Answer | None:
        if method != "POST":
            return _Answer(405, {"error": "POST only"})
        if "chunked" in headers.get("transfer-encoding", ""):
            return _Answer(411, {"error": "Content-Length required"})
        token = self.settings.token
        if token and headers.get("authorization") != f"Bearer {token}":
            return _Answer(401, {"error": "bad token"})
        if not key:
            return _Answer(400, {"error": "Idempotency-Key required"})
        try:
            message = json.loads(body)
        except ValueError:
            return _Answer(400, {"error": "body is not JSON"})
        if not isinstance(message, dict) or not message.get("to") or "text" not in message:
            return _Answer(400, {"error": "to and text required"})
        if message["to"] in self.settings.refused_numbers:
            return _Answer(400, {"error": "invalid number"})
        return None
