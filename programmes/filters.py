import datetime as dt
import re

import django_filters
from django import forms
from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field

from nhs_joint.db import current_q
from nhs_joint.filters import PortalFilterSet, RecordChoiceFilter
from organisations.filters import body_filter
from regions.filters import region_filter, region_scope_filter

from .models import (
    Audience,
    BoardApproval,
    Expectation,
    Measure,
    Measurement,
    Programme,
    ProgrammeMeasure,
    ProgrammeRisk,
    RegionalDelivery,
    Workstream,
)
from .themes import theme_choices


def measure_filter():
    """A measure by name (``?measure=<code>`` keeps working)."""
    return RecordChoiceFilter(
        field_name="measure",
        to_field_name="code",
        queryset=Measure.objects.order_by("name").only("code", "name"),
        label="Measure",
    )


def programme_filter():
    """A programme by title (``?programme=<slug>`` keeps working)."""
    return RecordChoiceFilter(
        field_name="programme",
        to_field_name="slug",
        queryset=Programme.objects.order_by("title").only("slug", "title"),
        label="Programme",
    )


THEME_CODE = re.compile(r"[\w-]{1,100}")


class ThemeField(django_filters.fields.ChoiceField):
    """A theme, offered by name; any theme code given in a link (``?theme=Urgent-Care``) is read, in any case."""

    def to_python(self, value):
        return super().to_python(value).strip().lower()

    def valid_value(self, value):
        return bool(THEME_CODE.fullmatch(value))

    def prepare_value(self, value):
        return value.strip().lower() if isinstance(value, str) else value


class ThemeFilter(django_filters.ChoiceFilter):
    field_class = ThemeField


class ProgrammeFilterSet(PortalFilterSet):
    search_fields = ("title", "summary", "description", "theme")
    search_vector = "search_vector"  # programmes/migrations/0004_search_vectors.py
    code_fields = ("slug",)
    status = django_filters.MultipleChoiceFilter(choices=Programme.Status.choices)
    integration_stage = django_filters.MultipleChoiceFilter(choices=Programme.IntegrationStage.choices)
    body = body_filter("bodies")
    accountable_body = body_filter("accountable_body", label="Accountable body")
    theme = ThemeFilter(choices=theme_choices, lookup_expr="iexact", label="Theme")
    ordering = django_filters.OrderingFilter(
        fields=(
            ("title", "title"),
            ("theme", "theme"),
            ("status", "status"),
            ("integration_stage", "integration_stage"),
            ("start_date", "start_date"),
            ("end_date", "end_date"),
        )
    )

    class Meta:
        model = Programme
        fields = ["q", "status", "integration_stage", "body", "accountable_body", "theme"]


class BoardApprovalFilterSet(PortalFilterSet):
    search_fields = ("minute_reference",)
    programme = programme_filter()
    body = body_filter("body")
    decision = django_filters.MultipleChoiceFilter(choices=BoardApproval.Decision.choices)
    ordering = django_filters.OrderingFilter(fields=(("date", "date"), ("programme__title", "programme")))

    class Meta:
        model = BoardApproval
        fields = ["q", "programme", "body", "decision"]


class RegionalDeliveryFilterSet(PortalFilterSet):
    search_fields = ("note", "programme__title")
    programme = programme_filter()
    region = region_filter()
    rag = django_filters.MultipleChoiceFilter(choices=RegionalDelivery.Rag.choices)
    ordering = django_filters.OrderingFilter(
        fields=(("programme__title", "programme"), ("region__name", "region"), ("rag", "rag"), ("updated", "updated"))
    )

    class Meta:
        model = RegionalDelivery
        fields = ["q", "programme", "region", "rag"]


class WorkstreamFilterSet(PortalFilterSet):
    search_fields = ("title", "description")
    search_vector = "search_vector"
    programme = programme_filter()
    body = body_filter("body", label="Owning body")
    region = region_filter("regions", england=True)
    region_scope = region_scope_filter()
    audience = django_filters.ChoiceFilter(choices=Audience.choices, method="filter_audience", label="Audience")
    ordering = django_filters.OrderingFilter(
        fields=(
            ("title", "title"),
            ("programme__title", "programme"),
            ("body__code", "body"),
            ("start_date", "start_date"),
            ("end_date", "end_date"),
        )
    )

    class Meta:
        model = Workstream
        fields = ["q", "programme", "body", "region", "region_scope", "audience"]

    def filter_audience(self, queryset, name, value):
        return queryset.filter(audiences__contains=[value]) if value else queryset


class ExpectationFilterSet(PortalFilterSet):
    search_fields = ("wording",)
    search_vector = "search_vector"
    programme = programme_filter()
    issued_by = body_filter("issued_by", label="Issued by")
    audience = django_filters.MultipleChoiceFilter(choices=Audience.choices)
    region = region_filter(england=True)
    region_scope = region_scope_filter()
    measure = measure_filter()
    current_on = django_filters.DateFilter(method="filter_current_on", label="Current on (date)")
    ordering = django_filters.OrderingFilter(
        fields=(
            ("programme__title", "programme"),
            ("measure__code", "measure"),
            ("audience", "audience"),
            ("target", "target"),
            ("start_date", "start_date"),
            ("due_date", "due_date"),
        )
    )

    class Meta:
        model = Expectation
        fields = ["q", "programme", "issued_by", "audience", "region", "region_scope", "measure", "current_on"]

    def filter_current_on(self, queryset, name, value):
        return queryset.filter(current_q(value, end="due_date")) if value else queryset


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
            queryset = queryset.filter(organisation__isnull=True, local_system__isnull=True)
        return super().filter_queryset(queryset)


class ProgrammeRiskFilterSet(PortalFilterSet):
    search_fields = ("title", "mitigation")
    programme = programme_filter()
    likelihood = django_filters.MultipleChoiceFilter(choices=ProgrammeRisk.Likelihood.choices)
    impact = django_filters.MultipleChoiceFilter(choices=ProgrammeRisk.Impact.choices)
    ordering = django_filters.OrderingFilter(
        fields=(
            ("title", "title"),
            ("programme__title", "programme"),
            ("likelihood", "likelihood"),
            ("impact", "impact"),
        )
    )

    class Meta:
        model = ProgrammeRisk
        fields = ["q", "programme", "likelihood", "impact"]
