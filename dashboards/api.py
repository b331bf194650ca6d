"""The regions in the API, each with its current Regional Director (from the appointments)."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from appointments.models import Appointment
from nhs_joint.api import ReadOnlyPortalViewSet
from regions.filters import RegionFilterSet
from regions.models import Region

from .views import current_appointments


class DirectorSerializer(serializers.Serializer):
    appointment = serializers.IntegerField(source="pk")
    person = serializers.EmailField(source="person.email")
    name = serializers.CharField(source="person.name")
    joint = serializers.BooleanField(source="is_joint")


class RegionSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="ods_code")
    regional_director = serializers.SerializerMethodField()

    class Meta:
        model = Region
        fields = ["code", "name", "short_name", "slug", "active", "regional_director"]

    @extend_schema_field(DirectorSerializer(allow_null=True))
    def get_regional_director(self, region):
        """The current Regional Director, or null when the post is empty."""
        directors = [a for a in region.current_appointments if a.role == Appointment.Role.REGIONAL_DIRECTOR]
        return DirectorSerializer(directors[0]).data if directors else None


class RegionViewSet(ReadOnlyPortalViewSet):
    """The seven integrated regions (active) and the retired region codes."""

    queryset = Region.objects.prefetch_related(
        Prefetch("appointments", current_appointments(), to_attr="current_appointments")
    ).order_by("ods_code")
    serializer_class = RegionSerializer
    filterset_class = RegionFilterSet
    lookup_field = "ods_code"
    lookup_url_kwarg = "code"
