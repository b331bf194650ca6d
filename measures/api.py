"""What the measures and measurements add to the API derived from their page resources (measures/views.py).

Each class here is a rule or an action that only its kind of record has; everything else (fields, natural
keys, filters, permissions, archiving, history) comes from the resource's declaration through nhs_joint.api.
"""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from nhs_joint.api import ModelRulesSerializer, TextField
from regions import spc
from regions.models import Region

from .models import Measurement


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


class MeasureChart:
    """A measure's statistical process control chart: ``GET measures/<code>/spc/``."""

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


class MeasurementRules(ModelRulesSerializer):
    """A month is given as its first day, and a figure a person writes is "entered". A figure held is
    corrected with the reason for the correction, kept in its history, as on its page."""

    REASON_LENGTH = Measurement.history.model._meta.get_field("history_change_reason").max_length
    reason = TextField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=REASON_LENGTH,
        help_text="Why a figure held is corrected, for example “Revised in the published statistics”: needed to "
        "change a figure, and kept in its history.",
    )

    organisation = serializers.SlugRelatedField(
        slug_field="ods_code",
        read_only=True,
        allow_null=True,
        help_text="The organisation's ODS code, for an organisation's own figure (from published statistics).",
    )
    local_system = serializers.SlugRelatedField(
        slug_field="ods_code",
        read_only=True,
        allow_null=True,
        help_text="The local health system's ODS code, for a system's own figure (from published statistics).",
    )

    class Meta:
        # Where a figure comes from is the portal's to say: a person's figure is "entered", so a generated
        # one cannot be passed off as published or imported.
        # An organisation's or a local health system's figure, and a rate's counts, come from published
        # statistics (import_statistics); a person corrects a figure's value.
        read_only_fields = ["source", "organisation", "local_system", "numerator", "denominator"]
        validators = []  # the model's own rules (Measurement.full_clean) say it better, naming the fields

    def validate_month(self, month):
        if month.day != 1:
            raise serializers.ValidationError("Give the month as its first day, e.g. 2019-04-01.")
        return month

    def validate(self, attrs):
        reason = " ".join(attrs.pop("reason", "").split())
        attrs = super().validate(attrs)
        if self.instance is not None and any(getattr(self.instance, name) != value for name, value in attrs.items()):
            if not reason:
                raise serializers.ValidationError({"reason": ["Give the reason for the correction."]})
            attrs["reason"] = reason
        return attrs

    def create(self, validated_data):
        return super().create({**validated_data, "source": Measurement.Source.ENTERED})

    def update(self, instance, validated_data):
        reason = validated_data.pop("reason", "")
        changed = any(getattr(instance, name) != value for name, value in validated_data.items())
        if changed:
            # A person's value is no longer the published counts' quotient: the counts go with it.
            validated_data = {
                **validated_data,
                "source": Measurement.Source.ENTERED,
                "numerator": None,
                "denominator": None,
            }
            instance._change_reason = reason
        return super().update(instance, validated_data)
