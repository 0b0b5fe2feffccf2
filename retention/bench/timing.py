"""Timing requests and calls. Times are measured in-process around ``django.test.Client.get``
with a logged-in user: the whole Django stack (middleware, session, view, template, SQL)
without the network and WSGI server in front."""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from retention.bench.results import Figure
from retention.models import User


@dataclass
class Series:
    name: str
    client: Client
    urls: list[str]
    headers: dict[str, str] = field(default_factory=dict)


def logged_in(user: User) -> Client:
    """A test client logged in as ``user``. Its default host, testserver, is not in
    ALLOWED_HOSTS outside tests."""
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    return client


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
    return [Figure(s.name, samples[s.name], _query_counts(s)) for s in series]


def _query_counts(s: Series) -> tuple[int, int]:
    counts = []
    for url in s.urls[:: max(1, len(s.urls) // 10)]:
        with CaptureQueriesContext(connection) as captured:
            _get(s.client, url, s.headers)
        counts.append(len(captured))
    return min(counts), max(counts)


def _get(client: Client, url: str, headers: dict[str, str]) -> None:
    response = client.get(url, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    if response.streaming:
        # A streamed response does its work as it is read: the time is of the whole body.
        for _ in response.streaming_content:  # type: ignore[attr-defined]
            pass


def answers(client: Client, url: str) -> str:
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


def timed(name: str, runs: int, call: Callable[[], object]) -> Figure:
    """``runs`` timings of a call, with the queries of one more."""
    with CaptureQueriesContext(connection) as captured:
        call()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return Figure(name, samples, (len(captured), len(captured)))
