"""The bench's sending figure: outreach messages sent as the product's workers send them, to
local providers, with one worker process and with two.

Both sinks (retention/sinks) run in this process on 127.0.0.1: the SMTP relay, and the SMS
provider's API over https with a throwaway certificate that the workers trust through
SSL_CERT_FILE (the desk's SMS backend speaks https only). Each run starts its workers
(``python -m retention.bench.sender``) with the environment pointing at the sinks and at this
database, waits until every one has set itself up, starts them together and times them until
the last one has reported: its start-up and its exit are not sending. The matrix is e-mail and
SMS, each with the sink answering at once and after 50 ms a message, each with one worker and
with two; every run takes fresh pending messages of the bench campaign, whose channel changes
between runs.

Every run is checked: the keys the sink received are exactly the messages the workers marked
sent, none received twice, nothing reached the other channel's sink and nothing failed. A run
that fails the check raises: the bench prints no figure for it.
"""

import json
import logging
import os
import re
import secrets
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import connection

from retention.bench.results import Log, Results
from retention.models import OutreachCampaign, OutreachMessage
from retention.sinks import SmsSink, SmtpSink
from retention.sinks.counting import CountingSink
from retention.sinks.tls import self_signed_certificate, server_context
from subscribers.models import ContactChannel

CHANNELS = (ContactChannel.EMAIL, ContactChannel.SMS)
LATENCIES_MS = (0, 50)
WORKERS = (1, 2)
# Messages a run sends at full scale, by the sink's latency and the workers: several seconds
# each at the speed aimed at (1,000 messages/s at 0 ms and 500 at 50 ms, with two workers).
# Below FULL_FROM subscribers (the quick scale) a run sends a QUICK_DIVISOR-th of that.
RUN_MESSAGES = {0: {1: 6_000, 2: 8_000}, 50: {1: 2_500, 2: 3_000}}
FULL_FROM = 200_000
QUICK_DIVISOR = 4
# Seconds the workers have to set themselves up, to send a run's messages, and to exit after
# their report: a worker still at it after that is killed and the run fails.
READY_TIMEOUT = 120.0
RUN_TIMEOUT = 600.0
EXIT_TIMEOUT = 30.0

MState = OutreachMessage.State
Run = tuple[str, int, int, int]  # channel, latency (ms), workers, messages


@dataclass
class Sinks:
    smtp: SmtpSink
    sms: SmsSink
    certificate: Path
    token: str

    def of(self, channel: str) -> CountingSink:
        return self.smtp if channel == ContactChannel.EMAIL else self.sms

    def other(self, channel: str) -> CountingSink:
        return self.sms if channel == ContactChannel.EMAIL else self.smtp

    def env(self) -> dict[str, str]:
        """A worker's settings for sending to the sinks."""
        return {
            "EMAIL_BACKEND": "smtp",
            "EMAIL_HOST": self.smtp.host,
            "EMAIL_PORT": str(self.smtp.port),
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "EMAIL_USE_TLS": "false",
            "SMS_BACKEND": "http",
            "SMS_HTTP_URL": self.sms.url,
            "SMS_HTTP_TOKEN": self.token,
            "SSL_CERT_FILE": str(self.certificate),
            # The desk's own speed, not a rate limit someone configured for a real provider.
            "SEND_RATE_EMAIL": "0",
            "SEND_RATE_SMS": "0",
        }


@contextmanager
def bench_sinks() -> Iterator[Sinks]:
    """Both sinks on 127.0.0.1 (free ports), SMS over https; stopped again however it ends."""
    with tempfile.TemporaryDirectory(prefix="bench-sinks-") as folder, ExitStack() as stack:
        stack.enter_context(_quiet("mail.log"))
        certificate, key = self_signed_certificate(Path(folder))
        token = secrets.token_urlsafe(16)
        smtp = stack.enter_context(SmtpSink())
        context = server_context(certificate, key)
        sms = stack.enter_context(SmsSink(ssl_context=context, token=token))
        yield Sinks(smtp, sms, certificate, token)


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    """aiosmtpd logs every SMTP command at INFO: thousands of lines a second, written by the
    sink's thread in this process while the figure is being taken."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def measure_sending(
    results: Results, campaign: OutreachCampaign, moment: datetime, *, log: Log
) -> None:
    """Every run of the matrix, each on fresh pending messages of ``campaign``."""
    plan = run_plan(subscribers=results.scale.subscribers, pending=_pending(campaign.pk, moment))
    log(
        f"Sending outreach by worker processes to local sinks, {settings.OUTREACH_CHUNK} "
        f"claimed at a time, {settings.SEND_CONCURRENCY} lanes a worker, at "
        f"{moment:%a %Y-%m-%d %H:%M} UTC…"
    )
    runs = []
    # The workers, the sinks and PostgreSQL share this machine's cores with whatever else runs
    # on it: the load around the matrix says how far the figures are the desk's own.
    load = [os.getloadavg()[0]]
    with bench_sinks() as sinks:
        for channel, latency_ms, workers, planned in plan:
            messages = min(planned, _pending(campaign.pk, moment))
            if not messages:
                results.note(
                    f"outreach sending: no pending messages left for {_label(channel)}, "
                    f"{latency_ms} ms, {workers} worker(s)",
                    log,
                )
                continue
            # Not a notice: the campaign's one channel is the channel of every message.
            OutreachCampaign.objects.filter(pk=campaign.pk).update(channel=channel)
            run = send_run(
                campaign.pk,
                moment,
                sinks,
                channel=channel,
                latency_ms=latency_ms,
                workers=workers,
                messages=messages,
            )
            runs.append(run)
            with_ratios(runs)
            log(_run_line(run))
    load.append(os.getloadavg()[0])
    results.outreach["send"] = {
        "chunk": settings.OUTREACH_CHUNK,
        "lanes": settings.SEND_CONCURRENCY,
        "at": moment.isoformat(),
        "cores": os.cpu_count(),
        "load_average": [round(value, 2) for value in load],  # 1-minute, before and after
        "runs": runs,
    }


def run_plan(*, subscribers: int, pending: int) -> list[Run]:
    """The matrix with each run's messages; when the campaign has fewer pending messages than
    that, every run gives up the same share."""
    divisor = 1 if subscribers >= FULL_FROM else QUICK_DIVISOR
    plan: list[Run] = [
        (channel, latency, workers, RUN_MESSAGES[latency][workers] // divisor)
        for channel in CHANNELS
        for latency in LATENCIES_MS
        for workers in WORKERS
    ]
    wanted = sum(messages for *_, messages in plan)
    if wanted > pending:
        plan = [(c, lat, w, messages * pending // wanted) for c, lat, w, messages in plan]
    return plan


def send_run(
    campaign_id: int,
    moment: datetime,
    sinks: Sinks,
    *,
    channel: str,
    latency_ms: int,
    workers: int,
    messages: int,
    timeout: float = RUN_TIMEOUT,
) -> dict[str, Any]:
    """``workers`` processes sending ``messages`` of the campaign (its channel is ``channel``)
    between them, the sinks answering after ``latency_ms``; checked, and its figures."""
    label = f"{_label(channel)}, {latency_ms} ms, {workers} worker{'s' if workers > 1 else ''}"
    for each in (sinks.smtp, sinks.sms):
        each.reset()
        each.configure(latency_ms=latency_ms)
    before = _sent_ids(campaign_id)
    shares = [messages // workers + (i < messages % workers) for i in range(workers)]
    env = {**sinks.env(), "DATABASE_URL": worker_database_url(), "TESTING": "true"}
    # This process only waits for the workers meanwhile: its CPU time is the sinks'.
    cpu = time.process_time()
    reports, seconds, start_up = run_workers(campaign_id, moment, shares, env=env, timeout=timeout)
    sinks_cpu = time.process_time() - cpu
    sink, other = sinks.of(channel), sinks.other(channel)
    received, got, spilled = sink.keys, sink.snapshot(), other.snapshot()
    marked = _sent_ids(campaign_id) - before
    total = {name: sum(r[name] for r in reports) for name in _COUNTS}
    problems = _problems(received, got, spilled, marked, total)
    if problems:
        raise RuntimeError(f"outreach sending, {label}: " + "; ".join(problems))
    claimed = total["claimed"]
    return {
        "channel": channel,
        "latency_ms": latency_ms,
        "workers": workers,
        "messages": messages,
        "claimed": claimed,
        "sent": total["sent"],
        "deferred": total["deferred"],
        "skipped": total["skipped"],
        "failed": total["failed"],
        "seconds": round(seconds, 2),
        "start_up_seconds": round(start_up, 2),
        "worker_seconds": [r["seconds"] for r in reports],
        # Where the time went on a machine the workers, the sinks and PostgreSQL share.
        "worker_cpu_seconds": [r["cpu_seconds"] for r in reports],
        "sinks_cpu_seconds": round(sinks_cpu, 2),
        "messages_per_second": round(claimed / seconds, 1),
        "sent_per_second": round(total["sent"] / seconds, 1),
        "queries": total["queries"],
        "queries_per_message": round(total["queries"] / claimed, 3) if claimed else None,
        "connections": got["connections"],
        "peak_in_flight": got["peak_in_flight"],
    }


def with_ratios(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each run with more than one worker gets its messages/s over the same channel's and
    latency's one-worker run: both measured here, in this run of the bench."""
    one = {(r["channel"], r["latency_ms"]): r for r in runs if r["workers"] == 1}
    for run in runs:
        alone = one.get((run["channel"], run["latency_ms"]))
        if run["workers"] > 1 and alone and alone["messages_per_second"]:
            run["versus_one_worker"] = round(
                run["messages_per_second"] / alone["messages_per_second"], 2
            )
    return runs


# --- The workers ------------------------------------------------------------------------------


def run_workers(
    campaign_id: int,
    moment: datetime,
    shares: list[int],
    *,
    env: dict[str, str],
    timeout: float,
) -> tuple[list[dict[str, Any]], float, float]:
    """One worker process per share, started together once all are ready: what each
    reported, the seconds from the start to the last one's report, and the seconds they took
    to get ready. A worker that fails or overruns ``timeout`` raises; none is left running."""
    processes: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="bench-sender-") as folder, ExitStack() as stack:
        errors = [Path(folder) / f"sender-{i}.log" for i in range(len(shares))]
        try:
            spawned = time.perf_counter()
            for share, error in zip(shares, errors, strict=True):
                processes.append(
                    _spawn(campaign_id, moment, share, env, stack.enter_context(error.open("wb")))
                )
            for process, error in zip(processes, errors, strict=True):
                if _line(process, error, spawned + READY_TIMEOUT, "get ready") != b"ready":
                    raise RuntimeError(f"an outreach sender did not get ready: {_tail(error)}")
            started = time.perf_counter()
            for process in processes:
                assert process.stdin is not None
                process.stdin.write(b"go\n")
                process.stdin.flush()
            reports = [
                _report(_line(process, error, started + timeout, "finish"), error)
                for process, error in zip(processes, errors, strict=True)
            ]
            # A worker's end is its report: the interpreter's exit after it is not sending.
            seconds = time.perf_counter() - started
            for process, error in zip(processes, errors, strict=True):
                _exited(process, error)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
    return reports, seconds, started - spawned


def _exited(process: subprocess.Popen[bytes], errors: Path) -> None:
    try:
        code = process.wait(timeout=EXIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"an outreach sender did not exit: {_tail(errors)}") from None
    if code:
        raise RuntimeError(f"an outreach sender failed (exit {code}): {_tail(errors)}")


def _line(process: subprocess.Popen[bytes], errors: Path, deadline: float, what: str) -> bytes:
    """The worker's next line on stdout, waiting until ``deadline`` at most."""
    assert process.stdout is not None
    readable, _, _ = select.select([process.stdout], [], [], max(deadline - _now(), 0.1))
    if not readable:
        raise RuntimeError(f"an outreach sender did not {what} in time: {_tail(errors)}")
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(
            f"an outreach sender stopped before it could {what} (exit {process.wait()}): "
            f"{_tail(errors)}"
        )
    return line.strip()


def _spawn(
    campaign_id: int, moment: datetime, share: int, env: dict[str, str], errors: IO[bytes]
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "retention.bench.sender",
        f"--campaign={campaign_id}",
        f"--moment={moment.isoformat()}",
        f"--messages={share}",
        "--wait",
    ]
    return subprocess.Popen(  # noqa: S603 - this Python, no shell
        command,
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "retention.settings", **env},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errors,
    )


def _report(line: bytes, errors: Path) -> dict[str, Any]:
    try:
        report: dict[str, Any] = json.loads(line)
    except ValueError:
        raise RuntimeError(f"an outreach sender said {line[:200]!r}: {_tail(errors)}") from None
    return report


def _tail(errors: Path, lines: int = 20) -> str:
    text = errors.read_text(errors="replace").strip() if errors.exists() else ""
    return "\n".join(text.splitlines()[-lines:]) or "(nothing on stderr)"


def _now() -> float:
    return time.perf_counter()


def worker_database_url() -> str:
    """This process's database as a URL for the workers: the bench's, or a test's."""
    s = connection.settings_dict
    user = quote(str(s.get("USER") or ""), safe="")
    password = quote(str(s.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else f"{user}@" if user else ""
    port = f":{s['PORT']}" if s.get("PORT") else ""
    options = {k: v for k, v in (s.get("OPTIONS") or {}).items() if isinstance(v, str | int)}
    query = f"?{urlencode(options)}" if options else ""
    return f"postgres://{auth}{s.get('HOST') or ''}{port}/{quote(str(s['NAME']))}{query}"


# --- Checks and figures ----------------------------------------------------------------------

_KEY = re.compile(r"outreach-(\d+)")
_COUNTS = ("claimed", "sent", "deferred", "skipped", "failed", "queries")


def _problems(
    received: Any,
    got: dict[str, Any],
    spilled: dict[str, Any],
    marked: set[int],
    total: dict[str, int],
) -> list[str]:
    """What is wrong with a run, if anything: the sink's keys against the rows marked sent."""
    ids = {int(m.group(1)) if (m := _KEY.search(key)) else -1 for key in received}
    problems = []
    if got["duplicates"]:
        problems.append(f"{got['duplicates']:,} messages received more than once")
    if ids != marked:
        problems.append(
            f"the sink received {len(ids):,} keys, {len(marked):,} messages were marked sent "
            f"({len(ids - marked):,} received but not marked, {len(marked - ids):,} marked "
            "but not received)"
        )
    if total["sent"] != len(marked):
        problems.append(f"the workers said {total['sent']:,} sent, {len(marked):,} were marked")
    if spilled["delivered"]:
        problems.append(f"{spilled['delivered']:,} messages reached the other channel's sink")
    if total["failed"]:
        problems.append(f"{total['failed']:,} messages failed (the sinks refuse nothing)")
    if not total["sent"]:
        problems.append("nothing was sent")
    return problems


def _pending(campaign_id: int, moment: datetime) -> int:
    return OutreachMessage.objects.filter(
        campaign_id=campaign_id, state=MState.PENDING, due_at__lte=moment
    ).count()


def _sent_ids(campaign_id: int) -> set[int]:
    return set(
        OutreachMessage.objects.filter(campaign_id=campaign_id, state=MState.SENT).values_list(
            "pk", flat=True
        )
    )


def _label(channel: str) -> str:
    return "e-mail" if channel == ContactChannel.EMAIL else "SMS"


def _run_line(run: dict[str, Any]) -> str:
    workers = run["workers"]
    ratio = f", ×{run['versus_one_worker']:.2f} one worker's" if "versus_one_worker" in run else ""
    return (
        f"  {_label(run['channel'])}, sink {run['latency_ms']} ms, {workers} "
        f"worker{'s' if workers > 1 else ''}: {run['claimed']:,} messages in "
        f"{run['seconds']:.1f} s ({run['messages_per_second']:,.0f}/s{ratio}); "
        f"{run['sent']:,} sent, {run['skipped']:,} skipped, {run['deferred']:,} deferred; "
        f"{run['queries_per_message']} queries a message; {run['connections']:,} connections; "
        f"CPU s: workers {' + '.join(f'{c:.1f}' for c in run['worker_cpu_seconds'])}, "
        f"sinks {run['sinks_cpu_seconds']:.1f}"
    )
