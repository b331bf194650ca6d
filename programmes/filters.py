import re

import django_filters

from nhs_joint.filters import PortalFilterSet, RecordChoiceFilter
from organisations.filters import body_filter
from regions.filters import region_filter, region_scope_filter

from .models import Audience, BoardApproval, Programme, ProgrammeRisk, RegionalDelivery, Workstream
from .themes import theme_choices


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
