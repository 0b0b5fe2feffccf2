"""Publishing a task without making a request wait on the broker.

Every task is a thin interface over a service and safe to run twice or at once: a task message
only says "look at campaign N" or "deliver what is due", and the rows in the database say what
is left to do, so a lost message delays work until the next tick and a repeated one finds
nothing to claim.
"""

import logging
from typing import Any

from celery import current_app
from kombu.exceptions import OperationalError

log = logging.getLogger(__name__)


def enqueue(task_name: str, *args: Any) -> bool:
    """Publish without waiting on a broker that is down: the request goes on, and the next
    beat tick finds the work in the database. Call it from ``transaction.on_commit``.

    By name, so that a service can ask for a task without importing the module that defines
    it (that module imports the service)."""
    try:
        current_app.send_task(task_name, args=args, retry=False)
    # Called after commit: the decision stands whatever the broker says, so no failure to
    # publish (a server that is down, a connection pool closed under a thread) may reach the
    # caller as an error.
    except (OperationalError, OSError, RuntimeError) as exc:
        log.warning("broker unavailable, %s(%s) left to the next tick: %s", task_name, args, exc)
        return False
    return True
