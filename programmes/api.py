from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from appointments.models import Appointment, Person
from nhs_joint import permissions
from nhs_joint.api import (
    ArchivableViewSetMixin,
    ChoiceField,
    IdField,
    ListField,
    ModelRulesSerializer,
    NaturalKeyField,
    PortalViewSet,
    refuse_unless,
)
from organisations.models import NationalBody, StatutoryDuty
from regions import spc
from regions.models import Region

from . import filters
from .models import (
    Audience,
    BoardApproval,
    Expectation,
    Measure,
    Measurement,
    Programme,
    ProgrammeMeasure,
    RegionalDelivery,
    Workstream,
)


def body_field(**kwargs):
    return NaturalKeyField(slug_field="code", queryset=NationalBody.objects.all(), key_name="body code", **kwargs)


def region_field(**kwargs):
    return NaturalKeyField(slug_field="ods_code", queryset=Region.objects.all(), key_name="region ODS code", **kwargs)


def programme_field():
    return NaturalKeyField(slug_field="slug", queryset=Programme.objects.all(), key_name="programme slug")


def measure_field():
    return NaturalKeyField(slug_field="code", queryset=Measure.objects.all(), key_name="measure code")


class ProgrammeChildSerializer(ModelRulesSerializer):
    """A record of a programme: only those who may edit the programme may add to it (else 403)."""

    def validate_programme(self, programme):
        refuse_unless(permissions.can_edit(self.context["request"].user, programme))
        return programme


class ProgrammeSerializer(ModelRulesSerializer):
    many_to_many = ("bodies",)
    bodies = body_field(many=True)
    accountable_body = body_field(allow_null=True, required=False)
    duty = NaturalKeyField(
        slug_field="slug", queryset=StatutoryDuty.objects.all(), allow_null=True, required=False, key_name="duty slug"
    )
    senior_responsible_owner = IdField(
        queryset=Appointment.objects.all(),
        allow_null=True,
        required=False,
        help_text="The id of the appointment of the senior responsible owner.",
    )

    class Meta:
        model = Programme
        fields = [
            "slug",
            "title",
            "summary",
            "description",
            "theme",
            "bodies",
            "integration_stage",
            "accountable_body",
            "duty",
            "status",
            "start_date",
            "end_date",
            "senior_responsible_owner",
            "version",
        ]
        read_only_fields = ["slug", "version"]

    def validate_bodies(self, bodies):
        if not bodies:
            raise serializers.ValidationError("A programme is run by at least one body.")
        message = permissions.bodies_error(self.context["request"].user, bodies)
        if message:
            raise exceptions.PermissionDenied(message)
        return bodies

    def prepare(self, instance, attrs):
        if "bodies" in attrs:
            instance.bodies_to_save = list(attrs["bodies"])
        if not instance.pk and not instance.slug:
            from .forms import unique_slug

            instance.slug = unique_slug(attrs.get("title") or "")

    def create(self, validated_data):
        from .forms import unique_slug

        validated_data["slug"] = unique_slug(validated_data["title"])
        return super().create(validated_data)


class ProgrammeViewSet(ArchivableViewSetMixin, PortalViewSet):
    """National programmes, by slug."""

    queryset = Programme.objects.select_related("accountable_body", "duty").prefetch_related("bodies")
    serializer_class = ProgrammeSerializer
    filterset_class = filters.ProgrammeFilterSet
    lookup_field = "slug"


class BoardApprovalSerializer(ProgrammeChildSerializer):
    programme = programme_field()
    body = body_field()

    class Meta:
        model = BoardApproval
        fields = ["id", "programme", "body", "decision", "date", "minute_reference"]


class BoardApprovalViewSet(PortalViewSet):
    """Decisions of each body's Board on programmes."""

    queryset = BoardApproval.objects.select_related("programme", "body")
    serializer_class = BoardApprovalSerializer
    filterset_class = filters.BoardApprovalFilterSet


class RegionalDeliverySerializer(ModelRulesSerializer):
    programme = programme_field()
    region = region_field()
    lead = NaturalKeyField(
        slug_field="email", queryset=Person.objects.all(), allow_null=True, required=False, key_name="email"
    )

    class Meta:
        model = RegionalDelivery
        fields = ["id", "programme", "region", "rag", "lead", "note", "updated"]
        read_only_fields = ["updated"]

    def validate(self, attrs):
        region = attrs.get("region", getattr(self.instance, "region", None))
        if region is not None:
            refuse_unless(permissions.can_edit_delivery(self.context["request"].user, region.pk, region))
        return super().validate(attrs)


class RegionalDeliveryViewSet(PortalViewSet):
    """How each programme is being delivered in each region: kept by the region's director."""

    queryset = RegionalDelivery.objects.select_related("programme", "region", "lead")
    serializer_class = RegionalDeliverySerializer
    filterset_class = filters.RegionalDeliveryFilterSet

    create_permission = staticmethod(permissions.can_record_delivery)


class WorkstreamSerializer(ProgrammeChildSerializer):
    many_to_many = ("regions",)
    programme = programme_field()
    body = body_field()
    regions = region_field(many=True, required=False)
    audiences = ListField(
        child=ChoiceField(choices=Audience.choices), allow_empty=True, max_items=len(Audience.choices)
    )

    class Meta:
        model = Workstream
        fields = ["id", "programme", "title", "description", "body", "regions", "audiences", "start_date", "end_date"]


class WorkstreamViewSet(ArchivableViewSetMixin, PortalViewSet):
    """The pieces of work of each programme."""

    queryset = Workstream.objects.select_related("programme", "body").prefetch_related("regions")
    serializer_class = WorkstreamSerializer
    filterset_class = filters.WorkstreamFilterSet


class ExpectationSerializer(ProgrammeChildSerializer):
    programme = programme_field()
    issued_by = body_field()
    region = region_field(allow_null=True, required=False, help_text="Null for all England.")
    measure = measure_field()

    class Meta:
        model = Expectation
        fields = [
            "id",
            "programme",
            "issued_by",
            "audience",
            "region",
            "measure",
            "comparator",
            "target",
            "start_date",
            "due_date",
            "wording",
            "stage",
            "consultation_closes",
            "agreed_on",
            "supersedes",
        ]
        # The stage changes only through the consultation's steps (the portal's consultation pages).
        read_only_fields = ["stage", "consultation_closes", "agreed_on", "supersedes"]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        programme = attrs.get("programme", getattr(self.instance, "programme", None))
        issued_by = attrs.get("issued_by", getattr(self.instance, "issued_by", None))
        if programme and issued_by and not programme.bodies.filter(pk=issued_by.pk).exists():
            raise serializers.ValidationError({"issued_by": f"{issued_by.code} does not run {programme}."})
        return attrs


class ExpectationViewSet(ArchivableViewSetMixin, PortalViewSet):
    """What programmes ask of providers, commissioners and local systems."""

    queryset = Expectation.objects.select_related("programme", "issued_by", "region", "measure")
    serializer_class = ExpectationSerializer
    filterset_class = filters.ExpectationFilterSet


class MeasureSerializer(ModelRulesSerializer):
    class Meta:
        model = Measure
        fields = ["code", "name", "unit", "direction", "standard", "comparator"]


class SpcPointSerializer(serializers.Serializer):
    month = serializers.DateField()
    value = serializers.FloatField()
    moving_range = serializers.FloatField(allow_null=True)
    special_cause = serializers.ChoiceField(
        choices=["outside_limits", "trend", "two_of_three", "run"],
        allow_null=True,
        help_text="The special cause the point shows, by the method's priority; null for common cause.",
    )
    side = serializers.ChoiceField(choices=["high", "low"], allow_null=True)
    variation = serializers.ChoiceField(choices=["common", "improvement", "concern", "neither"])


class SpcSerializer(serializers.Serializer):
    """A measure's statistical process control chart for a region, or for England."""

    measure = serializers.CharField()
    region = serializers.CharField(allow_null=True, help_text="The region's ODS code; null for England.")
    points = SpcPointSerializer(many=True)
    mean = serializers.FloatField(allow_null=True)
    mean_moving_range = serializers.FloatField(allow_null=True)
    upper_process_limit = serializers.FloatField(allow_null=True)
    lower_process_limit = serializers.FloatField(allow_null=True)
    upper_two_sigma = serializers.FloatField(allow_null=True)
    lower_two_sigma = serializers.FloatField(allow_null=True)
    baseline_points = serializers.IntegerField()
    run_length = serializers.IntegerField()
    direction = serializers.CharField(allow_null=True)
    target = serializers.FloatField(allow_null=True)
    target_comparator = serializers.CharField(allow_null=True)
    variation_icon = serializers.CharField(allow_null=True)
    variation_label = serializers.CharField()
    assurance_icon = serializers.CharField(allow_null=True)
    assurance_label = serializers.CharField()
    note = serializers.CharField()


class SpcQuerySerializer(serializers.Serializer):
    region = serializers.CharField(required=False, help_text="A region's ODS code, e.g. Y56; leave out for England.")
    baseline = serializers.IntegerField(
        required=False, min_value=2, help_text="Compute the mean and limits from the first K points only."
    )

    def validate_region(self, value):
        region = Region.objects.filter(ods_code=value.upper()).first()
        if region is None:
            raise serializers.ValidationError(f"No region has the ODS code “{value}”.")
        return region


class MeasureViewSet(ArchivableViewSetMixin, PortalViewSet):
    """Measures of success, by code."""

    queryset = Measure.objects.all()
    serializer_class = MeasureSerializer
    filterset_class = filters.MeasureFilterSet
    lookup_field = "code"

    @extend_schema(
        parameters=[SpcQuerySerializer],
        responses={200: SpcSerializer},
        summary="Statistical process control chart of a measure",
        description="The monthly series of the measure for a region (or England), its mean, process limits "
        "(mean ± 2.66 × mean moving range), each point's special cause and the variation and assurance icons.",
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def spc(self, request, code=None):
        measure = self.get_object()
        # A plain dict: from a query string, DRF would take "region=" as "not given" (England) instead of blank.
        query = SpcQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        region = query.validated_data.get("region")
        points = (
            Measurement.objects.filter(measure=measure, region=region).order_by("month").values_list("month", "value")
        )
        result = spc.analyse(
            list(points),
            direction=measure.direction,
            target=measure.standard,
            target_comparator=measure.comparator or None,
            baseline=query.validated_data.get("baseline"),
            run_length=settings.SPC_RUN_LENGTH,
        )
        return Response({"measure": measure.code, "region": region.ods_code if region else None, **result.as_dict()})


class ProgrammeMeasureSerializer(ProgrammeChildSerializer):
    many_to_many = ("agreed_by",)
    programme = programme_field()
    measure = measure_field()
    agreed_by = body_field(many=True)

    class Meta:
        model = ProgrammeMeasure
        fields = ["id", "programme", "measure", "target", "agreed_on", "agreed_by"]


class ProgrammeMeasureViewSet(PortalViewSet):
    """How the success of each programme is measured, as agreed by the bodies."""

    queryset = ProgrammeMeasure.objects.select_related("programme", "measure").prefetch_related("agreed_by")
    serializer_class = ProgrammeMeasureSerializer
    filterset_class = filters.ProgrammeMeasureFilterSet


class MeasurementSerializer(ModelRulesSerializer):
    measure = measure_field()
    region = region_field(allow_null=True, required=False, help_text="Null for England.")

    class Meta:
        model = Measurement
        fields = ["id", "measure", "region", "month", "value", "source"]
        # Where a figure comes from is the portal's to say: a person's figure is "entered", so a generated
        # one cannot be passed off as published or imported.
        read_only_fields = ["source"]
        validators = []  # the model's own rules (Measurement.full_clean) say it better, naming the fields

    def validate_month(self, month):
        if month.day != 1:
            raise serializers.ValidationError("Give the month as its first day, e.g. 2019-04-01.")
        return month

    def create(self, validated_data):
        return super().create({**validated_data, "source": Measurement.Source.ENTERED})

    def update(self, instance, validated_data):
        changed = any(getattr(instance, name) != value for name, value in validated_data.items())
        if changed:
            validated_data = {**validated_data, "source": Measurement.Source.ENTERED}
        return super().update(instance, validated_data)


class MeasurementViewSet(PortalViewSet):
    """Monthly values of each measure, by region or for England."""

    queryset = Measurement.objects.select_related("measure", "region")
    serializer_class = MeasurementSerializer
    filterset_class = filters.MeasurementFilterSet
