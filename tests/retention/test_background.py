"""Worker and beat really run: a beat process schedules the heartbeat, a worker on Redis runs it."""

import pytest

from retention.models import Heartbeat
from tests.retention.workers import celery_env, start_beat, start_worker, stop, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_beat_and_a_worker_on_redis_keep_the_heartbeat_going(redis_url, tmp_path):
    env = celery_env(broker_url=redis_url, var_dir=tmp_path, HEARTBEAT_SECONDS="1")
    worker = start_worker("heartbeat-worker", env, tmp_path / "logs")
    beat = start_beat("heartbeat-beat", env, tmp_path / "logs")

    def beats() -> int:
        row = Heartbeat.objects.filter(pk=1).first()
        return row.beats if row else 0

    try:
        wait_until(
            lambda: beats() >= 3,
            timeout=60,
            failure=lambda: (
                "the heartbeat did not advance: worker or beat is not running\n"
                + worker.tail()
                + "\n"
                + beat.tail()
            ),
            every=0.5,
        )
    finally:
        stop(beat, worker)
