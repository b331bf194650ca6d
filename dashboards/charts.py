"""Statistical process control charts drawn on the server as SVG: no scripts, no chart library, no CDN.

The chart is an image with a text alternative: its <title> names it and its
<desc> sums it up (the latest value, the mean, the limits, the target and the
two icons in words); the page also offers the figures as a table
(templates/jinja2/regions/spc_chart.jinja). Colour is never the only cue:
each point's shape says its classification too (a small circle for common
cause, a square for improvement, a diamond for concern, a triangle for a
special cause of a measure with no direction), the lines are labelled, and the
variation and assurance icons are badges with a letter and a few words. Colours
come from the NHS.UK palette. Every piece of text is escaped.
"""

import math
import re
from dataclasses import dataclass

from django.urls import reverse
from markupsafe import Markup, escape

from nhs_joint import words
from nhs_joint.dates import format_date, format_month
from nhs_joint.words import count as counted
from regions.spc import SpcResult

COLOURS = {"common": "#768692", "improvement": "#005eb8", "concern": "#ed8b00", "neither": "#330072"}
SHAPES = {"common": "circle", "improvement": "square", "concern": "diamond", "neither": "triangle"}
TEXT, SECONDARY, GRID, SERIES = "#212b32", "#4c6272", "#e8edee", "#aeb7bd"
MEAN_COLOUR, LIMIT_COLOUR, TARGET_COLOUR = "#212b32", "#4c6272", "#d5281b"
# Badge circles: the point colours, with the grey darkened so that a white letter contrasts with it.
VARIATION_BADGE_COLOURS = {**COLOURS, "common": "#4c6272"}
ASSURANCE_COLOURS = {"pass": "#005eb8", "fail": "#ed8b00", "hit_and_miss": "#4c6272"}
# Dark letters on the orange, which white text would not contrast with.
LETTER_COLOURS = {"#ed8b00": TEXT}
MARGIN = {"left": 64, "right": 112, "top": 44, "bottom": 40}
# Text is never drawn below 12px on a screen. The full chart (640 wide) is shown only where its box is at least
# 577px wide (from 641px screens, portal.css), so 14 units are at least 12.6px; smaller screens get the compact
# chart (300 wide, shown at 288px and up), whose 13 units are at least 12.5px.
FONT_SIZE = 14
LABEL_GAP = 15  # the least vertical distance between two line labels
COMPACT = {"width": 300, "height": 240, "font_size": 13, "margin": {"left": 48, "right": 12, "top": 16, "bottom": 36}}


def unit_suffix(unit):
    """What follows a number of the unit: "%" for percentages, " minutes" for minutes, nothing for counts."""
    name = str(unit or "").strip()
    lower = name.lower()
    if lower in ("%", "percent", "percentage", "per cent"):
        return "%"
    if lower in ("", "count", "number"):
        return ""
    if lower.startswith("rate per "):
        return " " + lower.removeprefix("rate ")
    return f" {lower}"


def _fmt(value):
    """A figure for labels: at most two decimals, no trailing zeros, thousands separated from 1,000."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def figure_text(value, places=None):
    """A figure's number as the portal writes the measure's figures everywhere else (nhs_joint/words.py): to the
    measure's decimal places, so that the chart and the row beside it agree ("84.0%" in both for a measure
    written to one place). Without them (a chart of no measure), at most two decimals and no trailing zeros."""
    if value is None:
        return ""
    if places is None:
        return _fmt(value)
    return words.figure(value, "", places)


def target_text(value, places=None):
    """A target's number as the portal writes targets (words.comparison, "at least 95%"): rounded to the
    measure's decimal places, without trailing zeros."""
    if places is None:
        return _fmt(value)
    return words.comparison("", value, "", places)


def _ticks(low, high, count=5):
    """Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) covering low..high, and the step."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step)
    ticks = []
    index = first
    while True:
        value = round(index * step, 10)
        ticks.append(value)
        if value >= high:
            break
        index += 1
    return ticks, step


def _tick_label(value, step):
    """A tick value with as many decimals as its step needs (a step of 2.5 needs one more than 2 or 5)."""
    if abs(value) >= 1000 and step >= 1:
        return f"{value:,.0f}"
    power = math.floor(math.log10(step) + 1e-9)
    decimals = max(0, -power) + (1 if math.isclose(step / 10**power, 2.5) else 0)
    return f"{value:.{decimals}f}"


def _axis_title(unit):
    """The y axis's title: the unit's name ("Percent", "Minutes", "Count"), or nothing without a unit."""
    return "Percent" if unit_suffix(unit) == "%" else str(unit or "").strip().capitalize()


def _month_step(count, plot_width, least=80):
    """Months between x-axis labels: every month for short series, otherwise 2, 3, 6 (usually) or 12 months."""
    if count < 2:
        return 1
    per_month = plot_width / (count - 1)
    for step in (1, 2, 3, 6, 12, 24, 60):
        if step * per_month >= least:
            return step
    return 60


def summary(result: SpcResult, unit="", places=None):
    """A few sentences a screen reader hears for the chart: latest value, mean, limits, target and icons; its
    figures to the measure's decimal ``places`` where given (figure_text)."""
    suffix = unit_suffix(unit)
    if not result.points:
        return "No data yet."
    latest = result.latest
    months = len(result.points)
    text = (
        f"Latest value {figure_text(latest.value, places)}{suffix} in {format_month(latest.month)}; "
        f"{counted(months, 'month')} shown."
    )
    if result.has_limits:
        text += (
            f" Mean {figure_text(result.mean, places)}{suffix}, process limits "
            f"{figure_text(result.lower_limit, places)}{suffix} to {figure_text(result.upper_limit, places)}{suffix}"
        )
        if result.baseline < months:
            text += f", from the first {result.baseline} months"
        text += "."
    elif result.mean is not None:
        text += f" {result.note}"
    if result.target is not None:
        text += f" Target {_comparator_words(result.target_comparator)}{target_text(result.target, places)}{suffix}."
    if result.variation_label:
        text += f" {result.variation_label}."
    if result.assurance_label:
        text += f" {result.assurance_label}."
    return text


def _comparator_words(comparator):
    return {">=": "at least ", "<=": "at most "}.get(comparator, "")


def _point_mark(shape, cx, cy, colour, cls, tip, side):
    attrs = f'class="{cls}" fill="{colour}"'
    if shape == "circle":
        return f'<circle {attrs} cx="{cx:.1f}" cy="{cy:.1f}" r="3.5">{tip}</circle>'
    outline = f' stroke="{TEXT}" stroke-width="1"'
    if shape == "square":
        return f'<rect {attrs}{outline} x="{cx - 5:.1f}" y="{cy - 5:.1f}" width="10" height="10">{tip}</rect>'
    if shape == "diamond":
        d = f"M{cx:.1f},{cy - 7:.1f} L{cx + 7:.1f},{cy:.1f} L{cx:.1f},{cy + 7:.1f} L{cx - 7:.1f},{cy:.1f} Z"
    else:  # a triangle pointing the way the special cause points
        sign = -1 if side == "high" else 1
        d = f"M{cx:.1f},{cy + 7 * sign:.1f} L{cx + 6.5:.1f},{cy - 5 * sign:.1f} L{cx - 6.5:.1f},{cy - 5 * sign:.1f} Z"
    return f'<path {attrs}{outline} d="{d}">{tip}</path>'


def _badge(x, y, colour, letter, short, label, cls):
    """An icon as a labelled badge: a letter in a coloured circle and a few words beside it."""
    letter_colour = LETTER_COLOURS.get(colour, "#ffffff")
    return (
        f'<g class="spc-badge {cls}"><title>{escape(label)}</title>'
        f'<circle cx="{x + 11}" cy="{y}" r="11" fill="{colour}"/>'
        f'<text x="{x + 11}" y="{y + 5}" text-anchor="middle" font-size="15" font-weight="bold" '
        f'fill="{letter_colour}">{escape(letter)}</text>'
        f'<text x="{x + 27}" y="{y + 5}" font-size="{FONT_SIZE}" fill="{TEXT}">{escape(short)}</text></g>'
    )


def _spread_labels(labels, bottom):
    """Move line labels apart (keeping their order) so that no two overlap; labels are (y, ...) tuples."""
    labels = sorted(labels, key=lambda label: label[0])
    placed = []
    for label in labels:
        y = max(label[0], placed[-1][0] + LABEL_GAP) if placed else label[0]
        placed.append((y, *label[1:]))
    overflow = placed[-1][0] - (bottom + FONT_SIZE / 2) if placed else 0
    if overflow > 0:  # pushed past the bottom: shift them all up, keeping the gaps
        placed = [(y - overflow, *rest) for y, *rest in placed]
    return placed


@dataclass(frozen=True)
class _Plot:
    """Where the plot sits in the chart and how a month's index and a value map to a point in it."""

    left: float
    right: float
    top: float
    bottom: float
    count: int  # months shown
    y_low: float
    y_high: float
    font_size: int
    compact: bool

    def x(self, index):
        return self.left + (self.right - self.left) * (index / (self.count - 1) if self.count > 1 else 0.5)

    def y(self, value):
        return self.bottom - (self.bottom - self.top) * (value - self.y_low) / ((self.y_high - self.y_low) or 1)


def render_svg(result: SpcResult, *, title, unit="", width=640, height=280, chart_id="spc", compact=False, places=None):
    """The chart as an accessible inline SVG element (role="img", named by its title, described by a summary).

    ``compact`` draws the small screens' chart: narrower, with the same lines and points but no icon badges
    and no labels at the lines' ends (the caption under the chart gives them in words), so that its text stays
    legible where the full chart would shrink it. ``places``: the measure's decimal places (figure_text).
    """
    if compact:
        width, height = COMPACT["width"], COMPACT["height"]
    parts = [_svg_head(result, title, unit, width, height, chart_id, places)]
    if not result.points:
        parts.append(
            f'<text x="{width / 2:.1f}" y="{height / 2:.1f}" text-anchor="middle" font-size="14" '
            f'fill="{SECONDARY}">No data yet</text></svg>'
        )
        return Markup("".join(parts))
    plot, ticks, step = _plot_of(result, width, height, compact)
    if not compact:
        parts.extend(_badges(result, plot.left))
    parts.append(_y_axis(plot, ticks, step, unit))
    parts.append(_x_axis(plot, result.points))
    parts.extend(_lines(plot, result, unit_suffix(unit), places))
    if result.has_limits and result.baseline < plot.count and not compact:
        parts.append(_baseline(plot, result.baseline))
    parts.append(_series(plot, result.points, unit_suffix(unit), places))
    parts.append("</svg>")
    return Markup("".join(parts))


def _svg_head(result, title, unit, width, height, chart_id, places=None):
    """The svg element's opening, its title and description, and the white ground."""
    ids = {"title": escape(f"{chart_id}-title"), "desc": escape(f"{chart_id}-desc")}
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="portal-spc" viewBox="0 0 {int(width)} {int(height)}" '
        f'role="img" aria-labelledby="{ids["title"]}" aria-describedby="{ids["desc"]}" focusable="false">'
        f'<title id="{ids["title"]}">{escape(title)}</title>'
        f'<desc id="{ids["desc"]}">{escape(summary(result, unit, places))}</desc>'
        f'<rect x="0" y="0" width="{int(width)}" height="{int(height)}" fill="#ffffff"/>'
    )


def _plot_of(result, width, height, compact):
    """The plot's geometry, with a y range that holds every value, limit and target, and its ticks and step."""
    margin = COMPACT["margin"] if compact else MARGIN
    values = [p.value for p in result.points]
    extremes = values + [v for v in (result.upper_limit, result.lower_limit, result.target) if v is not None]
    low, high = min(extremes), max(extremes)
    pad = (high - low) * 0.05 or max(abs(high) * 0.05, 1)
    ticks, step = _ticks(low - pad, high + pad)
    plot = _Plot(
        left=margin["left"],
        right=width - margin["right"],
        top=margin["top"],
        bottom=height - margin["bottom"],
        count=len(result.points),
        y_low=ticks[0],
        y_high=ticks[-1],
        font_size=COMPACT["font_size"] if compact else FONT_SIZE,
        compact=compact,
    )
    return plot, ticks, step


def _badges(result, left):
    """The badges of the two icons, above the plot."""
    badges = []
    badge_x = left
    if result.variation_icon:
        colour = VARIATION_BADGE_COLOURS[result.latest.variation]
        letter = "–" if result.variation_icon == "common_cause" else result.latest.side[0].upper()
        short = f"Variation: {result.variation_short}"
        badges.append(
            _badge(
                badge_x, 20, colour, letter, short, result.variation_label, f"spc-variation spc-{result.variation_icon}"
            )
        )
        badge_x += 27 + len(short) * FONT_SIZE * 0.56 + 24
    if result.assurance_icon:
        letter = {"pass": "P", "fail": "F", "hit_and_miss": "?"}[result.assurance_icon]
        badges.append(
            _badge(
                badge_x,
                20,
                ASSURANCE_COLOURS[result.assurance_icon],
                letter,
                f"Assurance: {result.assurance_short}",
                result.assurance_label,
                f"spc-assurance spc-{result.assurance_icon}",
            )
        )
    return badges


def _y_axis(plot, ticks, step, unit):
    """The y axis: gridlines, tick values and the unit."""
    parts = ['<g class="spc-y-axis">']
    for tick in ticks:
        parts.append(
            f'<line x1="{plot.left}" x2="{plot.right}" y1="{plot.y(tick):.1f}" y2="{plot.y(tick):.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{plot.left - 6}" y="{plot.y(tick) + 4:.1f}" text-anchor="end" font-size="{plot.font_size}" '
            f'fill="{SECONDARY}">{_tick_label(tick, step)}</text>'
        )
    axis_title = _axis_title(unit)
    if axis_title:
        middle = (plot.top + plot.bottom) / 2
        parts.append(
            f'<text x="14" y="{middle:.1f}" transform="rotate(-90 14 {middle:.1f})" text-anchor="middle" '
            f'font-size="{plot.font_size}" fill="{SECONDARY}">{escape(axis_title)}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def _x_axis(plot, points):
    """The x axis: the months, a label every few (usually six) months."""
    every = _month_step(plot.count, plot.right - plot.left, least=plot.font_size * 6.5)
    parts = [
        f'<g class="spc-x-axis"><line x1="{plot.left}" x2="{plot.right}" y1="{plot.bottom}" y2="{plot.bottom}" '
        f'stroke="{SECONDARY}" stroke-width="1"/>'
    ]
    for index, point in enumerate(points):
        if index % every == 0:
            x = plot.x(index)
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{plot.bottom}" y2="{plot.bottom + 4}" '
                f'stroke="{SECONDARY}" stroke-width="1"/>'
                f'<text x="{x:.1f}" y="{plot.bottom + 20}" text-anchor="middle" font-size="{plot.font_size}" '
                f'fill="{SECONDARY}">{format_date(point.month, "M Y")}</text>'
            )
    parts.append("</g>")
    return "".join(parts)


def _lines(plot, result, suffix, places=None):
    """The mean, the process limits (dashed) and the target (red, dash-dot), each labelled at the right with its
    figure and a short unit ("Mean 86.7%", "Mean 7.2 min"), to fit beside the plot (not on the compact chart)."""
    short = {"%": "%", " minutes": " min", " per 1,000": "/1,000"}.get(suffix, suffix)
    lines = []
    if result.has_limits:
        for value, name in ((result.upper_limit, "Upper"), (result.lower_limit, "Lower")):
            lines.append(
                (
                    value,
                    LIMIT_COLOUR,
                    f"{name} {figure_text(value, places)}{short}",
                    "6 4",
                    f"spc-limit spc-{name.lower()}-limit",
                )
            )
    if result.mean is not None:
        lines.append((result.mean, MEAN_COLOUR, f"Mean {figure_text(result.mean, places)}{short}", "", "spc-mean"))
    if result.target is not None:
        # The comparator is in the caption's words ("Target at least 95%"): the label has room for the figure only.
        lines.append(
            (
                result.target,
                TARGET_COLOUR,
                f"Target {target_text(result.target, places)}{short}",
                "10 3 2 3",
                "spc-target",
            )
        )
    parts, labels = [], []
    for value, colour, label, dash, cls in lines:
        yy = plot.y(value)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        width_attr = "2" if cls == "spc-target" else "1.5"
        parts.append(
            f'<line class="{cls}" x1="{plot.left}" x2="{plot.right}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="{colour}" '
            f'stroke-width="{width_attr}"{dash_attr}/>'
        )
        labels.append((yy, colour, label, cls))
    for yy, colour, label, cls in [] if plot.compact else _spread_labels(labels, plot.bottom):
        parts.append(
            f'<text class="spc-line-label {cls.split()[-1]}-label" x="{plot.right + 6}" y="{yy + 4:.1f}" '
            f'font-size="{plot.font_size}" fill="{colour}">{escape(label)}</text>'
        )
    return parts


def _baseline(plot, baseline):
    """Where the baseline ends, when the mean and limits come from the first months only."""
    bx = (plot.x(baseline - 1) + plot.x(baseline)) / 2
    return (
        f'<g class="spc-baseline"><line x1="{bx:.1f}" x2="{bx:.1f}" y1="{plot.top}" y2="{plot.bottom}" '
        f'stroke="{SECONDARY}" stroke-width="1" stroke-dasharray="1 3"/>'
        f'<text x="{bx - 4:.1f}" y="{plot.top + 10}" text-anchor="end" '
        f'font-size="{plot.font_size}" fill="{SECONDARY}">Baseline</text></g>'
    )


def _series(plot, points, suffix, places=None):
    """The series and its points, shaped and coloured by classification."""
    path = " ".join(f"{'M' if i == 0 else 'L'}{plot.x(i):.1f},{plot.y(p.value):.1f}" for i, p in enumerate(points))
    parts = [f'<path class="spc-series" d="{path}" fill="none" stroke="{SERIES}" stroke-width="1.5"/>']
    parts.append('<g class="spc-points">')
    for index, point in enumerate(points):
        tip = f"<title>{escape(f'{format_month(point.month)}: {figure_text(point.value, places)}{suffix}. {point.label}')}</title>"
        parts.append(
            _point_mark(
                SHAPES[point.variation],
                plot.x(index),
                plot.y(point.value),
                COLOURS[point.variation],
                f"spc-point spc-{point.variation}",
                tip,
                point.side,
            )
        )
    parts.append("</g>")
    return "".join(parts)


def table_rows(result: SpcResult, places=None):
    """The rows of a chart's table (templates/jinja2/regions/spc_chart.jinja): one per month, with its value, the
    mean, the process limits and its classification, every figure to the measure's decimal ``places``. Written
    here rather than per cell in the template: a dashboard's charts have hundreds of cells; the mean and the
    limits are written once per chart."""
    mean, lower, upper = (escape(figure_text(v, places)) for v in (result.mean, result.lower_limit, result.upper_limit))
    same = (
        f'<td class="nhsuk-table__cell nhsuk-table__cell--numeric">{mean}</td>'
        f'<td class="nhsuk-table__cell nhsuk-table__cell--numeric">{lower}</td>'
        f'<td class="nhsuk-table__cell nhsuk-table__cell--numeric">{upper}</td>'
    )
    return Markup(
        "".join(
            f'<tr class="nhsuk-table__row spc-row-{escape(point.variation)}">'
            f'<th scope="row" class="nhsuk-table__header">{escape(format_date(point.month, "F Y"))}</th>'
            f'<td class="nhsuk-table__cell nhsuk-table__cell--numeric">{escape(figure_text(point.value, places))}</td>'
            f'{same}<td class="nhsuk-table__cell">{escape(point.label)}</td></tr>\n'
            for point in result.points
        )
    )


class RenderCache:
    """Charts and icon tags drawn once per distinct input in this process, then reused.

    A chart is a pure function of its SPC result (named by the result's cache key, which is a
    digest of its figures), its title, unit and id; a tag of its icon. Drawing a chart and its
    table costs far more than finding it here. Bounded: the map is emptied when full.
    """

    size = 512

    def __init__(self):
        self.html = {}

    def get(self, key, render_chart):
        html = self.html.get(key)
        if html is None:
            html = Markup(render_chart())
            if len(self.html) >= self.size:
                self.html.clear()
            self.html[key] = html
        return html


_render_cache = RenderCache()


def chart_html(env, chart, title, unit, chart_id):
    """The spc_chart macro's HTML for a dashboard Chart (templates/jinja2/regions/spc_chart.jinja), its figures
    to its measure's decimal places."""
    places = getattr(getattr(chart, "measure", None), "decimal_places", None)

    def render_chart():
        return env.get_template("regions/spc_chart.jinja").module.spc_chart(chart.result, title, unit, chart_id, places)

    if not chart.key:
        return Markup(render_chart())
    return _render_cache.get(("chart", chart.key, str(title), str(unit), chart_id, places), render_chart)


def tag_html(env, macro, result):
    """The variation or assurance tag (templates/jinja2/regions/icons.jinja): a function of the icon alone."""
    icon = result.variation_icon if macro == "variation_tag" else result.assurance_icon
    return _render_cache.get(
        ("tag", macro, icon), lambda: getattr(env.get_template("regions/icons.jinja").module, macro)(result)
    )


_CODE = re.compile(r"[-a-zA-Z0-9_]+")
_CELL = '<td class="nhsuk-table__cell"><span class="nhsuk-table-responsive__heading" aria-hidden="true">{} </span>'


def measure_rows(env, charts, region, months_param):
    """The rows of the dashboard's table of every agreed measure (templates/jinja2/regions/dashboard_body.jinja):
    its chart's address, latest figure, icons and sparkline. Written here, each value escaped once, rather than
    per cell in the template: a region has a hundred measures. The address is reversed once and each code put
    in its place (a code is letters, digits, - and _, as the address's pattern allows)."""
    stand_in = "portal-measure-code"
    halves = reverse("region-measure-chart", args=[region.ods_code, stand_in]).split(stand_in)
    query = f"?months={escape(months_param)}"
    rows = []
    for chart in charts:
        measure, result = chart.measure, chart.result
        code = measure.code
        href = (
            f"{halves[0]}{code}{halves[1]}"
            if _CODE.fullmatch(code)
            else reverse("region-measure-chart", args=[region.ods_code, code])
        )
        latest = result.latest
        if latest is not None:
            figure = (
                f"{escape(measure.figure(latest.value))} "
                f'<span class="nhsuk-u-font-size-16">({escape(format_date(latest.month, "M Y"))})</span>'
            )
        else:
            figure = "No data"
        sparkline = sparkline_svg(
            result, title=measure.name, unit=measure.get_unit_display(), places=measure.decimal_places
        )
        rows.append(
            '<tr class="nhsuk-table__row">'
            f'{_CELL.format("Measure")}<a class="nhsuk-link" href="{escape(href)}{query}">{escape(measure.name)}</a></td>'
            '<td class="nhsuk-table__cell nhsuk-table__cell--numeric"><span class="nhsuk-table-responsive__heading" '
            f'aria-hidden="true">Latest </span>{figure}</td>'
            f"{_CELL.format('Variation')}{tag_html(env, 'variation_tag', result)}</td>"
            f"{_CELL.format('Assurance')}{tag_html(env, 'assurance_tag', result)}</td>"
            f"{_CELL.format('Trend')}{sparkline}</td></tr>\n"
        )
    return Markup("".join(rows))


def sparkline_svg(result: SpcResult, *, title, unit="", width=120, height=32, places=None):
    """A measure's series as a small line with its latest point marked, for a summary row.

    An image named by its title and the first and latest figures; the row beside it gives the latest
    value and the icons in words, so the line repeats what the words say. Its width is in the viewBox
    only: the stylesheet lets it shrink on a narrow screen.
    """
    suffix = unit_suffix(unit)
    points = result.points
    if not points:
        return Markup("")
    first, latest = points[0], points[-1]
    label = (
        f"{title}: {counted(len(points), 'month')}, "
        f"from {figure_text(first.value, places)}{suffix} in {format_month(first.month)} "
        f"to {figure_text(latest.value, places)}{suffix} "
        f"in {format_month(latest.month)}"
    )
    pad = 4
    values = [p.value for p in points]
    low, high = min(values), max(values)
    span = (high - low) or 1

    def x(index):
        return pad + (width - 2 * pad) * (index / (len(points) - 1) if len(points) > 1 else 0.5)

    def y(value):
        return height - pad - (height - 2 * pad) * ((value - low) / span if high > low else 0.5)

    path = " ".join(f"{'M' if i == 0 else 'L'}{x(i):.1f},{y(p.value):.1f}" for i, p in enumerate(points))
    colour = COLOURS[latest.variation]
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="portal-sparkline" viewBox="0 0 {int(width)} {int(height)}" '
        f'width="{int(width)}" height="{int(height)}" role="img" aria-label="{escape(label)}" focusable="false">'
        f"<title>{escape(label)}</title>"
        f'<path d="{path}" fill="none" stroke="{SECONDARY}" stroke-width="1.5"/>'
        f'<circle cx="{x(len(points) - 1):.1f}" cy="{y(latest.value):.1f}" r="3" fill="{colour}"/></svg>'
    )


def icon_svg(result: SpcResult, kind):
    """The variation (``kind`` "variation") or assurance icon as a small lettered circle, for a printed table.

    Hidden from screen readers: the words beside it say the same.
    """
    if kind == "variation":
        if not result.variation_icon:
            return Markup("")
        colour = VARIATION_BADGE_COLOURS[result.latest.variation]
        letter = "–" if result.variation_icon == "common_cause" else result.latest.side[0].upper()
    else:
        if not result.assurance_icon:
            return Markup("")
        colour = ASSURANCE_COLOURS[result.assurance_icon]
        letter = {"pass": "P", "fail": "F", "hit_and_miss": "?"}[result.assurance_icon]
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="portal-icon-badge" viewBox="0 0 22 22" width="16" '
        f'height="16" aria-hidden="true" focusable="false"><circle cx="11" cy="11" r="11" fill="{colour}"/>'
        f'<text x="11" y="15.5" text-anchor="middle" font-size="13" font-weight="bold" '
        f'fill="{LETTER_COLOURS.get(colour, "#ffffff")}">{escape(letter)}</text></svg>'
    )
