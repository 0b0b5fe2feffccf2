"""The benchmark's sections, run in this order after the data is in place. A section measures
one subject and adds to the results: figures to ``results.figures`` (they join the report's
table and the saved JSON), and what it could not measure to ``results.note(...)``.

Adding a section is one line here: ``Section("name", measure_name, "help")`` with a function
``measure_name(results: Results, *, requests: int, log: Log) -> None``. The ``bench`` command
gets a ``--skip-name`` option for it (none for a section with ``always=True``).
"""

from dataclasses import dataclass
from typing import Protocol

from retention.bench.billing import measure_billing
from retention.bench.claims import measure_claims
from retention.bench.dashboard import measure_dashboard
from retention.bench.fit import measure_fit
from retention.bench.importing import measure_import
from retention.bench.outreach import measure_outreach
from retention.bench.pages import measure_pages
from retention.bench.queue_tables import measure_queue_section
from retention.bench.results import Log, Results
from retention.bench.risk import measure_risk


class Measure(Protocol):
    def __call__(self, results: Results, *, requests: int, log: Log) -> None: ...


@dataclass(frozen=True)
class Section:
    name: str  # --skip-<name> leaves it out
    measure: Measure
    skip_help: str | None = None
    always: bool = False  # no --skip option


SECTIONS: tuple[Section, ...] = (
    Section("pages", measure_pages, always=True),
    Section(
        "queue-tables",
        measure_queue_section,
        "Leave out the queue rows rendered by hand against django-tables2.",
    ),
    Section("claims", measure_claims),
    Section("import", measure_import),
    Section(
        "outreach",
        measure_outreach,
        "Leave out campaign fan-out, outreach sending and the reminder tick.",
    ),
    Section(
        "billing",
        measure_billing,
        "Leave out an accepted offer's queries and the delivery of billing events.",
    ),
    Section(
        "dashboard",
        measure_dashboard,
        "Leave out the history of closed cases, the figures' backfill and the dashboard.",
    ),
    Section(
        "tariff-fit",
        measure_fit,
        "Leave out the nightly tariff fit over every subscriber and its Python-loop ratio.",
    ),
    Section(
        "churn-risk",
        measure_risk,
        "Leave out churn training and the nightly scoring of every active subscriber.",
    ),
)
