"""What the expectations add to the API derived from their page resources (asks/views.py).

Each class here is a rule or an action that only its kind of record has; everything else (fields, natural
keys, filters, permissions, archiving, history) comes from the resource's declaration through nhs_joint.api.
"""

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework import permissions as drf_permissions
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from nhs_joint import permissions
from nhs_joint.api import ModelRulesSerializer, TextField, refuse_unless
from nhs_joint.pagination import Pagination

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


class ConsultSerializer(serializers.Serializer):
    """The closing date of the consultation to open."""

    closes = serializers.DateField(
        help_text="The last day the organisations it applies to can respond (YYYY-MM-DD): after today, within a year."
    )


class ExpectationSteps:
    """The consultation's steps, as on its pages (asks/services.py):

    - ``POST expectations/<id>/consult/`` (``{"closes": "YYYY-MM-DD"}``): the issuing body's staff open the
      consultation on a draft; the partners of every organisation and system it applies to are told at once;
    - ``POST expectations/<id>/agree/``: the person's own bodies agree the expectation: never the other body,
      and only after a closed consultation or with the reason why none was needed. It is agreed once every
      body of its programme has agreed;
    - ``POST expectations/<id>/withdraw/``: the issuing body's staff withdraw it.
    """

    def _step_response(self, expectation):
        instance = self.get_queryset().get(pk=expectation.pk)
        data = self.get_serializer(instance).data
        response = Response(data)
        response["ETag"] = self.etag_for(instance, data)
        return response

    def _take(self, step, *args, **kwargs):
        try:
            with transaction.atomic():
                return step(*args, **kwargs)
        except asks.Refused as refusal:
            raise serializers.ValidationError({refusal.field or "non_field_errors": [str(refusal)]}) from None

    @extend_schema(
        request=ConsultSerializer,
        summary="Open the consultation",
        description="Opens the consultation on a draft until the closing date (the issuing body's staff only). "
        "The partners of every organisation and local health system it applies to are told at once, in the "
        "portal and by email, and reminded 7 days before it closes if they have not answered.",
    )
    @action(detail=True, methods=["post"], permission_classes=[drf_permissions.IsAuthenticated])
    def consult(self, request, pk=None):
        expectation = self.get_object()
        refuse_unless(permissions.can_decide_for(request.user, expectation))
        given = ConsultSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        self._take(asks.open_consultation, expectation, given.validated_data["closes"])
        return self._step_response(expectation)

    @extend_schema(
        request=None,
        summary="Withdraw the expectation",
        description="Withdraws the expectation, whatever its stage (the issuing body's staff only).",
    )
    @action(detail=True, methods=["post"], permission_classes=[drf_permissions.IsAuthenticated])
    def withdraw(self, request, pk=None):
        expectation = self.get_object()
        refuse_unless(permissions.can_decide_for(request.user, expectation))
        self._take(asks.withdraw, expectation)
        return self._step_response(expectation)

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
        self._take(asks.agree, expectation, request.user, **given.validated_data)
        return self._step_response(expectation)


# The consultations: a partner's own, staff's all; a partner responds for their organisation or system. ------


class ResponseSerializer(serializers.Serializer):
    """A response to a consultation, as given (the partner's own organisation's, or every one for staff)."""

    id = serializers.IntegerField(read_only=True)
    organisation = serializers.CharField(source="organisation.ods_code", allow_null=True, default=None, read_only=True)
    local_system = serializers.CharField(source="local_system.ods_code", allow_null=True, default=None, read_only=True)
    answer = serializers.ChoiceField(
        source="position", choices=["agree", "concerns"], help_text="agree, or concerns (then a comment is needed)."
    )
    comment = TextField(required=False, allow_blank=True, max_length=asks.MAX_TEXT, help_text="Needed with concerns.")
    responded_at = serializers.DateTimeField(read_only=True)
    reply = serializers.CharField(source="answer", read_only=True, help_text="The programme's answer to a concern.")


class ConsultationSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The expectation's id.")
    programme = serializers.CharField(source="programme.slug")
    measure = serializers.CharField(source="measure.code")
    audience = serializers.CharField()
    region = serializers.CharField(source="region.ods_code", allow_null=True, default=None)
    comparator = serializers.CharField()
    target = serializers.DecimalField(max_digits=10, decimal_places=2)
    stage = serializers.CharField()
    closes = serializers.DateField(source="consultation_closes", allow_null=True)
    wording = serializers.CharField()
    responses = ResponseSerializer(many=True, source="seen_responses")


def _with_responses(user, expectations):
    for expectation in expectations:
        expectation.seen_responses = [
            r for r in expectation.prefetched_responses if not user.is_partner or _is_theirs(user, r)
        ]
    return expectations


def _is_theirs(user, response):
    target = user.partner_of
    if target is None:
        return False
    if response.local_system_id:
        return target._meta.model_name == "localhealthsystem" and target.pk == response.local_system_id
    return target._meta.model_name == "organisation" and target.pk == response.organisation_id


class ConsultationListView(APIView):
    """The consultations: for a partner, those on (or agreed for) their own organisation or local health system,
    with their own responses; for staff, every open consultation with every response. Paginated as every API
    list (``page``, ``page_size``): ``{"count", "count_exact", "next", "previous", "results"}``."""

    pagination_class = Pagination

    @extend_schema(responses={200: ConsultationSerializer(many=True)})
    def get(self, request):
        from django.db.models import Prefetch

        from .models import ExpectationResponse

        rows = asks.consultations_for(request.user).prefetch_related(
            Prefetch(
                "responses",
                ExpectationResponse.objects.select_related("organisation", "local_system"),
                to_attr="prefetched_responses",
            )
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(
            ConsultationSerializer(_with_responses(request.user, list(page)), many=True).data
        )


class ConsultationResponsesView(APIView):
    """A partner's response, for their own organisation or local health system, to a consultation on it."""

    @extend_schema(request=ResponseSerializer, responses={201: ResponseSerializer})
    def post(self, request, key):
        from django.http import Http404

        from .models import Expectation

        if not request.user.is_partner:
            raise exceptions.PermissionDenied("Only partners of the organisations consulted respond to a consultation.")
        if request.user.partner_of is None:
            raise exceptions.PermissionDenied(
                "Your account is not linked to an organisation yet: ask an Administrator."
            )
        expectation = Expectation.objects.select_related("programme", "measure", "region", "issued_by").filter(pk=key)
        expectation = expectation.first()
        if expectation is None or not asks.partner_may_see(request.user, expectation):
            raise Http404("No consultation found.")
        given = ResponseSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        try:
            with transaction.atomic():
                response = asks.respond(expectation, request.user, data["position"], data.get("comment", ""))
        except asks.Refused as refusal:
            field = {"position": "answer"}.get(refusal.field, refusal.field)
            raise serializers.ValidationError({field or "non_field_errors": [str(refusal)]}) from None
        return Response(ResponseSerializer(response).data, status=201)
