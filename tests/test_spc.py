"""Statistical process control on hand-worked series: every rule, every icon, and the edge cases."""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.template import engines

from regions.charts import render_svg
from regions.spc import analyse


def months(values, start=dt.date(2018, 4, 1)):
    points, month = [], start
    for value in values:
        points.append((month, value))
        month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return points


def causes(result):
    return [p.special_cause for p in result.points]


# A steady series: values alternate 10, 12 (moving range 2 everywhere).
# mean = 11, mean moving range = 2, limits 11 ± 5.32 = 5.68 .. 16.32, two sigma 11 ± 3.5467 = 7.4533 .. 14.5467.
STEADY = [10, 12] * 10


class TestFigures:
    def test_mean_moving_ranges_and_limits(self):
        result = analyse(months(STEADY), direction="higher")
        assert result.mean == pytest.approx(11)
        assert result.mean_moving_range == pytest.approx(2)
        assert result.upper_limit == pytest.approx(16.32)
        assert result.lower_limit == pytest.approx(5.68)
        assert result.upper_two_sigma == pytest.approx(11 + 5.32 * 2 / 3)
        assert result.points[0].moving_range is None and result.points[1].moving_range == 2
        assert causes(result) == [None] * 20
        assert result.variation_icon == "common_cause"

    def test_a_baseline_of_k_points_fixes_the_limits_on_the_first_k(self):
        # First 6 points: 10, 12, 10, 12, 10, 12 -> mean 11, mMR 2; the later 30s are far outside those limits.
        result = analyse(months([10, 12, 10, 12, 10, 12, 30, 30]), direction="higher", baseline=6)
        assert (result.mean, result.upper_limit) == (pytest.approx(11), pytest.approx(16.32))
        assert result.baseline == 6
        assert causes(result)[6:] == ["outside_limits", "outside_limits"]
        whole = analyse(months([10, 12, 10, 12, 10, 12, 30, 30]), direction="higher")
        assert whole.mean == pytest.approx(126 / 8)

    def test_a_baseline_longer_than_the_series_uses_the_whole_series(self):
        assert analyse(months(STEADY), baseline=100).baseline == 20

    def test_a_baseline_under_two_points_is_refused(self):
        with pytest.raises(ValueError, match="at least two points"):
            analyse(months(STEADY), baseline=1)

    def test_screening_removes_a_huge_moving_range_from_the_limits(self):
        # Moving ranges: 2 nine times, then 38 and 40 around a spike. Mean MR = (18 + 78) / 11 = 8.727;
        # screening drops 38 and 40 (> 3.267 x 8.727 = 28.5): mean MR = 2.
        values = [10, 12] * 5 + [50, 10]
        plain = analyse(months(values))
        screened = analyse(months(values), screen_moving_ranges=True)
        assert plain.mean_moving_range == pytest.approx(96 / 11)
        assert screened.mean_moving_range == pytest.approx(2)
        assert screened.upper_limit < plain.upper_limit


class TestRules:
    def test_outside_the_upper_and_lower_limits(self):
        # Baseline: the first ten points (mean 11, limits 5.68 .. 16.32).
        result = analyse(months(STEADY[:10] + [17] + STEADY[:8] + [5]), direction="higher", baseline=10)
        assert result.points[10].value > result.upper_limit
        assert result.points[10].special_cause == "outside_limits" and result.points[10].side == "high"
        assert result.points[-1].value < result.lower_limit
        assert result.points[-1].special_cause == "outside_limits" and result.points[-1].side == "low"

    @pytest.mark.parametrize("rising", [True, False])
    def test_a_trend_of_seven_rising_or_falling(self, rising):
        trend = [10, 10.5, 11, 11.5, 12, 12.5, 13] if rising else [13, 12.5, 12, 11.5, 11, 10.5, 10]
        result = analyse(months(STEADY[:8] + trend + STEADY[:8]), direction="higher")
        assert causes(result)[8:15] == ["trend"] * 7
        assert {p.side for p in result.points[8:15]} == {"high" if rising else "low"}

    def test_six_rising_are_not_a_trend(self):
        result = analyse(months(STEADY[:8] + [10, 10.5, 11, 11.5, 12, 12.5] + [10] + STEADY[:7]), direction="higher")
        assert "trend" not in causes(result)

    def test_equal_values_break_a_trend(self):
        result = analyse(months(STEADY[:8] + [10, 10.5, 11, 11, 11.5, 12, 12.5] + STEADY[:8]))
        assert "trend" not in causes(result)

    def test_two_of_three_beyond_two_sigma_above(self):
        # Baseline STEADY[:10]: two sigma at 14.55, upper limit 16.32.
        values = STEADY[:10] + [15.5, 11, 15.5] + STEADY[:10]
        result = analyse(months(values), direction="higher", baseline=10)
        assert 14.5 < result.upper_two_sigma < 15.5 < result.upper_limit
        assert [result.points[i].special_cause for i in (10, 11, 12)] == ["two_of_three", None, "two_of_three"]

    def test_two_of_three_below(self):
        values = STEADY[:10] + [6.5, 11, 6.5] + STEADY[:10]
        result = analyse(months(values), direction="higher", baseline=10)
        assert result.lower_limit < 6.5 < result.lower_two_sigma
        assert [result.points[i].special_cause for i in (10, 12)] == ["two_of_three", "two_of_three"]
        assert result.points[10].variation == "concern"

    def test_one_of_three_beyond_two_sigma_is_not_a_signal(self):
        values = STEADY[:10] + [15.5, 11, 12, 10] + STEADY[:8]
        assert "two_of_three" not in causes(analyse(months(values), baseline=10))

    # Runs are checked against a baseline of STEADY[:8] (mean 11, mMR 2), each run fenced by points
    # on the other side of the mean so that its length is exactly what the test says.
    @pytest.mark.parametrize("value, fence, side", [(11.5, 10, "high"), (10.5, 12, "low")])
    def test_a_run_of_seven_on_one_side_of_the_mean(self, value, fence, side):
        values = STEADY[:8] + [fence] + [value] * 7 + [fence] + STEADY[:6]
        result = analyse(months(values), direction="higher", baseline=8)
        assert causes(result)[9:16] == ["run"] * 7
        assert {p.side for p in result.points[9:16]} == {side}
        assert causes(result)[:9] == [None] * 9 and causes(result)[16:] == [None] * 7

    def test_six_on_one_side_are_not_a_run(self):
        values = STEADY[:8] + [10] + [11.5] * 6 + [10] + STEADY[:6]
        assert "run" not in causes(analyse(months(values), baseline=8))

    def test_a_point_on_the_mean_breaks_a_run(self):
        values = STEADY[:8] + [10] + [11.5] * 3 + [11] + [11.5] * 4 + [10] + STEADY[:6]
        result = analyse(months(values), baseline=8)
        assert result.mean == pytest.approx(11)
        assert "run" not in causes(result)
        unbroken = analyse(months(STEADY[:8] + [10] + [11.5] * 8 + [10] + STEADY[:6]), baseline=8)
        assert causes(unbroken)[9:17] == ["run"] * 8

    def test_the_run_length_is_a_setting(self):
        values = STEADY[:8] + [10] + [11.5] * 7 + [10] + STEADY[:6]
        assert "run" not in causes(analyse(months(values), baseline=8, run_length=8))
        assert "run" in causes(analyse(months(values), baseline=8, run_length=7))

    def test_priority_outside_limits_before_trend(self):
        # A trend climbing past the upper limit: its last point is outside the limits, the rest are trend.
        values = [10, 12] * 8 + [10, 11, 12, 13, 14, 15, 25]
        result = analyse(months(values), direction="higher")
        assert result.points[-1].special_cause == "outside_limits"
        assert causes(result)[-7:-1] == ["trend"] * 6


class TestIcons:
    @pytest.mark.parametrize(
        "direction, tail, icon",
        [
            ("higher", [30], "special_cause_improvement_high"),
            ("higher", [-8], "special_cause_concern_low"),
            ("lower", [30], "special_cause_concern_high"),
            ("lower", [-8], "special_cause_improvement_low"),
            (None, [30], "special_cause_neither_high"),
            (None, [-8], "special_cause_neither_low"),
            ("higher", [11], "common_cause"),
        ],
    )
    def test_the_variation_icon_of_the_latest_point(self, direction, tail, icon):
        result = analyse(months(STEADY + tail), direction=direction)
        assert result.variation_icon == icon
        assert result.variation_label

    @pytest.mark.parametrize(
        "comparator, target, icon",
        [
            (">=", 5, "pass"),  # limits 5.68 .. 16.32 all above 5
            (">=", 17, "fail"),  # all below 17
            (">=", 11, "hit_and_miss"),
            ("<=", 17, "pass"),
            ("<=", 5, "fail"),
            ("<=", 11, "hit_and_miss"),
            (None, None, None),
        ],
    )
    def test_the_assurance_icon_from_the_target_against_the_limits(self, comparator, target, icon):
        result = analyse(months(STEADY), direction="higher", target=target, target_comparator=comparator)
        assert result.assurance_icon == icon

    def test_a_target_exactly_on_a_limit_passes(self):
        # Mean 11, mMR 2 gives a lower limit of 5.68 exactly; ">= 5.68" is met by every expected point.
        assert analyse(months(STEADY), target=5.68, target_comparator=">=").assurance_icon == "pass"
        assert analyse(months(STEADY), target=16.32, target_comparator="<=").assurance_icon == "pass"
        assert analyse(months(STEADY), target=16.32, target_comparator=">=").assurance_icon == "hit_and_miss"


class TestEdgeCases:
    def test_no_points(self):
        result = analyse([], direction="higher", target=95, target_comparator=">=")
        assert result.mean is None and not result.has_limits
        assert (result.variation_icon, result.assurance_icon) == (None, None)
        assert result.note == "No data."

    def test_one_point(self):
        result = analyse(months([42]), direction="higher", target=95, target_comparator=">=")
        assert result.mean == 42 and not result.has_limits
        assert causes(result) == [None] and result.points[0].variation == "common"
        assert result.variation_icon is None and "two points" in result.note

    def test_a_flat_series(self):
        result = analyse(months([90] * 12), direction="higher", target=95, target_comparator=">=")
        assert result.upper_limit == result.lower_limit == result.mean == 90
        assert causes(result) == [None] * 12  # on the mean: no run, no trend, not beyond a limit
        assert result.variation_icon == "common_cause"
        assert result.assurance_icon == "fail"
        assert analyse(months([90] * 12), target=90, target_comparator=">=").assurance_icon == "pass"

    def test_the_result_serialises_for_the_api(self):
        data = analyse(months(STEADY[:4]), direction="higher", target=95, target_comparator=">=").as_dict()
        assert data["points"][0] == {
            "month": "2018-04-01", "value": 10.0, "moving_range": None, "special_cause": None, "side": None,
            "variation": "common",
        }
        assert data["upper_process_limit"] == pytest.approx(16.32)
        assert data["assurance_icon"] == "fail"


class TestChart:
    def test_the_svg_is_well_formed_with_a_title_and_one_mark_per_point(self):
        result = analyse(months(STEADY[:10] + [30]), direction="higher", target=12, target_comparator=">=", baseline=10)
        svg = render_svg(result, title="A&E <4 hours> & more", unit="percent", chart_id="c1")
        root = ET.fromstring(str(svg))
        ns = {"s": "http://www.w3.org/2000/svg"}
        assert root.get("role") == "img"
        assert root.find("s:title", ns).text == "A&E <4 hours> & more"
        marks = [el for el in root.iter() if "spc-point" in (el.get("class") or "")]
        assert len(marks) == 11
        assert "spc-improvement" in marks[-1].get("class") and marks[-1].get("fill") == "#005eb8"
        assert "spc-common" in marks[0].get("class")
        assert root.find(".//s:g[@class='spc-target']", ns) is not None

    def test_no_target_line_without_a_target(self):
        root = ET.fromstring(str(render_svg(analyse(months(STEADY)), title="t")))
        assert root.find(".//{http://www.w3.org/2000/svg}g[@class='spc-target']") is None

    def test_the_table_alternative_has_a_row_per_point(self):
        result = analyse(months(STEADY[:12]), direction="higher")
        template = engines["jinja2"].from_string(
            '{% from "regions/spc_chart.jinja" import spc_chart %}{{ spc_chart(result, "Title", "Percentage", "x") }}'
        )
        html = template.render({"result": result})
        assert html.count('<th scope="row"') == 12
        assert "Show the data as a table" in html and "April 2018" in html
