"""An organisation's and a local health system's own figures on their pages: each agreed measure's SPC chart.

The figures are the organisation's (or the system's) own, from published statistics (measures/statistics_import),
never its region's. Two queries, however many measures and months: the agreed measures, and every figure of them
the organisation or system has (the latest ``MONTHS`` of each).
"""

from collections import defaultdict

from django.template.loader import render_to_string
from markupsafe import Markup

from measures.models import Measurement
from organisations.models import Organisation
from regions.models import LocalHealthSystem

from .services import Chart, _spc_key, agreed_measures, analyse_many

MONTHS = 60  # the latest five years of each measure: the charts stay readable, the page bounded


def area_key(target):
    return f"{'org' if isinstance(target, Organisation) else 'lhs'}{target.pk}"


def own_figures(target, measures, months=MONTHS):
    """{(area key, measure id): [(month, value), …]} of ``target``'s own figures, oldest first, one query."""
    field = "organisation" if isinstance(target, Organisation) else "local_system"
    rows = (
        Measurement.every_level.filter(**{field: target}, measure__in=measures)
        .order_by("measure_id", "-month")
        .values_list("measure_id", "month", "value")
    )
    points = defaultdict(list)
    key = area_key(target)
    for measure_id, month, value in rows:
        series = points[(key, measure_id)]
        if len(series) < months:
            series.append((month, value))
    return {pair: series[::-1] for pair, series in points.items()}


def charts_of(target, months=MONTHS):
    """One chart per agreed measure ``target`` has figures of, by measure code."""
    measures = agreed_measures()
    points = own_figures(target, measures, months)
    key = area_key(target)
    measures = [m for m in measures if points.get((key, m.pk))]
    results = analyse_many(measures, points, [key])
    return [Chart(m, results[(key, m.pk)], key=_spc_key(m, key, points[(key, m.pk)])) for m in measures]


def figures_panel(request, record, resource):
    """On an organisation's or local health system's page: each agreed measure's chart of its own figures."""
    if not isinstance(record, (Organisation, LocalHealthSystem)):
        return ""
    return Markup(
        render_to_string("dashboards/area_figures.jinja", {"target": record, "charts": charts_of(record)}, request)
    )
