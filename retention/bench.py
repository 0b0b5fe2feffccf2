"""The benchmark behind ``make bench``: server time and query counts of the pages that must stay
fast at a million subscribers, and import speed against a raw COPY (DESIGN.md section 7).

It runs against its own PostgreSQL database, never the one you work in:
``BENCH_DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/desk_bench``). The
``bench`` command re-runs itself with ``DATABASE_URL`` set to it, creating and migrating the
database when needed, so these are equivalent::

    make bench
    uv run python manage.py bench --scale full
    DATABASE_URL=$BENCH_DATABASE_URL TESTING=true uv run python manage.py bench

Data comes from seed_demo's loader and is reused while the database holds the same scale (the
options are recorded in a comment on the subscriber table); ``--reload`` loads afresh. Each
run's figures go to ``var/bench/<scale>.json``, and the table compares them with the other
scale's last run.

Times are measured in-process around ``django.test.Client.get`` with a logged-in agent: the
whole Django stack (middleware, session, view, template, SQL) without the network and WSGI
server in front.
"""

from __future__ import annotations

import csv
import json
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from retention.models import User
from retention.roles import Role
from subscribers.models import Equipment, Plan, Subscriber, TimelineEvent
from subscribers.seeding import (
    IMPORT_COLUMNS,
    SeedOptions,
    heavy_account_numbers,
    import_rows,
    load_demo,
    reset_demo_data,
)
from subscribers.selectors import Cursor, timeline_page

DEFAULT_BENCH_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/desk_bench"
RESULTS_DIR = settings.VAR_DIR / "bench"
SEED = 42
# Heavy accounts hold enough events for a page a thousand pages deep at either scale, so the
# deep-page figure measures the same depth at both.
HEAVY = 2
HEAVY_EVENTS = 60_000
DEEP_PAGE = 1000


@dataclass(frozen=True)
class Scale:
    label: str
    subscribers: int
    import_rows: int

    def seed_options(self) -> SeedOptions:
        return SeedOptions(
            subscribers=self.subscribers,
            seed=SEED,
            events_per_subscriber=20,
            heavy=HEAVY,
            heavy_events=HEAVY_EVENTS,
        )


SCALES = {
    "quick": Scale("quick", 20_000, 100_000),
    "full": Scale("full", 1_000_000, 1_000_000),
}


def scale_for(name: str, subscribers: int | None) -> Scale:
    scale = SCALES[name]
    if subscribers and subscribers != scale.subscribers:
        return Scale(f"{subscribers}-subscribers", subscribers, scale.import_rows)
    return scale


@dataclass
class Figure:
    name: str
    samples_ms: list[float]
    queries: tuple[int, int]  # fewest and most SQL queries seen for one request

    @property
    def p50(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.samples_ms, n=20, method="inclusive")[18]

    def as_json(self) -> dict[str, Any]:
        return {
            "p50_ms": round(self.p50, 2),
            "p95_ms": round(self.p95, 2),
            "queries": list(self.queries),
            "requests": len(self.samples_ms),
        }


@dataclass
class Results:
    scale: Scale
    data: dict[str, Any]  # what was loaded and how long it took
    figures: list[Figure] = field(default_factory=list)
    imports: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "scale": asdict(self.scale),
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "data": self.data,
            "figures": {f.name: f.as_json() for f in self.figures},
            "import": self.imports,
            "notes": self.notes,
        }


# --- Data ----------------------------------------------------------------------------------

_MARK = "seed_demo:"


def loaded_data() -> dict[str, Any] | None:
    """What seed_demo loaded into this database, as recorded by ``record_load``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT obj_description(%s::regclass, 'pg_class')", [Subscriber._meta.db_table]
        )
        row = cursor.fetchone()
    comment = row[0] if row else None
    if not comment or not comment.startswith(_MARK):
        return None
    recorded: dict[str, Any] = json.loads(comment.removeprefix(_MARK))
    return recorded


def record_load(info: dict[str, Any]) -> None:
    text = _MARK + json.dumps(info)
    table = connection.ops.quote_name(Subscriber._meta.db_table)
    with connection.cursor() as cursor:
        # COMMENT takes no parameters; the text is our own JSON, quoted by the server.
        cursor.execute("SELECT quote_literal(%s)", [text])
        (literal,) = cursor.fetchone() or ("''",)
        cursor.execute(f"COMMENT ON TABLE {table} IS {literal}")


def ensure_data(scale: Scale, *, reload: bool, log: Callable[[str], None]) -> dict[str, Any]:
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


def bench_users() -> tuple[User, User]:
    agent, _ = User.objects.get_or_create(
        username="bench-agent", defaults={"first_name": "Bench", "last_name": "Agent"}
    )
    agent.groups.add(Group.objects.get(name=Role.AGENT))
    admin, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    return agent, admin


# --- Requests ------------------------------------------------------------------------------


@dataclass
class Series:
    name: str
    client: Client
    urls: list[str]
    headers: dict[str, str] = field(default_factory=dict)


def measure(series: list[Series], *, warmup: int = 20) -> list[Figure]:
    """Time each GET, taking the series in turn request by request: this machine is shared and
    its speed drifts, and measured one after the other the figures (and ratios such as deep page
    to first page) would drift with it. Query counts come from separate requests, so capturing
    SQL does not add to the times."""
    for s in series:
        for url in s.urls[:warmup]:
            _get(s.client, url, s.headers)
    samples: dict[str, list[float]] = {s.name: [] for s in series}
    for n in range(max(len(s.urls) for s in series)):
        for s in series:
            if n < len(s.urls):
                start = time.perf_counter()
                _get(s.client, s.urls[n], s.headers)
                samples[s.name].append((time.perf_counter() - start) * 1000)
    figures = []
    for s in series:
        counts = []
        for url in s.urls[:: max(1, len(s.urls) // 10)]:
            with CaptureQueriesContext(connection) as captured:
                _get(s.client, url, s.headers)
            counts.append(len(captured))
        figures.append(Figure(s.name, samples[s.name], (min(counts), max(counts))))
    return figures


def _get(client: Client, url: str, headers: dict[str, str]) -> None:
    response = client.get(url, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")


def deep_cursors(subscriber_id: int, pages: Iterable[int], page_size: int) -> list[str]:
    """Cursors that open the given pages (1 is the first): the key of the last event on the page
    before, found with OFFSET here so that the request being timed does not need it."""
    cursors = []
    with connection.cursor() as cursor:
        for page in pages:
            cursor.execute(
                f"SELECT occurred_at, id FROM {TimelineEvent._meta.db_table} "
                "WHERE subscriber_id = %s ORDER BY occurred_at DESC, id DESC OFFSET %s LIMIT 1",
                [subscriber_id, (page - 1) * page_size - 1],
            )
            row = cursor.fetchone()
            if row is None:
                raise RuntimeError(f"subscriber {subscriber_id} has fewer than {page} pages")
            cursors.append(Cursor(occurred_at=row[0], id=row[1]).encode())
    return cursors


def search_terms(rng: random.Random, count: int) -> list[str]:
    """What agents type: parts of surnames, phones, e-mails and account numbers of real
    subscribers, and whole account numbers."""
    sample = list(
        Subscriber.objects.order_by("?").values_list("name", "phone", "email", "account_number")[
            :count
        ]
    )
    terms = []
    for n, (name, phone, email, account) in enumerate(sample):
        kind = n % 5
        if kind == 0:
            word = max(name.replace('"', "").split(), key=len)
            length = rng.randint(4, min(7, len(word)))
            terms.append(word[:length])
        elif kind == 1:
            terms.append(phone[-rng.randint(5, 8) :])
        elif kind == 2 and email:
            local = email.split("@")[0]
            terms.append(local[: rng.randint(5, max(5, min(10, len(local))))])
        elif kind == 3:
            terms.append(account)
        else:
            terms.append(account[: rng.randint(5, 7)])
    return terms


def measure_pages(results: Results, *, requests: int, log: Callable[[str], None]) -> None:
    rng = random.Random(SEED)
    agent, admin = bench_users()
    # The test client's default host, testserver, is not in ALLOWED_HOSTS outside tests.
    client = Client(SERVER_NAME="localhost")
    client.force_login(agent)
    admin_client = Client(SERVER_NAME="localhost")
    admin_client.force_login(admin)

    heavy = list(
        Subscriber.objects.filter(account_number__in=heavy_account_numbers(HEAVY))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    max_id = Subscriber.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    regular_ids = [rng.randint(HEAVY + 1, max_id) for _ in range(requests)]
    page_size = settings.TIMELINE_PAGE_SIZE

    log("Collecting cursors ~1000 pages deep and search terms…")
    # The cursor the selector hands out after page 1 must be the one computed here.
    check = timeline_page(subscriber=Subscriber.objects.get(pk=heavy[0]))
    assert check.next_cursor == deep_cursors(heavy[0], [2], page_size)[0]
    deep_pages = range(DEEP_PAGE - 10, DEEP_PAGE + 10)
    cursors = [(pk, c) for pk in heavy for c in deep_cursors(pk, deep_pages, page_size)]
    terms = search_terms(rng, requests)
    htmx = {"HX-Request": "true"}
    search_url = reverse("subscribers:search")
    admin_url = reverse("admin:subscribers_subscriber_changelist")
    series = [
        Series(
            "subscriber page",
            client,
            [reverse("subscribers:detail", args=[pk]) for pk in regular_ids],
        ),
        Series(
            "timeline, first page",
            client,
            [
                reverse("subscribers:timeline", args=[heavy[n % len(heavy)]])
                for n in range(requests)
            ],
            htmx,
        ),
        Series(
            f"timeline, page ~{DEEP_PAGE}",
            client,
            [
                f"{reverse('subscribers:timeline', args=[pk])}?after={cursor}"
                for pk, cursor in (cursors[n % len(cursors)] for n in range(requests))
            ],
            htmx,
        ),
        Series("search (htmx results)", client, [f"{search_url}?{_query(q)}" for q in terms], htmx),
        Series(
            "admin subscriber search", admin_client, [f"{admin_url}?{_query(q)}" for q in terms]
        ),
    ]
    log(f"Measuring {len(series)} figures, {requests} requests each, interleaved…")
    results.figures.extend(measure(series))


def _query(term: str) -> str:
    return urlencode({"q": term})


# --- Import --------------------------------------------------------------------------------


def _delete_imported() -> None:
    """Remove the benchmark's imported subscribers (accounts B…) and anything hung on them."""
    subscribers = Subscriber._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        ids = f"SELECT id FROM {subscribers} WHERE account_number LIKE 'B%%'"
        cursor.execute(f"DELETE FROM {TimelineEvent._meta.db_table} WHERE subscriber_id IN ({ids})")
        cursor.execute(f"DELETE FROM {Equipment._meta.db_table} WHERE subscriber_id IN ({ids})")
        cursor.execute(f"DELETE FROM {subscribers} WHERE account_number LIKE 'B%%'")
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {subscribers}")


def measure_import(results: Results, *, log: Callable[[str], None]) -> None:
    try:
        from subscribers.importing import import_subscribers_csv
    except ImportError as exc:
        note = f"Import not measured: subscribers.importing is not available ({exc})."
        log(note)
        results.notes.append(note)
        return
    rows = results.scale.import_rows
    plan_ids = dict(Plan.objects.values_list("code", "id"))
    _delete_imported()  # left over from an interrupted run
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "subscribers.csv"
        log(f"Writing {rows:,} new subscribers to a CSV file…")
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(IMPORT_COLUMNS)
            writer.writerows(import_rows(rows, seed=SEED + 1))
        log("Importing it with import_subscribers_csv…")
        start = time.perf_counter()
        report = import_subscribers_csv(file=path, skip_invalid=False)
        import_seconds = time.perf_counter() - start
        if report.error_count or report.created != rows:
            raise RuntimeError(f"the benchmark file did not import cleanly: {report}")
        _delete_imported()

        log("Loading the same rows with a raw COPY…")
        copy_file = Path(tmp) / "subscribers.copy"
        _write_copy_text(path, copy_file, plan_ids)
        copy_seconds = _raw_copy(copy_file)
        _delete_imported()
        # The same COPY into a table without the subscriber table's indexes: how much of the
        # cost is index maintenance (the four trigram GIN indexes above all).
        bare_seconds = _raw_copy(copy_file, bare=True)
    results.imports = {
        "rows": rows,
        "import_seconds": round(import_seconds, 2),
        "import_rows_per_second": round(rows / import_seconds),
        "copy_seconds": round(copy_seconds, 2),
        "copy_rows_per_second": round(rows / copy_seconds),
        "import_vs_copy": round(import_seconds / copy_seconds, 2),
        "copy_unindexed_seconds": round(bare_seconds, 2),
        "copy_unindexed_rows_per_second": round(rows / bare_seconds),
    }


_RAW_COLUMNS = (
    "account_number", "name", "plan_id", "monthly_price", "signup_date", "region", "phone",
    "email", "language", "time_zone", "segment", "status", "promo_ends_on", "payment_method",
    "balance", "arrears", "do_not_call", "do_not_email", "do_not_sms", "churn_risk",
    "churn_risk_reasons", "updated_at",
)  # fmt: skip


def _write_copy_text(source: Path, target: Path, plan_ids: dict[str, int]) -> None:
    """The CSV rows as COPY text with the model's defaults filled in: the work a raw COPY
    leaves out, done before the clock starts."""
    now = datetime.now(UTC).isoformat()
    with (
        source.open(encoding="utf-8", newline="") as src,
        target.open("w", encoding="utf-8") as out,
    ):
        reader = csv.reader(src)
        next(reader)
        for row in reader:
            row[2] = str(plan_ids[row[2]])
            out.write("\t".join(row) + f"\t0.00\t0.00\tf\tf\tf\t0\t[]\t{now}\n")


def _raw_copy(path: Path, *, bare: bool = False) -> float:
    """Seconds to COPY the file into the subscriber table, or with ``bare`` into a fresh table
    shaped like it but without indexes (dropped again afterwards)."""
    table = connection.ops.quote_name(Subscriber._meta.db_table)
    columns = ", ".join(map(connection.ops.quote_name, _RAW_COLUMNS))
    with transaction.atomic(), connection.cursor() as wrapper:
        if bare:
            wrapper.execute(
                f"CREATE TABLE bench_copy_floor (LIKE {table} INCLUDING DEFAULTS "
                "INCLUDING IDENTITY)"
            )
            table = "bench_copy_floor"
        start = time.perf_counter()
        with (
            wrapper.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            path.open(encoding="utf-8") as text,
        ):
            while chunk := text.read(1 << 20):
                copy.write(chunk)
        seconds = time.perf_counter() - start
        if bare:
            wrapper.execute("DROP TABLE bench_copy_floor")
    return seconds


# --- Report --------------------------------------------------------------------------------


def save(results: Results) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{results.scale.label}.json"
    path.write_text(json.dumps(results.as_json(), indent=2, ensure_ascii=False) + "\n")
    return path


def other_scale(results: Results) -> dict[str, Any] | None:
    other = "full" if results.scale.label == "quick" else "quick"
    path = RESULTS_DIR / f"{other}.json"
    if not path.exists():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def render(results: Results) -> str:
    data = results.data
    lines = [
        f"Scale {results.scale.label}: {data.get('subscribers', 0):,} subscribers, "
        f"{data.get('events', 0):,} timeline events "
        f"(loaded in {data.get('load_seconds', 0):,.0f} s "
        f"at {data.get('rows_per_second', 0):,} rows/s"
        f"{', reused' if data.get('reused') else ''}).",
        "",
        f"{'figure':<28} {'p50 ms':>9} {'p95 ms':>9} {'queries':>8}",
    ]
    for f in results.figures:
        queries = (
            str(f.queries[0]) if f.queries[0] == f.queries[1] else f"{f.queries[0]}–{f.queries[1]}"
        )
        lines.append(f"{f.name:<28} {f.p50:>9.1f} {f.p95:>9.1f} {queries:>8}")
    by_name = {f.name: f for f in results.figures}
    first = by_name.get("timeline, first page")
    deep = by_name.get(f"timeline, page ~{DEEP_PAGE}")
    lines.append("")
    if first and deep:
        lines.append(
            f"deep page / first page: p50 ×{deep.p50 / first.p50:.2f}, "
            f"p95 ×{deep.p95 / first.p95:.2f}"
        )
    search, admin = by_name.get("search (htmx results)"), by_name.get("admin subscriber search")
    if search and admin:
        lines.append(
            f"admin search / desk search: p50 ×{admin.p50 / search.p50:.2f}, "
            f"p95 ×{admin.p95 / search.p95:.2f}"
        )
    if results.imports:
        i = results.imports
        lines.append(
            f"import: {i['rows']:,} rows in {i['import_seconds']:.1f} s "
            f"({i['import_rows_per_second']:,} rows/s); raw COPY {i['copy_seconds']:.1f} s "
            f"({i['copy_rows_per_second']:,} rows/s); import / COPY ×{i['import_vs_copy']:.2f}"
        )
        if "copy_unindexed_seconds" in i:
            lines.append(
                "  the same COPY into a table without indexes: "
                f"{i['copy_unindexed_seconds']:.1f} s "
                f"({i['copy_unindexed_rows_per_second']:,} rows/s)"
            )
    lines.extend(results.notes)
    other = other_scale(results)
    if other:
        mine = results.as_json()
        small, large = (mine, other) if results.scale.label == "quick" else (other, mine)
        s_n, l_n = small["scale"]["subscribers"], large["scale"]["subscribers"]
        lines += [
            "",
            f"large scale ({l_n:,}) / small scale ({s_n:,}), from {other['measured_at']}:",
        ]
        for name, figure in large["figures"].items():
            base = small["figures"].get(name)
            if base:
                lines.append(
                    f"  {name:<26} p50 ×{figure['p50_ms'] / base['p50_ms']:.2f}, "
                    f"p95 ×{figure['p95_ms'] / base['p95_ms']:.2f}"
                )
        if small.get("import") and large.get("import"):
            ratio = (
                large["import"]["import_rows_per_second"]
                / small["import"]["import_rows_per_second"]
            )
            lines.append(f"  {'import rows/s':<26} ×{ratio:.2f}")
    return "\n".join(lines)
