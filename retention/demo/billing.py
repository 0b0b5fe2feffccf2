"""A billing system to talk to on a laptop and in tests: receives the desk's webhooks,
verifies each signature, "applies" each event once (by its ``webhook-id``) after a short delay,
and confirms it through ``POST /api/v1/events/confirmations``.

Not a product module: ``manage.py billing_simulator`` runs it beside ``make run`` (Procfile.dev)
and the tests start it on 127.0.0.1. It keeps what it applied in memory and, when asked, in a
journal file (one JSON line per event applied, one per request received), so a test in
another process can check that nothing was applied twice and each subscriber's events arrived
in order.
"""

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

log = logging.getLogger(__name__)


class BillingSimulator:
    """``confirm_url`` empty: it confirms nothing (a receiver only). ``refuse``: event types
    it refuses (with a reason) instead of applying, to try the desk's side of a refusal.
    ``status``: what it answers every webhook, to play a receiver that is down (500); then it
    applies nothing. ``slow``: seconds it takes to answer, after it has applied the event (a
    receiver slower than the desk's timeout)."""

    def __init__(
        self,
        *,
        secret: str,
        confirm_url: str,
        token: str,
        delay: float = 2.0,
        port: int = 0,
        journal: Path | None = None,
        refuse: frozenset[str] = frozenset(),
        slow: float = 0.0,
    ) -> None:
        self.webhook = Webhook(secret)
        self.confirm_url = confirm_url
        self.token = token
        self.delay = delay
        self.journal = journal
        self.refuse = refuse
        self.slow = slow
        self.status = 200
        # What it applied before a restart, it remembers (as billing would): from its journal.
        self.applied: dict[str, dict[str, Any]] = {
            line["applied"]: line for line in self._journal_lines() if "applied" in line
        }
        self.received: list[str] = []
        self.confirmed: list[str] = []
        self._lock = threading.Lock()
        self._timers: list[threading.Timer] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/webhooks"

    def start(self) -> "BillingSimulator":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        for timer in self._timers:
            timer.cancel()

    # --- Receiving ----------------------------------------------------------------------------

    def receive(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """One webhook: (status, answer). A bad signature is refused with 401."""
        if self.status != 200:
            return self.status, {"error": "simulated outage"}
        try:
            payload = self.webhook.verify(body, headers)
        except WebhookVerificationError as exc:
            return 401, {"error": str(exc)}
        webhook_id = headers.get("webhook-id", "")
        with self._lock:
            self.received.append(webhook_id)
            first = webhook_id not in self.applied
            if first:
                self.applied[webhook_id] = payload
            self._write({"received": webhook_id, "first": first})
            if first:
                self._write(
                    {
                        "applied": webhook_id,
                        "type": payload.get("type"),
                        "subscriber": payload.get("data", {}).get("subscriber", {}).get("id"),
                    }
                )
        if first and self.confirm_url:
            timer = threading.Timer(self.delay, self._confirm, [payload])
            timer.daemon = True
            self._timers.append(timer)
            timer.start()
        time.sleep(self.slow)
        return 200, {"received": webhook_id, "duplicate": not first}

    def _journal_lines(self) -> list[dict[str, Any]]:
        if self.journal is None or not self.journal.exists():
            return []
        return [json.loads(line) for line in self.journal.read_text().splitlines() if line]

    def _write(self, line: dict[str, Any]) -> None:
        if self.journal is not None:
            with self.journal.open("a") as out:
                out.write(json.dumps(line) + "\n")

    # --- Confirming ---------------------------------------------------------------------------

    def _confirm(self, payload: dict[str, Any]) -> None:
        refused = payload.get("type") in self.refuse
        answer = {
            "event": payload["id"],
            "result": "refused" if refused else "applied",
            "reason": "Refused by the billing simulator" if refused else "",
        }
        for attempt in range(6):
            try:
                response = httpx.post(
                    self.confirm_url,
                    json={"confirmations": [answer]},
                    headers={"Authorization": f"Bearer {self.token}"},
                    timeout=10,
                )
            except httpx.HTTPError as exc:
                log.warning("confirmation of %s failed: %s", payload["id"], exc)
            else:
                if response.status_code == 200:
                    with self._lock:
                        self.confirmed.append(payload["id"])
                    return
                log.warning(
                    "confirmation of %s answered %s: %s",
                    payload["id"],
                    response.status_code,
                    response.text[:200],
                )
                if response.status_code < 500:
                    return  # the desk refuses it: asking again would not change that
            time.sleep(min(2**attempt, 10))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keeps the desk's connection open between events
            # The status line and headers, then the body, go out as two small writes: with
            # Nagle's algorithm the body waits for the desk's delayed ACK, 40 ms an event.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                headers = {key.lower(): value for key, value in self.headers.items()}
                status, answer = simulator.receive(body, headers)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                log.info("billing simulator: " + format, *args)

        return Handler
