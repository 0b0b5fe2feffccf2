"""The benchmark's subscribers: loaded with seed_demo's loader, and reused while the database
holds the same scale (the options are recorded in a comment on the subscriber table)."""

from datetime import UTC, datetime
from typing import Any

from django.db import connection

from retention.bench.results import Log
from retention.bench.scale import Scale
from retention.bench.tables import set_table_note, table_note
from retention.demo.loading import load_demo, reset_demo_data
from subscribers.models import Subscriber

_MARK = "seed_demo:"


def loaded_data() -> dict[str, Any] | None:
    """What seed_demo loaded into this database, as recorded by ``record_load``."""
    return table_note(Subscriber._meta.db_table, _MARK)


def record_load(info: dict[str, Any]) -> None:
    set_table_note(Subscriber._meta.db_table, _MARK, info)


def ensure_data(scale: Scale, *, reload: bool, log: Log) -> dict[str, Any]:
    wanted = scale.seed_options().as_dict()
    recorded = loaded_data()
    if (
        not reload
        and recorded is not None
        and recorded.get("options") == wanted
        and Subscriber.objects.count() == scale.subscribers
    ):
        log(
            f"Reusing the loaded data ({scale.subscribers:,} subscribers, "
            f"{recorded.get('events', 0):,} events, "
            f"loaded in {recorded.get('load_seconds', 0):.0f} s)."
        )
        return {**recorded, "reused": True}
    log(f"Loading {scale.subscribers:,} subscribers with seed_demo's loader…")
    reset_demo_data()
    report = load_demo(scale.seed_options(), progress=True, log=log)
    log(report.summary())
    # VACUUM cannot run in a transaction; it sets the visibility map for the small tables the
    # COPY did not freeze and makes the planner's statistics complete.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    info = {
        "options": wanted,
        "subscribers": report.subscribers,
        "events": report.events,
        "equipment": report.equipment,
        "load_seconds": round(report.total_seconds, 1),
        "load_phases": {k: round(v, 1) for k, v in report.seconds.items()},
        "rows_per_second": round(report.rows / report.total_seconds),
        "loaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    record_load(info)
    return {**info, "reused": False}
