"""Claim-next latency: one agent claiming alone, then CLAIMERS agents at once."""

import threading
import time
from contextlib import suppress

from django.db import connection
from django.test.utils import CaptureQueriesContext

from retention.bench.queue import seed_cases_release
from retention.bench.results import Figure, Log, Results
from retention.bench.users import bench_claimers
from retention.cases.services import case_claim_next
from retention.core.roles import user_roles
from retention.models import CancellationCase, User

# Claim next: this many agents at once, each claiming up to CLAIMS_EACH cases, for at most
# CLAIM_SECONDS.
CLAIMERS = 20
CLAIMS_EACH = 50
CLAIM_SECONDS = 60.0
CLAIM_FIGURE = f"claim next, {CLAIMERS} claimers"
CLAIM_ALONE_FIGURE = "claim next, 1 claimer"


def measure_claims(results: Results, *, requests: int, log: Log) -> None:
    """CLAIMERS agents call case_claim_next at once, each in its own thread with its own
    database connection, as agents on separate web processes would; every call is timed.

    Afterwards the claims are checked (no case handed out twice, each owned by the agent it
    was handed to) and released again with one UPDATE. One agent claiming alone first gives
    the latency without contention: on two cores, twenty Python threads mostly wait their
    turn for the interpreter and the CPU, and the concurrent figure includes that wait."""
    agents = bench_claimers(CLAIMERS)
    seed_cases_release()
    queries = _claim_alone(results, agents[0])
    seed_cases_release()
    log(
        f"Claiming with {CLAIMERS} concurrent claimers, up to {CLAIMS_EACH} claims each "
        f"or {CLAIM_SECONDS:.0f} s…"
    )
    claimers = _Claimers()
    seconds = claimers.run(agents)
    claimed, samples = claimers.claimed, claimers.samples
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


def _claim_alone(results: Results, agent: User) -> int:
    """CLAIMS_EACH claims by one agent; returns the queries of one claim."""
    user_roles(agent)  # read once per request in the view; not part of a claim
    # Queries of one claim, counted apart so that capturing SQL does not add to the times.
    with CaptureQueriesContext(connection) as captured:
        case_claim_next(actor=agent)
    queries = len(captured)
    alone = []
    for _ in range(CLAIMS_EACH):
        begin = time.perf_counter()
        case_claim_next(actor=agent)
        alone.append((time.perf_counter() - begin) * 1000)
    results.figures.append(Figure(CLAIM_ALONE_FIGURE, alone, (queries, queries)))
    return queries


class _Claimers:
    """The concurrent claimers' threads, started together, and what they claimed."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.claimed: list[tuple[int, int]] = []  # (case, agent)
        self.errors: list[BaseException] = []
        self.start_line = threading.Barrier(CLAIMERS + 1)
        self.deadline = 0.0

    def run(self, agents: list[User]) -> float:
        """Seconds from the start to the last claimer's end."""
        threads = [threading.Thread(target=self._claim, args=[agent]) for agent in agents]
        for thread in threads:
            thread.start()
        self.deadline = time.perf_counter() + CLAIM_SECONDS
        # Broken only when a claimer failed before the start: its error is raised below.
        with suppress(threading.BrokenBarrierError):
            self.start_line.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - began
        if self.errors:
            seed_cases_release()
            raise RuntimeError(f"a claimer failed: {self.errors[0]!r}") from self.errors[0]
        return seconds

    def _claim(self, agent: User) -> None:
        try:
            connection.ensure_connection()  # connecting is not part of a claim
            user_roles(agent)  # nor is reading the agent's groups, cached for a request
            self.start_line.wait()
            for _ in range(CLAIMS_EACH):
                if time.perf_counter() > self.deadline:
                    break
                begin = time.perf_counter()
                case = case_claim_next(actor=agent)
                self.samples.append((time.perf_counter() - begin) * 1000)
                if case is None:
                    break
                self.claimed.append((case.pk, agent.pk))
        except BaseException as exc:  # reported in run(), after every thread has ended
            self.errors.append(exc)
            self.start_line.abort()
        finally:
            connection.close()
