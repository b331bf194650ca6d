import datetime as dt
import re

import django_filters
from django import forms
from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field

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


class MonthField(forms.CharField):
    """A month as ``YYYY-MM`` (or its first day, ``YYYY-MM-01``): its first day."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 10)
        super().__init__(*args, **kwargs)

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        match = re.fullmatch(r"(\d{4})-(\d{2})(?:-01)?", text.strip())
        if not match or not 1 <= int(match[2]) <= 12:
            raise forms.ValidationError("Enter the month as YYYY-MM, for example 2019-03.")
        return dt.date(int(match[1]), int(match[2]), 1)


@extend_schema_field({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"})
class MonthFilter(django_filters.Filter):
    field_class = MonthField


@extend_schema_field({"type": "string", "pattern": "^[A-Za-z0-9]{3,10}$"})
class OdsCodeFilter(django_filters.CharFilter):
    """A record by its ODS code, any case (``?organisation=R1H``)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 10)
        kwargs.setdefault(
            "validators",
            [RegexValidator(r"^[A-Za-z0-9]{3,10}$", "Enter an ODS code: 3 to 10 letters and digits, like R1H.")],
        )
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        code = (value or "").strip().upper()
        if not code:
            return qs
        return qs.filter(**{f"{self.field_name}__ods_code": code})


class MeasurementFilterSet(PortalFilterSet):
    """Regions' and England's figures, unless an organisation or a local health system is asked for: then that
    one's own figures (``?organisation=R1H``, ``?local_system=QMF``). ``?region=ENG`` picks England's own."""

    search_fields = ("measure__name",)
    measure = measure_filter()
    organisation = OdsCodeFilter(label="Organisation (ODS code)")
    local_system = OdsCodeFilter(label="Local health system (ODS code)")
    region = region_filter(england=True)
    region_scope = region_scope_filter()
    month = MonthFilter(field_name="month", label="Month (YYYY-MM)")
    source = django_filters.MultipleChoiceFilter(choices=Measurement.Source.choices)
    month_from = django_filters.DateFilter(field_name="month", lookup_expr="gte", label="From month")
    month_to = django_filters.DateFilter(field_name="month", lookup_expr="lte", label="To month")
    ordering = django_filters.OrderingFilter(
        fields=(("month", "month"), ("measure__code", "measure"), ("region__name", "region"), ("value", "value"))
    )

    class Meta:
        model = Measurement
        fields = [
            "q",
            "measure",
            "organisation",
            "local_system",
            "region",
            "region_scope",
            "month",
            "source",
            "month_from",
            "month_to",
        ]

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        if not (data.get("organisation") or "").strip() and not (data.get("local_system") or "").strip():
            queryset = self.unfiltered(queryset)
        return super().filter_queryset(queryset)

    @classmethod
    def unfiltered(cls, queryset):
        return queryset.filter(organisation__isnull=True, local_system__isnull=True)
