"""The suite's clock: `CLOCK_AHEAD_DAYS=N` moves it N days ahead (CI runs the suite a year
ahead), so a test that compares against today's date instead of a frozen one fails there.

`python -m tests.clock MODULE ARGS…` runs a module (a Celery worker or beat a test starts) on
the same shifted clock as the test process that started it.
"""

import os
import runpy
import sys
from datetime import UTC, datetime, timedelta

import time_machine


def shift_from_environment() -> None:
    days = os.environ.get("CLOCK_AHEAD_DAYS")
    if days:
        time_machine.travel(datetime.now(UTC) + timedelta(days=int(days)), tick=True).start()


if __name__ == "__main__":
    shift_from_environment()
    module, sys.argv = sys.argv[1], [sys.argv[1], *sys.argv[2:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
