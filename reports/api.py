"""Report runs and findings in the REST API: request a run (202), follow its progress, read its findings."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from nhs_joint import permissions
from nhs_joint.api import (
    BoundedJSONParser,
    ChoiceField,
    PortalFilterBackend,
    PortalModelSerializer,
    PortalPermission,
    SingleRecordETagMixin,
    TextField,
)

from . import filters, services, workflow
from .models import Finding, FindingCase, FindingDecision, PairJudgement, ReportRun


class ReportsUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Reports cannot start now: try again in a few minutes."
    default_code = "reports_unavailable"


class ReportRunSerializer(PortalModelSerializer):
    requested_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Null for a scheduled run."
    )

    class Meta:
        model = ReportRun
        fields = [
            "id",
            "kind",
            "status",
            "progress",
            "counts",
            "error",
            "requested_by",
            "created",
            "started",
            "finished",
        ]
        read_only_fields = [f for f in fields if f != "kind"]


class RecordSerializer(serializers.Serializer):
    type = serializers.CharField()
    id = serializers.IntegerField()
    key = serializers.CharField(help_text="The record's natural key, or its id where it has none.")
    label = serializers.CharField()
    text = serializers.CharField(
        required=False,
        help_text="duplicate-work only: the wording that was compared (a workstream's description, a "
        "programme's summary and description).",
    )


class FindingSerializer(PortalModelSerializer):
    region = serializers.SlugRelatedField(
        slug_field="ods_code", read_only=True, allow_null=True, help_text="Null for all England."
    )
    records = RecordSerializer(many=True, read_only=True)
    score = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = Finding
        fields = [
            "id",
            "run",
            "rule",
            "severity",
            "message",
            "region",
            "score",
            "records",
            "shared_terms",
            "pairs",
            "fingerprint",
            "suppressed",
        ]
        read_only_fields = fields


class PairJudgementSerializer(PortalModelSerializer):
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    first = serializers.IntegerField(write_only=True, help_text="The id of one record of a pair the finding names.")
    second = serializers.IntegerField(write_only=True, help_text="The id of the other record.")
    probability = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = PairJudgement
        fields = [
            "id",
            "record_type",
            "first",
            "second",
            "first_id",
            "second_id",
            "verdict",
            "probability",
            "decided_by",
            "decided_at",
        ]
        read_only_fields = ["id", "record_type", "first_id", "second_id", "probability", "decided_by", "decided_at"]


class DecisionSerializer(PortalModelSerializer):
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = FindingDecision
        fields = ["id", "decision", "reason", "decided_by", "decided_at", "fingerprint"]
        read_only_fields = ["id", "decision", "decided_by", "decided_at", "fingerprint"]

    def validate_reason(self, value):
        if not value.strip():
            raise serializers.ValidationError("Give the reason why this is not a problem.")
        return value.strip()


class CaseSerializer(serializers.ModelSerializer):
    """What is being done about a finding's problem, from run to run."""

    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    assigned_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = FindingCase
        fields = ["fingerprint", "state", "assignee", "assigned_by", "due_date", "reason", "state_changed", "last_seen"]
        read_only_fields = fields


class AssignSerializer(serializers.Serializer):
    assignee = TextField(max_length=254, help_text="The person's username or email address.")
    due_date = serializers.DateField(required=False, allow_null=True)

    def validate_assignee(self, value):
        from django.contrib.auth import get_user_model
        from django.db.models import Q

        user = (
            get_user_model().objects.filter(Q(username__iexact=value) | Q(email__iexact=value), is_active=True).first()
        )
        if user is None:
            raise serializers.ValidationError("No active person has this username or email address.")
        return user


class StateSerializer(serializers.Serializer):
    state = ChoiceField(choices=[(s, FindingCase.State(s).label) for s in workflow.CHOSEN_STATES])
    reason = TextField(required=False, allow_blank=True, max_length=2000, help_text="Needed for not_a_problem.")


@extend_schema_view(
    create=extend_schema(
        responses={
            202: ReportRunSerializer,
            503: OpenApiResponse(
                description="Reports cannot start now (the service that runs them cannot be reached); "
                "nothing was queued. Try again after Retry-After seconds."
            ),
        }
    )
)
class ReportRunViewSet(SingleRecordETagMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Runs of the consistency and duplication reports. POST {"kind": ...} queues one and answers 202."""

    queryset = ReportRun.objects.select_related("requested_by")
    serializer_class = ReportRunSerializer
    filterset_class = filters.ReportRunFilterSet
    permission_classes = [PortalPermission]
    parser_classes = [BoundedJSONParser]
    filter_backends = [PortalFilterBackend]
    create_permission = staticmethod(permissions.can_run_reports)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            run = services.request_run(serializer.validated_data["kind"], request.user)
        except services.ReportsCannotStart as refusal:
            raise ReportsUnavailable(str(refusal)) from None
        return Response(self.get_serializer(run).data, status=status.HTTP_202_ACCEPTED)


class FindingViewSet(SingleRecordETagMixin, viewsets.ReadOnlyModelViewSet):
    """Findings of report runs: filter by run, rule, region (ODS code, or ENG) and severity."""

    queryset = Finding.objects.select_related("region")
    serializer_class = FindingSerializer
    filterset_class = filters.FindingFilterSet
    permission_classes = [PortalPermission]
    parser_classes = [BoundedJSONParser]
    filter_backends = [PortalFilterBackend]

    @staticmethod
    def change_permission(user, finding):
        return permissions.can_decide_findings(user, finding)

    @extend_schema(
        request=DecisionSerializer,
        responses={201: DecisionSerializer},
        summary="Decide that a finding is not a problem",
        description="Hides the finding in later runs until one of its records changes.",
    )
    @action(
        detail=True, methods=["post"], filterset_class=None, pagination_class=None, serializer_class=DecisionSerializer
    )
    def decision(self, request, pk=None):
        allowed = permissions.can_decide_findings(request.user)
        if not allowed:
            raise exceptions.PermissionDenied(allowed.reason)
        finding = self.get_object()
        allowed = permissions.can_decide_findings(request.user, finding)
        if not allowed:
            raise exceptions.PermissionDenied(allowed.reason)
        serializer = DecisionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decision = services.decide(finding, request.user, serializer.validated_data["reason"])
        return Response(DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)

    def _acting(self, request):
        allowed = permissions.can_decide_findings(request.user)
        if not allowed:
            raise exceptions.PermissionDenied(allowed.reason)
        finding = self.get_object()
        allowed = permissions.can_decide_findings(request.user, finding)
        if not allowed:
            raise exceptions.PermissionDenied(allowed.reason)
        return finding

    @extend_schema(responses={200: CaseSerializer}, summary="What is being done about a finding")
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None, serializer_class=CaseSerializer)
    def case(self, request, pk=None):
        return Response(CaseSerializer(workflow.case_for(self.get_object())).data)

    @extend_schema(
        methods=["get"],
        responses={200: PairJudgementSerializer(many=True)},
        summary="The latest judgement of each pair a duplicate-work finding names",
    )
    @extend_schema(
        methods=["post"],
        request=PairJudgementSerializer,
        responses={201: PairJudgementSerializer},
        summary="Judge one pair of a duplicate-work finding: same, not_same or not_sure",
        description="“not_same” keeps the pair out of later runs until one of the two texts changes; every "
        "judgement teaches the next run's scoring.",
    )
    @action(
        detail=True,
        methods=["get", "post"],
        filterset_class=None,
        pagination_class=None,
        serializer_class=PairJudgementSerializer,
    )
    def judgements(self, request, pk=None):
        if request.method == "GET":
            latest = services.latest_judgements(self.get_object())
            return Response(PairJudgementSerializer(list(latest.values()), many=True).data)
        finding = self._acting(request)
        serializer = PairJudgementSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            judgement = services.judge_pair(finding, request.user, data["first"], data["second"], data["verdict"])
        except services.JudgementRefused as refusal:
            raise serializers.ValidationError({refusal.field: [str(refusal)]}) from None
        return Response(PairJudgementSerializer(judgement).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=AssignSerializer,
        responses={200: CaseSerializer},
        summary="Give a finding to a person to act on",
        description="The person must be staff of a body that runs one of the records it names; they are told at once.",
    )
    @action(
        detail=True, methods=["post"], filterset_class=None, pagination_class=None, serializer_class=AssignSerializer
    )
    def assign(self, request, pk=None):
        finding = self._acting(request)
        serializer = AssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            case = workflow.assign(
                finding, serializer.validated_data["assignee"], serializer.validated_data.get("due_date"), request.user
            )
        except workflow.WorkflowError as refusal:
            raise serializers.ValidationError({refusal.field: [str(refusal)]}) from None
        return Response(CaseSerializer(case).data)

    @extend_schema(
        request=StateSerializer,
        responses={200: CaseSerializer},
        summary="Change a finding's progress",
        description="open, in_progress, resolved, or not_a_problem (with a reason).",
    )
    @action(
        detail=True, methods=["post"], filterset_class=None, pagination_class=None, serializer_class=StateSerializer
    )
    def state(self, request, pk=None):
        finding = self._acting(request)
        serializer = StateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            case = workflow.change_state(
                finding, serializer.validated_data["state"], request.user, serializer.validated_data.get("reason", "")
            )
        except workflow.WorkflowError as refusal:
            raise serializers.ValidationError({refusal.field: [str(refusal)]}) from None
        except ValueError as refusal:
            raise serializers.ValidationError({"reason": [str(refusal)]}) from None
        return Response(CaseSerializer(case).data)
