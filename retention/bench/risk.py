"""Churn risk at the bench's scale: training a version from the history the dashboard section
wrote (12 monthly snapshots replayed from the timeline, a sample of each), then the nightly
scoring of every active subscriber; and, in the same run, scoring the straightforward way (one
subscriber at a time) over a sample, extrapolated, for the ratio.

Memory is read as for the tariff fit: this process's peak RSS while the work runs (sampled),
and the peak RSS of the server backend that ran it (a fresh connection each).
"""

import os
import time
from typing import Any

from django.db import connection
from django.utils import timezone

from retention.bench.fit import _backend_pid, _peak_kib, _PeakRss
from retention.bench.results import Log, Results
from retention.models import CancellationCase
from retention.risk.services import CHUNK, risk_score, risk_train
from retention.risk.signals import SCORED_STATUSES
from subscribers.models import Subscriber

ONE_BY_ONE = 300  # subscribers scored one at a time, for the ratio
GOAL_SECONDS = 300  # every active subscriber scored within 5 minutes on 2 cores


def _measured(work: Any) -> tuple[Any, dict[str, Any]]:
    connection.close()  # a fresh backend: its peak memory is this run's
    backend = _backend_pid()
    with _PeakRss(os.getpid()) as peak:
        started = time.perf_counter()
        value = work()
        seconds = time.perf_counter() - started
    backend_peak = _peak_kib(backend)
    return value, {
        "seconds": round(seconds, 2),
        "process_peak_rss_mib": round(peak.peak_kib / 1024, 1),
        "process_rss_before_mib": round(peak.start_kib / 1024, 1),
        "backend_peak_rss_mib": round(backend_peak / 1024, 1) if backend_peak else None,
    }


def measure_risk(results: Results, *, requests: int, log: Log) -> None:
    del requests  # one training and one nightly scoring are the measurement
    if not CancellationCase.objects.exists():
        results.note("churn risk: no cases loaded to learn from; not measured.", log)
        return
    today = timezone.localdate()
    active = Subscriber.objects.filter(status__in=SCORED_STATUSES).count()
    log(f"Churn risk: training from the history up to {today}…")
    model, training = _measured(lambda: risk_train(today=today))
    log(f"Churn risk: scoring {active:,} active subscribers with v{model.version}…")
    scored, scoring = _measured(lambda: risk_score(today=today))
    ids = list(
        Subscriber.objects.filter(status__in=SCORED_STATUSES)
        .order_by("pk")
        .values_list("pk", flat=True)[:: max(active // ONE_BY_ONE, 1)][:ONE_BY_ONE]
    )
    log(f"Churn risk: scoring {len(ids)} subscribers one at a time…")
    started = time.perf_counter()
    for pk in ids:
        risk_score(today=today, subscriber_ids=[pk])
    one_seconds = time.perf_counter() - started
    per_one = one_seconds / len(ids) if ids else 0.0
    results.risk = {
        "today": today.isoformat(),
        "active_subscribers": active,
        "chunk": CHUNK,
        "training": {
            **training,
            "version": model.version,
            "kind": model.kind,
            "rows_train": model.rows_train,
            "positives_train": model.positives_train,
            "rows_test": model.rows_test,
            "positives_test": model.positives_test,
            "auc": model.auc,
            "precision_top10": model.precision_top10,
            "rules_auc": model.rules_auc,
            "rules_precision_top10": model.rules_precision_top10,
        },
        "scoring": {
            **scoring,
            "scored": scored,
            "subscribers_per_second": round(scored / scoring["seconds"])
            if scoring["seconds"]
            else 0,
            "goal_seconds": GOAL_SECONDS,
        },
        "one_by_one": {
            "subscribers": len(ids),
            "seconds": round(one_seconds, 2),
            "ms_per_subscriber": round(per_one * 1000, 2),
            "extrapolated_seconds": round(per_one * active, 1),
        },
        "ratio_one_by_one_to_chunks": round(per_one * active / scoring["seconds"], 1)
        if scoring["seconds"]
        else None,
    }
    log("\n".join(risk_lines(results.risk)))


def _figure(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def risk_lines(risk: dict[str, Any]) -> list[str]:
    """The section's lines of the report."""
    if not risk:
        return []
    train, score, one = risk["training"], risk["scoring"], risk["one_by_one"]
    backend = score.get("backend_peak_rss_mib")
    return [
        f"churn training ({train['kind']} v{train['version']}): {train['seconds']:,.1f} s, "
        f"{train['rows_train']:,} rows ({train['positives_train']:,} asked to cancel), "
        f"{train['rows_test']:,} held out; process peak RSS "
        f"{train['process_peak_rss_mib']:,.0f} MiB (from {train['process_rss_before_mib']:,.0f}),"
        f" server backend peak RSS {train.get('backend_peak_rss_mib')} MiB; held-out AUC "
        f"{_figure(train['auc'])} against the rules' {_figure(train['rules_auc'])}, precision in "
        f"the top 10 % {_figure(train['precision_top10'])} against "
        f"{_figure(train['rules_precision_top10'])}",
        f"churn scoring: {score['scored']:,} active subscribers in {score['seconds']:,.1f} s "
        f"({score['subscribers_per_second']:,}/s, chunks of {risk['chunk']:,}; goal under "
        f"{score['goal_seconds']} s: x{score['seconds'] / score['goal_seconds']:.2f} of it); "
        f"process peak RSS {score['process_peak_rss_mib']:,.0f} MiB, server backend peak RSS "
        f"{backend} MiB",
        f"churn scoring one subscriber at a time over {one['subscribers']}: "
        f"{one['ms_per_subscriber']:.1f} ms each, {one['extrapolated_seconds']:,.0f} s for all, "
        f"x{risk['ratio_one_by_one_to_chunks']} the chunked run",
    ]
