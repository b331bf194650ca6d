"""The regions in the API, each with its current Regional Director (from the appointments)."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from nhs_joint.api import ReadOnlyPortalViewSet
from regions.filters import RegionFilterSet
from regions.models import Region

from .services import current_appointments
from .views import director_of


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
        director = director_of(region)
        return DirectorSerializer(director).data if director else None


class RegionViewSet(ReadOnlyPortalViewSet):
    """The seven integrated regions (active) and the retired region codes."""

    queryset = Region.objects.order_by("ods_code")
    serializer_class = RegionSerializer
    filterset_class = RegionFilterSet
    lookup_field = "ods_code"
    lookup_url_kwarg = "code"

    def get_queryset(self):
        # Built per request: "current" is today, not the day the worker process started.
        current = Prefetch("appointments", current_appointments(), to_attr="current_appointments")
        return super().get_queryset().prefetch_related(current)
