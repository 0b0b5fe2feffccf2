"""What a benchmark run measured, and where its figures are kept (``var/bench/<scale>.json``)."""

import json
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from retention.bench.scale import Scale

RESULTS_DIR = settings.VAR_DIR / "bench"
Log = Callable[[str], None]


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
    tables: dict[str, Any] = field(default_factory=dict)  # queue rows by hand vs django-tables2
    billing: dict[str, Any] = field(default_factory=dict)  # accept queries, delivery rates
    fit: dict[str, Any] = field(default_factory=dict)  # the nightly tariff fit, SQL vs a loop
    risk: dict[str, Any] = field(default_factory=dict)  # churn training and nightly scoring
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
            "tables": self.tables,
            "billing": self.billing,
            "fit": self.fit,
            "risk": self.risk,
            "notes": self.notes,
        }

    def note(self, text: str, log: Log) -> None:
        """Something the run could not measure: logged now, and listed in the report."""
        log(text)
        self.notes.append(text)


def save(results: Results) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{results.scale.label}.json"
    path.write_text(json.dumps(results.as_json(), indent=2, ensure_ascii=False) + "\n")
    return path


def other_scale(results: Results) -> dict[str, Any] | None:
    """The other scale's last saved figures, if any."""
    other = "full" if results.scale.label == "quick" else "quick"
    path = RESULTS_DIR / f"{other}.json"
    if not path.exists():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded
