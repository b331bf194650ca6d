"""An organisation's (or a local health system's) own figures beside what is asked of it.

The asks page, its CSV and its PDF letter show, for each measure, the organisation's own latest figure (from
published statistics) with its "Making Data Count" variation and assurance icons, and say of each ask whether
that figure meets it. One query for every measure, whatever the number of months held.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from measures.models import Comparator, Measurement
from organisations.models import Organisation
from regions import spc

MONTHS = 60  # the latest five years of each measure make the icons


@dataclass
class OwnFigure:
    """The latest of an organisation's own figures of a measure, and the SPC result of its series."""

    measure: object
    month: object
    value: Decimal
    source: str
    result: spc.SpcResult

    @property
    def is_generated(self):
        return self.source == Measurement.Source.GENERATED

    @property
    def shown(self):
        """The value as written, to one decimal place: 82.5%, 7.1 minutes."""
        unit = "%" if self.measure.unit == "percent" else f" {self.measure.get_unit_display().lower()}"
        return f"{self.value:.1f}{unit}"

    def meets(self, expectation):
        if expectation.comparator == Comparator.AT_LEAST:
            return self.value >= expectation.target
        if expectation.comparator == Comparator.AT_MOST:
            return self.value <= expectation.target
        return None

    def verdict(self, expectation):
        """Whether the latest figure meets ``expectation``, in words: “Not met: 82.5% in March 2019, asked at
        least 95%.”"""
        met = self.meets(expectation)
        if met is None:
            return ""
        target = f"{expectation.target.normalize():f}{'%' if self.measure.unit == 'percent' else ''}"
        asked = f"{expectation.get_comparator_display()} {target}"
        if met:
            return f"Met: {self.shown} in {self.month:%B %Y}, asked {asked}."
        return f"Not met: {self.shown} in {self.month:%B %Y}, asked {asked}."


def own_figures(target, measures, until, months=MONTHS):
    """{measure id: OwnFigure} of ``target``'s own figures up to ``until`` (``measures``: {id: Measure})."""
    if not measures:
        return {}
    field = "organisation" if isinstance(target, Organisation) else "local_system"
    rows = (
        Measurement.every_level.filter(**{field: target}, measure_id__in=list(measures), month__lte=until)
        .order_by("measure_id", "-month")
        .values_list("measure_id", "month", "value", "source")
    )
    series = defaultdict(list)
    for measure_id, month, value, source in rows:
        if len(series[measure_id]) < months:
            series[measure_id].append((month, value, source))
    figures = {}
    for measure_id, points in series.items():
        measure = measures[measure_id]
        result = spc.analyse(
            [(month, value) for month, value, _ in points],
            direction=measure.direction,
            target=measure.standard,
            target_comparator=measure.comparator or None,
            run_length=settings.SPC_RUN_LENGTH,
        )
        month, value, source = points[0]
        figures[measure_id] = OwnFigure(measure, month, value, source, result)
    return figures
