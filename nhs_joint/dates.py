"""Dates and times as NHS pages write them (the NHS.UK content style), in the portal's time zone.

The one place that formats a date for people: pages, tables, exports' text, messages and reports call
``format_date``, ``format_month``, ``format_time`` or ``format_datetime`` (templates: the ``date`` and
``datetime`` filters). The portal writes British English, so the common styles are written out here
(tables format thousands of cells); any other Django date format goes to ``formats.date_format``.
"""

import datetime as dt

from django.utils import formats, timezone

MONTHS = (
    None,
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

STYLES = {
    "j F Y": lambda d: f"{d.day} {MONTHS[d.month]} {d.year}",  # 1 April 2018
    "F Y": lambda d: f"{MONTHS[d.month]} {d.year}",  # April 2018
    "j M Y": lambda d: f"{d.day} {MONTHS[d.month][:3]} {d.year}",  # 1 Apr 2018
    "M Y": lambda d: f"{MONTHS[d.month][:3]} {d.year}",  # Apr 2018
    "j F": lambda d: f"{d.day} {MONTHS[d.month]}",  # 1 April
}


def format_date(value, fmt="j F Y"):
    """1 April 2018 (or ``fmt``, a Django date format); a date and time counts in the portal's time zone."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    style = STYLES.get(fmt)
    return style(value) if style is not None else formats.date_format(value, fmt)


def format_month(value):
    """April 2018."""
    return format_date(value, "F Y")


def format_time(value):
    """2:48pm, 9am, midday, midnight (the NHS style for times)."""
    if value.hour == 0 and value.minute == 0:
        return "midnight"
    if value.hour == 12 and value.minute == 0:
        return "midday"
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"


def format_datetime(value):
    """29 November 2026 at 2:48pm, in the portal's time zone."""
    if value is None or value == "":
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{format_date(value)} at {format_time(value)}"
