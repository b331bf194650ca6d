"""Tables of records for list pages and CSV exports: one column definition serves both.

Cells are computed in Python from prefetched data, so a page of 50 rows costs the
same number of queries as a page of 5, and the rows of a list are written out here as
HTML (``Table.body_html``), each value escaped once, rather than by the template cell by
cell: a 50-row page has some 400 cells, and a template's per-cell tests and calls cost
more than the page's queries.
"""

import datetime as dt
from decimal import Decimal

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Manager, OuterRef
from markupsafe import Markup, escape

from .dates import format_date, format_datetime


def _display(value):
    if value is None or value == "":
        return ""
    if hasattr(value, "__html__"):  # markup a column draws itself (a tag with its icon): kept as it is
        return value
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dt.datetime):
        return format_datetime(value)  # 29 November 2026 at 2:48pm, in the portal's time zone
    if isinstance(value, dt.date):
        return format_date(value, "j M Y")  # 1 Apr 2018
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_display(v) for v in value)
    if isinstance(value, Manager):
        return ", ".join(str(v) for v in value.all())
    return str(value)


def _escaped(text):
    """Plain text escaped as ``markupsafe.escape`` escapes it (the same five characters, the same entities), without
    making a ``Markup`` of each of a page's few hundred cells."""
    return (
        text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;").replace("'", "&#39;").replace('"', "&#34;")
    )


class Column:
    """A column: ``attr`` is a dotted path (``programme.title``) or ``getter`` a function of the row.

    ``order`` names the filterset's ordering key, which makes the header a sort link.
    ``link`` makes the cell a link to the row's page (or to ``link(row)``).
    ``export`` is the CSV value, when it differs from what the page shows.
    ``value`` (and ``value_link``, for a link to another record than the row's) read the same from a row of
    ``values()``, a dict, where the list reads its rows so (``ListConfig.values``): what the page shows must be
    the same either way (tests/test_first_renders.py compares them).
    """

    def __init__(
        self,
        attr=None,
        header=None,
        getter=None,
        order=None,
        link=False,
        export=None,
        numeric=False,
        value=None,
        value_link=None,
    ):
        self.attr = attr
        self.header = header or (attr or "").split(".")[-1].replace("_", " ").capitalize()
        self.getter = getter
        self.order = order
        self.link = link
        self.export = export
        self.numeric = numeric
        self.value = value
        self.value_link = value_link

    def raw(self, row):
        if self.getter:
            return self.getter(row)
        value = row
        for part in self.attr.split("."):
            display = getattr(value, f"get_{part}_display", None)
            value = display() if display else getattr(value, part, None)
            if value is None:
                return None
        return value

    def export_value(self, row):
        if self.export:
            return self.export(row)
        return _display(self.raw(row))


def _own_address(row):
    return row.get_absolute_url()


class Table:
    """``row_link``: the rows are dicts of ``values()``, drawn by each column's ``value``, and ``row_link(row)``
    gives a row's own address; without it, rows are records."""

    def __init__(self, columns, rows, ordering=None, query=None, row_link=None):
        self.columns = columns
        self.rows = rows
        self.ordering = ordering or ""
        self.query = query
        self.row_link = row_link

    def body_html(self, headers=None, numeric=True):
        """Every row as the NHS.UK responsive table draws it (``<tr>`` … ``</tr>``), as one piece of HTML: on a
        small screen each row is a card, each value labelled with its column's header. ``numeric``: numbers'
        cells aligned as numbers (the lists; a record's sections leave them as text). What each column's cells
        start with (their class and label) and how each is read and linked are worked out once per table, then
        each cell is its value, escaped (plain text without a ``Markup`` of each), in its place."""
        headers = headers if headers is not None else self.headers()
        labels = [
            f'<span class="nhsuk-table-responsive__heading" aria-hidden="true">{escape(h["text"])} </span>'
            for h in headers
        ]
        plans = []
        for label, column in zip(labels, self.columns, strict=True):
            classes = "nhsuk-table__cell" + (" nhsuk-table__cell--numeric" if numeric and column.numeric else "")
            if self.row_link is not None:
                read, link = column.value, (column.value_link or self.row_link) if column.link else None
            else:
                read = column.raw
                link = (column.link if callable(column.link) else _own_address) if column.link else None
            plans.append(
                (
                    read,
                    f'<td role="cell" class="{classes}">{label}',
                    f'<td role="cell" class="{classes} portal-nowrap">{label}',
                    link,
                )
            )
        parts = []
        append = parts.append
        for row in self.rows:
            append('<tr class="nhsuk-table__row" role="row">')
            for read, start, start_nowrap, link in plans:
                raw = read(row)
                text = raw if raw.__class__ is str else _display(raw)
                text = _escaped(text) if text.__class__ is str else escape(text)
                start = start_nowrap if isinstance(raw, dt.date) else start
                href = link(row) if link is not None else None
                if href:
                    href = _escaped(href) if href.__class__ is str else escape(href)
                    append(f'{start}<a class="nhsuk-link" href="{href}">{text}</a></td>')
                else:
                    append(f"{start}<span>{text}</span></td>")
            append("</tr>\n")
        return Markup("".join(parts))

    def headers(self):
        """Each column's header, with a sort link and its aria-sort state where it sorts."""
        result = []
        for column in self.columns:
            header = {"text": column.header, "href": None, "sort": None, "numeric": column.numeric}
            if column.order:
                current = None
                if self.ordering == column.order:
                    current = "ascending"
                elif self.ordering == f"-{column.order}":
                    current = "descending"
                next_order = f"-{column.order}" if current == "ascending" else column.order
                query = self.query.copy() if self.query is not None else None
                if query is not None:
                    query["ordering"] = next_order
                    query.pop("page", None)
                    header["href"] = "?" + query.urlencode()
                header["sort"] = current
            result.append(header)
        return result


def related(row, name):
    """The records of ``row``'s many-to-many ``name``: those prefetched with the list when they were, without the
    related manager Django makes on every access (a list asks for them on each of its rows), else ``all()``."""
    prefetched = getattr(row, "_prefetched_objects_cache", None)
    if prefetched is not None and name in prefetched:
        return prefetched[name]
    return getattr(row, name).all()


def names(manager, name=None):
    """The codes (or names) of a prefetched many-to-many, comma-separated: ``names(row.bodies)``, or
    ``names(row, "bodies")`` to read them as ``related`` does."""
    records = related(manager, name) if name is not None else manager.all()
    return ", ".join(str(x.code if hasattr(x, "code") else x) for x in records)


def names_array(through, source, label, order):
    """The names of each row's many-to-many records, in their order, read with the row (``ARRAY(SELECT …)``):
    ``through`` the many-to-many's table, ``source`` its field to the row, ``label`` the name read (a field of
    the link's target, or an expression), ``order`` the names' order (as the target's own ordering, so that
    they come as a prefetch gives them)."""
    return ArraySubquery(through.objects.filter(**{source: OuterRef("pk")}).order_by(order).values_list(label))


def choice_label(model, field):
    """A function giving the label of ``model``'s ``field``'s stored choice, as ``get_<field>_display()`` does."""
    labels = dict(model._meta.get_field(field).flatchoices)

    def label(value):
        found = labels.get(value, value)
        return found if found is None else str(found)

    return label


def link_to(attr):
    """A column link to the row's related record ``attr``."""

    def href(row):
        target = getattr(row, attr)
        return target.get_absolute_url() if target is not None else None

    return href


def section(id, title, columns, rows, empty="None recorded."):
    """A table of related records on a detail page."""
    return {"id": id, "title": title, "table": Table(columns, rows), "rows": rows, "empty": empty}


class Sections:
    """A detail page's sections, in order, that the app of the record and the apps above it add to.

    A programme's page shows its expectations and agreed measures, but programmes know nothing of asks or
    measures: those apps add their sections here. ``add(order, make, *prefetch)``: ``make(obj, request)``
    gives a ``section``; ``prefetch`` are the lookups (or ``Prefetch``) it reads, for the detail queryset.
    Called as a resource's ``detail.context``.
    """

    def __init__(self):
        self.parts = []

    def add(self, order, make, *prefetch):
        self.parts.append((order, make, prefetch))
        self.parts.sort(key=lambda part: part[0])

    def prefetches(self):
        return [lookup for _, _, prefetch in self.parts for lookup in prefetch]

    def __call__(self, obj, request):
        return {"sections": [make(obj, request) for _, make, _ in self.parts]}
