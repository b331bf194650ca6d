"""What people and appointments add to the API derived from their page resources (appointments/views.py)."""

from rest_framework import exceptions, serializers

from nhs_joint import permissions
from nhs_joint.api import DecimalField, ModelRulesSerializer, NaturalKeyField, PortalModelSerializer
from organisations.models import NationalBody

from .models import AppointmentShare, Person, check_shares


class PersonRules(ModelRulesSerializer):
    """An email address is kept in lower case, and names one person only."""

    def validate_email(self, email):
        email = email.strip().lower()
        clash = Person.objects.filter(email=email)
        if self.instance is not None:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise serializers.ValidationError("Another person already has this email address.")
        return email


class ShareSerializer(PortalModelSerializer):
    body = NaturalKeyField(slug_field="code", queryset=NationalBody.objects.all(), key_name="body code")
    fte_percent = DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100)

    class Meta:
        model = AppointmentShare
        fields = ["body", "fte_percent"]


class AppointmentRules(ModelRulesSerializer):
    """A post is written with its shares nested: one per body, adding up as check_shares says."""

    # One share per body: a handful at most, each looked up on its own.
    shares = ShareSerializer(many=True, max_length=10)
    joint = serializers.BooleanField(source="is_joint", read_only=True)

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
        appointment = self.Meta.model.objects.create(**validated_data)
        appointment.set_shares({s["body"].pk: s["fte_percent"] for s in shares})
        return appointment

    def update(self, instance, validated_data):
        shares = validated_data.pop("shares", None)
        appointment = super().update(instance, validated_data)
        if shares is not None:
            appointment.set_shares({s["body"].pk: s["fte_percent"] for s in shares})
        return appointment
