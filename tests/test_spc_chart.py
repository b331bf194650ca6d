"""The statistical process control chart drawn as SVG (dashboards/charts.py) and its table alternative
(templates/jinja2/regions/spc_chart.jinja)."""

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from django.template import engines

from dashboards.charts import COLOURS, render_svg, summary, unit_suffix
from regions.spc import analyse

SVG = "{http://www.w3.org/2000/svg}"
STEADY = [10, 12] * 10  # mean 11, mean moving range 2, limits 5.68 .. 16.32


def months(values, start=dt.date(2018, 4, 1)):
    points, month = [], start
    for value in values:
        points.append((month, value))
        month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return points


def parse(markup):
    return ET.fromstring(str(markup))


def with_class(root, name):
    return [el for el in root.iter() if name in (el.get("class") or "").split()]


def texts(root):
    return ["".join(el.itertext()) for el in root.iter(f"{SVG}text")]


@pytest.fixture
def signals():
    """Baseline STEADY[:10]; then 17 (above the upper limit), 11 (common), 5 (below the lower limit), 17."""
    return analyse(
        months(STEADY[:10] + [17, 11, 5, 17]), direction="higher", target=12, target_comparator=">=", baseline=10
    )


class TestSvg:
    def test_well_formed_with_role_title_and_description(self, signals):
        root = parse(render_svg(signals, title="A&E within 4 hours", unit="Percent", chart_id="c1"))
        assert root.tag == f"{SVG}svg" and root.get("role") == "img"
        title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
        assert title.text == "A&E within 4 hours" and root.get("aria-labelledby") == title.get("id") == "c1-title"
        assert root.get("aria-describedby") == desc.get("id") == "c1-desc"
        # The summary: latest value, mean, limits, target and both icons in words.
        assert "Latest value 17% in May 2019" in desc.text
        assert "Mean 11%, process limits 5.68% to 16.32%, from the first 10 months." in desc.text
        assert "Target at least 12%." in desc.text
        assert signals.variation_label in desc.text and signals.assurance_label in desc.text

    def test_one_mark_per_point_shaped_and_coloured_by_classification(self, signals):
        root = parse(render_svg(signals, title="t", unit="Percent"))
        marks = with_class(root, "spc-point")
        assert len(marks) == len(signals.points) == 14
        for mark, point in zip(marks, signals.points):
            assert f"spc-{point.variation}" in mark.get("class")
            assert mark.get("fill") == COLOURS[point.variation]
            assert point.month.strftime("%B %Y") in mark.find(f"{SVG}title").text
        assert [m.tag for m in marks[9:]] == [f"{SVG}{tag}" for tag in ("circle", "rect", "circle", "path", "rect")]
        assert [p.variation for p in signals.points[10:]] == ["improvement", "common", "concern", "improvement"]
        assert marks[10].get("fill") == "#005eb8" and marks[12].get("fill") == "#ed8b00"
        assert marks[0].get("fill") == "#768692"

    def test_a_special_cause_of_a_measure_with_no_direction_is_purple(self):
        result = analyse(months(STEADY + [17]), baseline=20)
        mark = with_class(parse(render_svg(result, title="t")), "spc-point")[-1]
        assert "spc-neither" in mark.get("class") and mark.get("fill") == "#330072"

    def test_mean_dashed_limits_and_a_labelled_target(self, signals):
        root = parse(render_svg(signals, title="t", unit="Percent"))
        (mean,) = with_class(root, "spc-mean")
        limits = with_class(root, "spc-limit")
        (target,) = with_class(root, "spc-target")
        assert mean.get("stroke-dasharray") is None
        assert len(limits) == 2 and all(line.get("stroke-dasharray") for line in limits)
        assert target.get("stroke-dasharray")
        assert target.get("stroke") not in {mean.get("stroke"), limits[0].get("stroke")}
        labels = texts(root)
        assert {"Mean 11%", "Upper 16.32%", "Lower 5.68%", "Target 12%"} <= set(labels)  # "at least" in the caption

    def test_no_target_no_target_line(self):
        root = parse(render_svg(analyse(months(STEADY), direction="higher"), title="t"))
        assert with_class(root, "spc-target") == []
        assert not any(label.startswith("Target") for label in texts(root))

    def test_the_icons_are_labelled_badges(self, signals):
        root = parse(render_svg(signals, title="t"))
        (variation,) = with_class(root, "spc-variation")
        (assurance,) = with_class(root, "spc-assurance")
        assert variation.find(f"{SVG}title").text == signals.variation_label
        assert "special_cause_improvement_high" in variation.get("class")
        assert texts(variation)[:2] == ["H", "Variation: Improvement (higher)"]
        assert assurance.find(f"{SVG}title").text == signals.assurance_label
        assert texts(assurance)[:2] == ["?", "Assurance: Hit and miss"]

    @pytest.mark.parametrize(
        "direction, tail, comparator, target, letters",
        [
            ("higher", [5], ">=", 5, ["L", "P"]),
            ("lower", [11], "<=", 5, ["–", "F"]),
        ],
    )
    def test_badge_letters(self, direction, tail, comparator, target, letters):
        result = analyse(
            months(STEADY + tail), direction=direction, target=target, target_comparator=comparator, baseline=20
        )
        root = parse(render_svg(result, title="t"))
        badges = with_class(root, "spc-badge")
        assert [texts(badge)[0] for badge in badges] == letters

    def test_no_badges_without_limits(self):
        root = parse(render_svg(analyse(months([42]), direction="higher", target=50), title="t"))
        assert with_class(root, "spc-badge") == [] and len(with_class(root, "spc-point")) == 1

    def test_months_on_the_x_axis_every_six_months_and_values_on_the_y_axis(self):
        root = parse(render_svg(analyse(months(STEADY + [10, 12, 10, 12])), title="t", unit="Count"))
        (x_axis,) = with_class(root, "spc-x-axis")
        assert texts(x_axis) == ["Apr 2018", "Oct 2018", "Apr 2019", "Oct 2019"]  # 24 months
        (y_axis,) = with_class(root, "spc-y-axis")
        ticks = [float(t) for t in texts(y_axis) if re.fullmatch(r"-?[\d.]+", t)]
        steps = {round(b - a, 6) for a, b in zip(ticks, ticks[1:])}
        assert len(steps) == 1 and steps.pop() in {1, 2, 2.5, 5}
        assert ticks[0] <= 5.68 and ticks[-1] >= 16.32
        assert "Count" in texts(y_axis)

    def test_short_series_label_more_months(self):
        root = parse(render_svg(analyse(months([10, 12, 11])), title="t"))
        assert texts(with_class(root, "spc-x-axis")[0]) == ["Apr 2018", "May 2018", "Jun 2018"]

    def test_a_baseline_is_marked(self, signals):
        assert with_class(parse(render_svg(signals, title="t")), "spc-baseline")
        assert not with_class(parse(render_svg(analyse(months(STEADY)), title="t")), "spc-baseline")

    def test_text_is_escaped(self):
        result = analyse(months(STEADY), direction="higher", target=12, target_comparator=">=")
        title = 'Waits <under> 4 hours & "more"'
        markup = render_svg(result, title=title, unit="<b>", chart_id='x" onload="alert(1)')
        root = parse(markup)
        assert root.find(f"{SVG}title").text == title
        assert root.get("aria-labelledby") == 'x" onload="alert(1)-title'  # one attribute, not two
        assert root.get("onload") is None and "<b>" not in str(markup)
        assert "<script" not in str(markup)

    def test_no_scripts_and_nothing_fetched(self, signals):
        markup = str(render_svg(signals, title="t"))
        assert "<script" not in markup and "href" not in markup
        assert re.findall(r"https?://[^\"]+", markup) == ["http://www.w3.org/2000/svg"]

    @pytest.mark.parametrize("values", [[], [42], [90] * 12, [95.1] * 3, [1500, 1620, 1580]])
    def test_edge_cases_stay_well_formed(self, values):
        result = analyse(months(values), direction="higher", target=95, target_comparator=">=")
        root = parse(render_svg(result, title="Edge", unit="Percent", width=320, height=200))
        assert root.get("viewBox") == "0 0 320 200"
        assert len(with_class(root, "spc-point")) == len(values)
        assert root.find(f"{SVG}desc").text

    def test_no_data_says_so(self):
        root = parse(render_svg(analyse([]), title="t"))
        assert root.find(f"{SVG}desc").text == "No data yet." and "No data yet" in texts(root)


class TestSummary:
    @pytest.mark.parametrize(
        "unit, suffix",
        [("Percent", "%"), ("percent", "%"), ("%", "%"), ("Minutes", " minutes"), ("Count", ""), ("", "")],
    )
    def test_units(self, unit, suffix):
        assert unit_suffix(unit) == suffix

    def test_one_point_says_why_there_are_no_limits(self):
        text = summary(analyse(months([42]), direction="higher"), "Minutes")
        assert text.startswith("Latest value 42 minutes in April 2018; 1 month shown.")
        assert "two points" in text


class TestTableAlternative:
    def render(self, result, title="A&E within 4 hours, London", unit="Percent", id="chart-ae"):
        template = engines["jinja2"].from_string(
            '{% from "regions/spc_chart.jinja" import spc_chart %}{{ spc_chart(result, title, unit, id) }}'
        )
        return template.render({"result": result, "title": title, "unit": unit, "id": id})

    def test_a_figure_with_the_chart_a_caption_and_a_table_of_every_point(self, signals):
        html = self.render(signals)
        # The full chart, and the compact one phones get, both inside the figure.
        assert re.search(r'<figure class="portal-chart" id="chart-ae">\s*<div class="portal-spc-full"><svg ', html)
        assert '<div class="portal-spc-compact"><svg ' in html
        assert html.index('<div class="portal-spc-compact">') < html.index("</figure>")
        assert '<figcaption class="nhsuk-body-s" id="chart-ae-caption">A&amp;E within 4 hours, London. Latest' in html
        assert html.index("</figure>") < html.index('<details class="nhsuk-details')
        assert "Show the data as a table" in html
        assert html.count('<tr class="nhsuk-table__row') == 1 + 14  # the header row and one per point
        assert html.count('<th scope="row"') == 14
        assert '<table class="nhsuk-table">' in html
        assert "<caption" in html
        assert "A&amp;E within 4 hours, London (percent): mean and limits from the first 10 months" in html
        for header in ("Month", "Value", "Mean", "Lower limit", "Upper limit", "Variation"):
            assert f">{header}</th>" in html

    def test_each_row_has_the_month_value_mean_limits_and_classification(self, signals):
        rows = re.findall(r"<tr class=\"nhsuk-table__row spc-row-\w+\">(.*?)</tr>", self.render(signals), re.S)
        cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows]
        assert cells[10] == [
            "February 2019",
            "17",
            "11",
            "5.68",
            "16.32",
            "Special cause of an improving nature: above the upper process limit",
        ]
        assert cells[12][1] == "5"
        assert cells[12][5] == "Special cause of a concerning nature: below the lower process limit"
        assert cells[0][5] == "Common cause variation"

    def test_one_point_has_a_row_without_limits(self):
        html = self.render(analyse(months([42]), direction="higher"))
        assert html.count('<th scope="row"') == 1
        row = re.search(r"<th scope=\"row\".*?</tr>", html, re.S).group(0)
        assert re.findall(r"<td[^>]*>(.*?)</td>", row) == ["42", "42", "", "", "Common cause variation"]

    def test_no_data_no_table(self):
        html = self.render(analyse([]))
        assert "<table" not in html and "No data yet." in html

    def test_the_title_is_escaped(self, signals):
        html = self.render(signals, title="<script>alert(1)</script> & co")
        assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
