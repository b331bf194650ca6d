from django.db.models import Prefetch
from rest_framework import serializers

from nhs_joint.api import NaturalKeyField, ReadOnlyPortalViewSet
from regions.models import LocalHealthSystem, Region

from .filters import NationalBodyFilterSet, OrganisationFilterSet
from .models import NationalBody, Organisation, StatutoryDuty


class DutySerializer(serializers.ModelSerializer):
    class Meta:
        model = StatutoryDuty
        fields = ["slug", "title", "legal_basis", "summary"]


class BodySerializer(serializers.ModelSerializer):
    duties = DutySerializer(many=True, read_only=True)

    class Meta:
        model = NationalBody
        fields = ["code", "name", "ods_code", "duties"]


class BodyViewSet(ReadOnlyPortalViewSet):
    """The two national bodies and their statutory duties."""

    queryset = NationalBody.objects.prefetch_related(Prefetch("duties", StatutoryDuty.objects.order_by("title")))
    serializer_class = BodySerializer
    filterset_class = NationalBodyFilterSet
    lookup_field = "code"


class OrganisationSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="ods_code")
    region = NaturalKeyField(slug_field="ods_code", queryset=Region.objects.all(), allow_null=True, key_name="ODS code")
    local_system = NaturalKeyField(
        slug_field="ods_code", queryset=LocalHealthSystem.objects.all(), allow_null=True, key_name="ODS code"
    )

    class Meta:
        model = Organisation
        fields = ["code", "name", "kind", "region", "local_system", "postcode", "opened", "closed"]


class OrganisationViewSet(ReadOnlyPortalViewSet):
    """NHS providers and commissioners from the ODS files, by ODS code."""

    queryset = Organisation.objects.select_related("region", "local_system").order_by("ods_code")
    serializer_class = OrganisationSerializer
    filterset_class = OrganisationFilterSet
    lookup_field = "ods_code"
    lookup_url_kwarg = "code"
