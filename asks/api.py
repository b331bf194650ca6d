"""What the expectations add to the API derived from their page resources (asks/views.py).

Each class here is a rule or an action that only its kind of record has; everything else (fields, natural
keys, filters, permissions, archiving, history) comes from the resource's declaration through nhs_joint.api.
"""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import permissions as drf_permissions
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from nhs_joint import permissions
from nhs_joint.api import ModelRulesSerializer, TextField, refuse_unless

from . import services as asks


class ExpectationRules(ModelRulesSerializer):
    """An expectation is issued by a body that runs its programme."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        programme = attrs.get("programme", getattr(self.instance, "programme", None))
        issued_by = attrs.get("issued_by", getattr(self.instance, "issued_by", None))
        if programme and issued_by and not programme.bodies.filter(pk=issued_by.pk).exists():
            raise serializers.ValidationError({"issued_by": f"{issued_by.code} does not run {programme}."})
        return attrs


class AgreeSerializer(serializers.Serializer):
    """Your bodies' agreement to an expectation: after its consultation, or with why none was needed."""

    summary = TextField(
        required=False,
        allow_blank=True,
        max_length=asks.MAX_TEXT,
        help_text="What the organisations said in the consultation, and what changed because of it "
        "(needed when there were responses).",
    )
    no_consultation_reason = TextField(
        required=False,
        allow_blank=True,
        max_length=asks.MAX_TEXT,
        help_text="Why no consultation was needed: required to agree a draft that never went out to consultation.",
    )


class ExpectationSteps:
    """``POST expectations/<id>/agree/``: the person's own bodies agree the expectation, as on its consultation
    page (asks/services.py): never the other body, and only after a closed consultation or with the reason
    why none was needed. It is agreed once every body of its programme has agreed."""

    @extend_schema(
        request=AgreeSerializer,
        summary="Record your bodies' agreement",
        description="Records the agreement of the bodies you work for among those that run the programme. "
        "The expectation's stage becomes agreed once each of them has agreed; agreed_by lists those that have.",
    )
    @action(detail=True, methods=["post"], permission_classes=[drf_permissions.IsAuthenticated])
    def agree(self, request, pk=None):
        expectation = self.get_object()
        refuse_unless(permissions.can_edit_by_bodies(request.user, expectation))
        given = AgreeSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                asks.agree(expectation, request.user, **given.validated_data)
        except asks.Refused as refusal:
            raise serializers.ValidationError({refusal.field or "non_field_errors": [str(refusal)]}) from None
        instance = self.get_queryset().get(pk=expectation.pk)
        data = self.get_serializer(instance).data
        response = Response(data)
        response["ETag"] = self.etag_for(instance, data)
        return response
