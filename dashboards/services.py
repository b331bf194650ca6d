"""What the regional dashboard and the national overview show, gathered in a fixed number of queries.

Every query here is set-based: a region with ten measures and five years of
months costs the same number of queries as one with two measures and a year.

Bounded by design at England scale: the dashboard sums up every agreed measure
in one line each, and draws the charts of a window of the latest months (24 by
default, ``MONTH_CHOICES``) for the measures that most need attention
(``INLINE_CHARTS`` at most); each measure's chart over any window, its whole
history too, is on a page of its own. A region's Board pack (a PDF) has every
measure's chart over the same window. Long lists (delivery, expectations,
appointments, findings) show their first rows and link to the full list.

The statistical process control figures (regions/spc.py) are computed once per
measure, area, window and data version, and kept in this process: the data
version is a digest of the very figures the window holds (and the measure's
direction and standard), so a changed, added or removed figure gives a new key
and the old result is never read again.
"""

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, Case, Count, IntegerField, Prefetch, Q, Subquery, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from appointments.models import Appointment, AppointmentShare
from asks.models import Expectation
from measures.models import Measure, ProgrammeMeasure
from nhs_joint import parts
from nhs_joint.db import current_q
from programmes.models import Programme, RegionalDelivery
from regions import spc
from regions.models import Region
from reports.models import Finding, ReportRun
from reports.services import by_severity, open_findings


def current_appointments(on=None):
    return (
        Appointment.objects.current(on)
        .select_related("person", "programme")
        .prefetch_related(Prefetch("shares", AppointmentShare.objects.select_related("body").order_by("body__code")))
        .order_by("role", "title")
    )


@dataclass
class Chart:
    measure: Measure
    result: spc.SpcResult
    targets: list = field(default_factory=list)  # the programmes' agreed targets for this measure
    key: str = ""  # the result's cache key: the same key, the same figures (and so the same drawing)

    @property
    def id(self):
        return f"chart-{self.measure.code}"


MONTH_CHOICES = (12, 24, 36, 60, None)  # the windows the dashboard offers; 24 unless chosen; None: every month
DEFAULT_MONTHS = 24
CHART_MONTH_CHOICES = (12, 24, 36, 60, 120, None)  # a measure's own page; None: every month held
INLINE_CHARTS = 6  # charts drawn on the dashboard itself; every measure's is a link away
LIST_ROWS = 25  # rows of each long list on the dashboard; the full list is a link away


def months_choice(value, choices=MONTH_CHOICES, default=DEFAULT_MONTHS):
    """The window asked for in a query string, if it is one of ``choices`` ("all": None), else None and False."""
    if value in (None, ""):
        return default, True
    if value == "all" and None in choices:
        return None, True
    if value.isdigit() and int(value) in choices:
        return int(value), True
    return default, False


def latest_points(measures, region, months, *, regions=None):
    """Each measure's latest ``months`` figures (None: all), in one query read from the
    (measure, region, month) index: {(region id or None, measure id): [(month, value), …]} by month.

    ``regions`` (a list) reads those regions' series instead of ``region``'s alone.
    """
    measure_ids = [m.pk for m in measures]
    areas = [r.pk for r in regions] if regions is not None else [region.pk if region else None]
    points = defaultdict(list)
    region_ids = [a for a in areas if a is not None]
    if not measure_ids or not areas:
        return points
    limit = "LIMIT %s" if months else ""
    series = f"""
        SELECT month, value FROM programmes_measurement
        WHERE measure_id = m.id AND {{area}} AND organisation_id IS NULL AND local_system_id IS NULL
        ORDER BY month DESC {limit}
    """
    parts, params = [], []
    # Two branches, each an index scan per series: "region_id IS NOT DISTINCT FROM" would not use the index.
    if region_ids:
        parts.append(f"""SELECT a.id, m.id, x.month, x.value FROM unnest(%s::bigint[]) AS m(id)
            CROSS JOIN unnest(%s::bigint[]) AS a(id)
            CROSS JOIN LATERAL ({series.format(area="region_id = a.id")}) AS x""")
        params += [measure_ids, region_ids] + ([months] if months else [])
    if None in areas:
        parts.append(f"""SELECT NULL::bigint, m.id, x.month, x.value FROM unnest(%s::bigint[]) AS m(id)
            CROSS JOIN LATERAL ({series.format(area="region_id IS NULL")}) AS x""")
        params += [measure_ids] + ([months] if months else [])
    with connection.cursor() as cursor:
        # No ORDER BY: PostgreSQL would sort every row read; each series comes from its index latest first, and
        # is put in order here (a series already in reverse order sorts in one pass).
        cursor.execute(" UNION ALL ".join(parts), params)
        for area_id, measure_id, month, value in cursor.fetchall():
            points[(area_id, measure_id)].append((month, value))
    for series in points.values():
        series.sort()  # by month: one value a month, so values are never compared
    return points


def _spc_key(measure, area_id, points):
    """The cache key of a series' analysis: measure, area and a digest of everything the result depends on."""
    # repr() of the months and figures themselves (dates and Decimals spell themselves in C): a figure
    # written differently (80 or 80.000) gives another key, never another figure the same key.
    digest = hashlib.sha256(
        repr((measure.direction, str(measure.standard), measure.comparator, settings.SPC_RUN_LENGTH, points)).encode()
    ).hexdigest()[:32]
    return f"spc:v2:{measure.pk}:{area_id or 'eng'}:{len(points)}:{digest}"


class _Recent(dict):
    """This process's most recent results (Django's cache here is this process's memory too, and pickled
    a hundred results per dashboard for nothing): bounded, emptied when full."""

    size = 2048

    def store(self, values):
        if len(self) + len(values) > self.size:
            self.clear()
        self.update(values)


_recent = _Recent()


def analyse_many(measures, points_by_area_measure, areas, keys_out=None):
    """{(area id, measure id): SpcResult} for every area and measure, kept in this process under a digest of
    the figures (``_spc_key``); ``keys_out`` (a dict), when given, gets each result's key.

    Results are shared by whoever reads them (templates only read): never change one.
    """
    results, missing = {}, {}
    for area_id in areas:
        for measure in measures:
            points = points_by_area_measure.get((area_id, measure.pk), [])
            key = _spc_key(measure, area_id, points)
            if keys_out is not None:
                keys_out[(area_id, measure.pk)] = key
            result = _recent.get(key) or missing.get(key)
            if result is None:
                result = missing[key] = spc.analyse(
                    points,
                    direction=measure.direction,
                    target=measure.standard,
                    target_comparator=measure.comparator or None,
                    run_length=settings.SPC_RUN_LENGTH,
                )
            results[(area_id, measure.pk)] = result
    _recent.store(missing)
    return results


def charts_for(measures, region, *, points_by_measure=None, months=DEFAULT_MONTHS):
    """One SPC chart per measure, for a region (None: England), over the latest ``months`` (None: all)."""
    area = region.pk if region is not None else None
    if points_by_measure is None:
        points = latest_points(measures, region, months)
    else:
        points = {(area, measure_id): series for measure_id, series in points_by_measure.items()}
    keys = {}
    results = analyse_many(measures, points, [area], keys_out=keys)
    return [Chart(measure, results[(area, measure.pk)], key=keys[(area, measure.pk)]) for measure in measures]


def attention(chart):
    """How much a measure needs a look: special cause of concern first, then a failing target, then the rest."""
    result = chart.result
    concern = result.latest is not None and result.latest.variation == "concern"
    return (0 if concern else 1, 0 if result.assurance_icon == "fail" else 1, chart.measure.code)


def agreed_measures(region=None):
    """Measures agreed for the programmes delivered in ``region`` (all programmes when None), by code."""
    agreed = ProgrammeMeasure.objects.all()
    if region is not None:
        agreed = agreed.filter(programme__regional_deliveries__region=region)
    return list(Measure.objects.filter(pk__in=agreed.values("measure_id")).order_by("code"))


def red_first():
    """An ordering expression for regional deliveries: red, then amber, then green (as the RAG choices run)."""
    return Case(
        *(When(rag=value, then=Value(rank)) for rank, value in enumerate(RegionalDelivery.Rag.values)),
        default=Value(len(RegionalDelivery.Rag.values)),
        output_field=IntegerField(),
    )


# England-wide findings that name one of these records concern the region too.
REGION_RECORDS = (
    ("expectation", "expectations"),
    ("programme", "programmes"),
    ("appointment", "appointments"),
)


def findings_of(region, expectations):
    """The open findings about a region: its own, and the England-wide ones that name one of its records (an
    expectation that applies there, a programme delivered there, a post in the region, the region itself)."""
    records = {
        "expectations": expectations.values("pk"),
        "programmes": RegionalDelivery.objects.filter(region=region).values("programme_id"),
        "appointments": Appointment.objects.filter(region=region).values("pk"),
    }
    table = connection.ops.quote_name(Finding._meta.db_table)
    conditions, params = [], []
    for kind, name in REGION_RECORDS:
        sql, inner = records[name].query.sql_with_params()
        conditions.append(f"(item->>'type' = %s AND (item->>'id')::bigint IN ({sql}))")
        params += [kind, *inner]
    conditions.append("(item->>'type' = 'region' AND (item->>'id')::bigint = %s)")
    params.append(region.pk)
    names_one = RawSQL(
        f"EXISTS (SELECT 1 FROM jsonb_array_elements({table}.records) AS item WHERE {' OR '.join(conditions)})",
        params,
        output_field=BooleanField(),
    )
    return open_findings().filter(Q(region=region) | Q(region__isnull=True) & Q(names_one))


def region_dashboard(region, months=DEFAULT_MONTHS, kept_with=None):
    """Everything the dashboard shows, in a number of queries that grows with neither the data nor ``months``.

    What does not depend on the window (the region's posts, delivery, expectations, findings and agreed measures,
    ``region_facts``) is read once per region, day and version of the tables ``kept_with`` (the dashboard's
    models) and kept for its other windows (nhs_joint/parts.py); only the charts are read for each window."""
    if kept_with is None:
        facts = region_facts(region)
    else:
        facts = parts.kept("region-facts", kept_with, (region.pk,), lambda: region_facts(region))
    measures = facts["measures"]
    charts = charts_for(measures, region, months=months)
    shown = sorted(charts, key=attention)[:INLINE_CHARTS]
    return {
        **{name: value for name, value in facts.items() if name != "measures"},
        "charts": charts,
        "inline_charts": shown,
        "months": months,
        "month_choices": MONTH_CHOICES,
        "list_rows": LIST_ROWS,
    }


def region_facts(region):
    """What a region's dashboard shows whatever its window: its director and joint posts, delivery, current
    expectations, open findings and the measures agreed for its programmes. Shared by whoever reads them
    (templates only read): never change one."""
    today = timezone.localdate()
    in_region = current_appointments(today).filter(region=region)
    directors = list(in_region.filter(role=Appointment.Role.REGIONAL_DIRECTOR))
    # Shared by both bodies: the region's posts whose shares name more than one body, found from the shares
    # alone (grouping every post with its person and programme to count its bodies read them all).
    shared = (
        AppointmentShare.objects.filter(appointment__region=region)
        .values("appointment_id")
        .annotate(bodies=Count("body_id", distinct=True))
        .filter(bodies__gt=1)
        .values("appointment_id")
    )
    joint = in_region.filter(pk__in=shared)
    joint_count = joint.count()
    joint_appointments = list(joint[:LIST_ROWS])
    rag = dict(RegionalDelivery.objects.filter(region=region).values_list("rag").annotate(n=Count("pk")).order_by())
    # Red first, then amber, then green: the delivery that needs a look. The first rows are chosen by their ids
    # and titles alone; only they are read with their programme and lead.
    order = (red_first(), "programme__title", "pk")
    first = RegionalDelivery.objects.filter(region=region).order_by(*order).values("pk")[:LIST_ROWS]
    deliveries = list(
        RegionalDelivery.objects.filter(pk__in=Subquery(first)).select_related("programme", "lead").order_by(*order)
    )
    leads = {d.lead_id for d in deliveries}
    current = Expectation.objects.filter(Q(region=region) | Q(region__isnull=True), current_q(today, end="due_date"))
    expectation_count = current.count()
    expectations = list(
        current.select_related("programme", "measure", "region", "issued_by").order_by(
            "measure__code", "audience", "programme__title"
        )[:LIST_ROWS]
    )
    open_in_region = findings_of(region, current)
    finding_count = open_in_region.count()
    findings = list(by_severity(open_in_region.select_related("region"))[:LIST_ROWS])
    return {
        "directors": directors,
        "director": directors[0] if len(directors) == 1 else None,
        "joint_appointments": joint_appointments,
        "joint_count": joint_count,
        "deliveries": deliveries,
        # One lead for every programme shown is said once, above the table, not on every row.
        "one_lead": deliveries[0].lead if len(leads) == 1 and len(deliveries) > 1 else None,
        "delivery_count": sum(rag.values()),
        "rag": [(choice, label, rag.get(choice, 0)) for choice, label in RegionalDelivery.Rag.choices],
        "expectations": expectations,
        "expectation_count": expectation_count,
        "findings": findings,
        "finding_count": finding_count,
        "reports_have_run": ReportRun.objects.filter(status=ReportRun.Status.SUCCEEDED).exists(),
        "measures": agreed_measures(region),
    }


def region_pack(region, months=DEFAULT_MONTHS):
    """What a region's Board pack holds: its Regional Director and every agreed measure's chart over ``months``.

    A fixed number of queries, however many measures and months.
    """
    directors = list(current_appointments().filter(region=region, role=Appointment.Role.REGIONAL_DIRECTOR))
    measures = agreed_measures(region)
    rag = dict(RegionalDelivery.objects.filter(region=region).values_list("rag").annotate(n=Count("pk")).order_by())
    # The open findings about the region, and those about England as a whole (which concern it too).
    about = open_findings().filter(Q(region=region) | Q(region__isnull=True))
    return {
        "directors": directors,
        "director": directors[0] if len(directors) == 1 else None,
        "charts": charts_for(measures, region, months=months),
        "months": months,
        "made": timezone.localtime(),
        "rag": [(choice, label, rag.get(choice, 0)) for choice, label in RegionalDelivery.Rag.choices],
        "delivery_count": sum(rag.values()),
        "findings": list(
            about.select_related("region").order_by(SEVERITY_FIRST, "rule", "-score", "pk")[:PACK_FINDINGS]
        ),
        "finding_count": about.count(),
    }


# High severity first, then medium, then low.
SEVERITY_FIRST = Case(When(severity="high", then=0), When(severity="medium", then=1), default=2)
PACK_FINDINGS = 40  # the open findings a pack lists; the rest are counted, and a link away
PACK_VERSION = 2  # raise when the pack's template or stylesheet changes what a pack shows
PACK_CACHE_SECONDS = 24 * 60 * 60


def pack_key(region, pack):
    """The cache key of a region's Board pack: a digest of everything it shows, and the day it is made.

    Laying out a chart takes WeasyPrint a good part of a second, so a pack is made once per region,
    window, data version and day; a corrected figure, another director or a renamed measure gives a new key.
    """
    shown = (
        PACK_VERSION,
        region.pk,
        region.name,
        pack["months"],
        f"{pack['made']:%Y-%m-%d}",
        [(d.pk, d.person.name, d.title) for d in pack["directors"]],
        [(c.measure.code, c.measure.name, c.measure.unit, c.key) for c in pack["charts"]],
        pack["rag"],
        pack["finding_count"],
        [(f.pk, f.message, f.severity) for f in pack["findings"]],
    )
    return "pack:v1:" + hashlib.sha256(repr(shown).encode()).hexdigest()[:40]


def measure_chart(region, measure, months):
    """One measure's chart for a region (None: England) over the latest ``months`` (None: every month held)."""
    return charts_for([measure], region, months=months)[0]


def headline_measures():
    codes = settings.HEADLINE_MEASURES
    found = {m.code: m for m in Measure.objects.filter(code__in=codes)}
    return [found[code] for code in codes if code in found]


@dataclass
class RegionColumn:
    region: Region
    director: Appointment | None
    directors: int
    programmes: int
    rag: list
    findings: int
    headlines: list  # (measure, spc result) in the order of the headline measures


def national_overview():
    """The seven regions side by side: director, delivery, findings and headline measures."""
    today = timezone.localdate()
    regions = list(
        Region.objects.active()
        .prefetch_related(
            Prefetch(
                "appointments",
                current_appointments(today).filter(role=Appointment.Role.REGIONAL_DIRECTOR),
                to_attr="directors",
            )
        )
        .annotate(
            **{
                f"rag_{choice}": Count("deliveries", filter=Q(deliveries__rag=choice))
                for choice in RegionalDelivery.Rag.values
            },
            programme_count=Count("deliveries"),
        )
        .order_by("name")
    )
    open_ = open_findings()
    findings = dict(open_.filter(region__in=regions).values_list("region_id").annotate(n=Count("pk")).order_by())
    measures = headline_measures()
    # The headline measures over the dashboards' default window, from the same cache as the dashboards.
    points = latest_points(measures, None, DEFAULT_MONTHS, regions=regions)
    results = analyse_many(measures, points, [r.pk for r in regions])
    columns = []
    for region in regions:
        charts = [Chart(m, results[(region.pk, m.pk)]) for m in measures]
        columns.append(
            RegionColumn(
                region=region,
                director=region.directors[0] if len(region.directors) == 1 else None,
                directors=len(region.directors),
                programmes=region.programme_count,
                rag=[(c, label, getattr(region, f"rag_{c}")) for c, label in RegionalDelivery.Rag.choices],
                findings=findings.get(region.pk, 0),
                headlines=[(chart.measure, chart.result) for chart in charts],
            )
        )
    return {
        "columns": columns,
        "measures": measures,
        "england_findings": open_.filter(region__isnull=True).count(),
        "reports_have_run": ReportRun.objects.filter(status=ReportRun.Status.SUCCEEDED).exists(),
        "active_programmes": Programme.objects.filter(status=Programme.Status.ACTIVE).count(),
    }
