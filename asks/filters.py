import django_filters

from measures.filters import measure_filter
from nhs_joint.db import current_q
from nhs_joint.filters import PortalFilterSet
from organisations.filters import body_filter
from programmes.filters import programme_filter
from programmes.models import Audience
from regions.filters import region_filter, region_scope_filter

from .models import Expectation


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
