"""The nightly tariff fit at the bench's scale: ``fits_compute`` over every subscriber, twelve
usage months each, against every plan, set-based in SQL; and the same rules run the
straightforward way (a Python loop: the subscriber, their usage months, ``fit_explain``) over a
sample, extrapolated per subscriber, in the same run. The loop's fits must equal the SQL's.

Memory is read twice: the peak RSS of this process while the SQL runs (sampled; the work is
the server's), and the peak RSS of the server backend that ran it (a fresh connection, so its
high-water mark is this run's). Temp file bytes are PostgreSQL's own count for the database
(``pg_stat_database.temp_bytes``), before and after.
"""

import os
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

from django.db import connection

from retention.bench.results import Log, Results
from retention.demo.units import add_months
from subscribers.fit import CHUNK, FIT_STATUSES, FitResult, fit_explain, fits_compute, usage_months
from subscribers.models import Plan, Subscriber, TariffFit, Usage

SAMPLE = 5_000
_PAGE = os.sysconf("SC_PAGE_SIZE")


def measure_fit(results: Results, *, requests: int, log: Log) -> None:
    del requests  # one nightly run is the measurement
    usage_rows = Usage.objects.count()
    last = Usage.objects.order_by("-period").values_list("period", flat=True).first()
    if last is None:
        results.note("tariff fit: no usage loaded; not measured.", log)
        return
    # The month after the last one loaded: the window is the loaded twelve, whenever the data
    # was loaded.
    today = add_months(last, 1).replace(day=1)
    subscribers = Subscriber.objects.count()
    log(
        f"Tariff fit: fits_compute over {subscribers:,} subscribers, {usage_rows:,} usage "
        f"months, {Plan.objects.count()} plans…"
    )
    connection.close()  # a fresh backend: its peak memory is this run's
    backend = _backend_pid()
    temp_before = _temp_stats()
    with _PeakRss(os.getpid()) as peak:
        started = time.perf_counter()
        written = fits_compute(today=today)
        seconds = time.perf_counter() - started
    temp_after = _temp_stats()
    backend_peak = _peak_kib(backend)
    verdicts = _verdicts()
    loop = _python_loop(today, min(SAMPLE, subscribers), log)
    per_loop = loop["seconds"] / loop["subscribers"] if loop["subscribers"] else 0.0
    loop_total = per_loop * subscribers
    results.fit = {
        "today": today.isoformat(),
        "subscribers": subscribers,
        "usage_months": usage_rows,
        "plans": Plan.objects.count(),
        "fits": written,
        "chunk": CHUNK,
        "seconds": round(seconds, 2),
        "subscribers_per_second": round(subscribers / seconds) if seconds else 0,
        "process_peak_rss_mib": round(peak.peak_kib / 1024, 1),
        "process_rss_before_mib": round(peak.start_kib / 1024, 1),
        "backend_peak_rss_mib": round(backend_peak / 1024, 1) if backend_peak else None,
        "temp_bytes": temp_after[0] - temp_before[0] if temp_after and temp_before else None,
        "temp_files": temp_after[1] - temp_before[1] if temp_after and temp_before else None,
        "verdicts": verdicts,
        "python_loop": {
            **loop,
            "ms_per_subscriber": round(per_loop * 1000, 3),
            "extrapolated_seconds": round(loop_total, 1),
        },
        "ratio_python_to_sql": round(loop_total / seconds, 1) if seconds else None,
    }
    log("\n".join(fit_lines(results.fit)))


def _verdicts() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT verdict, COUNT(*) FROM {TariffFit._meta.db_table} GROUP BY 1 ORDER BY 2 DESC"
        )
        return dict(cursor.fetchall())


def _python_loop(today: date, sample: int, log: Log) -> dict[str, Any]:
    """Every k-th subscriber, one by one: the subscriber with their plan, their usage months,
    fit_explain against the catalogue (loaded once). Then the same subscribers' stored fits,
    compared."""
    ids = list(Subscriber.objects.order_by("pk").values_list("pk", flat=True))
    step = max(len(ids) // max(sample, 1), 1)
    picked = ids[::step][:sample]
    log(f"Tariff fit: the Python loop over {len(picked):,} subscribers…")
    plans = list(Plan.objects.all())
    explained: dict[int, FitResult | None] = {}
    started = time.perf_counter()
    for pk in picked:
        subscriber = Subscriber.objects.select_related("plan").get(pk=pk)
        explained[pk] = (
            fit_explain(subscriber, usage_months(pk, today), plans)
            if subscriber.status in FIT_STATUSES
            else None
        )
    seconds = time.perf_counter() - started
    stored = TariffFit.objects.in_bulk(picked)
    mismatches = [pk for pk in picked if not _same(explained[pk], stored.get(pk))]
    return {
        "subscribers": len(picked),
        "seconds": round(seconds, 2),
        "fits": sum(1 for r in explained.values() if r is not None),
        "mismatches": len(mismatches),
        "mismatched_ids": mismatches[:10],
    }


def _same(result: FitResult | None, fit: TariffFit | None) -> bool:
    if result is None or fit is None:
        return result is None and fit is None
    return (
        result.months == fit.months
        and result.verdict == fit.verdict
        and result.best.plan.pk == fit.best_plan_id
        and result.current_cost == fit.current_cost
        and result.best.cost == fit.best_cost
        and result.saving == fit.saving
    )


def fit_lines(fit: dict[str, Any]) -> list[str]:
    """The section's lines of the report."""
    if not fit:
        return []
    loop = fit["python_loop"]
    temp = fit.get("temp_bytes")
    temp_text = (
        f"{temp / 2**20:,.0f} MiB in {fit.get('temp_files', 0):,} temp files"
        if temp is not None
        else "temp bytes not readable"
    )
    backend = fit.get("backend_peak_rss_mib")
    backend_text = f"{backend:,.0f} MiB" if backend is not None else "not readable"
    mismatched = f" ({loop['mismatched_ids']})" if loop["mismatches"] else ""
    total = sum(fit["verdicts"].values()) or 1
    spread = ", ".join(
        f"{verdict} {count:,} ({100 * count / total:.1f}%)"
        for verdict, count in fit["verdicts"].items()
    )
    return [
        f"tariff fit: fits_compute over {fit['subscribers']:,} subscribers x "
        f"{fit['usage_months']:,} usage months x {fit['plans']} plans in {fit['seconds']:,.1f} s "
        f"({fit['subscribers_per_second']:,} subscribers/s, chunks of {fit['chunk']:,}); "
        f"{fit['fits']:,} fits; process peak RSS {fit['process_peak_rss_mib']:,.0f} MiB "
        f"(from {fit['process_rss_before_mib']:,.0f}), server backend peak RSS "
        f"{backend_text}; {temp_text}",
        f"tariff fit, Python loop (fit_explain per subscriber) over {loop['subscribers']:,}: "
        f"{loop['ms_per_subscriber']:.2f} ms a subscriber, {loop['extrapolated_seconds']:,.0f} s "
        f"for all, x{fit['ratio_python_to_sql']} the SQL; mismatches with the SQL: "
        f"{loop['mismatches']}{mismatched}",
        f"tariff fit verdicts: {spread}",
    ]


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    return int(pid)


def _temp_stats() -> tuple[int, int] | None:
    """(temp bytes, temp files) PostgreSQL counted for this database so far."""
    with connection.cursor() as cursor:
        # Statistics are read once per transaction and flushed by backends a little after
        # their transactions end: a fresh snapshot, after a pause.
        time.sleep(1.2)
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT temp_bytes, temp_files FROM pg_stat_database WHERE datname = current_database()"
        )
        row = cursor.fetchone()
    return (int(row[0]), int(row[1])) if row else None


def _peak_kib(pid: int) -> int | None:
    """A process's peak resident memory (VmHWM), when it runs on this machine and we may read
    it."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _rss_kib(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE // 1024


class _PeakRss:
    """The highest resident memory of a process while the block runs, sampled every 50 ms."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.start_kib = self.peak_kib = _rss_kib(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak_kib = max(self.peak_kib, _rss_kib(self.pid))

    def __enter__(self) -> "_PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kib = max(self.peak_kib, _rss_kib(self.pid))
