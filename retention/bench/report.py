"""The benchmark's report: what was measured, as a table of figures and a line for each of the
other measurements, compared with the other scale's last run when there is one."""

from typing import Any

from retention.bench.fit import fit_lines
from retention.bench.pages import DEEP_PAGE
from retention.bench.results import Figure, Results, other_scale
from retention.bench.risk import risk_lines


def render(results: Results) -> str:
    width = max([28, *(len(f.name) for f in results.figures)])
    lines = _setting(results)
    lines += _table(results.figures, width)
    lines.append("")
    lines += _page_ratios(results)
    lines += _claims(results.claims)
    lines += _search(results)
    lines += _imports(results.imports)
    lines += _outreach(results.outreach)
    lines += _history(results.history)
    lines += _tables(results.tables)
    lines += _billing(results.billing)
    lines += fit_lines(results.fit)
    lines += risk_lines(results.risk)
    lines += results.notes
    lines += _against_other_scale(results, width)
    return "\n".join(lines)


def _setting(results: Results) -> list[str]:
    """What was measured: the data, the queue and the offers."""
    data, cases = results.data, results.cases
    lines = [
        f"Scale {results.scale.label}: {data.get('subscribers', 0):,} subscribers, "
        f"{data.get('events', 0):,} timeline events "
        f"(loaded in {data.get('load_seconds', 0):,.0f} s "
        f"at {data.get('rows_per_second', 0):,} rows/s"
        f"{', reused' if data.get('reused') else ''}).",
    ]
    if cases:
        seeding = cases.get("last_seeding") or {}
        created, seconds = seeding.get("created", 0), seeding.get("seconds", 0)
        how = (
            f"cases_seed opened {created:,} in {seconds:.1f} s"
            f" at {created / seconds if seconds else 0:,.0f} cases/s"
        )
        if cases.get("reused") or not cases.get("seeded"):
            how = f"reused; when seeded, {how}"
        if cases.get("opened_by_service"):
            how += "; one more through case_open, for a heavy subscriber"
        lines.append(f"Queue: {cases.get('open', 0):,} open cases ({how}).")
    if "pending_offers" in cases:
        lines.append(
            f"Offers: the bench agent's offer builder on {cases.get('builder_cases', 0):,} cases "
            f"in progress; {cases['pending_offers']:,} offers waiting for approval "
            f"({cases.get('proposed', 0):,} proposed this run), "
            f"{cases.get('inbox_items', 0):,} in the manager's inbox."
        )
    return lines


def _table(figures: list[Figure], width: int) -> list[str]:
    lines = ["", f"{'figure':<{width}} {'p50 ms':>9} {'p95 ms':>9} {'queries':>8}"]
    for f in figures:
        queries = (
            str(f.queries[0]) if f.queries[0] == f.queries[1] else f"{f.queries[0]}–{f.queries[1]}"
        )
        lines.append(f"{f.name:<{width}} {f.p50:>9.1f} {f.p95:>9.1f} {queries:>8}")
    return lines


def _page_ratios(results: Results) -> list[str]:
    """Deep pages against first pages. Every ratio divides two figures of the same run: a
    figure measured elsewhere, on another day or machine, is no yardstick (a fixed
    "django-helpdesk 2,800 ms" once printed x124 where the peer, measured the same day, made it
    about x54)."""
    by_name, cases, lines = {f.name: f for f in results.figures}, results.cases, []
    first = by_name.get("timeline, first page")
    deep = by_name.get(f"timeline, page ~{DEEP_PAGE}")
    if first and deep:
        lines.append(
            f"timeline deep page / first page: p50 ×{deep.p50 / first.p50:.2f}, "
            f"p95 ×{deep.p95 / first.p95:.2f}"
        )
    queue, queue_deep = by_name.get("queue, first page"), by_name.get("queue, deep page")
    if queue and queue_deep:
        lines.append(
            f"queue deep page (page {cases.get('deep_page', 0):,}, after row "
            f"{cases.get('deep_row', 0):,}) / first page: p50 ×{queue_deep.p50 / queue.p50:.2f}, "
            f"p95 ×{queue_deep.p95 / queue.p95:.2f}"
        )
    return lines


def _claims(c: dict[str, Any]) -> list[str]:
    if not c:
        return []
    return [
        f"claim next: {c['claims']:,} claims by {c['claimers']} concurrent claimers in "
        f"{c['seconds']:.1f} s ({c['claims_per_second']:,.0f} claims/s); "
        f"p50 {c['p50_ms']:.1f} ms, p95 {c['p95_ms']:.1f} ms, max {c['max_ms']:.1f} ms; "
        f"unique: {'yes' if c['unique'] else 'NO'}; owners as handed out: "
        f"{'yes' if c['owners_match'] else 'NO'}; {c['released']:,} released"
    ]


def _search(results: Results) -> list[str]:
    by_name = {f.name: f for f in results.figures}
    search, admin = by_name.get("search (htmx results)"), by_name.get("admin subscriber search")
    if not (search and admin):
        return []
    return [
        f"admin search / desk search: p50 ×{admin.p50 / search.p50:.2f}, "
        f"p95 ×{admin.p95 / search.p95:.2f}"
    ]


def _imports(i: dict[str, Any]) -> list[str]:
    if not i:
        return []
    lines = [
        f"import: {i['rows']:,} rows in {i['import_seconds']:.1f} s "
        f"({i['import_rows_per_second']:,} rows/s); raw COPY {i['copy_seconds']:.1f} s "
        f"({i['copy_rows_per_second']:,} rows/s); import / COPY ×{i['import_vs_copy']:.2f}"
    ]
    if "copy_unindexed_seconds" in i:
        lines.append(
            "  the same COPY into a table without indexes: "
            f"{i['copy_unindexed_seconds']:.1f} s "
            f"({i['copy_unindexed_rows_per_second']:,} rows/s)"
        )
    if u := i.get("usage"):
        lines.append(
            f"usage import: {u['rows']:,} rows in {u['import_seconds']:.1f} s "
            f"({u['import_rows_per_second']:,} rows/s, fits included); raw COPY "
            f"{u['copy_seconds']:.1f} s ({u['copy_rows_per_second']:,} rows/s); "
            f"import / COPY x{u['import_vs_copy']:.2f}"
        )
    return lines


def _outreach(outreach: dict[str, Any]) -> list[str]:
    lines = []
    fan_out, send, tick = outreach.get("fan_out"), outreach.get("send"), outreach.get("tick")
    if fan_out:
        lines.append(
            f"outreach fan-out: {fan_out['rows']:,} message rows for "
            f"{fan_out['active_subscribers']:,} active subscribers in {fan_out['seconds']:.1f} s "
            f"({fan_out['rows_per_second']:,} rows/s; {fan_out['chunks']} "
            f"chunk{'s' if fan_out['chunks'] != 1 else ''} of {fan_out['chunk_ids']:,} "
            "subscriber ids)"
        )
    if send:
        lines += _sending(send)
    if tick:
        lines.append(
            f"reminder tick: {tick['due']:,} due reminders delivered in one pass in "
            f"{tick['seconds']:.1f} s ({tick['reminders_per_second']:,} reminders/s, "
            f"{tick['notifications']:,} notifications); a tick with nothing due "
            f"{tick['idle_tick_ms']:.1f} ms"
        )
    return lines


def _sending(send: dict[str, Any]) -> list[str]:
    """The sending matrix, one row a run; two workers against one, both measured in this run
    (never against a figure from elsewhere)."""
    lines = [
        f"outreach sending by worker processes to local sinks ({send['chunk']} claimed at a "
        f"time, {send['lanes']} lanes a worker; e-mail over SMTP, SMS over https):",
        f"  {'channel':<7} {'sink':>6} {'workers':>7} {'messages':>8} {'sent':>6} {'s':>6} "
        f"{'msg/s':>7} {'sent/s':>7} {'2 ÷ 1':>6} {'q/msg':>6} {'conns':>6}",
    ]
    for run in send.get("runs", []):
        ratio = f"×{run['versus_one_worker']:.2f}" if "versus_one_worker" in run else ""
        channel = "e-mail" if run["channel"] == "email" else "SMS"
        lines.append(
            f"  {channel:<7} {run['latency_ms']:>3} ms {run['workers']:>7} "
            f"{run['claimed']:>8,} {run['sent']:>6,} {run['seconds']:>6.1f} "
            f"{run['messages_per_second']:>7,.0f} {run['sent_per_second']:>7,.0f} {ratio:>6} "
            f"{run['queries_per_message']:>6.3f} {run['connections']:>6,}"
        )
    if load := send.get("load_average"):
        lines.append(
            f"  machine: {send.get('cores')} cores, 1-minute load {load[0]:.1f} before the runs "
            f"and {load[-1]:.1f} after (workers, sinks and PostgreSQL share these cores)"
        )
    left = sum(run["skipped"] + run["deferred"] for run in send.get("runs", []))
    if left:
        lines.append(
            "  msg/s: messages claimed; sent/s: those sent (the others were skipped or deferred)"
        )
    return lines


def _billing(billing: dict[str, Any]) -> list[str]:
    lines = []
    accept, delivery = billing.get("accept"), billing.get("delivery")
    if accept:
        with_event, without = accept["with event"], accept["without event"]
        lines.append(
            f"accepting an offer: {with_event} queries with its billing event, {without} "
            f"without (+{with_event - without})"
        )
    if delivery:
        one, two = delivery["1_worker"], delivery["2_worker"]
        lines.append(
            f"billing events to the local receiver ({delivery['events']:,} events of "
            f"{delivery['subscribers']:,} subscribers, signed, in order per subscriber): "
            f"1 worker {one['events_per_second']:,.0f} events/s, 2 workers "
            f"{two['events_per_second']:,.0f} events/s (×{delivery['two_workers_ratio']:.2f})"
            f"{'' if one['all_once'] and two['all_once'] else '; NOT every event once'}"
        )
    return lines


def _tables(tables: dict[str, Any]) -> list[str]:
    """The queue's rows by hand against django-tables2: the cost the library would add."""
    return [
        f"queue rows ({role}, {t['cases']} per page, median of {t['repeats']}): by hand "
        f"{t['hand_ms']:,.1f} ms, django-tables2 {t['tables2_ms']:,.1f} ms, "
        f"+{t['difference_ms']:,.1f} ms a page ({t['ratio']}x)"
        for role, t in tables.items()
    ]


def _history(history: dict[str, Any]) -> list[str]:
    if not history:
        return []
    options, backfill = history.get("options", {}), history.get("backfill", {})
    reused = "reused; when written, " if history.get("reused") else ""
    written = history.get("written", history.get("cases", 0))
    made = (
        f"history_seed wrote {written:,} in {history.get('seconds', 0):,.1f} s "
        f"at {history.get('cases_per_second', 0):,} cases/s"
    )
    lines = [
        f"history: {history.get('cases', 0):,} closed cases over {options.get('days', 0)} days up "
        f"to {history.get('end')}, {options.get('agents', 0)} agents in "
        f"{options.get('teams', 0)} teams ({reused}{made})",
    ]
    if backfill:
        lines.append(
            f"figures backfill: {backfill['days']:,} days, {backfill['outcomes']:,} outcomes in "
            f"{backfill['seconds']:,.1f} s ({backfill['days_per_second']:,.2f} days/s, "
            f"{backfill['outcomes_per_second']:,} outcomes/s), {backfill['daily_figure_rows']:,} "
            f"daily figure rows, {backfill['days_recomputed']:,} earlier days computed again "
            f"for re-churn; loyalty snapshot {history.get('loyalty_ms', 0):,.0f} ms"
        )
    return lines + _history_more(history)


def _history_more(history: dict[str, Any]) -> list[str]:
    """The last top-up, the dashboard data's size, and the refresh's days."""
    lines = []
    for top_up in history.get("top_ups", [])[-1:]:
        lines.append(
            f"  last top-up: {top_up['cases']:,} cases for {top_up['days']} days, figures in "
            f"{top_up['backfill']['seconds']:,.1f} s"
        )
    sizes = history.get("sizes")
    if sizes:
        lines.append("dashboard data: " + ", ".join(f"{v:,} {k}" for k, v in sizes.items()))
    busiest = history.get("busiest_day")
    if busiest:
        lines.append(
            f"figures_refresh: today so far {history.get('today_closed', 0):,} outcomes; busiest "
            f"day {busiest['day']} with {busiest['closed']:,} closed cases"
        )
    return lines


def _against_other_scale(results: Results, width: int) -> list[str]:
    """Each figure and rate of the large scale against the small one's."""
    other = other_scale(results)
    if not other:
        return []
    mine = results.as_json()
    small, large = (mine, other) if results.scale.label == "quick" else (other, mine)
    s_n, l_n = small["scale"]["subscribers"], large["scale"]["subscribers"]
    lines = ["", f"large scale ({l_n:,}) / small scale ({s_n:,}), from {other['measured_at']}:"]
    for name, figure in large["figures"].items():
        base = small["figures"].get(name)
        if base:
            lines.append(
                f"  {name:<{width}} p50 ×{figure['p50_ms'] / base['p50_ms']:.2f}, "
                f"p95 ×{figure['p95_ms'] / base['p95_ms']:.2f}"
            )
    return lines + _rates_against(small, large, width)


def _rates_against(small: dict[str, Any], large: dict[str, Any], width: int) -> list[str]:
    rates = [
        ("claims/s", ("claims", "claims_per_second")),
        ("import rows/s", ("import", "import_rows_per_second")),
        ("outreach fan-out rows/s", ("outreach", "fan_out", "rows_per_second")),
        ("reminders/s", ("outreach", "tick", "reminders_per_second")),
        ("billing events/s, 2 workers", ("billing", "delivery", "2_worker", "events_per_second")),
        ("history cases/s", ("history", "cases_per_second")),
        ("figures backfill days/s", ("history", "backfill", "days_per_second")),
        ("figures backfill outcomes/s", ("history", "backfill", "outcomes_per_second")),
        ("tariff fit subscribers/s", ("fit", "subscribers_per_second")),
        ("churn scoring subscribers/s", ("risk", "scoring", "subscribers_per_second")),
    ]
    lines = []
    for label, path in rates:
        a, b = _dig(small, path), _dig(large, path)
        if a and b:
            lines.append(f"  {label:<{width}} ×{b / a:.2f}")
    return lines


def _dig(data: Any, path: tuple[str, ...]) -> float | None:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data if isinstance(data, int | float) else None
