"""Statistical process control (regions/spc.py) on hand-worked series: every rule, every icon, the edge cases.

Most series are built on STEADY, 10 and 12 alternating, whose figures are easy by hand:
    mean = 11; every moving range is 2, so the mean moving range (mMR) is 2;
    process limits = 11 ± 2.66 × 2 = 11 ± 5.32 = 5.68 .. 16.32;
    two-sigma lines = 11 ± 2/3 × 5.32 = 11 ± 3.5467 = 7.4533 .. 14.5467.
Any even-length prefix of STEADY (four points or more) has the same figures, so a test can fix
the baseline on the first K points of STEADY and append the pattern it needs: the limits stay
the ones above, and the appended points are classified against them.
"""

import datetime as dt
import json
from decimal import Decimal

import pytest

from regions.spc import DEFAULT_RUN_LENGTH, SpcResult, analyse, settings_run_length

STEADY = [10, 12] * 10
UPPER, LOWER, UPPER_TWO, LOWER_TWO = 16.32, 5.68, 11 + 5.32 * 2 / 3, 11 - 5.32 * 2 / 3


def months(values, start=dt.date(2018, 4, 1)):
    """(month, value) pairs, one month apart from April 2018."""
    points, month = [], start
    for value in values:
        points.append((month, value))
        month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return points


def causes(result):
    return [p.special_cause for p in result.points]


def sides(result):
    return [p.side for p in result.points]


class TestFigures:
    def test_mean_moving_ranges_limits_and_two_sigma_lines(self):
        result = analyse(months(STEADY), direction="higher")
        assert result.mean == pytest.approx(11)
        assert result.mean_moving_range == pytest.approx(2)
        assert result.sigma == pytest.approx(5.32 / 3)  # 2.66 / 3 × mMR: a third of the way to a limit
        assert (result.lower_limit, result.upper_limit) == (pytest.approx(LOWER), pytest.approx(UPPER))
        assert (result.lower_two_sigma, result.upper_two_sigma) == (pytest.approx(LOWER_TWO), pytest.approx(UPPER_TWO))
        assert result.points[0].moving_range is None
        assert {p.moving_range for p in result.points[1:]} == {2}
        assert causes(result) == [None] * 20 and {p.variation for p in result.points} == {"common"}
        assert result.variation_icon == "common_cause"
        assert result.baseline == 20

    def test_points_are_sorted_by_month(self):
        result = analyse(list(reversed(months([10, 12, 14]))))
        assert [p.value for p in result.points] == [10, 12, 14]
        assert [p.month for p in result.points] == sorted(p.month for p in result.points)

    def test_decimals_ints_floats_and_text_are_all_numbers(self):
        result = analyse(months([Decimal("10.00"), 12, 10.0, "12"]))
        assert [p.value for p in result.points] == [10, 12, 10, 12]
        assert result.mean == pytest.approx(11)

    def test_the_arithmetic_is_exact_so_equal_figures_stay_equal(self):
        # In floats the mean of 95.1 × 3 is 95.09999999999998, which would put every point above its
        # own mean and, with a moving range of 0, beyond the limits. Exactly, the series is flat.
        result = analyse(months([95.1] * 12), direction="higher", target=95.1, target_comparator=">=")
        assert result.mean == result.upper_limit == result.lower_limit == 95.1
        assert causes(result) == [None] * 12
        assert result.assurance_icon == "pass"

    def test_whole_number_arithmetic_gives_the_figures_fractions_give(self):
        """analyse brings a series to whole numbers over common denominators: every figure is the float nearest
        the exact one, and every point is classified as by fractions (mixed decimals, screening, baselines)."""
        import random
        from fractions import Fraction

        rng = random.Random(7)
        for _ in range(300):
            values = [Decimal(rng.randint(-9000, 99000)) / rng.choice([1, 10, 1000]) for _ in range(rng.randint(2, 60))]
            baseline = rng.choice([None, 2, 5, 13])
            screen = rng.choice([False, True])
            result = analyse(months(values), baseline=baseline, screen_moving_ranges=screen)
            k = len(values) if baseline is None else min(baseline, len(values))
            exact = [Fraction(v) for v in values]
            mean = sum(exact[:k]) / k
            ranges = [abs(b - a) for a, b in zip(exact, exact[1:k])]
            mean_range = sum(ranges) / len(ranges)
            if screen and mean_range > 0:
                kept = [r for r in ranges if r < Fraction("3.267") * mean_range]
                mean_range = sum(kept) / len(kept)
            upper, lower = mean + Fraction("2.66") * mean_range, mean - Fraction("2.66") * mean_range
            assert (result.mean, result.mean_moving_range) == (float(mean), float(mean_range))
            assert (result.upper_limit, result.lower_limit) == (float(upper), float(lower))
            assert result.upper_two_sigma == float(mean + Fraction("2.66") * 2 / 3 * mean_range)
            outside = [v > upper or v < lower for v in exact]
            assert [p.special_cause == "outside_limits" for p in result.points] == outside

    def test_a_target_on_a_limit_is_found_exactly(self):
        # 90.3, 91.3 alternating: mean 90.8, mMR 1, limits 90.8 ± 2.66 = 88.14 .. 93.46.
        # (In floats the lower limit comes out as 88.13999999999999, just below the target.)
        series = months([Decimal("90.3"), Decimal("91.3")] * 5)
        result = analyse(series, target=Decimal("88.14"), target_comparator=">=")
        assert result.lower_limit == 88.14
        assert result.assurance_icon == "pass"


class TestBaseline:
    def test_a_baseline_of_k_points_fixes_the_limits_on_the_first_k(self):
        # The first six points, 10 12 10 12 10 12: mean 11, mMR 2 (the jump to 30 is not in the baseline),
        # limits 5.68 .. 16.32; the two later 30s are classified against them, and are outside.
        result = analyse(months([10, 12, 10, 12, 10, 12, 30, 30]), direction="higher", baseline=6)
        assert result.baseline == 6
        assert (result.mean, result.mean_moving_range) == (pytest.approx(11), pytest.approx(2))
        assert result.upper_limit == pytest.approx(UPPER)
        assert causes(result) == [None] * 6 + ["outside_limits"] * 2
        assert [p.variation for p in result.points[6:]] == ["improvement"] * 2
        # The whole series: mean 126 / 8 = 15.75, moving ranges 2 × 5 + 18 + 0 = 28 over 7 = 4,
        # upper limit 15.75 + 10.64 = 26.39: the 30s are still outside, but the limits moved.
        whole = analyse(months([10, 12, 10, 12, 10, 12, 30, 30]), direction="higher")
        assert (whole.mean, whole.mean_moving_range) == (pytest.approx(15.75), pytest.approx(4))
        assert whole.upper_limit == pytest.approx(26.39)

    def test_a_baseline_longer_than_the_series_uses_the_whole_series(self):
        result = analyse(months(STEADY), baseline=100)
        assert result.baseline == 20 and result.mean == pytest.approx(11)

    def test_a_baseline_of_two_is_the_least(self):
        # 10, 14: mean 12, mMR 4, limits 12 ± 10.64.
        result = analyse(months([10, 14, 30]), baseline=2)
        assert (result.mean, result.upper_limit) == (pytest.approx(12), pytest.approx(22.64))
        assert causes(result)[2] == "outside_limits"

    @pytest.mark.parametrize("k", [1, 0, -3])
    def test_a_baseline_under_two_points_is_refused(self, k):
        with pytest.raises(ValueError, match="at least two points"):
            analyse(months(STEADY), baseline=k)


class TestScreening:
    def test_screening_leaves_a_huge_jump_out_of_the_limits(self):
        # 10 12 × 5 then 50, 10: moving ranges 2 (nine times), 38, 40; mMR = (18 + 78) / 11 = 8.7273.
        # Off (the default): mean 170 / 12 = 14.1667, upper limit 14.1667 + 2.66 × 8.7273 = 37.38.
        # On: 38 and 40 are above 3.267 × 8.7273 = 28.51, so mMR = 18 / 9 = 2 and the upper limit is 19.4867.
        values = [10, 12] * 5 + [50, 10]
        plain = analyse(months(values))
        screened = analyse(months(values), screen_moving_ranges=True)
        assert plain.mean_moving_range == pytest.approx(96 / 11) and plain.screened_out == 0
        assert plain.upper_limit == pytest.approx(170 / 12 + 2.66 * 96 / 11)
        assert screened.mean_moving_range == pytest.approx(2) and screened.screened_out == 2
        assert screened.upper_limit == pytest.approx(170 / 12 + 5.32)
        assert screened.mean == plain.mean  # screening touches the moving ranges only

    def test_the_mean_moving_range_is_recalculated_once(self):
        # Moving ranges 2 (nine times), 10, 40: mMR = 68 / 11 = 6.18, 40 > 3.267 × 6.18 = 20.2 goes;
        # the new mMR is 28 / 10 = 2.8, and 10 (> 3.267 × 2.8 = 9.15) stays: there is no second pass.
        values = [10, 12] * 5 + [22, 62]
        assert analyse(months(values), screen_moving_ranges=True).mean_moving_range == pytest.approx(2.8)

    def test_a_moving_range_exactly_at_the_screening_line_is_screened_out(self):
        # 0 and 7.733 alternating (ten moving ranges of 7.733), then 32.67: mMR (77.33 + 32.67) / 11 = 10, and the
        # last range is exactly 3.267 × 10. As in NHSRplotthedots (which keeps only ranges below the line), it goes.
        values = [0, Decimal("7.733")] * 5 + [0, Decimal("32.67")]
        assert analyse(months(values)).mean_moving_range == 10
        screened = analyse(months(values), screen_moving_ranges=True)
        assert screened.screened_out == 1 and screened.mean_moving_range == pytest.approx(7.733)

    def test_screening_a_flat_series_changes_nothing(self):
        result = analyse(months([5] * 6), screen_moving_ranges=True)
        assert result.mean_moving_range == 0 and result.upper_limit == 5


class TestOutsideLimits:
    def test_above_the_upper_and_below_the_lower_limit(self):
        # Baseline STEADY[:10]: limits 5.68 .. 16.32. 17 is above the upper limit, 5 below the lower one.
        result = analyse(months(STEADY[:10] + [17] + STEADY[:8] + [5]), direction="higher", baseline=10)
        assert causes(result)[10] == "outside_limits" and sides(result)[10] == "high"
        assert causes(result)[-1] == "outside_limits" and sides(result)[-1] == "low"
        assert causes(result)[11:19] == [None] * 8

    def test_a_point_on_a_limit_is_not_outside_it(self):
        # 16.32 is exactly the upper limit: not beyond it (it is beyond two sigma, but alone).
        result = analyse(months(STEADY[:10] + [16.32] + STEADY[:8]), baseline=10)
        assert causes(result)[10] is None


class TestTrend:
    # Baseline STEADY[:8] (mean 11, limits 5.68 .. 16.32, two sigma 7.4533 .. 14.5467); every trend point
    # lies within the two-sigma lines and fewer than seven of them on one side of the mean, so only the
    # trend rule can fire. The point before the trend (12, then down to 10) and after it break it.
    @pytest.mark.parametrize(
        "trend, side",
        [([10, 10.5, 11, 11.5, 12, 12.5, 13], "high"), ([13, 12.5, 12, 11.5, 11, 10.5, 10], "low")],
    )
    def test_seven_rising_or_falling(self, trend, side):
        result = analyse(months(STEADY[:8] + trend + STEADY[:8]), direction="higher", baseline=8)
        assert causes(result) == [None] * 8 + ["trend"] * 7 + [None] * 8
        assert set(sides(result)[8:15]) == {side}

    def test_six_rising_are_not_a_trend(self):
        result = analyse(months(STEADY[:8] + [10, 10.5, 11, 11.5, 12, 12.5] + [10] + STEADY[:7]), baseline=8)
        assert "trend" not in causes(result)

    def test_equal_values_break_a_trend(self):
        # 10 10.5 11 | 11 11.5 12 12.5: the repeated 11 splits seven points into rises of three and four.
        result = analyse(months(STEADY[:8] + [10, 10.5, 11, 11, 11.5, 12, 12.5] + STEADY[:8]), baseline=8)
        assert "trend" not in causes(result)

    def test_a_longer_trend_is_flagged_whole(self):
        result = analyse(months(STEADY[:8] + [9, 9.5, 10, 10.5, 11, 11.5, 12, 12.5, 13] + [10] * 2), baseline=8)
        assert causes(result)[8:17] == ["trend"] * 9


class TestTwoOfThree:
    # Baseline STEADY[:10]: mean 11, two sigma at 7.4533 and 14.5467, limits at 5.68 and 16.32.
    # The rule as NHSRplotthedots applies it: three consecutive points all on one side of the mean, of which
    # two or three are beyond that side's two-sigma line but not beyond the process limit; only those are
    # flagged. Letters: H 15.5 and L 6.5 (beyond two sigma, within the limits), h 12 and l 10 (near the mean,
    # above and below it), U 17 (above the upper limit), M 11 (exactly the mean).
    VALUES = {"H": 15.5, "h": 12, "L": 6.5, "l": 10, "U": 17, "M": 11}

    def classify(self, pattern, direction="higher"):
        """The pattern's points and their causes, after the baseline and before a fence of 10, 12, 10."""
        values = [self.VALUES[c] for c in pattern]
        result = analyse(months(STEADY[:10] + values + [10, 12, 10]), direction=direction, baseline=10)
        return result, causes(result)[10 : 10 + len(values)]

    def test_two_of_three_above(self):
        assert UPPER_TWO < 15.5 < UPPER
        result, found = self.classify("HhH")
        assert found == ["two_of_three", None, "two_of_three"]  # the third point is not flagged
        assert sides(result)[10] == sides(result)[12] == "high"
        assert result.points[10].variation == "improvement"

    def test_two_of_three_below(self):
        assert LOWER < 6.5 < LOWER_TWO
        result, found = self.classify("LlL")
        assert found == ["two_of_three", None, "two_of_three"]
        assert result.points[10].variation == "concern" and sides(result)[10] == "low"

    def test_three_of_three_are_all_flagged(self):
        assert self.classify("HHH")[1] == ["two_of_three"] * 3

    # NHSRplotthedots' own cases (its tests of the two-in-three rule), each as a series: "close to the limits"
    # there is H or L here, and each point's side of the mean is that of its letter (H, h above; L, l below).
    @pytest.mark.parametrize(
        "pattern, flagged",
        [
            ("HhH", [1, 0, 1]),  # close (1, 0, 1), all above the mean
            ("hHH", [0, 1, 1]),  # close (0, 1, 1)
            ("HHh", [1, 1, 0]),  # close (1, 1, 0)
            ("hhHhHhh", [0, 0, 1, 0, 1, 0, 0]),  # only the points close to the limit are flagged
            ("hhHHhhh", [0, 0, 1, 1, 0, 0, 0]),
            ("HhhH", [0, 0, 0, 0]),  # two close points, too far apart
            ("HhhHH", [0, 0, 0, 1, 1]),
            # Opposite sides of the mean: the same close points, never a signal.
            ("HlH", [0, 0, 0]),
            ("hLH", [0, 0, 0]),
            ("HLh", [0, 0, 0]),
            ("hlHlHlh", [0] * 7),
            ("lhLHlhl", [0] * 7),
        ],
    )
    def test_the_cases_of_nhsrplotthedots(self, pattern, flagged):
        found = self.classify(pattern)[1]
        assert [cause == "two_of_three" for cause in found] == [bool(x) for x in flagged]
        # A point this rule leaves is flagged by no other but a run (h points next to the baseline's last 12).
        assert {cause for cause, x in zip(found, flagged) if not x} <= {None, "run"}

    def test_the_third_point_must_be_on_the_same_side_of_the_mean(self):
        # Two points beyond the upper two-sigma line with one below the mean between them: not a signal.
        assert self.classify("HlH")[1] == [None] * 3
        # With the middle point exactly on the mean, it is on neither side: not a signal either.
        assert self.classify("HMH")[1] == [None] * 3

    def test_a_point_beyond_the_process_limit_does_not_count(self):
        # NHSRplotthedots issue 153: above the limit, above the limit, beyond two sigma: the third is common cause;
        # above the limit, then two beyond two sigma: those two are a signal.
        assert self.classify("UUH")[1] == ["outside_limits", "outside_limits", None]
        assert self.classify("UHH")[1] == ["outside_limits", "two_of_three", "two_of_three"]
        assert self.classify("HUh")[1] == [None, "outside_limits", None]

    def test_a_point_exactly_on_the_process_limit_counts(self):
        # 16.32 is the upper limit: not beyond it (rule 1), but beyond two sigma (this rule).
        result = analyse(months(STEADY[:10] + [16.32, 12, 15.5] + [10, 12]), baseline=10)
        assert causes(result)[10:13] == ["two_of_three", None, "two_of_three"]

    def test_one_of_three_beyond_two_sigma_is_not_a_signal(self):
        assert "two_of_three" not in self.classify("Hhhl")[1]

    def test_two_beyond_on_opposite_sides_are_not_a_signal(self):
        assert self.classify("HhL")[1] == [None] * 3

    def test_two_beyond_four_apart_are_not_a_signal(self):
        assert "two_of_three" not in self.classify("HhhH")[1]

    def test_nhsrplotthedots_two_successive_points_on_opposite_sides(self):
        # Its test: 1, -1 alternating (16 points), the 15th set to 5.5 and the 16th to -5.5: the last two points
        # are close to the limits on opposite sides of the mean, so they are common cause, screened or not.
        # Mean 0; moving ranges 2 (13 times), 6.5, 11: mMR 43.5 / 15 = 2.9, two sigma at ± 5.1427, limits ± 7.714;
        # screened, 11 ≥ 3.267 × 2.9 = 9.474 goes: mMR 32.5 / 14 = 2.3214, two sigma ± 4.1167, limits ± 6.175.
        values = [1, -1] * 7 + [5.5, -5.5]
        for screen in (False, True):
            result = analyse(months(values), direction="higher", screen_moving_ranges=screen)
            assert result.lower_two_sigma > -5.5 and result.upper_two_sigma < 5.5 and result.upper_limit > 5.5
            assert causes(result)[-2:] == [None, None] and result.variation_icon == "common_cause"


class TestTrendTies:
    def test_a_peak_between_a_rising_and_a_falling_trend_points_the_way_of_the_later_one(self):
        # Baseline STEADY[:8] (mean 11, two sigma 7.4533 .. 14.5467). Then 10 up to 13 in steps of 0.5 and down
        # again to 10: two trends of seven that share the peak, 13. As in NHSRplotthedots, the peak takes the
        # direction of the step after it: the falling trend. With "higher is better" it is a concern.
        up = [10, 10.5, 11, 11.5, 12, 12.5, 13]
        result = analyse(months(STEADY[:8] + up + up[-2::-1] + [12]), direction="higher", baseline=8)
        assert causes(result)[8:21] == ["trend"] * 13 and causes(result)[21] is None
        assert sides(result)[8:21] == ["high"] * 6 + ["low"] * 7
        assert result.points[14].variation == "concern" and result.points[13].variation == "improvement"

    def test_a_point_keeps_its_own_trend_when_the_next_trend_starts_after_an_equal_step(self):
        # Rising 10 .. 13, 13 again, then rising from 13 in six further steps: two trends joined by an equal step.
        # Each point points the way of the trend it belongs to (docs/spc.md says where NHSRplotthedots differs).
        first = [10, 10.5, 11, 11.5, 12, 12.5, 13]
        second = [13, 13.1, 13.2, 13.3, 13.4, 13.5, 13.6]
        result = analyse(months(STEADY[:8] + first + second), direction="higher", baseline=8)
        assert causes(result)[8:22] == ["trend"] * 14
        assert set(sides(result)[8:22]) == {"high"}


class TestNHSRplotthedotsExamples:
    """The worked examples of NHSRplotthedots (its vignettes and tests), with the figures it documents."""

    def test_the_screening_example_of_its_deviations_vignette(self):
        # 1, 2, 1, 2, 10, then 1, 2 alternating to 18 points: mean 35 / 18 = 1.9444; moving ranges 1, 1, 1, 8, 9 and
        # twelve 1s, mMR 32 / 17 = 1.8824. Unscreened (the Making Data Count Excel tools): limits 1.94 ± 5.0071,
        # "UPL = 6.95, Mean = 1.94, LPL = -3.06". Screened (the package's default): 8 and 9 are at or above
        # 3.267 × 1.8824 = 6.1496 and go, mMR 15 / 15 = 1: "UPL = 4.6, Mean = 1.94, LPL = -0.72".
        # Either way 10 is the one special cause, an improvement; every other point is common cause.
        values = [1, 2, 1, 2, 10] + [1, 2] * 6 + [1]
        excel = analyse(months(values), direction="higher")
        screened = analyse(months(values), direction="higher", screen_moving_ranges=True)
        assert (round(excel.upper_limit, 2), round(excel.mean, 2), round(excel.lower_limit, 2)) == (6.95, 1.94, -3.06)
        assert (round(screened.upper_limit, 2), round(screened.mean, 2), round(screened.lower_limit, 2)) == (
            4.6,
            1.94,
            -0.72,
        )
        assert screened.screened_out == 2 and screened.mean_moving_range == 1
        for result in (excel, screened):
            assert causes(result) == [None] * 4 + ["outside_limits"] + [None] * 13
            assert result.points[4].variation == "improvement"

    # Twenty draws of R's rnorm with seed 123, as its standard-calculation tests print them (eight decimals).
    RNORM = [
        -0.56047565,
        -0.23017749,
        1.55870831,
        0.07050839,
        0.12928774,
        1.71506499,
        0.46091621,
        -1.26506123,
        -0.68685285,
        -0.44566197,
        1.22408180,
        0.35981383,
        0.40077145,
        0.11068272,
        -0.55584113,
        1.78691314,
        0.49785048,
        -1.96661716,
        0.70135590,
        -0.47279141,
    ]

    def test_its_standard_calculations(self):
        # Its recorded results: mean 0.1416238, limits -3.01138 .. 3.294627 (screening leaves nothing out);
        # with the 15th value set to 10, screened: mean 0.6694159, limits -2.383666 .. 3.722497;
        # not screened: -4.596625 .. 5.935457.
        plain = analyse(months(self.RNORM), screen_moving_ranges=True)
        assert plain.screened_out == 0
        assert (plain.mean, plain.lower_limit, plain.upper_limit) == (
            pytest.approx(0.1416238, abs=1e-7),
            pytest.approx(-3.01138, abs=1e-5),
            pytest.approx(3.294627, abs=1e-6),
        )
        assert causes(plain) == [None] * 20
        spiked = self.RNORM[:14] + [10] + self.RNORM[15:]
        screened = analyse(months(spiked), screen_moving_ranges=True)
        assert screened.screened_out == 2  # the ranges into and out of the 10
        assert (screened.mean, screened.lower_limit, screened.upper_limit) == (
            pytest.approx(0.6694159, abs=1e-7),
            pytest.approx(-2.383666, abs=1e-6),
            pytest.approx(3.722497, abs=1e-6),
        )
        unscreened = analyse(months(spiked))
        assert (unscreened.lower_limit, unscreened.upper_limit) == (
            pytest.approx(-4.596625, abs=1e-6),
            pytest.approx(5.935457, abs=1e-6),
        )
        # Its signs of each point against the mean, for the first fourteen points of the spiked series.
        above = [1 if p.value > screened.mean else -1 for p in screened.points[:14]]
        assert above == [-1, -1, 1, -1, -1, 1, -1, -1, -1, -1, 1, -1, -1, -1]

    @pytest.mark.parametrize(
        "values, found",
        [
            # 1, 2, 3, 3, 4, 5, 6: an equal step, so no trend of seven. Mean 24 / 7 = 3.4286, mMR 5 / 6, limits
            # 1.2119 .. 5.6452: 1 and 6 are beyond them, and no other point is a special cause.
            ([1, 2, 3, 3, 4, 5, 6], ["outside_limits"] + [None] * 5 + ["outside_limits"]),
            # 1 .. 7: mean 4, mMR 1, limits 1.34 .. 6.66: the first and last points are beyond them, a rule
            # that comes before the trend (in its order of priority too).
            ([1, 2, 3, 4, 5, 6, 7], ["outside_limits"] + ["trend"] * 5 + ["outside_limits"]),
            ([7, 6, 5, 4, 3, 2, 1], ["outside_limits"] + ["trend"] * 5 + ["outside_limits"]),
            # 2, 1 .. 7, 3: mean 3.6667, mMR 11 / 8, limits -0.0908 .. 7.4242: the seven rising points are the trend.
            ([2, 1, 2, 3, 4, 5, 6, 7, 3], [None] + ["trend"] * 7 + [None]),
            ([2, 7, 6, 5, 4, 3, 2, 1, 3], [None] + ["trend"] * 7 + [None]),
        ],
    )
    def test_its_seven_point_trends(self, values, found):
        assert causes(analyse(months(values))) == found


class TestRun:
    # Baseline STEADY[:8] (mean 11); each run is fenced by points on the other side of the mean,
    # so that its length is exactly what the test says; its points are equal, so there is no trend.
    @pytest.mark.parametrize("value, fence, side", [(11.5, 10, "high"), (10.5, 12, "low")])
    def test_seven_on_one_side_of_the_mean(self, value, fence, side):
        result = analyse(months(STEADY[:8] + [fence] + [value] * 7 + [fence] + STEADY[:6]), baseline=8)
        assert causes(result) == [None] * 9 + ["run"] * 7 + [None] * 7
        assert set(sides(result)[9:16]) == {side}

    def test_six_on_one_side_are_not_a_run(self):
        result = analyse(months(STEADY[:8] + [10] + [11.5] * 6 + [10] + STEADY[:6]), baseline=8)
        assert "run" not in causes(result)

    def test_a_point_on_the_mean_breaks_a_run(self):
        # Eight points above the mean with the fourth replaced by 11, exactly the mean: runs of 3 and 4.
        broken = analyse(months(STEADY[:8] + [10] + [11.5] * 3 + [11] + [11.5] * 4 + [10] + STEADY[:6]), baseline=8)
        assert broken.mean == 11 and "run" not in causes(broken)
        unbroken = analyse(months(STEADY[:8] + [10] + [11.5] * 8 + [10] + STEADY[:6]), baseline=8)
        assert causes(unbroken)[9:17] == ["run"] * 8


class TestRunLength:
    def test_a_run_length_of_eight(self):
        seven = STEADY[:8] + [10] + [11.5] * 7 + [10] + STEADY[:6]
        eight = STEADY[:8] + [10] + [11.5] * 8 + [10] + STEADY[:6]
        assert "run" not in causes(analyse(months(seven), baseline=8, run_length=8))
        assert causes(analyse(months(eight), baseline=8, run_length=8))[9:17] == ["run"] * 8
        assert analyse(months(seven), baseline=8, run_length=8).run_length == 8

    def test_a_trend_length_of_eight(self):
        seven = STEADY[:8] + [10, 10.5, 11, 11.5, 12, 12.5, 13] + STEADY[:8]
        eight = STEADY[:8] + [9.5, 10, 10.5, 11, 11.5, 12, 12.5, 13] + STEADY[:8]
        assert "trend" not in causes(analyse(months(seven), baseline=8, run_length=8))
        assert causes(analyse(months(eight), baseline=8, run_length=8))[8:16] == ["trend"] * 8

    def test_the_default_is_seven(self):
        assert DEFAULT_RUN_LENGTH == 7 and analyse(months(STEADY)).run_length == 7

    def test_the_setting_is_read_when_asked_for(self, settings):
        settings.SPC_RUN_LENGTH = 8
        assert settings_run_length() == 8
        del settings.SPC_RUN_LENGTH
        assert settings_run_length() == 7

    @pytest.mark.parametrize("n", [1, 0])
    def test_a_run_length_under_two_is_refused(self, n):
        with pytest.raises(ValueError, match="at least two points"):
            analyse(months(STEADY), run_length=n)


class TestPriority:
    def test_outside_limits_before_trend_and_trend_before_two_of_three(self):
        # Baseline STEADY[:10]. Then 10 11 12 13 14 15 17: seven rising. 17 is outside (> 16.32);
        # 15 is beyond two sigma (> 14.5467) together with 17, but the trend comes first.
        result = analyse(months(STEADY[:10] + [10, 11, 12, 13, 14, 15, 17]), direction="higher", baseline=10)
        assert causes(result)[10:] == ["trend"] * 6 + ["outside_limits"]

    def test_trend_before_run(self):
        # 10, then seven rising points above the mean 11, within two sigma (14.5 < 14.5467): the seven are a
        # run and, with the 10 before them (after a fall from 12), a trend of eight; the trend wins.
        result = analyse(months(STEADY[:8] + [10] + [11.5, 12, 12.5, 13, 13.5, 14, 14.5] + [10]), baseline=8)
        assert causes(result)[8:16] == ["trend"] * 8

    def test_two_of_three_before_run(self):
        # Seven above the mean 11: five at 11.5, then 15 and 15 (beyond two sigma, not a rise: equal).
        result = analyse(months(STEADY[:8] + [10] + [11.5] * 5 + [15, 15] + [10] + STEADY[:6]), baseline=8)
        assert causes(result)[9:16] == ["run"] * 5 + ["two_of_three"] * 2


class TestImprovementOrConcern:
    # Baseline STEADY[:10]; 17 is above the upper limit, 5 below the lower one.
    @pytest.mark.parametrize(
        "direction, high, low",
        [("higher", "improvement", "concern"), ("lower", "concern", "improvement"), (None, "neither", "neither")],
    )
    def test_the_side_of_a_signal_against_the_direction(self, direction, high, low):
        result = analyse(months(STEADY[:10] + [17, 11, 5]), direction=direction, baseline=10)
        assert [p.variation for p in result.points[10:]] == [high, "common", low]

    def test_a_trend_and_a_run_take_the_side_they_point_to(self):
        rising = analyse(months(STEADY[:8] + [10, 10.5, 11, 11.5, 12, 12.5, 13]), direction="lower", baseline=8)
        assert {p.variation for p in rising.points[8:]} == {"concern"}
        below = analyse(months(STEADY[:8] + [12] + [10.5] * 7), direction="lower", baseline=8)
        assert {p.variation for p in below.points[9:]} == {"improvement"}

    def test_labels_say_it_in_words(self):
        result = analyse(months(STEADY[:10] + [17, 11]), direction="lower", baseline=10)
        assert result.points[10].label == "Special cause of a concerning nature: above the upper process limit"
        assert result.points[11].label == "Common cause variation"

    def test_a_bad_direction_is_refused(self):
        with pytest.raises(ValueError, match="direction"):
            analyse(months(STEADY), direction="up")


class TestVariationIcon:
    # Baseline STEADY (limits 5.68 .. 16.32); the icon is that of the latest point.
    @pytest.mark.parametrize(
        "direction, tail, icon",
        [
            ("higher", [17], "special_cause_improvement_high"),
            ("higher", [5], "special_cause_concern_low"),
            ("lower", [17], "special_cause_concern_high"),
            ("lower", [5], "special_cause_improvement_low"),
            (None, [17], "special_cause_neither_high"),
            (None, [5], "special_cause_neither_low"),
            ("higher", [11], "common_cause"),
            ("higher", [17, 11], "common_cause"),  # an earlier signal does not make the icon
        ],
    )
    def test_each_icon(self, direction, tail, icon):
        result = analyse(months(STEADY + tail), direction=direction, baseline=20)
        assert result.variation_icon == icon
        assert result.variation_label and result.variation_short

    def test_the_latest_point_of_a_run_gives_the_icon(self):
        result = analyse(months(STEADY[:8] + [12] + [10.5] * 7), direction="higher", baseline=8)
        assert result.variation_icon == "special_cause_concern_low"
        assert "significantly LOWER" in result.variation_label


class TestAssuranceIcon:
    # STEADY: limits 5.68 .. 16.32.
    @pytest.mark.parametrize(
        "comparator, target, icon",
        [
            (">=", 5, "pass"),  # the lower limit 5.68 is above 5: every expected point meets ">= 5"
            (">=", 17, "fail"),  # the upper limit 16.32 is below 17: none does
            (">=", 11, "hit_and_miss"),  # the target lies between the limits
            ("<=", 17, "pass"),
            ("<=", 5, "fail"),
            ("<=", 11, "hit_and_miss"),
        ],
    )
    def test_each_icon_for_both_comparators(self, comparator, target, icon):
        result = analyse(months(STEADY), direction="higher", target=target, target_comparator=comparator)
        assert result.assurance_icon == icon and result.assurance_label and result.assurance_short

    def test_no_target_no_icon(self):
        result = analyse(months(STEADY), direction="higher")
        assert result.assurance_icon is None and result.assurance_label == ""
        assert "no assurance icon" in result.note

    def test_a_target_exactly_on_a_limit(self):
        # The portal's choice (docs/spc.md): NHSRplotthedots compares strictly and calls both of the first two
        # cases "inconsistent"; the portal's targets have comparators, which include equality.
        # The comparators include equality, so a limit on the target is on its good side:
        # ">= 5.68" with a lower limit of 5.68: every point within the limits meets the target: pass.
        assert analyse(months(STEADY), target=5.68, target_comparator=">=").assurance_icon == "pass"
        assert analyse(months(STEADY), target=16.32, target_comparator="<=").assurance_icon == "pass"
        # ">= 16.32" with an upper limit of 16.32: only the top of the band meets it: hit and miss, not fail.
        assert analyse(months(STEADY), target=16.32, target_comparator=">=").assurance_icon == "hit_and_miss"
        assert analyse(months(STEADY), target=5.68, target_comparator="<=").assurance_icon == "hit_and_miss"

    def test_without_a_comparator_the_direction_gives_one(self):
        higher = analyse(months(STEADY), direction="higher", target=5)
        assert (higher.target_comparator, higher.assurance_icon) == (">=", "pass")
        lower = analyse(months(STEADY), direction="lower", target=5)
        assert (lower.target_comparator, lower.assurance_icon) == ("<=", "fail")
        neither = analyse(months(STEADY), target=5)
        assert neither.assurance_icon is None and "comparator" in neither.note

    def test_a_bad_comparator_is_refused(self):
        with pytest.raises(ValueError, match="comparator"):
            analyse(months(STEADY), target=5, target_comparator=">")


class TestEdgeCases:
    def test_no_points(self):
        result = analyse([], direction="higher", target=95, target_comparator=">=")
        assert result.points == [] and result.mean is None and not result.has_limits
        assert (result.variation_icon, result.assurance_icon) == (None, None)
        assert result.note == "No data." and result.latest is None

    def test_one_point(self):
        result = analyse(months([42]), direction="higher", target=95, target_comparator=">=")
        assert result.mean == 42 and result.mean_moving_range is None and not result.has_limits
        assert causes(result) == [None] and result.points[0].variation == "common"
        assert result.points[0].moving_range is None
        assert (result.variation_icon, result.assurance_icon) == (None, None)
        assert "two points" in result.note

    def test_a_flat_series(self):
        # All 90: mMR 0, so both limits and both two-sigma lines equal the mean. No point is strictly beyond
        # a limit, equal values make no trend, points on the mean make no run.
        result = analyse(months([90] * 12), direction="higher", target=95, target_comparator=">=")
        assert result.upper_limit == result.lower_limit == result.upper_two_sigma == result.mean == 90
        assert causes(result) == [None] * 12
        assert result.variation_icon == "common_cause"
        # The assurance icon is the target against the mean.
        assert result.assurance_icon == "fail"
        assert analyse(months([90] * 12), target=90, target_comparator=">=").assurance_icon == "pass"
        assert analyse(months([90] * 12), target=90, target_comparator="<=").assurance_icon == "pass"
        assert analyse(months([90] * 12), target=89, target_comparator="<=").assurance_icon == "fail"

    def test_two_values_for_one_month_are_refused(self):
        with pytest.raises(ValueError, match="2018-04-01"):
            analyse(months([1, 2]) + [(dt.date(2018, 4, 1), 3)])

    @pytest.mark.parametrize("value", [float("nan"), float("inf"), Decimal("NaN"), None, "n/a"])
    def test_a_value_that_is_not_a_finite_number_is_refused(self, value):
        with pytest.raises(ValueError, match="finite number"):
            analyse(months([1, 2, value]))


class TestAsDict:
    def test_the_result_serialises_for_the_api(self):
        # 0 1 0: mean 1/3, moving ranges 1 and 1, limits 1/3 ± 2.66.
        result = analyse(
            months([Decimal("0"), Decimal("1"), Decimal("0")]),
            direction="higher",
            target=Decimal("95.00"),
            target_comparator=">=",
        )
        data = json.loads(json.dumps(result.as_dict()))
        assert data["points"][1] == {
            "month": "2018-05-01",
            "value": 1.0,
            "moving_range": 1.0,
            "special_cause": None,
            "side": None,
            "variation": "common",
        }
        assert data["mean"] == 0.3333  # rounded to four places
        assert data["upper_process_limit"] == 2.9933 and data["lower_process_limit"] == -2.3267
        assert data["target"] == 95.0 and data["target_comparator"] == ">="
        assert data["variation_icon"] == "common_cause" and data["assurance_icon"] == "fail"
        assert data["assurance_label"] == "The system is expected to consistently fail the target"
        assert (data["baseline_points"], data["run_length"], data["direction"]) == (3, 7, "higher")

    def test_no_data_serialises_too(self):
        data = analyse([]).as_dict()
        assert data["points"] == [] and data["mean"] is None and data["upper_process_limit"] is None
        assert data["variation_label"] == "" and data["note"] == "No data."
        assert isinstance(analyse([]), SpcResult)
