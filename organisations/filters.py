import django_filters
from django.db.models import Q

from nhs_joint.filters import PortalFilterSet, RecordChoiceFilter, RelatedMultipleChoiceFilter
from regions.filters import region_filter
from regions.models import LocalHealthSystem

from .models import NationalBody, Organisation


def body_filter(field_name, label="Body"):
    """Filter by national bodies' codes (``body=NHSE``), as checkboxes by name; through a many-to-many, each record once."""
    return RelatedMultipleChoiceFilter(
        field_name=field_name, to_field_name="code", queryset=NationalBody.objects.order_by("name"), label=label
    )


class NationalBodyFilterSet(PortalFilterSet):
    search_fields = ("name",)
    code_fields = ("code",)

    class Meta:
        model = NationalBody
        fields = ["q"]


class OrganisationFilterSet(PortalFilterSet):
    search_fields = ("name",)
    code_fields = ("ods_code", "postcode")
    kind = django_filters.MultipleChoiceFilter(choices=Organisation.Kind.choices)
    region = region_filter()
    local_system = RecordChoiceFilter(
        field_name="local_system",
        to_field_name="ods_code",
        queryset=LocalHealthSystem.objects.order_by("name").only("ods_code", "name"),
        label="Local health system",
    )
    open = django_filters.BooleanFilter(method="filter_open", label="Open now")
    ordering = django_filters.OrderingFilter(
        fields=(
            ("ods_code", "code"),
            ("name", "name"),
            ("kind", "kind"),
            ("region__name", "region"),
            ("opened", "opened"),
            ("closed", "closed"),
        )
    )

    class Meta:
        model = Organisation
        fields = ["q", "kind", "region", "local_system", "open"]

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        is_open = Q(closed__isnull=True)
        return queryset.filter(is_open if value else ~is_open)
