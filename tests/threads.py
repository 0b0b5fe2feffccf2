"""Real threads for the races the desk must win (PostgreSQL tests only)."""

import threading
import time
from collections.abc import Callable

from django.db import close_old_connections, connection


def run_at_once(*work: Callable[[], object], database: bool = True) -> list[BaseException]:
    """Start every piece of work at once behind a barrier; return what each raised, if anything.
    With ``database=False`` (work that never touches the ORM: clients of the local sinks) no
    thread closes a connection, which a test without database access may not do.

    Every job must end, by returning or raising: a thread still running after two minutes is a
    deadlock or a lock nobody releases, and a job that vanished without either would make a
    race test pass by accident. Both fail here.
    """
    barrier = threading.Barrier(len(work))
    errors: list[BaseException] = []
    ended: list[int] = []

    def wrap(index: int, job: Callable[[], object]) -> Callable[[], None]:
        def target() -> None:
            try:
                barrier.wait()
                job()
            except BaseException as exc:
                errors.append(exc)
            finally:
                if database:
                    connection.close()
                ended.append(index)

        return target

    threads = [threading.Thread(target=wrap(i, job)) for i, job in enumerate(work)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if database:
        close_old_connections()
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck on a lock"
    assert sorted(ended) == list(range(len(work))), f"only jobs {sorted(ended)} ended"
    return errors


def wait_until_blocked_on_a_lock(thread: threading.Thread, *, timeout: float = 30) -> None:
    """Wait until another connection of this database waits on a lock (PostgreSQL), instead of
    sleeping and hoping the thread got there. Fails if the thread ended first or never waits."""
    started = time.monotonic()
    with connection.cursor() as cursor:
        while True:
            # Within a transaction pg_stat_activity is read once and kept; read it afresh.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            assert thread.is_alive(), "the thread ended instead of waiting for the lock"
            assert time.monotonic() - started < timeout, "the thread never waited for the lock"
            time.sleep(0.02)
