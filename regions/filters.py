import django_filters

from nhs_joint.filters import PortalFilterSet, region_filter

from .models import LocalHealthSystem, Region


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
