"""Local health systems in the API (regions, with their directors, are the dashboards app's)."""

from rest_framework import serializers

from nhs_joint.api import NaturalKeyField, ReadOnlyPortalViewSet

from .filters import LocalHealthSystemFilterSet
from .models import LocalHealthSystem, Region


class LocalSystemSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="ods_code")
    region = NaturalKeyField(slug_field="ods_code", queryset=Region.objects.all(), key_name="ODS code")

    class Meta:
        model = LocalHealthSystem
        fields = ["code", "name", "region"]


class LocalSystemViewSet(ReadOnlyPortalViewSet):
    """Local health systems (STPs), by ODS code."""

    queryset = LocalHealthSystem.objects.select_related("region").order_by("ods_code")
    serializer_class = LocalSystemSerializer
    filterset_class = LocalHealthSystemFilterSet
    lookup_field = "ods_code"
    lookup_url_kwarg = "code"
