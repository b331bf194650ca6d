"""Statistical process control charts drawn on the server as SVG: no scripts, no chart library, no CDN.

The chart is an image with a text alternative (its title and a summary); the
page also offers the figures as a table. Colour is never the only cue: special
causes are drawn as larger squares (improvement, concern) or diamonds
(neither), common cause as small circles, with the NHS.UK palette.
"""

import math

from markupsafe import Markup, escape

from .spc import SpcResult

COLOURS = {"common": "#768692", "improvement": "#005eb8", "concern": "#ed8b00", "neither": "#330072"}
MEAN_COLOUR, LIMIT_COLOUR, TARGET_COLOUR = "#212b32", "#4c6272", "#da291c"
MARGIN = {"left": 56, "right": 92, "top": 16, "bottom": 40}


def _ticks(low, high, count=5):
    """Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) covering low..high."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    value = math.floor(low / step) * step
    ticks = []
    while value < high + step:
        ticks.append(round(value, 6))
        value += step
    return ticks


def _fmt(value):
    return f"{value:.1f}".rstrip("0").rstrip(".") if abs(value) < 1000 else f"{value:,.0f}"


def summary(result: SpcResult, unit=""):
    """One or two sentences a screen reader hears for the chart."""
    if not result.points:
        return "No data yet."
    latest = result.latest
    text = f"Latest value {_fmt(latest.value)}{unit} in {latest.month:%B %Y}, {len(result.points)} months shown."
    if result.has_limits:
        text += (
            f" Mean {_fmt(result.mean)}{unit}, process limits {_fmt(result.lower_limit)} to "
            f"{_fmt(result.upper_limit)}{unit}."
        )
        if result.variation_label:
            text += f" {result.variation_label}."
        if result.assurance_label:
            text += f" {result.assurance_label}."
    else:
        text += f" {result.note}"
    return text


def render_svg(result: SpcResult, *, title, unit="", width=640, height=280, chart_id="spc"):
    """The chart as an accessible inline SVG element."""
    if not result.points:
        return Markup(f'<p class="nhsuk-body-s">{escape(title)}: no data yet.</p>')
    unit_suffix = "%" if unit in ("%", "percent", "Percentage") else ""
    left, right, top, bottom = MARGIN["left"], width - MARGIN["right"], MARGIN["top"], height - MARGIN["bottom"]
    values = [p.value for p in result.points]
    extremes = values + [v for v in (result.upper_limit, result.lower_limit, result.target) if v is not None]
    low, high = min(extremes), max(extremes)
    pad = (high - low) * 0.08 or 1
    ticks = _ticks(low - pad, high + pad)
    y_low, y_high = ticks[0], ticks[-1]

    def x(index):
        count = len(result.points)
        return left + (right - left) * (index / (count - 1) if count > 1 else 0.5)

    def y(value):
        return bottom - (bottom - top) * (value - y_low) / ((y_high - y_low) or 1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="portal-spc" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(summary(result, unit_suffix))}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    for tick in ticks:
        parts.append(
            f'<line x1="{left}" x2="{right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#e8edee" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="11" fill="#4c6272">{_fmt(tick)}</text>'
        )
    step = max(1, len(result.points) // 8)
    step = 6 if step > 3 and step <= 6 else (12 if step > 6 else step)
    for index, point in enumerate(result.points):
        if index % step == 0 or index == len(result.points) - 1 and len(result.points) < 4:
            parts.append(
                f'<text x="{x(index):.1f}" y="{bottom + 18}" text-anchor="middle" font-size="11" fill="#4c6272">'
                f'{point.month:%b %Y}</text>'
            )
    parts.append(f'<line x1="{left}" x2="{right}" y1="{bottom}" y2="{bottom}" stroke="#4c6272" stroke-width="1"/>')

    def hline(value, colour, label, dash="", cls=""):
        yy = y(value)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<g class="{cls}"><line x1="{left}" x2="{right}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="{colour}" '
            f'stroke-width="1.5"{dash_attr}/><text x="{right + 4}" y="{yy + 4:.1f}" font-size="11" fill="{colour}">'
            f'{escape(label)}</text></g>'
        )

    if result.has_limits:
        hline(result.upper_limit, LIMIT_COLOUR, f"Upper {_fmt(result.upper_limit)}", "6 4", "spc-limit")
        hline(result.lower_limit, LIMIT_COLOUR, f"Lower {_fmt(result.lower_limit)}", "6 4", "spc-limit")
    if result.mean is not None:
        hline(result.mean, MEAN_COLOUR, f"Mean {_fmt(result.mean)}", cls="spc-mean")
    if result.target is not None:
        hline(result.target, TARGET_COLOUR, f"Target {_fmt(result.target)}", "2 3", "spc-target")

    path = " ".join(f"{'M' if i == 0 else 'L'}{x(i):.1f},{y(p.value):.1f}" for i, p in enumerate(result.points))
    parts.append(f'<path d="{path}" fill="none" stroke="#aeb7bd" stroke-width="1.5"/>')
    for index, point in enumerate(result.points):
        cx, cy, colour = x(index), y(point.value), COLOURS[point.variation]
        tip = f"<title>{point.month:%B %Y}: {_fmt(point.value)}{unit_suffix}. {escape(point.label)}</title>"
        if point.special_cause is None:
            parts.append(f'<circle class="spc-point spc-common" cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="{colour}">{tip}</circle>')
        elif point.variation == "neither":
            parts.append(
                f'<path class="spc-point spc-neither" d="M{cx:.1f},{cy - 6:.1f} L{cx + 6:.1f},{cy:.1f} '
                f'L{cx:.1f},{cy + 6:.1f} L{cx - 6:.1f},{cy:.1f} Z" fill="{colour}">{tip}</path>'
            )
        else:
            parts.append(
                f'<rect class="spc-point spc-{point.variation}" x="{cx - 4.5:.1f}" y="{cy - 4.5:.1f}" width="9" '
                f'height="9" fill="{colour}">{tip}</rect>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
