"""The model card's calibration chart, drawn as SVG on the server like the usage charts on the
subscriber page: no script, the page's CSP stays strict, and the same figures are in a table
beside it for anyone who cannot see the drawing.

Predicted rate against observed rate for each tenth of the held-out rows (ranked by the
score). Both axes share one scale, so a well-calibrated model lies on the diagonal.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.template.defaultfilters import floatformat

# The drawing box (viewBox units); the stylesheet scales it to the card. The plot is square so
# that the diagonal is at 45 degrees.
PLOT = 240
LEFT, RIGHT, TOP, BOTTOM = 48, 14, 10, 40
WIDTH, HEIGHT = LEFT + PLOT + RIGHT, TOP + PLOT + BOTTOM
# Axis tops to choose from (as rates): the smallest that holds every point.
TOPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)


@dataclass(frozen=True)
class CalibrationRow:
    decile: int
    predicted: float
    observed: float
    rows: int | None


@dataclass(frozen=True)
class CalibrationPoint:
    x: float
    y: float
    title: str


@dataclass(frozen=True)
class AxisTick:
    at: float  # x for the horizontal axis, y for the vertical one
    text: str


@dataclass(frozen=True)
class CalibrationChart:
    points: list[CalibrationPoint]
    path: str  # the polyline through the points, in the order of the deciles
    x_ticks: list[AxisTick]
    y_ticks: list[AxisTick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = LEFT + PLOT
    top: int = TOP
    bottom: int = TOP + PLOT
    x_title_y: int = HEIGHT - 4
    y_title_x: int = 12
    middle_x: int = LEFT + PLOT // 2
    middle_y: int = TOP + PLOT // 2


def _rate(value: Any) -> float | None:
    """A stored rate, or None for anything that is not a number from 0 to 1."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    rate = float(value)
    if rate != rate or rate < 0:  # NaN or negative
        return None
    return min(rate, 1.0)


def calibration_rows(calibration: Any) -> list[CalibrationRow]:
    """The stored deciles ([{"predicted", "observed", "rows"}]) that can be read, numbered from
    1; a version stored by an older release may hold something else, which is left out."""
    if not isinstance(calibration, list):
        return []
    rows: list[CalibrationRow] = []
    for entry in calibration:
        if not isinstance(entry, dict):
            continue
        predicted, observed = _rate(entry.get("predicted")), _rate(entry.get("observed"))
        if predicted is None or observed is None:
            continue
        count = entry.get("rows")
        rows.append(
            CalibrationRow(
                decile=len(rows) + 1,
                predicted=predicted,
                observed=observed,
                rows=count if isinstance(count, int) and not isinstance(count, bool) else None,
            )
        )
    return rows


def percent_text(rate: float, decimals: int = 1) -> str:
    """As the card's tables write a rate (the ``figure:"percent"`` filter), so that a point's
    tooltip and its row in the table agree."""
    return f"{floatformat(rate * 100, decimals)} %"


def _top(rows: Iterable[CalibrationRow]) -> float:
    largest = max((max(r.predicted, r.observed) for r in rows), default=0.0)
    return next((top for top in TOPS if top >= largest), 1.0)


def calibration_chart(
    rows: list[CalibrationRow], title: Callable[[CalibrationRow], str]
) -> CalibrationChart | None:
    """The chart of the deciles, or None without any; ``title`` says a decile in words (each
    point's tooltip)."""
    if not rows:
        return None
    top = _top(rows)

    def x(rate: float) -> float:
        return round(LEFT + rate / top * PLOT, 1)

    def y(rate: float) -> float:
        return round(TOP + PLOT - rate / top * PLOT, 1)

    points = [
        CalibrationPoint(x=x(row.predicted), y=y(row.observed), title=title(row)) for row in rows
    ]
    # A quarter of a small top needs more decimals than a quarter of 100 %.
    decimals = 0 if top >= 0.2 else 1 if top >= 0.02 else 2
    parts = (0, 0.25, 0.5, 0.75, 1)
    return CalibrationChart(
        points=points,
        path=" ".join(f"{p.x},{p.y}" for p in points),
        x_ticks=[AxisTick(x(top * part), percent_text(top * part, decimals)) for part in parts],
        y_ticks=[AxisTick(y(top * part), percent_text(top * part, decimals)) for part in parts],
    )
