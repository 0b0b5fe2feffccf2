"""The benchmark behind ``make bench``: server time and query counts of the pages that must stay
fast at a million subscribers and a hundred thousand open cases, claim-next latency under
concurrent claimers, import speed against a raw COPY, outreach fan-out and sending, the
reminder tick, and the dashboard over two years of closed cases.

It runs against its own PostgreSQL database, never the one you work in:
``BENCH_DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/desk_bench``). The
``bench`` command re-runs itself with ``DATABASE_URL`` set to it, creating and migrating the
database when needed, so these are equivalent::

    make bench
    uv run python manage.py bench --scale full
    DATABASE_URL=$BENCH_DATABASE_URL TESTING=true uv run python manage.py bench

Data comes from seed_demo's loader and is reused while the database holds the same scale
(retention.bench.data); ``--reload`` loads afresh. The scale's open cases come from
``cases_seed`` and are reused too (retention.bench.queue), and so are the bench agent's cases
and offers (retention.bench.offers) and the dashboard's history (retention.bench.history).
Each run's figures go to ``var/bench/<scale>.json``, and the report compares them with the
other scale's last run. Quick and full scale share the database by default, so running one
after the other reloads it; give each its own ``BENCH_DATABASE_URL`` to keep both.

What is measured, and in which order, is retention.bench.sections'.
"""

from collections.abc import Collection
from typing import Any

from retention.bench.data import ensure_data
from retention.bench.history import ensure_history
from retention.bench.queue import ensure_cases
from retention.bench.results import Log, Results
from retention.bench.scale import Scale
from retention.bench.sections import SECTIONS


def bench_run(
    scale: Scale, *, reload: bool, requests: int, skip: Collection[str], log: Log
) -> Results:
    """Put the scale's data in place, then run every section not in ``skip``."""
    data = ensure_data(scale, reload=reload, log=log)
    cases = ensure_cases(scale, log=log)
    # The history is the dashboard's data and what the churn model learns from: without them,
    # none is written.
    wanted = {"dashboard", "churn-risk"} - set(skip)
    history: dict[str, Any] = ensure_history(scale, log=log) if wanted else {}
    results = Results(scale=scale, data=data, cases=cases, history=history)
    for section in SECTIONS:
        if section.always or section.name not in skip:
            section.measure(results, requests=requests, log=log)
    return results
