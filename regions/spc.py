"""Statistical process control for monthly series, the NHS "Making Data Count" way (XmR charts).

Pure Python, no database: the dashboards and the API pass in (month, value)
points and get back every figure a chart and its table need.

The method:
- the mean of the baseline (the whole series, or its first K points);
- moving ranges (the absolute difference between consecutive points) and their
  mean; optionally, moving ranges above 3.267 × their mean are screened out
  and the mean recalculated once;
- process limits at mean ± 2.66 × the mean moving range (3 sigma, with
  sigma = mean moving range / 1.128) and the two-sigma lines at ± 2/3 of that;
- each point's special cause, in the method's order of priority: outside a
  limit; a trend of N points all rising or all falling; two of three
  consecutive points beyond two sigma on the same side of the mean; a run of
  N points on one side of the mean (N defaults to 7);
- improvement or concern by the measure's direction;
- the variation icon of the latest point, and the assurance icon from the
  target against the process limits.

Figures are floats: the inputs are published statistics with one or two
decimals, the limits are estimates, and charts and JSON want floats; results
are rounded for display, never for the arithmetic.
"""

from dataclasses import dataclass, field
from datetime import date

LIMIT_FACTOR = 2.66  # 3 / 1.128
SCREEN_FACTOR = 3.267  # upper limit of the moving-range chart
DEFAULT_RUN_LENGTH = 7

OUTSIDE, TREND, TWO_OF_THREE, RUN = "outside_limits", "trend", "two_of_three", "run"
CAUSE_LABELS = {
    OUTSIDE: "outside the process limits",
    TREND: "part of a trend",
    TWO_OF_THREE: "two of three beyond two sigma",
    RUN: "part of a run on one side of the mean",
}

VARIATION_LABELS = {
    "common_cause": "Common cause variation: no significant change",
    "special_cause_improvement_high": "Special cause variation of an improving nature where the measure is significantly HIGHER",
    "special_cause_improvement_low": "Special cause variation of an improving nature where the measure is significantly LOWER",
    "special_cause_concern_high": "Special cause variation of a concerning nature where the measure is significantly HIGHER",
    "special_cause_concern_low": "Special cause variation of a concerning nature where the measure is significantly LOWER",
    "special_cause_neither_high": "Special cause variation where the measure is significantly HIGHER (no direction of improvement)",
    "special_cause_neither_low": "Special cause variation where the measure is significantly LOWER (no direction of improvement)",
}
ASSURANCE_LABELS = {
    "pass": "The system is expected to consistently pass the target",
    "fail": "The system is expected to consistently fail the target",
    "hit_and_miss": "The system may achieve or fail the target subject to random variation",
}


@dataclass
class Point:
    month: date
    value: float
    moving_range: float | None = None
    special_cause: str | None = None  # OUTSIDE, TREND, TWO_OF_THREE, RUN or None
    side: str | None = None  # "high" or "low": which way the special cause points
    variation: str = "common"  # "common", "improvement", "concern" or "neither"

    def as_dict(self):
        return {
            "month": self.month.isoformat(),
            "value": self.value,
            "moving_range": _round(self.moving_range),
            "special_cause": self.special_cause,
            "side": self.side,
            "variation": self.variation,
        }

    @property
    def label(self):
        if self.special_cause is None:
            return "Common cause"
        kind = {"improvement": "Improvement", "concern": "Concern", "neither": "Special cause"}[self.variation]
        return f"{kind}: {CAUSE_LABELS[self.special_cause]}"


@dataclass
class SpcResult:
    points: list = field(default_factory=list)
    mean: float | None = None
    mean_moving_range: float | None = None
    upper_limit: float | None = None
    lower_limit: float | None = None
    upper_two_sigma: float | None = None
    lower_two_sigma: float | None = None
    baseline: int = 0
    run_length: int = DEFAULT_RUN_LENGTH
    direction: str | None = None
    target: float | None = None
    target_comparator: str | None = None
    variation_icon: str | None = None
    assurance_icon: str | None = None
    note: str = ""  # why icons or limits are missing, when they are

    @property
    def has_limits(self):
        return self.upper_limit is not None

    @property
    def latest(self):
        return self.points[-1] if self.points else None

    @property
    def variation_label(self):
        return VARIATION_LABELS.get(self.variation_icon, "")

    @property
    def assurance_label(self):
        return ASSURANCE_LABELS.get(self.assurance_icon, "")

    def as_dict(self):
        return {
            "points": [p.as_dict() for p in self.points],
            "mean": _round(self.mean),
            "mean_moving_range": _round(self.mean_moving_range),
            "upper_process_limit": _round(self.upper_limit),
            "lower_process_limit": _round(self.lower_limit),
            "upper_two_sigma": _round(self.upper_two_sigma),
            "lower_two_sigma": _round(self.lower_two_sigma),
            "baseline_points": self.baseline,
            "run_length": self.run_length,
            "direction": self.direction,
            "target": self.target,
            "target_comparator": self.target_comparator,
            "variation_icon": self.variation_icon,
            "variation_label": self.variation_label,
            "assurance_icon": self.assurance_icon,
            "assurance_label": self.assurance_label,
            "note": self.note,
        }


def _round(value, places=4):
    return None if value is None else round(value, places)


def analyse(
    points,
    *,
    direction=None,
    target=None,
    target_comparator=None,
    baseline=None,
    run_length=DEFAULT_RUN_LENGTH,
    screen_moving_ranges=False,
):
    """Classify a monthly series. ``points`` are (month, value) pairs; ``direction`` is "higher", "lower" or None."""
    if baseline is not None and baseline < 2:
        raise ValueError("The baseline needs at least two points (K ≥ 2).")
    if run_length < 2:
        raise ValueError("A run or trend needs at least two points (N ≥ 2).")
    series = [Point(month, float(value)) for month, value in sorted(points, key=lambda p: p[0])]
    result = SpcResult(
        points=series, run_length=run_length, direction=direction,
        target=None if target is None else float(target), target_comparator=target_comparator,
    )
    for previous, point in zip(series, series[1:]):
        point.moving_range = abs(point.value - previous.value)
    if not series:
        result.note = "No data."
        return result
    k = len(series) if baseline is None or baseline > len(series) else baseline
    result.baseline = k
    base = series[:k]
    result.mean = sum(p.value for p in base) / k
    if k < 2:
        result.note = "At least two points are needed for process limits."
        return result

    ranges = [p.moving_range for p in base[1:]]
    mean_range = sum(ranges) / len(ranges)
    if screen_moving_ranges and mean_range > 0:
        kept = [r for r in ranges if r <= SCREEN_FACTOR * mean_range]
        mean_range = sum(kept) / len(kept)
    result.mean_moving_range = mean_range
    spread = LIMIT_FACTOR * mean_range
    result.upper_limit = result.mean + spread
    result.lower_limit = result.mean - spread
    result.upper_two_sigma = result.mean + spread * 2 / 3
    result.lower_two_sigma = result.mean - spread * 2 / 3

    _classify(result)
    result.variation_icon = _variation_icon(result)
    result.assurance_icon = _assurance_icon(result)
    return result


def _mark(point, cause, side):
    # Rules are applied in priority order; a point keeps the first cause it meets.
    if point.special_cause is None:
        point.special_cause, point.side = cause, side


def _classify(result):
    points, mean, n = result.points, result.mean, result.run_length
    # 1. Outside a process limit (strictly beyond it).
    for p in points:
        if p.value > result.upper_limit:
            _mark(p, OUTSIDE, "high")
        elif p.value < result.lower_limit:
            _mark(p, OUTSIDE, "low")
    # 2. A trend: N points each higher (or each lower) than the one before; equal values break it.
    for start, stop, side in _streaks(points, lambda a, b: "high" if b.value > a.value else "low" if b.value < a.value else None, pairwise=True):
        if stop - start >= n:
            for p in points[start:stop]:
                _mark(p, TREND, side)
    # 3. Two of three consecutive points beyond two sigma on the same side of the mean.
    for i in range(len(points) - 2):
        window = points[i:i + 3]
        for side, beyond in (("high", lambda p: p.value > result.upper_two_sigma),
                             ("low", lambda p: p.value < result.lower_two_sigma)):
            flagged = [p for p in window if beyond(p)]
            if len(flagged) >= 2:
                for p in flagged:
                    _mark(p, TWO_OF_THREE, side)
    # 4. A run: N points on one side of the mean; a point on the mean breaks it.
    for start, stop, side in _streaks(points, lambda p: "high" if p.value > mean else "low" if p.value < mean else None):
        if stop - start >= n:
            for p in points[start:stop]:
                _mark(p, RUN, side)
    for p in points:
        if p.special_cause is None:
            p.variation = "common"
        elif result.direction not in ("higher", "lower"):
            p.variation = "neither"
        else:
            good_side = "high" if result.direction == "higher" else "low"
            p.variation = "improvement" if p.side == good_side else "concern"


def _streaks(points, side_of, pairwise=False):
    """Maximal stretches of points sharing a side: (start, stop, side) with points[start:stop] in the stretch.

    With ``pairwise``, the side is that of each step between consecutive points, and a stretch of
    s steps covers s + 1 points (a trend of N points is N - 1 rises).
    """
    if pairwise:
        sides = [side_of(a, b) for a, b in zip(points, points[1:])]
    else:
        sides = [side_of(p) for p in points]
    start = 0
    for i in range(1, len(sides) + 1):
        if i == len(sides) or sides[i] != sides[start]:
            if sides[start] is not None:
                yield (start, i + 1 if pairwise else i, sides[start])
            start = i


def _variation_icon(result):
    latest = result.latest
    if latest.special_cause is None:
        return "common_cause"
    return f"special_cause_{latest.variation}_{latest.side}"


def _assurance_icon(result):
    """Pass when the whole band between the process limits meets the target, fail when none of it does.

    A limit exactly on the target counts as meeting it (the comparators are ≥ and ≤): with ">= 95"
    and a lower limit of exactly 95, every point the process is expected to give meets the target,
    so the icon is "pass". Without a target or a comparator there is no assurance icon.
    """
    if result.target is None or result.target_comparator not in (">=", "<="):
        return None
    target, upper, lower = result.target, result.upper_limit, result.lower_limit
    if result.target_comparator == ">=":
        if lower >= target:
            return "pass"
        if upper < target:
            return "fail"
    else:
        if upper <= target:
            return "pass"
        if lower > target:
            return "fail"
    return "hit_and_miss"
