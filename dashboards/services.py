"""What the regional dashboard and the national overview show, gathered in a fixed number of queries.

Every query here is set-based: a region with ten measures and five years of
months costs the same number of queries as one with two measures and a year.
The statistical process control figures are computed in Python from the one
query that fetches the measurements (regions/spc.py).
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from appointments.models import Appointment, AppointmentShare
from nhs_joint.db import current_q
from programmes.models import Expectation, Measure, Measurement, Programme, ProgrammeMeasure, RegionalDelivery
from regions import spc
from regions.models import Region
from reports.services import open_findings


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

    @property
    def id(self):
        return f"chart-{self.measure.code}"


def charts_for(measures, region, *, points_by_measure=None):
    """One SPC chart per measure, for a region (None: England), from one query of measurements."""
    if points_by_measure is None:
        points_by_measure = defaultdict(list)
        rows = (
            Measurement.objects.filter(measure__in=measures, region=region)
            .order_by("measure_id", "month")
            .values_list("measure_id", "month", "value")
        )
        for measure_id, month, value in rows:
            points_by_measure[measure_id].append((month, value))
    charts = []
    for measure in measures:
        result = spc.analyse(
            points_by_measure.get(measure.pk, []),
            direction=measure.direction,
            target=measure.standard,
            target_comparator=measure.comparator or None,
            run_length=settings.SPC_RUN_LENGTH,
        )
        charts.append(Chart(measure, result))
    return charts


def agreed_measures(region=None):
    """Measures agreed for the programmes delivered in ``region`` (all programmes when None), by code."""
    agreed = ProgrammeMeasure.objects.all()
    if region is not None:
        agreed = agreed.filter(programme__regional_deliveries__region=region)
    return list(Measure.objects.filter(pk__in=agreed.values("measure_id")).order_by("code"))


def region_dashboard(region):
    today = timezone.localdate()
    appointments = list(current_appointments(today).filter(region=region))
    directors = [a for a in appointments if a.role == Appointment.Role.REGIONAL_DIRECTOR]
    deliveries = list(
        RegionalDelivery.objects.filter(region=region)
        .select_related("programme", "lead")
        .order_by("programme__title")
    )
    expectations = list(
        Expectation.objects.filter(Q(region=region) | Q(region__isnull=True), current_q(today, end="due_date"))
        .select_related("programme", "measure", "region", "issued_by")
        .order_by("measure__code", "audience", "programme__title")
    )
    findings = list(open_findings().filter(region=region).order_by("rule", "-score", "pk"))
    measures = agreed_measures(region)
    charts = charts_for(measures, region)
    rag = defaultdict(int)
    for delivery in deliveries:
        rag[delivery.rag] += 1
    return {
        "directors": directors,
        "director": directors[0] if len(directors) == 1 else None,
        "appointments": appointments,
        "joint_appointments": [a for a in appointments if a.is_joint],
        "deliveries": deliveries,
        "rag": [(choice, label, rag.get(choice, 0)) for choice, label in RegionalDelivery.Rag.choices],
        "expectations": expectations,
        "findings": findings,
        "charts": charts,
    }


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
    points = defaultdict(list)
    rows = (
        Measurement.objects.filter(measure__in=measures, region__in=regions)
        .order_by("region_id", "measure_id", "month")
        .values_list("region_id", "measure_id", "month", "value")
    )
    for region_id, measure_id, month, value in rows:
        points[(region_id, measure_id)].append((month, value))
    columns = []
    for region in regions:
        by_measure = {m.pk: points.get((region.pk, m.pk), []) for m in measures}
        charts = charts_for(measures, region, points_by_measure=by_measure)
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
        "active_programmes": Programme.objects.filter(status=Programme.Status.ACTIVE).count(),
    }

