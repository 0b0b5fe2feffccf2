"""Outages of the demo network. Each region's network nodes fail on their own schedule, and now
and then a storm takes down many nodes of one region within the same hours. Subscribers are
attached to a node and get an event for every outage of it during their tenure, so one incident
shows up on many timelines at the same moment."""

import random
from typing import NamedTuple

from retention.demo.people import REGION_WEIGHTS, REGIONS
from retention.demo.units import DAY, date_of, duration

# Outages per network node per year: rural fibre and old copper fail more often.
_OUTAGE_RATE = {
    "Rīga": 0.2,
    "Pierīga": 0.3,
    "Kurzeme": 0.35,
    "Vidzeme": 0.4,
    "Zemgale": 0.35,
    "Latgale": 0.6,
}
_OUTAGE_CAUSES = (
    ("fibre_cut", "fibre cut during road works"),
    ("power", "power failure at the node"),
    ("equipment", "node equipment fault"),
    ("storm", "storm damage"),
    ("maintenance", "planned maintenance overran"),
    ("fibre_cut", "cable damaged by excavator"),
)

# (start in epoch seconds, minutes, cause, what happened)
_Raw = tuple[int, int, str, str]


class Node(NamedTuple):
    starts: list[int]  # epoch seconds, sorted
    # (start, incident, summary, data): the text is the same on every affected timeline
    outages: list[tuple[int, str, str, str]]


class _Span(NamedTuple):
    first: int  # epoch seconds
    length: int  # seconds
    years: float


def make_outages(
    *, seed: int, subscribers: int, start_day: int, today_day: int
) -> dict[str, list[Node]]:
    """Every region's network nodes and their outages from ``start_day`` to ``today_day``."""
    rng = random.Random(seed * 7 + 4)
    n = max(subscribers, 1)
    length = (today_day - start_day) * DAY
    span = _Span(start_day * DAY, length, length / (365.25 * DAY))
    nodes: dict[str, list[Node]] = {}
    incident = 0
    for region, weight in zip(REGIONS, REGION_WEIGHTS, strict=True):
        expected = n * weight / 100
        count = int(min(400, max(3, expected // 60)))
        raw = [_node_faults(rng, _OUTAGE_RATE[region], span) for _ in range(count)]
        _storms(rng, raw, span)
        region_nodes = []
        for node_outages in raw:
            node_outages.sort()
            outages = []
            for start, minutes, cause, label in node_outages:
                incident += 1
                outages.append(_incident(incident, region, start, minutes, cause, label))
            region_nodes.append(Node([o[0] for o in outages], outages))
        nodes[region] = region_nodes
    return nodes


def _node_faults(rng: random.Random, rate: float, span: _Span) -> list[_Raw]:
    bad = rng.random() < 0.1  # a few nodes on old equipment fail far more often
    faults = []
    for _ in range(int(rate * span.years * (3 if bad else 1) * (0.5 + rng.random()))):
        start = span.first + int(rng.random() * span.length)
        cause, label = _OUTAGE_CAUSES[rng.randrange(len(_OUTAGE_CAUSES))]
        faults.append((start, 30 + int(rng.expovariate(1 / 150)), cause, label))
    return faults


def _storms(rng: random.Random, raw: list[list[_Raw]], span: _Span) -> None:
    """Storms: a quarter of the region's nodes at once."""
    count = len(raw)
    for _ in range(int(span.years * 0.6)):
        start = span.first + int(rng.random() * span.length)
        for node in rng.sample(range(count), max(1, count // 4)):
            raw[node].append(
                (start + rng.randrange(3 * 3600), 120 + rng.randrange(600), "storm", "storm damage")
            )


def _incident(
    number: int, region: str, start: int, minutes: int, cause: str, label: str
) -> tuple[int, str, str, str]:
    code = f"INC-{date_of(start // DAY).year}-{number:06d}"
    return (
        start,
        code,
        f"Outage {duration(minutes)} in {region}: {label} ({code})",
        f'{{"incident": "{code}", "minutes": {minutes}, "cause": "{cause}"}}',
    )
