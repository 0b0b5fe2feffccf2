"""How big a benchmark run is: the scales, and the seed every run uses."""

from dataclasses import dataclass

from retention.demo.rows import SeedOptions

DEFAULT_BENCH_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/desk_bench"
SEED = 42
# Heavy accounts hold enough events for a page a thousand pages deep at either scale, so the
# deep-page figure measures the same depth at both.
HEAVY = 2
HEAVY_EVENTS = 60_000


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
    # ~30,000 and ~1,500,000 closed cases: 2,050 a day is about the 2,000 new cases a day the
    # desk is built for.
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
