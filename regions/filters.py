import django_filters

from nhs_joint.filters import PortalFilterSet, RelatedChoiceFilter

from .models import LocalHealthSystem, Region


def region_filter(field_name="region", label="Region", england=False):
    """Filter by a region's ODS code; with ``england``, the code ``ENG`` picks records for all England."""
    if england:
        return django_filters.CharFilter(field_name=field_name, method="filter_region_or_england", label=label)
    return RelatedChoiceFilter(
        field_name=field_name, to_field_name="ods_code", queryset=Region.objects.all(), label=label
    )


class RegionFilterSet(PortalFilterSet):
    search_fields = ("name", "short_name")
    code_fields = ("ods_code",)
    active = django_filters.BooleanFilter(label="Active")
    ordering = django_filters.OrderingFilter(fields=(("ods_code", "code"), ("name", "name")))

    class Meta:
        model = Region
        fields = ["q", "active"]


class LocalHealthSystemFilterSet(PortalFilterSet):
    search_fields = ("name",)
    code_fields = ("ods_code",)
    region = region_filter()
    ordering = django_filters.OrderingFilter(
        fields=(("ods_code", "code"), ("name", "name"), ("region__name", "region"))
    )

    class Meta:
        model = LocalHealthSystem
        fields = ["q", "region"]
