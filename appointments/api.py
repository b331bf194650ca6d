from django.db.models import Prefetch
from rest_framework import exceptions, serializers

from nhs_joint import permissions
from nhs_joint.api import (
    ArchivableViewSetMixin,
    DecimalField,
    ModelRulesSerializer,
    NaturalKeyField,
    PortalModelSerializer,
    PortalViewSet,
)
from organisations.models import NationalBody
from regions.models import Region

from . import filters
from .models import Appointment, AppointmentShare, Person, check_shares


class PersonSerializer(ModelRulesSerializer):
    class Meta:
        model = Person
        fields = ["id", "name", "email"]

    def validate_email(self, email):
        email = email.strip().lower()
        clash = Person.objects.filter(email=email)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError("Another person already has this email address.")
        return email


class PersonViewSet(ArchivableViewSetMixin, PortalViewSet):
    """People who hold posts (fictional in the demonstration data)."""

    queryset = Person.objects.all()
    serializer_class = PersonSerializer
    filterset_class = filters.PersonFilterSet


class ShareSerializer(PortalModelSerializer):
    body = NaturalKeyField(slug_field="code", queryset=NationalBody.objects.all(), key_name="body code")
    fte_percent = DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100)

    class Meta:
        model = AppointmentShare
        fields = ["body", "fte_percent"]


class AppointmentSerializer(ModelRulesSerializer):
    person = NaturalKeyField(slug_field="email", queryset=Person.objects.all(), key_name="email")
    region = NaturalKeyField(
        slug_field="ods_code",
        queryset=Region.objects.all(),
        allow_null=True,
        required=False,
        key_name="region ODS code",
    )
    # The programme is named by its slug; its model is reached through the relation, as appointments sit
    # below programmes and do not import them.
    programme = NaturalKeyField(
        slug_field="slug",
        queryset=Appointment._meta.get_field("programme").related_model._default_manager.all(),
        allow_null=True,
        required=False,
        key_name="programme slug",
    )
    # One share per body: a handful at most, each looked up on its own.
    shares = ShareSerializer(many=True, max_length=10)
    joint = serializers.BooleanField(source="is_joint", read_only=True)

    class Meta:
        model = Appointment
        fields = [
            "id",
            "person",
            "title",
            "role",
            "region",
            "programme",
            "start_date",
            "end_date",
            "shares",
            "joint",
        ]

    def validate_shares(self, shares):
        # A partial update still replaces the shares whole: each share needs both of its fields.
        if any("body" not in share or "fte_percent" not in share for share in shares):
            raise serializers.ValidationError("Each share needs a body and an fte_percent.")
        message = check_shares([(s["body"], s["fte_percent"]) for s in shares])
        if message:
            raise serializers.ValidationError(message)
        message = permissions.bodies_error(self.context["request"].user, [s["body"] for s in shares])
        if message:
            raise exceptions.PermissionDenied(message)
        return shares

    def create(self, validated_data):
        shares = validated_data.pop("shares")
        appointment = Appointment.objects.create(**validated_data)
        self._write_shares(appointment, shares)
        return appointment

    def update(self, instance, validated_data):
        shares = validated_data.pop("shares", None)
        appointment = super().update(instance, validated_data)
        if shares is not None:
            self._write_shares(appointment, shares)
        return appointment

    def _write_shares(self, appointment, shares):
        appointment.set_shares({s["body"].pk: s["fte_percent"] for s in shares})


class AppointmentViewSet(ArchivableViewSetMixin, PortalViewSet):
    """Posts held for one body or jointly for both, written with their shares nested."""

    queryset = Appointment.objects.select_related("person", "region", "programme").prefetch_related(
        Prefetch("shares", AppointmentShare.objects.select_related("body").order_by("body__code"))
    )
    serializer_class = AppointmentSerializer
    filterset_class = filters.AppointmentFilterSet
