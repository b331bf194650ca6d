import django_filters

from nhs_joint.filters import PortalFilterSet, RecordChoiceFilter
from programmes.filters import programme_filter
from regions.filters import region_filter, region_scope_filter

from .models import Measure, Measurement, ProgrammeMeasure


def measure_filter():
    """A measure by name (``?measure=<code>`` keeps working)."""
    return RecordChoiceFilter(
        field_name="measure",
        to_field_name="code",
        queryset=Measure.objects.order_by("name").only("code", "name"),
        label="Measure",
    )


class MeasureFilterSet(PortalFilterSet):
    search_fields = ("name",)
    code_fields = ("code",)
    unit = django_filters.ChoiceFilter(choices=Measure.Unit.choices)
    direction = django_filters.ChoiceFilter(choices=Measure.Direction.choices)
    ordering = django_filters.OrderingFilter(fields=(("code", "code"), ("name", "name"), ("unit", "unit")))

    class Meta:
        model = Measure
        fields = ["q", "unit", "direction"]


class ProgrammeMeasureFilterSet(PortalFilterSet):
    search_fields = ("programme__title", "measure__name")
    programme = programme_filter()
    measure = measure_filter()
    ordering = django_filters.OrderingFilter(
        fields=(("programme__title", "programme"), ("measure__code", "measure"), ("agreed_on", "agreed_on"))
    )

    class Meta:
        model = ProgrammeMeasure
        fields = ["q", "programme", "measure"]


class MeasurementFilterSet(PortalFilterSet):
    search_fields = ("measure__name",)
    measure = measure_filter()
    region = region_filter(england=True)
    region_scope = region_scope_filter()
    source = django_filters.MultipleChoiceFilter(choices=Measurement.Source.choices)
    month_from = django_filters.DateFilter(field_name="month", lookup_expr="gte", label="From month")
    month_to = django_filters.DateFilter(field_name="month", lookup_expr="lte", label="To month")
    ordering = django_filters.OrderingFilter(
        fields=(("month", "month"), ("measure__code", "measure"), ("region__name", "region"), ("value", "value"))
    )

    class Meta:
        model = Measurement
        fields = ["q", "measure", "region", "region_scope", "source", "month_from", "month_to"]
