"""A measure agreed for an active programme has figures, for every region and England, in its latest three months.

Success is measured as agreed only if the figures keep coming: for each such
measure, the latest three months the store holds for it are found, and each
active region (and England) without a figure in any of them is reported; a
measure with no figures at all is reported once.
"""

import datetime as dt
from collections import defaultdict

from django.db.models import Max

from programmes.models import Measure, Measurement, Programme
from regions.models import Region

from . import FindingData, ref


def _three_months_back(month):
    for _ in range(2):
        month = (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    return month


def check(context):
    measures = list(
        Measure.objects.filter(programme_measures__programme__status=Programme.Status.ACTIVE).distinct().order_by("code")
    )
    regions = list(Region.objects.active().order_by("ods_code"))
    latest = dict(
        Measurement.objects.filter(measure__in=measures).values_list("measure_id").annotate(last=Max("month")).order_by()
    )
    windows = {m_id: (_three_months_back(last), last) for m_id, last in latest.items()}
    held = defaultdict(set)
    if windows:
        earliest = min(start for start, _ in windows.values())
        for measure_id, region_id, month in Measurement.objects.filter(
            measure__in=measures, month__gte=earliest
        ).values_list("measure_id", "region_id", "month"):
            start, last = windows[measure_id]
            if start <= month <= last:
                held[measure_id].add(region_id)
    for measure in measures:
        if measure.pk not in windows:
            yield FindingData(
                "measure-data-gap",
                f"“{measure.name}” is agreed for an active programme but has no figures at all.",
                [ref(measure)], severity="low",
            )
            continue
        start, last = windows[measure.pk]
        for area in [None, *regions]:
            if (area.pk if area else None) not in held[measure.pk]:
                yield FindingData(
                    "measure-data-gap",
                    f"“{measure.name}” has no figure for {area or 'England'} in its latest three months "
                    f"({start:%B %Y} to {last:%B %Y}).",
                    [ref(measure)] + ([ref(area)] if area else []),
                    severity="low", region_id=area.pk if area else None,
                )
