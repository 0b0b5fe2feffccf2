"""`make run`'s set-up, as the Makefile writes it, on the SQLite file a fresh machine gets.

The rest of the suite runs on PostgreSQL, so a query only PostgreSQL knows (DISTINCT ON, an
array, an advisory lock) could break the README's first command unseen: the demo's pauses
did. This runs every `manage.py` step of the `run` target, read from the Makefile so the two
cannot drift apart, in a fresh process with no DATABASE_URL, and checks what the demo shows.
"""

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_steps() -> list[list[str]]:
    """The `manage.py` commands of the Makefile's `run` recipe, in order."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^run:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe, "the Makefile has no run target"
    steps = re.findall(r"manage\.py ([^&\\\n]+)", recipe.group(1))
    return [step.split() for step in steps]


def test_the_run_targets_steps_are_read_from_the_makefile():
    steps = run_steps()
    assert steps[0] == ["migrate", "--noinput"]
    assert ["seed_demo", "--if-empty"] in steps and ["risk_train", "--if-none"] in steps


def test_make_runs_set_up_works_on_sqlite_and_fills_the_demo(tmp_path):
    database = tmp_path / "desk.sqlite3"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "TESTING", "CLOCK_AHEAD_DAYS"}
    }
    env |= {"DEBUG": "true", "DATABASE_URL": f"sqlite:///{database}"}
    for step in run_steps():
        done = subprocess.run(
            [sys.executable, "manage.py", *step],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, (step, done.stderr[-3000:])
    with sqlite3.connect(database) as db:

        def count(sql: str) -> int:
            return db.execute(sql).fetchone()[0]

        assert count("SELECT COUNT(*) FROM subscribers_subscriber") > 1000
        assert count("SELECT COUNT(*) FROM retention_cancellationcase WHERE closed_at IS NULL")
        assert count("SELECT COUNT(*) FROM subscribers_subscriber WHERE paused_until IS NOT NULL")
        assert count("SELECT COUNT(*) FROM retention_hardshiparrangement") == 2
        assert count("SELECT COUNT(*) FROM retention_experiment WHERE status = 'running'") == 1
        # No active subscriber keeps a score nobody computed.
        assert not count(
            "SELECT COUNT(*) FROM subscribers_subscriber "
            "WHERE status IN ('active', 'suspended') AND churn_risk_version IS NULL"
        )
