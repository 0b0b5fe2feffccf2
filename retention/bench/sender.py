"""One sending worker of the bench's outreach figure, a process of its own
(retention.bench.sending starts one or two at a time)::

    python -m retention.bench.sender --campaign N --moment ISO --messages M [--wait]

It calls ``outreach_send`` as the worker's task does, a chunk (OUTREACH_CHUNK) at a time, until
it has claimed M messages or nothing is left, and prints one JSON line: claimed, sent, deferred,
skipped, failed, its SQL queries, the seconds it sent for and the CPU seconds that took. With
``--wait`` it first sets Django up and connects to the database, prints ``ready`` and starts on
a line from stdin: the parent starts every worker's clock at once, after their start-up. Where
the messages go is the environment's (EMAIL_BACKEND, SMS_BACKEND, …), as for any worker.
"""

import argparse
import json
import os
import sys
import time
from datetime import datetime
from typing import Any


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m retention.bench.sender", description=__doc__)
    parser.add_argument("--campaign", type=int, required=True)
    parser.add_argument("--moment", type=datetime.fromisoformat, required=True)
    parser.add_argument("--messages", type=int, required=True, help="this worker's share")
    parser.add_argument("--wait", action="store_true", help="say ready, start on a stdin line")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "retention.settings")
    import django

    django.setup()
    from django.db import connection

    connection.ensure_connection()
    if args.wait:
        print("ready", flush=True)
        if not sys.stdin.readline():
            return  # the parent went away before the start
    figures = send_share(campaign_id=args.campaign, moment=args.moment, messages=args.messages)
    print(json.dumps(figures), flush=True)


def send_share(*, campaign_id: int, moment: datetime, messages: int) -> dict[str, Any]:
    """Chunks of the campaign's due messages until ``messages`` are claimed or none is left;
    what became of them, the queries this process made, and the time it took."""
    from django.conf import settings
    from django.db import connection

    from retention.outreach.sending import SendResult, outreach_send

    total = SendResult()
    queries = 0

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        # The sending threads make no queries (retention.core.delivery): this connection's
        # are all there are.
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    start, cpu = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(count):
        while total.claimed < messages:
            limit = min(settings.OUTREACH_CHUNK, messages - total.claimed)
            chunk = outreach_send(campaign_id=campaign_id, now=moment, limit=limit)
            if not chunk.claimed:
                break
            for name in ("sent", "deferred", "skipped", "failed"):
                setattr(total, name, getattr(total, name) + getattr(chunk, name))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {
        "claimed": total.claimed,
        "sent": total.sent,
        "deferred": total.deferred,
        "skipped": total.skipped,
        "failed": total.failed,
        "queries": queries,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),  # every thread of this process: the lanes' too
    }


if __name__ == "__main__":
    main()
