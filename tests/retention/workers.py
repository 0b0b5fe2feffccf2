"""Real Celery workers, beats and Redis servers for the end-to-end tests.

Each runs as a process of its own against the test database (the one pytest-django made), in
a process group of its own, and is stopped by its id: ``stop`` asks it to shut down and kills
it if it does not; ``kill`` is ``kill -9``. Output goes to a log file the tests can read.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from django.db import connection
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from retention.celery import app
from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[2]
BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"


def database_url() -> str:
    """The test database, for processes started from a test."""
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"


def celery_env(*, broker_url: str, var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a worker or beat: the test database, this broker, files in var_dir."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": broker_url,
        "CELERY_BROKER_URL": broker_url,
        "TESTING": "true",
        "VAR_DIR": str(var_dir),
        **extra,
    }


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 30) -> str:
        return f"--- {self.name} (pid {self.pid}), last lines ---\n" + "\n".join(
            self.output().splitlines()[-lines:]
        )


def _spawn(name: str, command: list[str], env: dict[str, str], logs: Path) -> Process:
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{name}.log"
    with log.open("ab") as out:
        popen = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            # A group of its own: stop() and kill() reach it (and any child) by its id alone.
            start_new_session=True,
        )
    return Process(name, popen, log)


def start_worker(
    name: str, env: dict[str, str], logs: Path, *, pool: str = "solo", concurrency: int = 1
) -> Process:
    return _spawn(
        name,
        [
            sys.executable,
            "-m",
            "tests.clock",  # the test's clock, also when CLOCK_AHEAD_DAYS moves it
            "celery",
            "-A",
            "retention",
            "worker",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            "--loglevel=INFO",
            "--without-mingle",
            "--without-gossip",
            f"--hostname={name}-{os.getpid()}@%h",
        ],
        env,
        logs,
    )


def start_beat(name: str, env: dict[str, str], logs: Path) -> Process:
    return _spawn(
        name,
        [
            sys.executable,
            "-m",
            "tests.clock",  # the test's clock, also when CLOCK_AHEAD_DAYS moves it
            "celery",
            "-A",
            "retention",
            "beat",
            "--loglevel=INFO",
            "--pidfile=",
            "-S",
            BEAT_SCHEDULER,
        ],
        env,
        logs,
    )


def stop(*processes: Process, timeout: float = 10) -> None:
    """Warm shutdown, all at once; kill -9 whatever still runs after ``timeout`` seconds."""
    for process in processes:
        if process.popen.poll() is None:
            _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.popen.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            kill(process)


def kill(process: Process) -> None:
    """kill -9: the process (and its group) dies where it stands, acknowledging nothing."""
    _signal_group(process, signal.SIGKILL)
    process.popen.wait()


def _signal_group(process: Process, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):  # the whole group has exited already
        os.killpg(process.pid, sig)


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float,
    failure: Callable[[], str],
    every: float = 0.1,
) -> float:
    """Poll until ``condition()`` holds; fail with ``failure()`` after ``timeout`` seconds.
    Returns the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"after {timeout:.0f} s: {failure()}")
        time.sleep(every)
    return time.monotonic() - started


def every_second(task: str, *, seconds: int = 1) -> PeriodicTask:
    """A beat entry that runs ``task`` every few seconds, next to the minute-long defaults (the
    database scheduler runs every enabled row, not just the ones in settings)."""
    interval, _ = IntervalSchedule.objects.get_or_create(
        every=seconds, period=IntervalSchedule.SECONDS
    )
    return PeriodicTask.objects.create(name=f"test: {task}", task=task, interval=interval)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RedisServer:
    """A Redis of the test's own, on a free port, that the test may stop and start again (on
    the same port). Nothing is kept on disk: a restart comes back empty, as after a crash."""

    def __init__(self, folder: Path) -> None:
        if shutil.which("redis-server") is None:
            unavailable("redis-server is not installed (apt-get install redis-server)")
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: Process | None = None

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)

    def start(self) -> None:
        self.process = _spawn(
            f"redis-{self.port}",
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            dict(os.environ),
            self.folder,
        )
        wait_until(self._answers, timeout=10, failure=lambda: f"redis on {self.port} is not up")

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None

    def queued(self, queue: str = "celery") -> int:
        """Task messages waiting in a queue."""
        return int(self.client().llen(queue))


@contextmanager
def publishing_to(broker_url: str) -> Iterator[None]:
    """This process's Celery app (what ``retention.core.broker.enqueue`` publishes through)
    points at ``broker_url`` for the duration; the rest of its broker settings stay as
    configured."""
    previous = app.conf["broker_url"]
    _forget_connections()
    app.conf["broker_url"] = broker_url
    try:
        yield
    finally:
        _forget_connections()
        app.conf["broker_url"] = previous


def _forget_connections() -> None:
    # Celery keeps the connection and producer pools it made for a broker URL in these private
    # attributes; dropped, the next publish connects to whatever the URL is now.
    celery: Any = app
    if celery._pool is not None:
        celery._pool.force_close_all()
    celery._pool = None
    celery.amqp._producer_pool = None


class Fleet:
    """The workers and beats one test starts, on its broker, writing SMS and e-mail into
    tmp_path; all stopped (by process id) when the test ends."""

    def __init__(self, broker: RedisServer, tmp_path: Path) -> None:
        self.sms = tmp_path / "sms"
        self.mail = tmp_path / "mail"
        self.logs = tmp_path / "logs"
        self.env = celery_env(
            broker_url=broker.url,
            var_dir=tmp_path,
            SMS_BACKEND="file",
            SMS_FILE_PATH=str(self.sms),
            EMAIL_BACKEND="file",
        )
        self.processes: list[Process] = []

    def worker(self, name: str, *, pool: str = "solo", concurrency: int = 1, **env: str) -> Process:
        process = start_worker(
            name, {**self.env, **env}, self.logs, pool=pool, concurrency=concurrency
        )
        self.processes.append(process)
        return process

    def beat(self, name: str, **env: str) -> Process:
        process = start_beat(name, {**self.env, **env}, self.logs)
        self.processes.append(process)
        return process

    def tails(self) -> str:
        return "\n".join(process.tail() for process in self.processes)

    def stop_all(self) -> None:
        stop(*self.processes)
