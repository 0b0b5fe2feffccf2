"""What the demo generator makes: plain tuples in model field order, which the writers turn
into COPY text or model instances; the options that decide them, and what a load reports."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple


@dataclass(frozen=True)
class SeedOptions:
    subscribers: int = 2000
    seed: int = 42
    events_per_subscriber: int = 20
    heavy: int = 2
    heavy_events: int = 2000
    today: date | None = None  # the reference date; the data is relative to it

    def as_dict(self) -> dict[str, Any]:
        return {
            "subscribers": self.subscribers,
            "seed": self.seed,
            "events_per_subscriber": self.events_per_subscriber,
            "heavy": self.heavy,
            "heavy_events": self.heavy_events,
            # What a load holds besides: a bench database loaded without usage loads again.
            "usage_months": 12,
        }


class PlanRow(NamedTuple):
    code: str
    name: str
    kind: str
    download_mbps: int
    upload_mbps: int
    list_cents: int
    new_cents: int
    is_sold: bool
    segments: str  # r = residential, s = small business, c = corporate
    sold_from: int  # year
    sold_until: int  # last year sold
    weight: int
    gear: str  # equipment profile: fibre, dsl, cable, lte


class SubscriberRow(NamedTuple):
    id: int
    account_number: str
    name: str
    phone: str
    email: str
    language: str
    time_zone: str
    region: str
    segment: str
    status: str
    signup_date: date
    plan_id: int
    monthly_cents: int
    promo_ends_on: date | None
    balance_cents: int
    arrears_cents: int
    payment_method: str
    do_not_call: bool
    do_not_email: bool
    do_not_sms: bool
    churn_risk: int
    churn_risk_reasons: str  # JSON text


class EquipmentRow(NamedTuple):
    id: int
    subscriber_id: int
    kind: str
    model_name: str
    serial: str
    status: str
    return_method: str
    return_due_on: date | None
    shipped_on: date | None
    returned_on: date | None


# (id, subscriber_id, kind, occurred_at as epoch seconds, source, external_id, summary, data JSON)
EventRow = tuple[int, int, str, int, str, str | None, str, str]
# An event before it has its id: (epoch seconds, kind, source, external_id, summary, data JSON).
# An external_id of "" asks for a support ticket number, made from the id.
Draft = tuple[int, str, str, str | None, str, str]


# (id, subscriber_id, month of the usage window (0 = oldest), GB down in hundredths, GB up in
# hundredths, hours online in tenths, peak devices, people)
UsageRow = tuple[int, int, int, int, int, int, int, int]


@dataclass
class Bundle:
    subscriber: SubscriberRow
    equipment: list[EquipmentRow]
    events: list[EventRow]
    usage: list[UsageRow] = field(default_factory=list)
    pattern: str = ""  # how they use the line (retention.demo.usage)
    end_day: int = 0  # epoch day the contract ended; 0: it runs on


@dataclass
class LoadReport:
    options: SeedOptions
    plans: int = 0
    subscribers: int = 0
    equipment: int = 0
    events: int = 0
    usage: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return self.plans + self.subscribers + self.equipment + self.events + self.usage

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    def summary(self) -> str:
        total = self.total_seconds or 1e-9
        phases = ", ".join(f"{name} {secs:.1f} s" for name, secs in self.seconds.items())
        return (
            f"Loaded {self.subscribers:,} subscribers, {self.events:,} timeline events, "
            f"{self.equipment:,} equipment items, {self.usage:,} usage months and "
            f"{self.plans} plans in {total:.1f} s "
            f"({self.rows / total:,.0f} rows/s; {phases})."
        )
