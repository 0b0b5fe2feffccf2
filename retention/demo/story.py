"""One ordinary demo subscriber's facts, as their story is drawn step by step: each step reads
what the ones before drew and adds its events (retention.demo.regular tells it in order)."""

from dataclasses import dataclass, field
from datetime import date

from retention.demo.rows import Draft, EquipmentRow, PlanRow
from retention.demo.units import DAY


@dataclass(slots=True)
class Story:
    index: int
    sid: int
    account: str
    segment: str  # residential, small_business or corporate
    region: str
    name: str
    email: str
    language: str
    zone: str
    tenure: int  # days
    signup_day: int  # epoch day
    signup: date
    plan: PlanRow  # what they signed up for
    method: str  # how they pay
    bill_dom: int  # the day of the month a bill falls due
    end_day: int  # the reference day, or the day the contract ended
    cancelled: bool
    current_plan: PlanRow  # what they have now
    monthly: int = 0  # cents
    prices: list[tuple[int, int]] = field(default_factory=list)  # (epoch day, cents)
    promo_ends_on: date | None = None  # or a retention discount's end
    equipment: list[EquipmentRow] = field(default_factory=list)
    ship_day: int = 0
    outages_12m: int = 0
    arrears: int = 0  # cents
    arrears_months: int = 0
    events: list[Draft] = field(default_factory=list)

    @property
    def seg_key(self) -> str:
        """The segment as the plan catalogue writes it: r, s or c."""
        return self.segment[0]

    @property
    def start_at(self) -> int:
        return self.signup_day * DAY

    @property
    def end_at(self) -> int:
        return self.end_day * DAY + DAY

    def price_from(self, day: int, cents: int) -> None:
        """The monthly price changed on ``day``."""
        self.monthly = cents
        self.prices.append((day, cents))
