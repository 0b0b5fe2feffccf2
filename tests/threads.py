"""Real threads for the races DESIGN names (PostgreSQL tests only)."""

import threading
from collections.abc import Callable

from django.db import close_old_connections, connection


def run_at_once(*work: Callable[[], object]) -> list[BaseException]:
    """Start every piece of work at once behind a barrier; return what each raised, if anything.
    A thread still running after two minutes is a deadlock or a lock nobody releases."""
    barrier = threading.Barrier(len(work))
    errors: list[BaseException] = []

    def wrap(job: Callable[[], object]) -> Callable[[], None]:
        def target() -> None:
            try:
                barrier.wait()
                job()
            except BaseException as exc:
                errors.append(exc)
            finally:
                connection.close()

        return target

    threads = [threading.Thread(target=wrap(job)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    close_old_connections()
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck on a lock"
    return errors
