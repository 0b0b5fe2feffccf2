"""Worker and beat really run: a beat process schedules the heartbeat, a worker on Redis runs it."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from retention.models import Heartbeat

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "retention", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_beat_and_a_worker_on_redis_keep_the_heartbeat_going(redis_url, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": redis_url,
        "TESTING": "true",
        "HEARTBEAT_SECONDS": "1",
        "VAR_DIR": str(tmp_path),
    }
    worker = start(
        ["worker", "--pool=solo", "--loglevel=WARNING", f"--hostname=test-{os.getpid()}@%h"], env
    )
    beat = start(
        [
            "beat",
            "--loglevel=WARNING",
            "--pidfile=",
            "-S",
            "django_celery_beat.schedulers:DatabaseScheduler",
        ],
        env,
    )
    try:
        deadline = time.monotonic() + 60
        beats = 0
        while time.monotonic() < deadline:
            row = Heartbeat.objects.filter(pk=1).first()
            beats = row.beats if row else 0
            if beats >= 3:
                break
            time.sleep(0.5)
        assert beats >= 3, "the heartbeat did not advance: worker or beat is not running"
    finally:
        stop(beat)
        stop(worker)
