"""A measure agreed for an active programme has stopped coming in for an area that reports it.

Success is measured as agreed only if the figures keep coming. For each
measure agreed by an active programme, the latest three months the store
holds for it are found; an area is expected to have a figure in them when it
has reported that measure before, or (for a region) when an expectation on the
measure names that region for some of those months. England is an area too (figures without a
region). So a measure published for England only is checked for England
only, and a region that has never reported a measure, and is not asked for it
by name, is not reported. A measure with no figures at all is reported once.
Each finding names the active programmes that agreed the measure, and links
them.
"""

import datetime as dt
from collections import defaultdict

from django.db.models import Max

from asks.models import Expectation
from measures.models import Measurement, ProgrammeMeasure
from programmes.models import Programme
from regions.models import Region

from . import FindingData, months_of, ref, rule


def _three_months_back(month):
    for _ in range(2):
        month = (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    return month


def _names(programmes):
    names = [str(p) for p in programmes]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


@rule("measure-data-gap", kind="consistency", severity="low", name="Gap in a measure's data")
def check(context):
    agreed = defaultdict(list)  # measure id: the active programmes that agreed it, by title
    measures = {}
    for agreement in (
        ProgrammeMeasure.objects.filter(programme__status=Programme.Status.ACTIVE)
        .select_related("measure", "programme")
        .order_by("measure__code", "programme__title", "programme__slug")
    ):
        measures[agreement.measure_id] = agreement.measure
        agreed[agreement.measure_id].append(agreement.programme)
    if not measures:
        return
    regions = {r.pk: r for r in Region.objects.active().order_by("ods_code")}
    # Each area's latest figure for each measure: who has reported it, and until when.
    last_by_area = defaultdict(dict)
    for measure_id, region_id, last in (
        Measurement.objects.filter(measure_id__in=measures)
        .values_list("measure_id", "region_id")
        .annotate(last=Max("month"))
        .order_by()
    ):
        last_by_area[measure_id][region_id] = last
    # Expectations on the measure that name a region: that region is asked for it, reported or not.
    named = defaultdict(list)
    for measure_id, region_id, starts, due in (
        Expectation.objects.filter(measure_id__in=measures, region__isnull=False)
        .values_list("measure_id", "region_id", "start_date", "due_date")
        .order_by()
    ):
        named[measure_id].append((region_id, starts, due))

    for measure in sorted(measures.values(), key=lambda m: m.code):
        programmes = agreed[measure.pk]
        by = f"agreed by {_names(programmes)}"
        records = [ref(measure)] + [ref(p) for p in programmes]
        reported = last_by_area[measure.pk]
        if not reported:
            yield FindingData(
                f"“{measure.name}” is {by}, but has no figures at all.",
                records,
            )
            continue
        last = max(reported.values())
        start = _three_months_back(last)
        end = (last + dt.timedelta(days=31)).replace(day=1) - dt.timedelta(days=1)  # the last day of the last month
        asked = {region_id for region_id, starts, due in named[measure.pk] if starts <= end and due >= start}
        expected = [region_id for region_id in regions if region_id in reported or region_id in asked]
        if None in reported:
            expected.insert(0, None)
        for area_id in expected:
            area_last = reported.get(area_id)
            if area_last is not None and area_last >= start:
                continue
            area = regions.get(area_id)
            since = (
                f"its last figure there is for {area_last:%B %Y}"
                if area_last
                else "an expectation asks for it there, but it has never been reported there"
            )
            yield FindingData(
                f"“{measure.name}” ({by}) has no figure for {area or 'England'} in its latest three months "
                f"({months_of(start, last)}): {since}.",
                records + ([ref(area)] if area else []),
                region_id=area_id,
            )
