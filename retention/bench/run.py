"""The benchmark behind ``make bench``: server time and query counts of the pages that must stay
fast at a million subscribers and a hundred thousand open cases, claim-next latency under
concurrent claimers, and import speed against a raw COPY (DESIGN.md section 7).

It runs against its own PostgreSQL database, never the one you work in:
``BENCH_DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/desk_bench``). The
``bench`` command re-runs itself with ``DATABASE_URL`` set to it, creating and migrating the
database when needed, so these are equivalent::

    make bench
    uv run python manage.py bench --scale full
    DATABASE_URL=$BENCH_DATABASE_URL TESTING=true uv run python manage.py bench

Data comes from seed_demo's loader and is reused while the database holds the same scale (the
options are recorded in a comment on the subscriber table); ``--reload`` loads afresh. The
scale's open cases come from ``cases_seed`` and are reused too: a run only tops up what is
missing and puts claimed seed cases back in the queue, so every run measures the same queue.
The bench agent's own cases are the exception, kept from run to run and topped up through the
services: cases in progress for the offer builder, and cases with an offer waiting for a
manager, the approvals inbox's backlog.
Each run's figures go to ``var/bench/<scale>.json``, and the table compares them with the other
scale's last run. Quick and full scale share the database by default, so running one after the
other reloads it; give each its own ``BENCH_DATABASE_URL`` to keep both.

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
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from itertools import cycle, islice
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models import QuerySet
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from offers.authority import Authority, authority_for, conceded_within_year
from offers.exceptions import InvalidTerms, OutsideAuthority
from offers.models import CounterOffer, OfferHistory, OfferKind, OfferTemplate
from offers.pricing import Terms, offer_cost, terms_validate
from offers.selectors import template_eligible
from retention.cases.opening import Intake, case_open
from retention.cases.selectors import QUEUE_ORDER, QueueCursor, cases_open, queue_page
from retention.cases.services import case_claim, case_claim_next, case_release
from retention.core.refusals import WrongState
from retention.core.roles import Role, user_roles
from retention.dashboard.figures import (
    desk_today,
    figures_refresh,
    figures_refresh_range,
    loyalty_snapshot_take,
)
from retention.demo.cases import HISTORY_SOURCE, cases_seed, history_seed
from retention.demo.offers import offer_catalogue_defaults, offer_catalogue_for_plans
from retention.demo.subscribers import (
    IMPORT_COLUMNS,
    SeedOptions,
    heavy_account_numbers,
    import_rows,
    load_demo,
    reset_demo_data,
)
from retention.models import (
    CancellationCase,
    CancellationReason,
    CaseHistory,
    CaseOutcome,
    ContactAttempt,
    DailyFigure,
    LoyaltySnapshot,
    Notification,
    OutreachCampaign,
    OutreachMessage,
    Reminder,
    Team,
    User,
)
from retention.notifications.reminders import reminders_tick
from retention.outreach.services import (
    FAN_OUT_CHUNK,
    SendResult,
    campaign_create,
    campaign_fan_out,
    campaign_matching,
    outreach_send,
)
from retention.saves.selectors import approvals_inbox
from retention.saves.services import case_offer_propose
from subscribers.models import ContactChannel, Equipment, Plan, Subscriber, TimelineEvent
from subscribers.selectors import Cursor, timeline_page

DEFAULT_BENCH_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/desk_bench"
RESULTS_DIR = settings.VAR_DIR / "bench"
SEED = 42
# Heavy accounts hold enough events for a page a thousand pages deep at either scale, so the
# deep-page figure measures the same depth at both.
HEAVY = 2
HEAVY_EVENTS = 60_000
DEEP_PAGE = 1000
# The deep queue page starts after this row in queue order (page ~1000 at 50 a page), or half
# way down a queue too short for it (quick scale).
QUEUE_DEEP_ROW = 50_000
SEED_SOURCE = "seed"  # what cases_seed writes in CancellationCase.source
# Claim next: this many agents at once, each claiming up to CLAIMS_EACH cases, for at most
# CLAIM_SECONDS.
CLAIMERS = 20
CLAIMS_EACH = 50
CLAIM_SECONDS = 60.0
# The figure for django-helpdesk's ticket list at 100,000 tickets on this machine.
HELPDESK_MS, HELPDESK_QUERIES, HELPDESK_TICKETS = 2800, 65, 100_000
CLAIM_FIGURE = f"claim next, {CLAIMERS} claimers"
CLAIM_ALONE_FIGURE = "claim next, 1 claimer"
BENCH_AGENT = "bench-agent"
# Counter-offers: the bench agent holds this many claimed cases for the offer builder (only the
# owner of a case in progress sees it) and keeps this many offers waiting for a manager, whose
# inbox shows the oldest INBOX_SIZE (25).
BUILDER_CASES = 200
PENDING_OFFERS = 200
# Catalogue offers the bench agent proposes, in this order of preference: beyond an agent's
# authority (so they wait) and, for most subscribers, within a manager's (so the inbox has them).
PENDING_TEMPLATES = ("discount-30-12", "free-month")


@dataclass(frozen=True)
class Scale:
    label: str
    subscribers: int
    import_rows: int
    cases: int  # open cases in the queue
    # The desk's past for the dashboard: closed cases a day over HISTORY_DAYS, by this many
    # agents in this many teams.
    history_per_day: int = 0
    history_agents: int = 1
    history_teams: int = 1

    def seed_options(self) -> SeedOptions:
        return SeedOptions(
            subscribers=self.subscribers,
            seed=SEED,
            events_per_subscriber=20,
            heavy=HEAVY,
            heavy_events=HEAVY_EVENTS,
        )


SCALES = {
    # ~30,000 and ~1,500,000 closed cases: 2,050 a day is the design's 2,000 new cases a day.
    "quick": Scale("quick", 20_000, 100_000, 5_000, 41, 20, 3),
    "full": Scale("full", 1_000_000, 1_000_000, 100_000, 2_050, 200, 12),
}


def scale_for(name: str, subscribers: int | None) -> Scale:
    scale = SCALES[name]
    if subscribers and subscribers != scale.subscribers:
        # A quarter of the subscribers at most: cases_seed needs active ones without a case.
        cases = min(scale.cases, subscribers // 4)
        per_day = max(scale.history_per_day * subscribers // scale.subscribers, 1)
        return Scale(
            f"{subscribers}-subscribers",
            subscribers,
            scale.import_rows,
            cases,
            per_day,
            scale.history_agents,
            scale.history_teams,
        )
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
    cases: dict[str, Any] = field(default_factory=dict)  # the queue measured, how it was seeded
    figures: list[Figure] = field(default_factory=list)
    claims: dict[str, Any] = field(default_factory=dict)
    imports: dict[str, Any] = field(default_factory=dict)
    outreach: dict[str, Any] = field(default_factory=dict)
    history: dict[str, Any] = field(default_factory=dict)  # the dashboard's data, how it was made
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "scale": asdict(self.scale),
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "data": self.data,
            "cases": self.cases,
            "figures": {f.name: f.as_json() for f in self.figures},
            "claims": self.claims,
            "import": self.imports,
            "outreach": self.outreach,
            "history": self.history,
            "notes": self.notes,
        }


# --- Data ----------------------------------------------------------------------------------

_MARK = "seed_demo:"
_CASES_MARK = "cases_seed:"


def loaded_data() -> dict[str, Any] | None:
    """What seed_demo loaded into this database, as recorded by ``record_load``."""
    return _table_note(Subscriber._meta.db_table, _MARK)


def record_load(info: dict[str, Any]) -> None:
    _set_table_note(Subscriber._meta.db_table, _MARK, info)


def _table_note(table: str, mark: str) -> dict[str, Any] | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT obj_description(%s::regclass, 'pg_class')", [table])
        row = cursor.fetchone()
    comment = row[0] if row else None
    if not comment or not comment.startswith(mark):
        return None
    recorded: dict[str, Any] = json.loads(comment.removeprefix(mark))
    return recorded


def _set_table_note(table: str, mark: str, info: dict[str, Any]) -> None:
    text = mark + json.dumps(info)
    with connection.cursor() as cursor:
        # COMMENT takes no parameters; the text is our own JSON, quoted by the server.
        cursor.execute("SELECT quote_literal(%s)", [text])
        (literal,) = cursor.fetchone() or ("''",)
        cursor.execute(f"COMMENT ON TABLE {connection.ops.quote_name(table)} IS {literal}")


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
        username=BENCH_AGENT, defaults={"first_name": "Bench", "last_name": "Agent"}
    )
    agent.groups.add(Group.objects.get(name=Role.AGENT))
    admin, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    return agent, admin


def bench_manager() -> User:
    """A manager for the approvals inbox, in the Manager group (and so the Manager tier)."""
    manager, _ = User.objects.get_or_create(
        username="bench-manager", defaults={"first_name": "Bench", "last_name": "Manager"}
    )
    manager.groups.add(Group.objects.get(name=Role.MANAGER))
    return manager


def bench_claimers(count: int) -> list[User]:
    """Distinct agents for the concurrent claimers, in the Agent group."""
    group = Group.objects.get(name=Role.AGENT)
    agents = []
    for n in range(1, count + 1):
        agent, _ = User.objects.get_or_create(
            username=f"bench-claimer-{n:02d}",
            defaults={"first_name": "Claimer", "last_name": f"{n:02d}"},
        )
        agents.append(agent)
    group.user_set.add(*agents)
    return agents


# --- Cases ---------------------------------------------------------------------------------


def seed_cases_release() -> int:
    """Put seed cases that claims took (this benchmark's, an interrupted run's) back in the
    queue, unclaimed: one UPDATE, so every run measures the same queue. Their history keeps
    the claims. The bench agent's cases stay theirs: they are the offer builder's (see
    ensure_builder_cases), kept from run to run."""
    return (
        CancellationCase.objects.filter(
            source=SEED_SOURCE, status=CancellationCase.Status.IN_PROGRESS, owner__isnull=False
        )
        .exclude(owner__username=BENCH_AGENT)
        .update(owner=None, claimed_at=None, status=CancellationCase.Status.NEW)
    )


def ensure_cases(scale: Scale, *, log: Callable[[str], None]) -> dict[str, Any]:
    """Make the queue hold the scale's open cases, opening only what is missing.

    The first heavy subscriber always has one, opened through the intake service if
    cases_seed passed them over, so the case page can be measured with a long timeline.
    """
    released = seed_cases_release()
    if released:
        log(f"Released {released:,} claimed seed cases back to the queue.")
    heavy = list(
        Subscriber.objects.filter(account_number__in=heavy_account_numbers(HEAVY))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    opened = 0
    if not cases_open().filter(subscriber_id__in=heavy).exists():
        case_open(
            subscriber=Subscriber.objects.get(pk=heavy[0]),
            intake=Intake(channel=CancellationCase.Channel.WEB, source=SEED_SOURCE),
            actor=None,
        )
        opened = 1
    missing = scale.cases - cases_open().filter(source=SEED_SOURCE).count()
    table = CancellationCase._meta.db_table
    created = 0
    if missing > 0:
        log(f"Opening {missing:,} cases with cases_seed…")
        start = time.perf_counter()
        created = cases_seed(count=missing, seed=SEED)
        seconds = time.perf_counter() - start
        if created < missing:
            raise RuntimeError(f"cases_seed opened {created:,} of {missing:,} cases")
        log(f"  {created:,} cases opened in {seconds:.1f} s ({created / seconds:,.0f} cases/s).")
        _set_table_note(
            table,
            _CASES_MARK,
            {
                "created": created,
                "seconds": round(seconds, 1),
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        )
        tables = [table, CaseHistory._meta.db_table, TimelineEvent._meta.db_table]
    else:
        tables = [table]
    # VACUUM cannot run in a transaction. After the claims' UPDATEs of earlier runs it clears
    # the dead rows, after seeding it sets the visibility map; ANALYZE gives the planner the
    # queue's real size.
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {', '.join(map(connection.ops.quote_name, tables))}")
    total = cases_open().count()
    seeding = _table_note(table, _CASES_MARK) or {}
    if missing <= 0:
        log(
            f"Reusing the queue's {total:,} open cases "
            f"({seeding.get('created', 0):,} opened by cases_seed in "
            f"{seeding.get('seconds', 0):.0f} s when seeded)."
        )
    return {
        "open": total,
        "seeded": created,
        "opened_by_service": opened,
        "released": released,
        "reused": not created and not opened,
        "last_seeding": seeding,
    }


# --- Counter-offers ------------------------------------------------------------------------


def ensure_catalogue(*, log: Callable[[str], None]) -> None:
    """The authority tiers and offer catalogue as ``make run`` has them (loading the data
    empties the catalogue; see offers.seeding); both steps only add what is missing."""
    added = offer_catalogue_defaults() + sum(s.created for s in offer_catalogue_for_plans())
    if added:
        log(f"Restored {added:,} offers to the catalogue (the data load had emptied it).")


def _offer_candidates(today: date) -> QuerySet[CancellationCase]:
    """Unclaimed seed cases of active subscribers with a day left before the process-by date
    (an offer must be settled by then), heavy subscribers left to their own figure."""
    heavy = Subscriber.objects.filter(account_number__in=heavy_account_numbers(HEAVY))
    return (
        cases_open()
        .filter(
            source=SEED_SOURCE,
            status=CancellationCase.Status.NEW,
            owner__isnull=True,
            process_by__gt=today,
            subscriber__status=Subscriber.Status.ACTIVE,
        )
        .exclude(subscriber_id__in=heavy.values("pk"))
    )


def ensure_builder_cases(agent: User, *, log: Callable[[str], None]) -> list[int]:
    """BUILDER_CASES open cases in progress owned by the bench agent, whose case page shows the
    offer builder (eligibility, cost, authority): those of earlier runs, topped up by claiming
    unclaimed seed cases through case_claim."""
    owned = cases_open().filter(owner=agent, status=CancellationCase.Status.IN_PROGRESS)
    missing = BUILDER_CASES - owned.count()
    if missing > 0:
        log(f"Claiming {missing:,} cases for the bench agent's offer builder…")
        start = time.perf_counter()
        for case in _offer_candidates(timezone.localdate()).order_by("?")[:missing]:
            case_claim(case=case, actor=agent)
        log(f"  claimed in {time.perf_counter() - start:.1f} s.")
    cases = list(owned.order_by("pk").values_list("pk", flat=True)[:BUILDER_CASES])
    if missing <= 0:
        log(f"Reusing the bench agent's {len(cases):,} cases in progress for the offer builder.")
    return cases


def _waits_for_manager(
    template: OfferTemplate,
    case: CancellationCase,
    *,
    today: date,
    agent: Authority,
    manager: Authority,
) -> bool:
    """Whether the subscriber is eligible for the template and its cost is beyond the agent's
    authority (so the offer waits) but within the manager's (so their inbox shows it)."""
    subscriber = case.subscriber
    reason = case.reason.category if case.reason else ""
    if not template_eligible(
        template=template, subscriber=subscriber, reason_category=reason, today=today
    ):
        return False
    terms = Terms.of(template)
    try:
        terms_validate(terms, subscriber)
    except InvalidTerms:
        return False
    cost = offer_cost(terms=terms, subscriber=subscriber)
    figures = {
        "monthly": cost.monthly,
        "total": cost.total,
        "cumulative": conceded_within_year(subscriber_id=subscriber.pk) + cost.total,
    }
    return not agent.covers(**figures) and manager.covers(**figures)


def ensure_pending_offers(
    agent: User, manager: User, *, log: Callable[[str], None]
) -> dict[str, Any]:
    """A backlog of PENDING_OFFERS offers waiting for approval, proposed by the bench agent on
    cases they claim (case_claim, case_offer_propose) from the PENDING_TEMPLATES, for
    subscribers eligible for one whose cost only a manager may approve. Offers still pending
    from earlier runs count; only what is missing is proposed."""
    pending = CounterOffer.objects.filter(status=CounterOffer.Status.PENDING, proposer=agent)
    missing = PENDING_OFFERS - pending.count()
    proposed = skipped = 0
    if missing > 0:
        log(f"Proposing {missing:,} offers beyond an agent's authority, for the approvals inbox…")
        start = time.perf_counter()
        templates = list(
            OfferTemplate.objects.filter(code__in=PENDING_TEMPLATES, is_active=True).select_related(
                "new_plan"
            )
        )
        templates.sort(key=lambda t: PENDING_TEMPLATES.index(t.code))
        if not templates:
            raise RuntimeError(f"none of the offers {', '.join(PENDING_TEMPLATES)} is active")
        today = timezone.localdate()
        authorities = {"agent": authority_for(agent), "manager": authority_for(manager)}
        # Several candidates for each offer missing: not every subscriber is eligible.
        candidates = (
            _offer_candidates(today)
            .select_related("subscriber", "subscriber__plan", "reason")
            .order_by("?")[: missing * 5]
        )
        for case in candidates:
            template = next(
                (t for t in templates if _waits_for_manager(t, case, today=today, **authorities)),
                None,
            )
            if template is None:
                skipped += 1
                continue
            case = case_claim(case=case, actor=agent)
            try:
                case_offer_propose(
                    case=case, template=template, actor=agent, note="Benchmark backlog"
                )
            except (InvalidTerms, WrongState, OutsideAuthority):
                case_release(case=case, actor=agent)
                skipped += 1
                continue
            proposed += 1
            if proposed == missing:
                break
        log(
            f"  {proposed:,} proposed in {time.perf_counter() - start:.1f} s "
            f"({skipped:,} subscribers skipped: not eligible, or not a manager's to approve)."
        )
    total = pending.count()
    if missing <= 0:
        log(f"Reusing the {total:,} offers the bench agent has waiting for approval.")
    inbox = len(approvals_inbox(user=manager).items)
    if total < PENDING_OFFERS:
        log(f"  only {total:,} of {PENDING_OFFERS:,} pending offers could be proposed.")
    return {"pending_offers": total, "proposed": proposed, "inbox_items": inbox}


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
    if response.streaming:
        # A streamed response does its work as it is read: the time is of the whole body.
        for _ in response.streaming_content:  # type: ignore[attr-defined]
            pass


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


def queue_cursors(rows: Iterable[int]) -> list[str]:
    """Cursors that open the queue after the given rows (1 is the first) in queue order: the
    key of that row, found with OFFSET here so that the request being timed does not need it."""
    ordered = cases_open().order_by(*QUEUE_ORDER)
    cursors = []
    for row in rows:
        keys = list(ordered.values_list("priority", "first_contact_due", "pk")[row - 1 : row])
        if not keys:
            raise RuntimeError(f"the queue has fewer than {row} open cases")
        cursors.append(QueueCursor(*keys[0]).encode())
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
    manager = bench_manager()
    manager_client = Client(SERVER_NAME="localhost")
    manager_client.force_login(manager)

    ensure_catalogue(log=log)
    builder_cases = ensure_builder_cases(agent, log=log)
    results.cases["builder_cases"] = len(builder_cases)
    results.cases.update(ensure_pending_offers(agent, manager, log=log))

    heavy = list(
        Subscriber.objects.filter(account_number__in=heavy_account_numbers(HEAVY))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    max_id = Subscriber.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    regular_ids = [rng.randint(HEAVY + 1, max_id) for _ in range(requests)]
    page_size = settings.TIMELINE_PAGE_SIZE

    log("Collecting cursors ~1000 pages deep, search terms and cases…")
    # The cursor the selector hands out after page 1 must be the one computed here.
    check = timeline_page(subscriber=Subscriber.objects.get(pk=heavy[0]))
    assert check.next_cursor == deep_cursors(heavy[0], [2], page_size)[0]
    deep_pages = range(DEEP_PAGE - 10, DEEP_PAGE + 10)
    cursors = [(pk, c) for pk in heavy for c in deep_cursors(pk, deep_pages, page_size)]
    terms = search_terms(rng, requests)
    htmx = {"HX-Request": "true"}
    search_url = reverse("subscribers:search")
    admin_url = reverse("admin:subscribers_subscriber_changelist")

    queue_url = reverse("queue")
    queue_size = settings.QUEUE_PAGE_SIZE
    total = cases_open().count()
    deep_row = min(QUEUE_DEEP_ROW, total // 2) // queue_size * queue_size
    assert queue_page(cases=cases_open(), after=None).next_cursor == queue_cursors([queue_size])[0]
    # Twenty pages around the deep one, each opened after the last row of the page before.
    queue_deep = queue_cursors(
        deep_row + n * queue_size for n in range(-10, 10) if deep_row + n * queue_size > 0
    )
    results.cases["deep_page"] = deep_row // queue_size + 1
    results.cases["deep_row"] = deep_row
    region_names = sorted(set(Subscriber.objects.values_list("region", flat=True)))
    heavy_cases = list(
        cases_open().filter(subscriber_id__in=heavy).order_by("pk").values_list("pk", flat=True)
    )
    # Cases nobody has claimed, as most of the queue: the bench agent's own (the offer builder's
    # and those with an offer waiting) have figures of their own.
    regular_cases = list(
        cases_open()
        .filter(source=SEED_SOURCE, owner__isnull=True)
        .exclude(subscriber_id__in=heavy)
        .order_by("?")
        .values_list("pk", flat=True)[:requests]
    )
    # The builder is on the page only for the case's owner, with the case in progress.
    builder_urls = [reverse("case", args=[pk]) for pk in islice(cycle(builder_cases), requests)]
    if b'id="offer-builder"' not in client.get(builder_urls[0]).content:
        raise RuntimeError(f"{builder_urls[0]} shows the bench agent no offer builder")
    approvals_url = reverse("approvals")
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
        Series("queue, first page", client, [queue_url] * requests),
        Series(
            "queue, region filter",
            client,
            [
                f"{queue_url}?{urlencode({'region': region_names[n % len(region_names)]})}"
                for n in range(requests)
            ],
        ),
        Series(
            "queue, deep page",
            client,
            [
                f"{queue_url}?{urlencode({'after': queue_deep[n % len(queue_deep)]})}"
                for n in range(requests)
            ],
        ),
        Series(
            "case page, heavy subscriber",
            client,
            [reverse("case", args=[pk]) for pk in islice(cycle(heavy_cases), requests)],
        ),
        Series(
            "case page",
            client,
            [reverse("case", args=[pk]) for pk in islice(cycle(regular_cases), requests)],
        ),
        Series("case page, offer builder", client, builder_urls),
    ]
    log(f"Measuring {len(series)} figures, {requests} requests each, interleaved…")
    results.figures.extend(measure(series))
    # The inbox takes many times longer than a page. Interleaved with the pages it would
    # stretch each round until the queue's counts (cached QUEUE_COUNTS_SECONDS per filter)
    # expired between one region's requests, and the region filter's figure would measure that.
    inbox = [
        Series("approvals inbox", manager_client, [approvals_url] * requests),
        Series("approvals inbox (htmx refresh)", manager_client, [approvals_url] * requests, htmx),
    ]
    log(f"Measuring the approvals inbox and its refresh, {requests} requests each, interleaved…")
    results.figures.extend(measure(inbox))


def _query(term: str) -> str:
    return urlencode({"q": term})


# --- Claim next ----------------------------------------------------------------------------


def measure_claims(results: Results, *, log: Callable[[str], None]) -> None:
    """CLAIMERS agents call case_claim_next at once, each in its own thread with its own
    database connection, as agents on separate web processes would; every call is timed.

    Afterwards the claims are checked (no case handed out twice, each owned by the agent it
    was handed to) and released again with one UPDATE. One agent claiming alone first gives
    the latency without contention: on two cores, twenty Python threads mostly wait their
    turn for the interpreter and the CPU, and the concurrent figure includes that wait."""
    agents = bench_claimers(CLAIMERS)
    seed_cases_release()
    user_roles(agents[0])  # read once per request in the view; not part of a claim
    # Queries of one claim, counted apart so that capturing SQL does not add to the times.
    with CaptureQueriesContext(connection) as captured:
        case_claim_next(actor=agents[0])
    queries = len(captured)
    alone = []
    for _ in range(CLAIMS_EACH):
        begin = time.perf_counter()
        case_claim_next(actor=agents[0])
        alone.append((time.perf_counter() - begin) * 1000)
    results.figures.append(Figure(CLAIM_ALONE_FIGURE, alone, (queries, queries)))
    seed_cases_release()

    samples: list[float] = []
    claimed: list[tuple[int, int]] = []  # (case, agent)
    errors: list[BaseException] = []
    start_line = threading.Barrier(CLAIMERS + 1)
    deadline = [0.0]

    def claimer(agent: User) -> None:
        try:
            connection.ensure_connection()  # connecting is not part of a claim
            user_roles(agent)  # nor is reading the agent's groups, cached for a request
            start_line.wait()
            for _ in range(CLAIMS_EACH):
                if time.perf_counter() > deadline[0]:
                    break
                begin = time.perf_counter()
                case = case_claim_next(actor=agent)
                samples.append((time.perf_counter() - begin) * 1000)
                if case is None:
                    break
                claimed.append((case.pk, agent.pk))
        except BaseException as exc:  # reported below, after every thread has ended
            errors.append(exc)
            start_line.abort()
        finally:
            connection.close()

    log(
        f"Claiming with {CLAIMERS} concurrent claimers, up to {CLAIMS_EACH} claims each "
        f"or {CLAIM_SECONDS:.0f} s…"
    )
    threads = [threading.Thread(target=claimer, args=[agent]) for agent in agents]
    for thread in threads:
        thread.start()
    deadline[0] = time.perf_counter() + CLAIM_SECONDS
    # Broken only when a claimer failed before the start: its error is raised below.
    with suppress(threading.BrokenBarrierError):
        start_line.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    if errors:
        seed_cases_release()
        raise RuntimeError(f"a claimer failed: {errors[0]!r}") from errors[0]

    case_ids = [case for case, _ in claimed]
    unique = len(case_ids) == len(set(case_ids))
    owners = set(CancellationCase.objects.filter(owner__in=agents).values_list("pk", "owner_id"))
    released = seed_cases_release()
    figure = Figure(CLAIM_FIGURE, samples, (queries, queries))
    results.figures.append(figure)
    results.claims = {
        "claimers": CLAIMERS,
        "claims": len(claimed),
        "seconds": round(seconds, 2),
        "claims_per_second": round(len(claimed) / seconds, 1),
        "p50_ms": round(figure.p50, 2),
        "p95_ms": round(figure.p95, 2),
        "max_ms": round(max(samples), 2),
        "queries": queries,
        "unique": unique,
        "owners_match": owners == set(claimed),
        "released": released,
    }


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


# --- Outreach and reminders ----------------------------------------------------------------

BENCH_CAMPAIGN = "bench-outreach"
# Messages sent through the SMS file backend for the sending figure.
OUTREACH_SEND = 20_000
# Due reminders delivered by one tick.
REMINDERS_DUE = 100_000
REMINDER_KEY = "bench-tick:"
# The bench's reminders fall due in the distant past and its tick runs just after that: the
# tick sees exactly those rows, and the desk's own reminders (the approvals backlog's) are left
# to the real tick.
REMINDERS_DUE_AT = datetime(2000, 1, 4, 9, 0, tzinfo=UTC)
BENCH_BODY = "{name}: {offer}, {price} → {new_price}. {link}"


def outreach_moment(today: date) -> datetime:
    """A Tuesday at 10:00 UTC at least a week ahead: inside the allowed hours of every time
    zone the seed uses (12:00 in Riga), and with no seeded contact in the cap's window, so the
    messages go out and the figure measures sending rather than deferring."""
    day = today + timedelta(days=7)
    day += timedelta(days=(1 - day.weekday()) % 7)
    return datetime.combine(day, clock_time(10), tzinfo=UTC)


def outreach_cleanup(*, events_after: int | None = None) -> None:
    """Remove what the outreach and reminder figures create, so every run starts the same:
    the bench's campaigns and their messages, the outbound contacts their sends recorded, the
    bench's reminders and their notifications. ``events_after`` is the last timeline id before
    this run's sends (a range on the primary key); without it, left-overs of an interrupted
    run are found by the campaign in the event's data, one scan of the timeline."""
    campaigns = list(
        OutreachCampaign.objects.filter(name__startswith=BENCH_CAMPAIGN).values_list(
            "pk", flat=True
        )
    )
    reminders = Reminder._meta.db_table
    with transaction.atomic():
        if events_after is not None:
            TimelineEvent.objects.filter(pk__gt=events_after, source="outreach").delete()
        elif campaigns:
            TimelineEvent.objects.filter(source="outreach", data__campaign__in=campaigns).delete()
        OutreachMessage.objects.filter(campaign__in=campaigns).delete()
        OutreachCampaign.objects.filter(pk__in=campaigns).delete()
        Notification.objects.filter(reminder__key__startswith=REMINDER_KEY).delete()
        # A plain DELETE: the ORM would load 100,000 reminders to null the notifications'
        # references first, and those notifications are gone already.
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {reminders} WHERE key LIKE %s", [f"{REMINDER_KEY}%"])
    with connection.cursor() as cursor:
        tables = [OutreachMessage._meta.db_table, reminders, Notification._meta.db_table]
        cursor.execute(f"VACUUM ANALYZE {', '.join(map(connection.ops.quote_name, tables))}")


def measure_outreach(results: Results, *, log: Callable[[str], None]) -> None:
    outreach_cleanup()  # an interrupted run's left-overs
    last_event = TimelineEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    try:
        _measure_fan_out_and_sending(results, log=log)
    finally:
        outreach_cleanup(events_after=last_event)
    try:
        _measure_reminder_tick(results, log=log)
    finally:
        outreach_cleanup(events_after=last_event)


def _measure_fan_out_and_sending(results: Results, *, log: Callable[[str], None]) -> None:
    """(a) A campaign with loose criteria over every active subscriber: the time to create its
    message rows (set-based, FAN_OUT_CHUNK subscriber ids at a time). (b) Sending
    OUTREACH_SEND of them as the worker does, OUTREACH_CHUNK claimed at a time, through the
    contact policy and the SMS file backend into a temporary folder."""
    manager = bench_manager()
    template = (
        OfferTemplate.objects.filter(is_active=True, kind=OfferKind.FIXED_DISCOUNT)
        .order_by("position", "code")
        .first()
        or OfferTemplate.objects.filter(is_active=True).order_by("position", "code").first()
    )
    if template is None:
        raise RuntimeError("the offer catalogue has no active offer for the campaign")
    moment = outreach_moment(timezone.localdate())
    campaign = campaign_create(
        actor=manager,
        values={
            "name": f"{BENCH_CAMPAIGN} {moment:%Y-%m-%d}",
            "template": template,
            "channel": ContactChannel.SMS,
            "not_contacted_days": 0,
            "body_lv": BENCH_BODY,
            "body_ru": BENCH_BODY,
            "body_en": BENCH_BODY,
        },
    )
    # Running without campaign_launch: its after-commit task would hand the campaign to any
    # worker listening on the broker, and the figures are of the calls below.
    OutreachCampaign.objects.filter(pk=campaign.pk).update(
        state=OutreachCampaign.State.RUNNING, launched_at=moment
    )
    matching = campaign_matching(campaign, now=moment).count()
    active = Subscriber.objects.filter(status=Subscriber.Status.ACTIVE).count()
    log(f"Fanning out a campaign over {active:,} active subscribers ({matching:,} match)…")
    start = time.perf_counter()
    rows = campaign_fan_out(campaign=campaign, now=moment)
    fan_out_seconds = time.perf_counter() - start
    if rows != matching:
        raise RuntimeError(f"the fan-out created {rows:,} messages for {matching:,} matches")
    top = Subscriber.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    log(f"  {rows:,} messages in {fan_out_seconds:.1f} s ({rows / fan_out_seconds:,.0f} rows/s).")
    results.outreach["fan_out"] = {
        "active_subscribers": active,
        "rows": rows,
        "seconds": round(fan_out_seconds, 2),
        "rows_per_second": round(rows / fan_out_seconds),
        "chunks": -(-top // FAN_OUT_CHUNK),
        "chunk_ids": FAN_OUT_CHUNK,
    }
    # The planner learns the outbox's new size, as autovacuum would tell it soon after.
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(OutreachMessage._meta.db_table)}")

    wanted = min(OUTREACH_SEND, rows)
    chunk = settings.OUTREACH_CHUNK
    log(
        f"Sending {wanted:,} messages, {chunk} claimed at a time, at "
        f"{moment:%a %Y-%m-%d %H:%M} UTC through the SMS file backend…"
    )
    total = SendResult()
    with (
        tempfile.TemporaryDirectory() as folder,
        override_settings(SMS_BACKEND="file", SMS_FILE_PATH=folder),
    ):
        start = time.perf_counter()
        while total.claimed < wanted:
            sent = outreach_send(
                campaign_id=campaign.pk, now=moment, limit=min(chunk, wanted - total.claimed)
            )
            if not sent.claimed:
                break
            for name in ("sent", "deferred", "skipped", "failed"):
                setattr(total, name, getattr(total, name) + getattr(sent, name))
        send_seconds = time.perf_counter() - start
        files = sum(1 for _ in Path(folder).iterdir())
    if files != total.sent:
        raise RuntimeError(f"{total.sent:,} messages marked sent but {files:,} files written")
    log(
        f"  {total.claimed:,} messages in {send_seconds:.1f} s "
        f"({total.claimed / send_seconds:,.0f} messages/s): {total.sent:,} sent, "
        f"{total.skipped:,} skipped, {total.deferred:,} deferred, {total.failed:,} failed."
    )
    results.outreach["send"] = {
        "messages": total.claimed,
        "sent": total.sent,
        "skipped": total.skipped,
        "deferred": total.deferred,
        "failed": total.failed,
        "files": files,
        "chunk": chunk,
        "seconds": round(send_seconds, 2),
        "messages_per_second": round(total.claimed / send_seconds, 1),
        "sent_per_second": round(total.sent / send_seconds, 1),
        "at": moment.isoformat(),
    }


def _measure_reminder_tick(results: Results, *, log: Callable[[str], None]) -> None:
    """REMINDERS_DUE process-by reminders on the bench agent's open cases, all due at once:
    one reminders_tick pass checks each still matters (the case open, its owner) and delivers
    it as a notification, 500 locked at a time. Then a tick with nothing due."""
    agent, _ = bench_users()
    cases = list(
        cases_open().filter(owner=agent).order_by("pk").values_list("pk", flat=True)[:1000]
    )
    if not cases:
        note = "Reminder tick not measured: the bench agent has no open cases."
        log(note)
        results.notes.append(note)
        return
    log(f"Creating {REMINDERS_DUE:,} due reminders on the bench agent's {len(cases):,} cases…")
    start = time.perf_counter()
    Reminder.objects.bulk_create(
        (
            Reminder(
                kind=Reminder.Kind.PROCESS_BY,
                key=f"{REMINDER_KEY}{n}",
                due_at=REMINDERS_DUE_AT,
                case_id=cases[n % len(cases)],
            )
            for n in range(REMINDERS_DUE)
        ),
        batch_size=5000,
    )
    create_seconds = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(Reminder._meta.db_table)}")
    log("Delivering them with one reminders_tick pass…")
    now = REMINDERS_DUE_AT + timedelta(minutes=1)
    start = time.perf_counter()
    tick = reminders_tick(now=now)
    tick_seconds = time.perf_counter() - start
    start = time.perf_counter()
    idle = reminders_tick(now=now)
    idle_ms = (time.perf_counter() - start) * 1000
    delivered = Reminder.objects.filter(
        key__startswith=REMINDER_KEY, state=Reminder.State.SENT
    ).count()
    notifications = Notification.objects.filter(reminder__key__startswith=REMINDER_KEY).count()
    if (delivered, notifications, idle.notified) != (REMINDERS_DUE, REMINDERS_DUE, 0):
        raise RuntimeError(
            f"{delivered:,} reminders delivered, {notifications:,} notifications, "
            f"{idle.notified:,} more on the idle tick, for {REMINDERS_DUE:,} due"
        )
    log(
        f"  {delivered:,} delivered in {tick_seconds:.1f} s "
        f"({delivered / tick_seconds:,.0f} reminders/s); idle tick {idle_ms:.1f} ms."
    )
    results.outreach["tick"] = {
        "due": REMINDERS_DUE,
        "cases": len(cases),
        "create_seconds": round(create_seconds, 2),
        "seconds": round(tick_seconds, 2),
        "reminders_per_second": round(delivered / tick_seconds),
        "notifications": notifications,
        "notified": tick.notified,
        "idle_tick_ms": round(idle_ms, 2),
    }


# --- Dashboard -----------------------------------------------------------------------------

# Two years of closed cases, up to now: the longest period the dashboard shows.
HISTORY_DAYS = 730
_HISTORY_MARK = "history_seed:"
HISTORY_AGENT = "bench-agent-{:03d}"
HISTORY_TABLES = (CancellationCase, CaseHistory, ContactAttempt, CounterOffer, TimelineEvent)
FIGURE_TABLES = (CaseOutcome, DailyFigure, LoyaltySnapshot)
# Timings of figures_refresh: this many runs each.
TICK_RUNS, BUSY_DAY_RUNS = 5, 3


def _vacuum(models: Iterable[type[Any]]) -> None:
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models)
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {tables}")


def bench_history_agents(scale: Scale) -> list[User]:
    """The scale's agents (bench-agent-001, …) in the Agent group, spread over its teams
    (Team 01, …): whose cases the history is."""
    teams = [
        Team.objects.get_or_create(name=f"Team {n:02d}")[0]
        for n in range(1, scale.history_teams + 1)
    ]
    agents = []
    for n in range(1, scale.history_agents + 1):
        team = teams[(n - 1) % len(teams)]
        agent, created = User.objects.get_or_create(
            username=HISTORY_AGENT.format(n),
            defaults={"first_name": "Agent", "last_name": f"{n:03d}", "team": team},
        )
        if created:
            agent.set_unusable_password()
            agent.save(update_fields=["password"])
        elif agent.team_id != team.pk:
            agent.team = team
            agent.save(update_fields=["team"])
        agents.append(agent)
    Group.objects.get(name=Role.AGENT).user_set.add(*agents)
    return agents


def history_reset() -> None:
    """Remove the generated history and every figure computed from it. Plain DELETEs: the ORM
    would load a million and a half cases to cascade."""

    def table(model: type[Any]) -> str:
        return connection.ops.quote_name(model._meta.db_table)

    cases = f"SELECT id FROM {table(CancellationCase)} WHERE source = %s"
    offers = f"SELECT id FROM {table(CounterOffer)} WHERE case_id IN ({cases})"
    deletes = [f"DELETE FROM {table(model)}" for model in FIGURE_TABLES]
    deletes += [
        f"DELETE FROM {table(Reminder)} WHERE case_id IN ({cases}) OR offer_id IN ({offers})",
        f"DELETE FROM {table(OfferHistory)} WHERE offer_id IN ({offers})",
    ]
    deletes += [
        f"DELETE FROM {table(model)} WHERE case_id IN ({cases})"
        for model in (CounterOffer, ContactAttempt, CaseHistory)
    ]
    deletes += [
        f"DELETE FROM {table(model)} WHERE source = %s"
        for model in (TimelineEvent, CancellationCase)
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in deletes:
            cursor.execute(statement, [HISTORY_SOURCE] * statement.count("%s"))
    _vacuum(HISTORY_TABLES + FIGURE_TABLES)


def _backfill(first: date, last: date, *, log: Callable[[str], None]) -> dict[str, Any]:
    days = (last - first).days + 1
    log(f"Computing the dashboard's figures for {days:,} days with figures_refresh_range…")
    start = time.perf_counter()
    refreshed = figures_refresh_range(first=first, last=last)
    seconds = time.perf_counter() - start
    outcomes = sum(r.outcomes for r in refreshed)
    rows = DailyFigure.objects.filter(day__gte=first, day__lte=last).count()
    again = sum(len(r.days_touched) for r in refreshed)
    log(
        f"  {days:,} days, {outcomes:,} outcomes in {seconds:.1f} s ({days / seconds:,.1f} days/s, "
        f"{outcomes / seconds:,.0f} outcomes/s); {rows:,} daily figure rows; {again:,} earlier "
        "days computed again for re-churn."
    )
    return {
        "days": days,
        "outcomes": outcomes,
        "daily_figure_rows": rows,
        "days_recomputed": again,
        "seconds": round(seconds, 1),
        "days_per_second": round(days / seconds, 2),
        "outcomes_per_second": round(outcomes / seconds),
    }


def _loyalty(*, log: Callable[[str], None]) -> float:
    start = time.perf_counter()
    rows = loyalty_snapshot_take()
    ms = (time.perf_counter() - start) * 1000
    log(f"  loyalty snapshot: {rows:,} rows in {ms:,.0f} ms.")
    return round(ms, 1)


def ensure_history(scale: Scale, *, log: Callable[[str], None]) -> dict[str, Any]:
    """The scale's closed cases over HISTORY_DAYS up to now, from history_seed, with the
    dashboard's figures computed for every day, and today's loyalty snapshot.

    Reused while the database holds them (recorded in a comment on the outcome table); a run on
    a later day writes only the days since, so that today always has cases closed so far, the
    work of the five-minute tick. Options that changed, or a load that did not finish, start
    the history again."""
    ensure_catalogue(log=log)  # the saves' offers, and who may approve them
    agents = bench_history_agents(scale)
    bench_manager()  # decides the offers beyond an agent's authority
    wanted = {
        "days": HISTORY_DAYS,
        "per_day": scale.history_per_day,
        "agents": scale.history_agents,
        "teams": scale.history_teams,
        "seed": SEED,
        "offers": OfferTemplate.objects.filter(is_active=True).count(),
    }
    table = CaseOutcome._meta.db_table
    recorded = _table_note(table, _HISTORY_MARK)
    today = desk_today()
    loaded = CancellationCase.objects.filter(source=HISTORY_SOURCE).exists()
    if recorded and recorded.get("options") == wanted and loaded:
        end = date.fromisoformat(recorded["end"])
        log(
            f"Reusing the history: {recorded['cases']:,} closed cases up to {end}, written in "
            f"{recorded['seconds']:,.0f} s, figures computed in "
            f"{recorded['backfill']['seconds']:,.0f} s."
        )
        if end >= today:
            return {**recorded, "reused": True}
        gap = (today - end).days
        log(f"Writing the {gap} days since…")
        start = time.perf_counter()
        created = history_seed(
            days=gap,
            per_day=scale.history_per_day,
            seed=SEED + today.toordinal(),
            agents=agents,
            end=today,
        )
        log(f"  {created:,} cases in {time.perf_counter() - start:.1f} s.")
        _vacuum(HISTORY_TABLES)
        # From the last day written before: its cases closed after that run are new.
        refreshed = _backfill(end, today, log=log)
        loyalty_ms = _loyalty(log=log)
        _vacuum(FIGURE_TABLES)
        recorded.update(end=today.isoformat(), cases=recorded["cases"] + created)
        recorded.setdefault("top_ups", []).append(
            {"days": gap, "cases": created, "backfill": refreshed, "loyalty_ms": loyalty_ms}
        )
        _set_table_note(table, _HISTORY_MARK, recorded)
        return {**recorded, "reused": True}
    if loaded or recorded:
        log("Removing a history written with other options (or not finished)…")
        history_reset()
    total = HISTORY_DAYS * scale.history_per_day
    log(
        f"Writing ~{total:,} closed cases over {HISTORY_DAYS} days for {len(agents)} agents in "
        f"{scale.history_teams} teams with history_seed…"
    )
    start = time.perf_counter()
    created = history_seed(
        days=HISTORY_DAYS, per_day=scale.history_per_day, seed=SEED, agents=agents, end=today
    )
    seconds = time.perf_counter() - start
    log(f"  {created:,} cases in {seconds:.1f} s ({created / seconds:,.0f} cases/s).")
    # VACUUM cannot run in a transaction: the visibility map and the planner's statistics of
    # the tables the history went into, before the figures read them.
    start = time.perf_counter()
    _vacuum(HISTORY_TABLES)
    vacuum_seconds = time.perf_counter() - start
    backfill = _backfill(today - timedelta(days=HISTORY_DAYS - 1), today, log=log)
    loyalty_ms = _loyalty(log=log)
    _vacuum(FIGURE_TABLES)
    info = {
        "options": wanted,
        "cases": created,
        "written": created,
        "end": today.isoformat(),
        "seconds": round(seconds, 1),
        "cases_per_second": round(created / seconds),
        "vacuum_seconds": round(vacuum_seconds, 1),
        "backfill": backfill,
        "loyalty_ms": loyalty_ms,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _set_table_note(table, _HISTORY_MARK, info)
    return {**info, "reused": False}


def _timed(name: str, runs: int, call: Callable[[], object]) -> Figure:
    with CaptureQueriesContext(connection) as captured:
        call()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return Figure(name, samples, (len(captured), len(captured)))


def _answers(client: Client, url: str) -> str:
    """Why the URL cannot be measured, or "" when it answers 200."""
    try:
        response = client.get(url)
    except Exception as exc:  # the view raised: the test client re-raises it
        return f"raised {exc!r}"
    if response.status_code != 200:
        return f"answered {response.status_code}"
    if response.streaming:
        for _ in response.streaming_content:  # type: ignore[attr-defined]
            pass
    return ""


def measure_dashboard(results: Results, *, requests: int, log: Callable[[str], None]) -> None:
    """The dashboard's pages for the bench manager (an agent's own page for a bench agent),
    over the history, and the figures' refresh: the tick's (today so far) and a busy day's."""
    manager = bench_manager()
    client = Client(SERVER_NAME="localhost")
    client.force_login(manager)
    agent = User.objects.get(username=HISTORY_AGENT.format(1))
    agent_client = Client(SERVER_NAME="localhost")
    agent_client.force_login(agent)
    reason = (
        CancellationReason.objects.filter(code="price").values_list("pk", flat=True).first()
        or CancellationReason.objects.values_list("pk", flat=True).first()
    )
    team = Team.objects.filter(name="Team 01").values_list("pk", flat=True).first()
    pages = [
        ("dashboard, 30 days", client, "/dashboard/"),
        ("dashboard, 12 months by month", client, "/dashboard/?period=12m&grain=month"),
        ("dashboard, 24 months by month", client, "/dashboard/?period=24m&grain=month"),
        (
            "dashboard, 12 months, one filter",
            client,
            f"/dashboard/?period=12m&grain=month&reason={reason}",
        ),
        (
            "dashboard, 90 days, two filters",
            client,
            f"/dashboard/?period=90d&team={team}&channel=phone",
        ),
        ("dashboard, 24 months by agent", client, "/dashboard/?period=24m&grain=month&by=agent"),
        ("dashboard, agent's own page", agent_client, "/dashboard/me/"),
        ("dashboard drill-down, 30 days", client, "/dashboard/cases/?period=30d&what=saved"),
        (
            "dashboard CSV, 12 months by reason",
            client,
            "/dashboard/export/breakdown.csv?period=12m&by=reason",
        ),
    ]
    series = []
    for name, who, url in pages:
        why = _answers(who, url)
        if why:
            note = f"Dashboard: GET {url} {why}; {name!r} not measured."
            log(note)
            results.notes.append(note)
        else:
            series.append(Series(name, who, [url] * requests))
    if series:
        log(f"Measuring {len(series)} dashboard figures, {requests} requests each, interleaved…")
        results.figures.extend(measure(series))

    today = desk_today()
    busiest = (
        DailyFigure.objects.filter(scope="", dimension="", day__lt=today)
        .order_by("-closed", "day")
        .values_list("day", "closed")
        .first()
    )
    log("Timing figures_refresh: today so far (the tick's work) and the busiest day…")
    results.figures.append(
        _timed("figures_refresh, today", TICK_RUNS, lambda: figures_refresh(day=today))
    )
    if busiest:
        day, closed = busiest
        results.history["busiest_day"] = {"day": day.isoformat(), "closed": closed}
        results.figures.append(
            _timed("figures_refresh, busiest day", BUSY_DAY_RUNS, lambda: figures_refresh(day=day))
        )
    today_closed = CaseOutcome.objects.filter(closed_on=today).count()
    results.history["today_closed"] = today_closed
    results.history["sizes"] = {
        "closed cases": CancellationCase.objects.filter(closed_at__isnull=False).count(),
        "outcomes": CaseOutcome.objects.count(),
        "daily figure rows": DailyFigure.objects.count(),
        "accepted offers": CounterOffer.objects.filter(status=CounterOffer.Status.ACCEPTED).count(),
        "contact attempts": ContactAttempt.objects.count(),
    }


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
    ]
    cases = results.cases
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
    width = max([28, *(len(f.name) for f in results.figures)])
    lines += ["", f"{'figure':<{width}} {'p50 ms':>9} {'p95 ms':>9} {'queries':>8}"]
    for f in results.figures:
        queries = (
            str(f.queries[0]) if f.queries[0] == f.queries[1] else f"{f.queries[0]}–{f.queries[1]}"
        )
        lines.append(f"{f.name:<{width}} {f.p50:>9.1f} {f.p95:>9.1f} {queries:>8}")
    by_name = {f.name: f for f in results.figures}
    first = by_name.get("timeline, first page")
    deep = by_name.get(f"timeline, page ~{DEEP_PAGE}")
    lines.append("")
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
        if cases.get("open", 0) >= HELPDESK_TICKETS:
            lines.append(
                f"django-helpdesk's ticket list ({HELPDESK_MS:,} ms, {HELPDESK_QUERIES} queries "
                f"at {HELPDESK_TICKETS:,} tickets, from the issue) / ours: "
                f"first page ×{HELPDESK_MS / queue.p50:.0f}, "
                f"deep page ×{HELPDESK_MS / queue_deep.p50:.0f} (p50); "
                f"queries {HELPDESK_QUERIES} vs {queue.queries[1]}"
            )
    if results.claims:
        c = results.claims
        lines.append(
            f"claim next: {c['claims']:,} claims by {c['claimers']} concurrent claimers in "
            f"{c['seconds']:.1f} s ({c['claims_per_second']:,.0f} claims/s); "
            f"p50 {c['p50_ms']:.1f} ms, p95 {c['p95_ms']:.1f} ms, max {c['max_ms']:.1f} ms; "
            f"unique: {'yes' if c['unique'] else 'NO'}; owners as handed out: "
            f"{'yes' if c['owners_match'] else 'NO'}; {c['released']:,} released"
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
    lines.extend(_render_outreach(results.outreach))
    lines.extend(_render_history(results.history))
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
                    f"  {name:<{width}} p50 ×{figure['p50_ms'] / base['p50_ms']:.2f}, "
                    f"p95 ×{figure['p95_ms'] / base['p95_ms']:.2f}"
                )
        if small.get("claims") and large.get("claims"):
            ratio = large["claims"]["claims_per_second"] / small["claims"]["claims_per_second"]
            lines.append(f"  {'claims/s':<{width}} ×{ratio:.2f}")
        if small.get("import") and large.get("import"):
            ratio = (
                large["import"]["import_rows_per_second"]
                / small["import"]["import_rows_per_second"]
            )
            lines.append(f"  {'import rows/s':<{width}} ×{ratio:.2f}")
        for label, part, key in (
            ("outreach fan-out rows/s", "fan_out", "rows_per_second"),
            ("outreach messages/s", "send", "messages_per_second"),
            ("reminders/s", "tick", "reminders_per_second"),
        ):
            mine_part = (small.get("outreach") or {}).get(part)
            their_part = (large.get("outreach") or {}).get(part)
            if mine_part and their_part:
                lines.append(f"  {label:<{width}} ×{their_part[key] / mine_part[key]:.2f}")
        small_history, large_history = small.get("history") or {}, large.get("history") or {}
        for label, path in (
            ("history cases/s", ("cases_per_second",)),
            ("figures backfill days/s", ("backfill", "days_per_second")),
            ("figures backfill outcomes/s", ("backfill", "outcomes_per_second")),
        ):
            a, b = _dig(small_history, path), _dig(large_history, path)
            if a and b:
                lines.append(f"  {label:<{width}} ×{b / a:.2f}")
    return "\n".join(lines)


def _dig(data: dict[str, Any], path: tuple[str, ...]) -> float | None:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data if isinstance(data, int | float) else None


def _render_history(history: dict[str, Any]) -> list[str]:
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


def _render_outreach(outreach: dict[str, Any]) -> list[str]:
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
        lines.append(
            f"outreach sending (SMS file backend, {send['chunk']} claimed at a time): "
            f"{send['messages']:,} messages in {send['seconds']:.1f} s "
            f"({send['messages_per_second']:,.0f} messages/s); {send['sent']:,} sent "
            f"({send['sent_per_second']:,.0f}/s, {send['files']:,} files), "
            f"{send['skipped']:,} skipped, {send['deferred']:,} deferred, "
            f"{send['failed']:,} failed"
        )
    if tick:
        lines.append(
            f"reminder tick: {tick['due']:,} due reminders delivered in one pass in "
            f"{tick['seconds']:.1f} s ({tick['reminders_per_second']:,} reminders/s, "
            f"{tick['notifications']:,} notifications); a tick with nothing due "
            f"{tick['idle_tick_ms']:.1f} ms"
        )
    return lines
