"""Statistical process control for monthly series, the NHS "Making Data Count" way (XmR charts).

Pure Python, standard library only, no database: the dashboards and the API
pass in (month, value) points and get back every figure a chart, its table and
the API need (``analyse`` returns an ``SpcResult``; ``SpcResult.as_dict()`` is
ready for JSON).

The method:

- the mean of the baseline: the whole series, or its first K points;
- moving ranges (the absolute difference between consecutive points) and the
  mean moving range of the baseline; optionally (off by default), moving
  ranges at or above 3.267 × that mean are screened out and the mean
  recalculated once from the ones kept (a flat series is not screened);
- process limits at mean ± 2.66 × the mean moving range. 2.66 is 3 / 1.128
  (sigma = mean moving range / 1.128) as the method rounds it; the portal takes
  2.66 as the definition, so sigma is a third of the distance from the mean to
  a limit and the two-sigma lines sit at mean ± 2/3 × 2.66 × the mean moving
  range (1.7733 ×);
- each point's special cause, in the method's order of priority (a point that
  meets several rules is reported under the first):

  1. ``outside_limits``: strictly beyond the upper or the lower process limit;
  2. ``trend``: N or more consecutive points each higher than the one before
     (or each lower); two equal consecutive values break a trend; every point
     of the trend is flagged; a point that ends one trend and starts the next
     (the peak between a rising and a falling trend) points the way of the
     later one;
  3. ``two_of_three``: three consecutive points all on one side of the mean
     (a point on the mean is on neither), of which two or three lie strictly
     beyond the two-sigma line on that side but not beyond the process limit
     (a point on the limit counts); those two or three are flagged, the
     third point of the window is not. A point beyond the process limit is
     flagged by rule 1 and does not count towards this rule;
  4. ``run``: N or more consecutive points on one side of the mean; a point
     exactly on the mean breaks a run; every point of the run is flagged;

  with N the run length (``run_length``, the portal's ``SPC_RUN_LENGTH``
  setting, 7 by default). With N = 7 and screening off these are the rules of
  NHSRplotthedots, the NHS-R Community's implementation of Making Data Count;
  docs/spc.md states every choice where the Making Data Count sources differ;
- each special cause points high (above the mean, rising) or low; it is an
  improvement when that is the measure's better direction, a concern when it
  is not, and "neither" when the measure has no direction;
- the variation icon is that of the latest point; the assurance icon compares
  the target with the process limits (see ``_assurance_icon``).

Arithmetic: exact, floats only in the result. Decimals from the database and
integers convert exactly; a float is taken at its shortest decimal spelling
(95.1 is 951/10, not the binary number nearest to it). Every rule turns on
equality somewhere: a point exactly on the mean breaks a run, a flat series has
its limits exactly on the mean and no point beyond them, a target exactly on a
limit passes. In floats the mean of three months of 95.1 is 95.09999999999998,
so every one of those months would sit above the mean and beyond the limits;
``decimal.Decimal`` would round the mean of a series like 1, 1, 2 (4/3) and
could misjudge the same ties. So a series is brought to whole numbers over one
common denominator (the database's figures have three decimals: thousandths),
and the mean, the limits and the two-sigma lines to whole numbers over a common
denominator of their own (300 × the baseline's points × its moving ranges), so
that every comparison is one of Python's exact integers: the same answers as
``fractions.Fraction`` at a fraction of its cost (a dashboard analyses a hundred
series). The figures handed back (mean, limits, values) are floats, each the
nearest to its exact value, since charts and JSON
want them; ``as_dict()`` rounds them to four decimal places.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from math import lcm

LIMIT_FACTOR = Fraction("2.66")  # 3 / 1.128, as the method rounds it: the process limits
TWO_SIGMA_FACTOR = LIMIT_FACTOR * 2 / 3  # the two-sigma lines, two thirds of the way to the limits
SCREEN_FACTOR = Fraction("3.267")  # the upper limit of the moving-range chart
# The factors in 300ths, whole (analyse compares in whole numbers): 798/300 = 2.66, 532/300 = 2.66 × 2/3.
LIMIT_300, TWO_SIGMA_300 = int(LIMIT_FACTOR * 300), int(TWO_SIGMA_FACTOR * 300)
assert LIMIT_300 == LIMIT_FACTOR * 300 and TWO_SIGMA_300 == TWO_SIGMA_FACTOR * 300
DEFAULT_RUN_LENGTH = 7

DIRECTIONS = ("higher", "lower")
COMPARATORS = (">=", "<=")

OUTSIDE, TREND, TWO_OF_THREE, RUN = "outside_limits", "trend", "two_of_three", "run"
SPECIAL_CAUSES = (OUTSIDE, TREND, TWO_OF_THREE, RUN)  # in the order of priority
HIGH, LOW = "high", "low"

# What a point's special cause means, in words, by the side it points to.
CAUSE_LABELS = {
    (OUTSIDE, HIGH): "above the upper process limit",
    (OUTSIDE, LOW): "below the lower process limit",
    (TREND, HIGH): "part of a rising trend",
    (TREND, LOW): "part of a falling trend",
    (TWO_OF_THREE, HIGH): "two of three points above the upper two-sigma line",
    (TWO_OF_THREE, LOW): "two of three points below the lower two-sigma line",
    (RUN, HIGH): "part of a run above the mean",
    (RUN, LOW): "part of a run below the mean",
}
VARIATION_WORDS = {
    "improvement": "Special cause of an improving nature",
    "concern": "Special cause of a concerning nature",
    "neither": "Special cause",
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
# Short forms for badges and tags; the labels above say it in full.
VARIATION_SHORT = {
    "common_cause": "Common cause",
    "special_cause_improvement_high": "Improvement (higher)",
    "special_cause_improvement_low": "Improvement (lower)",
    "special_cause_concern_high": "Concern (higher)",
    "special_cause_concern_low": "Concern (lower)",
    "special_cause_neither_high": "Special cause (higher)",
    "special_cause_neither_low": "Special cause (lower)",
}
ASSURANCE_LABELS = {
    "pass": "The system is expected to consistently pass the target",
    "fail": "The system is expected to consistently fail the target",
    "hit_and_miss": "The system may achieve or fail the target subject to random variation",
}
ASSURANCE_SHORT = {"pass": "Passes target", "fail": "Fails target", "hit_and_miss": "Hit and miss"}

NO_DATA = "No data."
TOO_FEW = "At least two points are needed for process limits, so there are no limits and no icons."
NO_TARGET = "No target, so no assurance icon."
NO_COMPARATOR = "The target has no comparator and the measure no direction, so there is no assurance icon."


def settings_run_length():
    """The run and trend length the portal is configured with (``SPC_RUN_LENGTH``, 7 when unset).

    Read when called, so that this module imports without Django and ``analyse``
    stays a pure function: callers pass ``run_length=settings_run_length()``.
    """
    from django.conf import settings

    return getattr(settings, "SPC_RUN_LENGTH", DEFAULT_RUN_LENGTH)


@dataclass
class Point:
    month: date
    value: float
    moving_range: float | None = None  # from the previous point; None for the first
    special_cause: str | None = None  # one of SPECIAL_CAUSES, or None for common cause
    side: str | None = None  # HIGH or LOW: which way the special cause points
    variation: str = "common"  # "common", "improvement", "concern" or "neither"

    @property
    def label(self):
        """The point's classification in words, for the table alternative and the chart's tooltips."""
        if self.special_cause is None:
            return "Common cause variation"
        return f"{VARIATION_WORDS[self.variation]}: {CAUSE_LABELS[(self.special_cause, self.side)]}"

    def as_dict(self):
        return {
            "month": self.month.isoformat(),
            "value": _round(self.value),
            "moving_range": _round(self.moving_range),
            "special_cause": self.special_cause,
            "side": self.side,
            "variation": self.variation,
        }


@dataclass
class SpcResult:
    points: list = field(default_factory=list)  # Point, by month
    mean: float | None = None
    mean_moving_range: float | None = None
    sigma: float | None = None
    upper_limit: float | None = None
    lower_limit: float | None = None
    upper_two_sigma: float | None = None
    lower_two_sigma: float | None = None
    baseline: int = 0  # the points the mean and limits were computed from (the first ones)
    screened_out: int = 0  # baseline moving ranges left out by screening
    run_length: int = DEFAULT_RUN_LENGTH
    direction: str | None = None
    target: float | None = None
    target_comparator: str | None = None  # as given, or taken from the direction
    variation_icon: str | None = None
    assurance_icon: str | None = None
    note: str = ""  # why limits or icons are missing, when they are

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

    @property
    def variation_short(self):
        return VARIATION_SHORT.get(self.variation_icon, "")

    @property
    def assurance_short(self):
        return ASSURANCE_SHORT.get(self.assurance_icon, "")

    def as_dict(self):
        """The series, mean, limits, each point's classification and both icons, for JSON (dates ISO)."""
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
            "target": _round(self.target),
            "target_comparator": self.target_comparator,
            "variation_icon": self.variation_icon,
            "variation_label": self.variation_label,
            "assurance_icon": self.assurance_icon,
            "assurance_label": self.assurance_label,
            "note": self.note,
        }


def _round(value, places=4):
    return None if value is None else round(float(value), places)


def _exact(value, month=None):
    """A number as an exact fraction: Decimals and integers as they are, floats at their shortest spelling."""
    try:
        if isinstance(value, (int, Decimal, Fraction)):
            return Fraction(value)
        return Fraction(str(value))
    except (ValueError, TypeError, OverflowError, ZeroDivisionError):
        where = f" for {month.isoformat()}" if isinstance(month, date) else ""
        raise ValueError(f"The value{where} must be a finite number, not {value!r}.") from None


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
    """Classify a monthly series and give its mean, limits, special causes and icons.

    ``points``: (month, value) pairs in any order (they are sorted by month), values
    as int, Decimal, float or numeric text; one value per month.
    ``direction``: "higher" or "lower" (which way is better), or None.
    ``target`` and ``target_comparator`` (">=" or "<="): the target for the
    assurance icon; without a comparator, a direction supplies one (higher:
    ">=", lower: "<=").
    ``baseline``: K, to compute the mean and the limits from the first K points
    only and classify every point against them; None or a K longer than the
    series takes the whole series; K < 2 is a ValueError.
    ``run_length``: N, the points in a run or a trend (callers pass the
    setting, see ``settings_run_length``).
    ``screen_moving_ranges``: leave out baseline moving ranges at or above 3.267 × their mean.

    Fewer than two points (in the series or the baseline) give no moving-range
    mean, no limits and no icons, every point common cause, and ``note`` says why.
    """
    direction, target_comparator = _checked_arguments(direction, target_comparator, baseline, run_length)
    ordered = _one_value_a_month(points)
    # Every value as a whole number of 1/scale: exact, and compared as Python integers.
    ratios = [_ratio(value, month) for month, value in ordered]
    scale = lcm(*(d for _, d in ratios)) if ratios else 1
    values = [n * (scale // d) for n, d in ratios]
    exact_target, target_comparator = _target_of(target, target_comparator, direction)

    result = SpcResult(
        # n / scale: Python divides integers to the nearest float, as float(Fraction(n, scale)) does.
        points=[Point(month, value / scale) for (month, _), value in zip(ordered, values)],
        run_length=run_length,
        direction=direction,
        target=None if exact_target is None else float(exact_target),
        target_comparator=target_comparator,
    )
    ranges = [abs(b - a) for a, b in zip(values, values[1:])]
    for point, moving_range in zip(result.points[1:], ranges):
        point.moving_range = moving_range / scale
    if not values:
        result.note = NO_DATA
        return result

    k = len(values) if baseline is None else min(baseline, len(values))
    result.baseline = k
    total = sum(values[:k])  # the mean is total / (k × scale)
    result.mean = total / (k * scale)
    if k < 2:
        result.note = TOO_FEW
        return result

    common, mean, limits = _limits(result, total, k, ranges, scale, screen_moving_ranges)
    whole = common * scale
    _mark_variation(result.points, classify([v * common for v in values], mean, limits, run_length), direction)
    latest = result.points[-1]
    result.variation_icon = (
        "common_cause" if latest.special_cause is None else f"special_cause_{latest.variation}_{latest.side}"
    )
    result.assurance_icon = _assurance_icon(
        exact_target, target_comparator, Fraction(limits["lower"], whole), Fraction(limits["upper"], whole)
    )
    if exact_target is None:
        result.note = NO_TARGET
    elif target_comparator is None:
        result.note = NO_COMPARATOR
    return result


def _target_of(target, target_comparator, direction):
    """The target, exactly, and its comparator: without one, a direction supplies it (higher: ">=", lower: "<=")."""
    exact_target = None if target is None else _exact(target)
    if exact_target is not None and target_comparator is None and direction is not None:
        target_comparator = ">=" if direction == "higher" else "<="
    return exact_target, target_comparator


def _limits(result, total, k, ranges, scale, screen_moving_ranges):
    """The baseline's moving ranges, mean, process limits and two-sigma lines into ``result``; returns the common
    denominator of all of them (× scale: ``common``), the mean and the limits as whole numbers over it.

    Over the common denominator 300 × k × range_count (× scale): the mean, and the distances from it to the
    process limits (LIMIT_300/300 times the mean moving range) and the two-sigma lines (TWO_SIGMA_300/300), all
    whole."""
    range_total, range_count = _moving_ranges(result, ranges[: k - 1], screen_moving_ranges)
    common = 300 * k * range_count
    mean = total * 300 * range_count
    spread, near = LIMIT_300 * k * range_total, TWO_SIGMA_300 * k * range_total
    limits = {"upper": mean + spread, "lower": mean - spread, "upper_two": mean + near, "lower_two": mean - near}
    whole = common * scale
    result.mean_moving_range = range_total / (range_count * scale)
    result.sigma = spread / (3 * whole)
    result.upper_limit, result.lower_limit = limits["upper"] / whole, limits["lower"] / whole
    result.upper_two_sigma, result.lower_two_sigma = limits["upper_two"] / whole, limits["lower_two"] / whole
    return common, mean, limits


def _ratio(value, month=None):
    """A number as (numerator, denominator), exactly (``_exact``), without making a Fraction of a Decimal or an int."""
    if isinstance(value, int):
        return int(value), 1
    if isinstance(value, Decimal):
        try:
            return value.as_integer_ratio()
        except (ValueError, OverflowError):
            pass  # not finite: _exact says so
    exact = _exact(value, month)
    return exact.numerator, exact.denominator


def _checked_arguments(direction, target_comparator, baseline, run_length):
    """The direction and the comparator ("" read as None); a ValueError for any argument out of range."""
    if direction in ("", None):
        direction = None
    elif direction not in DIRECTIONS:
        raise ValueError(f"The direction must be 'higher', 'lower' or None, not {direction!r}.")
    if target_comparator in ("", None):
        target_comparator = None
    elif target_comparator not in COMPARATORS:
        raise ValueError(f"The target comparator must be '>=', '<=' or None, not {target_comparator!r}.")
    if baseline is not None and (isinstance(baseline, bool) or not isinstance(baseline, int) or baseline < 2):
        raise ValueError(f"The baseline needs at least two points (K ≥ 2), not {baseline!r}.")
    if isinstance(run_length, bool) or not isinstance(run_length, int) or run_length < 2:
        raise ValueError(f"A run or a trend needs at least two points (N ≥ 2), not {run_length!r}.")
    return direction, target_comparator


def _one_value_a_month(points):
    """The points sorted by month; a ValueError when a month has two."""
    ordered = sorted(points, key=lambda p: p[0])
    for (before, _), (month, _) in zip(ordered, ordered[1:]):
        if month == before:
            raise ValueError(f"Two values for {month.isoformat()}: a series has one value a month.")
    return ordered


def _moving_ranges(result, base_ranges, screen_moving_ranges):
    """The baseline's moving ranges as (their total, how many): their mean is total / count. Screened of ranges
    at or above 3.267 × their mean when asked."""
    total, count = sum(base_ranges), len(base_ranges)
    if screen_moving_ranges and total > 0:
        # r < 3.267 × total / count, in whole numbers. Never empty: not every range can lie at or above 3.267
        # times their mean, when that mean is above 0.
        screen = SCREEN_FACTOR.numerator * total
        kept = [r for r in base_ranges if r * count * SCREEN_FACTOR.denominator < screen]
        result.screened_out = count - len(kept)
        total, count = sum(kept), len(kept)
    return total, count


def _mark_variation(points, causes, direction):
    """Each point's special cause, side and variation (common, improvement, concern or neither)."""
    good = {"higher": HIGH, "lower": LOW}.get(direction)
    for point, (cause, side) in zip(points, causes):
        point.special_cause, point.side = cause, side
        if cause is None:
            point.variation = "common"
        elif good is None:
            point.variation = "neither"
        else:
            point.variation = "improvement" if side == good else "concern"


def classify(values, mean, limits, run_length):
    """Each value's (special cause, side), or (None, None), by the rules in priority order.

    ``limits`` holds "upper", "lower" (the process limits) and "upper_two",
    "lower_two" (the two-sigma lines). Every comparison is strict: a value on
    a limit or a two-sigma line is not beyond it, a value on the mean is on
    neither side. So a value exactly on a process limit is not outside it, but
    is beyond the two-sigma line and counts for the two-of-three rule.
    """
    causes = [(None, None)] * len(values)
    sides = [HIGH if v > mean else LOW if v < mean else None for v in values]
    rules = (
        _outside_limits(values, limits),
        _trends(values, run_length),
        _two_of_three(values, sides, limits),
        _runs(sides, run_length),
    )
    for marks in rules:
        for index, cause, side in marks:
            # Rules run in priority order: a point keeps the first cause it meets.
            if causes[index][0] is None:
                causes[index] = (cause, side)
    return causes


def _outside_limits(values, limits):
    """1. Outside a process limit: (index, cause, side) of each point."""
    for i, value in enumerate(values):
        if value > limits["upper"]:
            yield i, OUTSIDE, HIGH
        elif value < limits["lower"]:
            yield i, OUTSIDE, LOW


def _trends(values, run_length):
    """2. A trend: N points, each step up (or each step down); an equal step breaks it."""
    steps = [HIGH if b > a else LOW if b < a else None for a, b in zip(values, values[1:])]
    trend = [None] * len(values)
    for start, stop, side in _stretches(steps):
        if stop - start + 1 >= run_length:  # s steps join s + 1 points
            for i in range(start, stop + 1):
                trend[i] = side  # a point ending one trend and starting the next takes the later one
    for i, side in enumerate(trend):
        if side is not None:
            yield i, TREND, side


def _two_of_three(values, sides, limits):
    """3. Two (or three) of three consecutive points on one side of the mean, beyond its two-sigma line."""
    near = [limits["upper_two"] < v <= limits["upper"] or limits["lower"] <= v < limits["lower_two"] for v in values]
    for start in range(max(len(values) - 2, 0)):
        side = sides[start]
        if side is None or sides[start + 1] != side or sides[start + 2] != side:
            continue
        flagged = [i for i in (start, start + 1, start + 2) if near[i]]
        if len(flagged) >= 2:
            for i in flagged:
                yield i, TWO_OF_THREE, side


def _runs(sides, run_length):
    """4. A run: N points on one side of the mean; a point on the mean breaks it."""
    for start, stop, side in _stretches(sides):
        if stop - start >= run_length:
            for i in range(start, stop):
                yield i, RUN, side


def _stretches(sides):
    """The maximal stretches of equal, non-None sides: (start, stop, side) with sides[start:stop] in the stretch."""
    start = 0
    for i in range(1, len(sides) + 1):
        if i == len(sides) or sides[i] != sides[start]:
            if sides[start] is not None:
                yield start, i, sides[start]
            start = i


def _assurance_icon(target, comparator, lower, upper):
    """The assurance icon: the target against the process limits.

    With ">=": "pass" when the lower limit is at or above the target (the
    whole band the process is expected to vary within meets the target),
    "fail" when the upper limit is below it (none of the band does), otherwise
    "hit_and_miss". With "<=" the mirror image: "pass" when the upper limit is
    at or below the target, "fail" when the lower limit is above it.

    A limit exactly on the target counts as meeting it, since both comparators
    include equality: with ">= 95" and a lower limit of exactly 95, every point
    within the limits meets the target, so the icon is "pass"; with ">= 95" and
    an upper limit of exactly 95, only the top of the band meets it, so the
    icon is "hit_and_miss", not "fail". A flat series has both limits on the
    mean, so the mean alone decides. Without a target, or without a comparator
    (given or taken from the direction), there is no icon.
    """
    if target is None or comparator is None:
        return None
    if comparator == ">=":
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
