"""Notifications, watching and the email preference in the REST API; always the signed-in person's own."""

from django.contrib.contenttypes.models import ContentType
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from nhs_joint.api import BoundedJSONParser, ChoiceField, IntegerField, PreconditionFailed, TextField, etag_of

from . import services
from .models import Notification, Preference, Watch
from .views import record_for


class NotificationSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "text", "url", "actor", "created", "read", "is_read", "delivery", "sent", "attempts"]
        read_only_fields = fields

    def get_is_read(self, obj) -> bool:
        return obj.read is not None


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(read_only=True, help_text="How many notifications changed.")


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your notifications, newest first. ``?unread=true`` lists only those not yet read."""

    queryset = Notification.objects.none()  # each person's own: get_queryset
    serializer_class = NotificationSerializer
    parser_classes = [BoundedJSONParser]
    filter_backends = []

    def get_queryset(self):
        mine = Notification.objects.filter(user=self.request.user).select_related("actor").order_by("-created", "-pk")
        if self.action == "list" and self.request.query_params.get("unread") == "true":
            mine = mine.filter(read__isnull=True)
        return mine

    @extend_schema(
        parameters=[OpenApiParameter("unread", str, enum=["true", "false"], description="Only unread ones.")]
    )
    def list(self, request, *args, **kwargs):
        if request.query_params.get("unread", "true") not in ("true", "false"):
            raise exceptions.ValidationError({"unread": ["Give true or false."]})
        return super().list(request, *args, **kwargs)

    def _mark(self, read):
        notification = self.get_object()
        services.mark(self.request.user, [notification.pk], read=read)
        notification.refresh_from_db()
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses={200: NotificationSerializer}, summary="Mark a notification read")
    @action(detail=True, methods=["post"], pagination_class=None)
    def read(self, request, pk=None):
        return self._mark(True)

    @extend_schema(request=None, responses={200: NotificationSerializer}, summary="Mark a notification unread")
    @action(detail=True, methods=["post"], pagination_class=None)
    def unread(self, request, pk=None):
        return self._mark(False)

    @extend_schema(request=None, responses={200: MarkedSerializer}, summary="Mark all your notifications read")
    @action(detail=False, methods=["post"], url_path="read-all", pagination_class=None)
    def read_all(self, request):
        return Response({"marked": services.mark(request.user, None, read=True)})


class WatchSerializer(serializers.Serializer):
    type = TextField(
        max_length=100, help_text='The kind of record, as "app.model", for example "programmes.programme".'
    )
    id = IntegerField(min_value=1, max_value=2**63 - 1, help_text="The record's id.")
    automatic = serializers.BooleanField(read_only=True, help_text="Started by the portal (they edited it).")
    created = serializers.DateTimeField(read_only=True)

    def validate(self, attrs):
        record = record_for(attrs["type"], attrs["id"], self.context["request"].user)
        if record is None:
            raise serializers.ValidationError({"id": "No record of this type has this id."})
        attrs["record"] = record
        return attrs


class WatchViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """The records you watch. POST {type, id} to watch one; POST …/stop/ with the same to stop watching."""

    queryset = Watch.objects.none()  # each person's own: get_queryset
    serializer_class = WatchSerializer
    create_response_etag = True
    parser_classes = [BoundedJSONParser]
    filter_backends = []

    def get_queryset(self):
        return Watch.objects.filter(user=self.request.user, active=True).select_related("content_type").order_by("pk")

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        rows = [
            {
                "type": f"{w.content_type.app_label}.{w.content_type.model}",
                "id": w.object_id,
                "automatic": w.automatic,
                "created": w.created,
            }
            for w in page
        ]
        return self.get_paginated_response(WatchSerializer(rows, many=True).data)

    def create(self, request, *args, **kwargs):
        serializer = WatchSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        record = serializer.validated_data["record"]
        services.watch(request.user, record)
        row = self._row(request.user, record)
        # A tag of what was sent, as every created record's 201 carries (a watch has no history of its own).
        data = WatchSerializer(row).data
        return Response(row, status=status.HTTP_201_CREATED, headers={"ETag": etag_of(None, data)})

    @staticmethod
    def _row(user, record):
        ct = ContentType.objects.get_for_model(record)
        watch = Watch.objects.get(user=user, content_type=ct, object_id=record.pk)
        return WatchSerializer(
            {
                "type": f"{ct.app_label}.{ct.model}",
                "id": record.pk,
                "automatic": watch.automatic,
                "created": watch.created,
            }
        ).data

    @extend_schema(request=WatchSerializer, responses={204: None}, summary="Stop watching a record")
    @action(detail=False, methods=["post"], pagination_class=None)
    def stop(self, request):
        serializer = WatchSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        services.unwatch(request.user, serializer.validated_data["record"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class PreferenceSerializer(serializers.Serializer):
    email = ChoiceField(
        choices=Preference.Email.choices,
        help_text="immediate: findings given to you and mentions at once, the rest in a daily digest; "
        "daily: everything in a daily digest; none: no emails.",
    )


def _preference_etag(email):
    """The preference's tag: a digest of what GET answers, as the API tags what it sends (nhs_joint.api)."""
    return etag_of(None, {"email": email})


class PreferenceView(APIView):
    """Your notification email preference. A change sent with If-Match is made only if the preference is still
    the one you read (412 otherwise), like every other change in the API."""

    parser_classes = [BoundedJSONParser]

    def current(self, request):
        current = Preference.objects.filter(user=request.user).values_list("email", flat=True).first()
        return current or Preference.Email.IMMEDIATE

    @extend_schema(
        responses={200: PreferenceSerializer},
        parameters=[OpenApiParameter("ETag", str, OpenApiParameter.HEADER, response=[200], required=True)],
    )
    def get(self, request):
        email = self.current(request)
        return Response({"email": email}, headers={"ETag": _preference_etag(email)})

    @extend_schema(
        request=PreferenceSerializer,
        responses={200: PreferenceSerializer},
        parameters=[
            OpenApiParameter(
                "If-Match",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="The ETag you read: the change is made only if the preference is still that (else 412).",
            ),
            OpenApiParameter("ETag", str, OpenApiParameter.HEADER, response=[200], required=True),
        ],
    )
    def put(self, request):
        serializer = PreferenceSerializer(data=request.data)
        if not serializer.is_valid():
            raise exceptions.ValidationError(serializer.errors)
        expected = request.headers.get("If-Match")
        if expected and expected != _preference_etag(self.current(request)):
            raise PreconditionFailed()
        email = serializer.validated_data["email"]
        services.set_preference(request.user, email)
        return Response({"email": email}, headers={"ETag": _preference_etag(email)})
