"""The API of comments, board papers and saved views (registered in apps.py under /api/v1/)."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from nhs_joint.api import ChoiceField, IntegerField, TextField, check_if_match, etag_of, to_drf_errors
from nhs_joint.api_schema import ErrorSerializer, PortalAutoSchema
from nhs_joint.parsers import BoundedJSONParser

from . import services, uploads
from .models import COMMENT_MAX_CHARS, Attachment, Comment, SavedView


def refuse(error):
    """A service's refusal as the API's answer: 400 naming the field, 403 with the reason, or 404."""
    if isinstance(error, DjangoValidationError):
        return exceptions.ValidationError(to_drf_errors(error))
    if isinstance(error, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(error) or None)
    return exceptions.NotFound(str(error) or None)


SERVICE_ERRORS = (DjangoValidationError, DjangoPermissionDenied, Http404)


class RecordQuery(serializers.Serializer):
    record_type = serializers.CharField(required=False)
    record_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)

    def validate(self, attrs):
        if ("record_type" in attrs) != ("record_id" in attrs):
            raise serializers.ValidationError({"record_id": ["Give record_type and record_id together."]})
        return attrs


def record_parameters(types_help):
    return [
        OpenApiParameter(
            "record_type", OpenApiTypes.STR, enum=types_help, description="With record_id: only those on one record."
        ),
        OpenApiParameter("record_id", OpenApiTypes.INT, description="The record's id (with record_type)."),
    ]


def filter_by_record(request, queryset, allowed):
    for name in ("record_type", "record_id"):
        if len(request.query_params.getlist(name)) > 1:
            raise exceptions.ValidationError({name: [f"Give {name} once."]})
    query = RecordQuery(data=request.query_params)
    query.is_valid(raise_exception=True)
    if "record_type" not in query.validated_data:
        return queryset
    try:
        record, _ = services.find_record(
            query.validated_data["record_type"], query.validated_data["record_id"], request.user, allowed
        )
    except SERVICE_ERRORS as error:
        raise refuse(error) from None
    record_type, record_id = services.record_key(record)
    return queryset.filter(record_type=record_type, record_id=record_id)


@extend_schema_field(OpenApiTypes.STR)
class RecordTypeField(serializers.Field):
    def to_representation(self, item):
        resource = services.registry.resource_for(item.record_type.model)
        return resource.name if resource else item.record_type.model


def response_with_etag(view, instance, status_code=status.HTTP_200_OK):
    data = view.get_serializer(instance).data
    response = Response(data, status=status_code)
    response["ETag"] = etag_of(instance, data)
    return response


class CollaborationSchema(PortalAutoSchema):
    """The portal's documented errors, and 415 for the operations that take a file (multipart only)."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if self.method.upper() in ("POST", "PUT", "PATCH") and "415" not in responses:
            responses["415"] = self._get_response_for_code(
                OpenApiResponse(ErrorSerializer, description="The body is not of the type this operation takes."),
                "415",
            )
        return responses


# Comments --------------------------------------------------------------------------------------------------


class CommentSerializer(serializers.ModelSerializer):
    record_type = RecordTypeField(source="*", read_only=True)
    text = serializers.SerializerMethodField(help_text="The text; null when an administrator hid the comment.")
    author = serializers.SerializerMethodField()
    hidden = serializers.BooleanField(source="is_hidden", read_only=True)
    hidden_reason = serializers.SerializerMethodField(help_text="Why it was hidden; null when it is not.")
    editable_until = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = [
            "id",
            "record_type",
            "record_id",
            "text",
            "author",
            "created_at",
            "edited_at",
            "hidden",
            "hidden_reason",
            "editable_until",
        ]
        read_only_fields = fields

    def get_text(self, comment) -> str | None:
        return None if comment.is_hidden else comment.text

    def get_author(self, comment) -> str:
        return services.display_name(comment.author)

    def get_hidden_reason(self, comment) -> str | None:
        return comment.hidden_reason if comment.is_hidden else None

    def get_editable_until(self, comment) -> str:
        return services.editable_until(comment).isoformat()


class CommentCreateSerializer(serializers.Serializer):
    record_type = ChoiceField(choices=[])
    record_id = IntegerField(min_value=1, max_value=2**63 - 1)
    text = TextField(max_length=COMMENT_MAX_CHARS, trim_whitespace=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["record_type"].choices = services.commentable_types()


class CommentEditSerializer(serializers.Serializer):
    text = TextField(max_length=COMMENT_MAX_CHARS, trim_whitespace=True)


class HideSerializer(serializers.Serializer):
    reason = TextField(max_length=500, trim_whitespace=True)


@extend_schema_view(
    list=extend_schema(
        summary="Comments, oldest first",
        parameters=record_parameters(["programme", "workstream", "expectation", "appointment", "finding"]),
    ),
    retrieve=extend_schema(summary="A comment"),
    create=extend_schema(
        summary="Comment on a record", request=CommentCreateSerializer, responses={201: CommentSerializer}
    ),
    update=extend_schema(
        summary="Edit your comment (within 15 minutes of posting it)",
        request=CommentEditSerializer,
        responses=CommentSerializer,
    ),
    partial_update=extend_schema(
        summary="Edit your comment (within 15 minutes of posting it)",
        request=CommentEditSerializer,
        responses=CommentSerializer,
    ),
)
class CommentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Comments on programmes, workstreams, expectations, appointments and findings. Never deleted: an
    Administrator hides one with a reason, shown in its place."""

    create_response_etag = True  # a 201 carries the new record's ETag (response_with_etag())
    queryset = Comment.objects.select_related("author", "record_type")
    serializer_class = CommentSerializer
    permission_classes = [IsAuthenticated]
    parser_classes = [BoundedJSONParser]
    schema = CollaborationSchema()
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            queryset = filter_by_record(self.request, queryset, services.commentable_types())
        return queryset

    def get_object(self):
        comment = super().get_object()
        try:
            services.record_of(comment, self.request.user)
        except SERVICE_ERRORS as error:
            raise refuse(error) from None
        return comment

    def retrieve(self, request, *args, **kwargs):
        return response_with_etag(self, self.get_object())

    def create(self, request, *args, **kwargs):
        incoming = CommentCreateSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            record, _ = services.find_record(
                data["record_type"], data["record_id"], request.user, services.commentable_types()
            )
            comment = services.post_comment(record, request.user, data["text"])
        except SERVICE_ERRORS as error:
            raise refuse(error) from None
        return response_with_etag(self, self.get_queryset().get(pk=comment.pk), status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        comment = self.get_object()
        incoming = CommentEditSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        check_if_match(request, lambda: etag_of(comment, self.get_serializer(comment).data))
        try:
            services.can_edit_comment(request.user, comment).enforce()
            comment = services.edit_comment(comment, request.user, incoming.validated_data["text"])
        except SERVICE_ERRORS as error:
            raise refuse(error) from None
        return response_with_etag(self, self.get_queryset().get(pk=comment.pk))

    @extend_schema(
        summary="Hide a comment (Administrators), with a reason", request=HideSerializer, responses=CommentSerializer
    )
    @action(detail=True, methods=["post"])
    def hide(self, request, *args, **kwargs):
        comment = self.get_object()
        incoming = HideSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            services.can_hide_comment(request.user, comment).enforce()
            comment = services.hide_comment(comment, request.user, incoming.validated_data["reason"])
        except SERVICE_ERRORS as error:
            raise refuse(error) from None
        data = self.get_serializer(self.get_queryset().get(pk=comment.pk)).data
        return Response(data)


# Board papers ----------------------------------------------------------------------------------------------


class FirstRenderer(BaseContentNegotiation):
    """Downloads are the file whatever the client accepts; everything else JSON."""

    def select_parser(self, request, parsers):
        for parser in parsers:
            if request.content_type and request.content_type.split(";")[0].strip() == parser.media_type:
                return parser
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(source="history_id")
    file_name = serializers.CharField()
    size = serializers.IntegerField()
    uploaded_at = serializers.DateTimeField()


class AttachmentSerializer(serializers.ModelSerializer):
    record_type = RecordTypeField(source="*", read_only=True)
    uploaded_by = serializers.SerializerMethodField()
    earlier_versions = serializers.SerializerMethodField(
        help_text="Earlier files of this paper, newest first: GET …/versions/{version}/ downloads one."
    )
    archived = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "record_type",
            "record_id",
            "title",
            "file_name",
            "media_type",
            "size",
            "uploaded_by",
            "uploaded_at",
            "archived",
            "earlier_versions",
        ]
        read_only_fields = fields

    def get_uploaded_by(self, paper) -> str:
        return services.display_name(paper.uploaded_by)

    def get_archived(self, paper) -> bool:
        return paper.archived_at is not None

    @extend_schema_field(VersionSerializer(many=True))
    def get_earlier_versions(self, paper):
        versions = self.context.get("versions")
        rows = versions.get(paper.pk, []) if versions is not None else services.earlier_versions([paper])[paper.pk]
        return VersionSerializer(rows, many=True).data


class AttachmentUploadSerializer(serializers.Serializer):
    record_type = serializers.ChoiceField(choices=[])
    record_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    file = serializers.FileField(
        help_text="A PDF, Word, Excel or OpenDocument file (ATTACHMENT_MAX_MB, 20 MB by default)."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["record_type"].choices = services.attachable_types()


class ReplaceSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    file = serializers.FileField()


# One binary body in the schema (API clients read any file the same way); the answer's Content-Type is the
# file's own, one of services.KINDS.
FILE_RESPONSES = {
    (200, "application/octet-stream"): OpenApiResponse(
        OpenApiTypes.BINARY,
        description="The file, as an attachment, with its own type: "
        + ", ".join(kind.media_type for kind in services.KINDS)
        + ".",
    )
}


@extend_schema_view(
    list=extend_schema(
        summary="Board papers", parameters=record_parameters(["board-approval", "programme", "appointment"])
    ),
    retrieve=extend_schema(summary="A board paper"),
    create=extend_schema(
        summary="Attach a paper to a record",
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer},
    ),
    destroy=extend_schema(summary="Archive a paper (its files and history are kept)"),
)
class AttachmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Board papers attached to Board approvals, programmes and appointments: files checked by their content,
    served only to people signed in."""

    create_response_etag = True  # a 201 carries the new record's ETag (response_with_etag())
    queryset = Attachment.objects.filter(archived_at__isnull=True).select_related("uploaded_by", "record_type")
    serializer_class = AttachmentSerializer
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]
    content_negotiation_class = FirstRenderer
    schema = CollaborationSchema()
    http_method_names = ["get", "post", "delete", "head", "options"]

    def initialize_request(self, request, *args, **kwargs):
        if request.method == "POST":
            uploads.bound_uploads(request)
        return super().initialize_request(request, *args, **kwargs)

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            queryset = filter_by_record(self.request, queryset, services.attachable_types())
        return queryset

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "versions": getattr(self, "_versions", None)}

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        if page is not None:
            self._versions = services.earlier_versions(page)
        return page

    def get_object(self):
        paper = super().get_object()
        try:
            record, resource = services.record_of(paper, self.request.user)
        except SERVICE_ERRORS as error:
            raise refuse(error) from None
        if record is None:
            raise exceptions.NotFound("The record of this paper no longer exists.")
        self.record, self.resource = record, resource
        return paper

    def check_change(self):
        try:
            services.can_attach(self.request.user, self.record, self.resource).enforce()
        except SERVICE_ERRORS as error:
            raise refuse(error) from None

    def retrieve(self, request, *args, **kwargs):
        return response_with_etag(self, self.get_object())

    def file_errors(self, request, incoming):
        unexpected = uploads.unexpected_message(request)
        if unexpected:
            raise exceptions.ValidationError({"file": [unexpected]})
        if uploads.refused(request):
            raise exceptions.ValidationError({"file": [services.too_large_message()]})
        incoming.is_valid(raise_exception=True)

    def create(self, request, *args, **kwargs):
        incoming = AttachmentUploadSerializer(data=request.data)
        self.file_errors(request, incoming)
        data = incoming.validated_data
        try:
            record, resource = services.find_record(
                data["record_type"], data["record_id"], request.user, services.attachable_types()
            )
            services.can_attach(request.user, record, resource).enforce()
            paper = services.attach(record, request.user, data["file"], data.get("title", ""))
        except SERVICE_ERRORS as error:
            raise refuse(error) from None
        return response_with_etag(self, self.get_queryset().get(pk=paper.pk), status.HTTP_201_CREATED)

    @extend_schema(
        summary="Upload a new version of a paper (the earlier one stays downloadable)",
        request={"multipart/form-data": ReplaceSerializer},
        responses=AttachmentSerializer,
    )
    @action(detail=True, methods=["post"])
    def replace(self, request, *args, **kwargs):
        paper = self.get_object()
        self.check_change()
        incoming = ReplaceSerializer(data=request.data)
        self.file_errors(request, incoming)
        try:
            paper = services.replace(
                paper, request.user, incoming.validated_data["file"], incoming.validated_data.get("title", "")
            )
        except SERVICE_ERRORS as error:
            raise refuse(error) from None
        return Response(self.get_serializer(self.get_queryset().get(pk=paper.pk)).data)

    def destroy(self, request, *args, **kwargs):
        paper = self.get_object()
        self.check_change()
        services.archive_attachment(paper)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Download the paper's file", responses=FILE_RESPONSES)
    @action(detail=True, methods=["get"])
    def download(self, request, *args, **kwargs):
        from .views import file_response

        paper = self.get_object()
        return file_response(paper.stored_name, paper.file_name, paper.media_type)

    @extend_schema(
        summary="Download an earlier (or the current) version of the paper's file",
        parameters=[OpenApiParameter("version", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses=FILE_RESPONSES,
    )
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<version>[0-9]{1,18})")
    def versions(self, request, version, *args, **kwargs):
        from .views import file_response

        paper = self.get_object()
        try:
            row = services.version_of_attachment(paper, int(version))
        except Http404 as error:
            raise refuse(error) from None
        return file_response(row.stored_name, row.file_name, row.media_type)


# Saved views -----------------------------------------------------------------------------------------------


class SavedViewSerializer(serializers.ModelSerializer):
    list_name = ChoiceField(choices=[], help_text="The list's name, e.g. programme.")
    query = TextField(
        max_length=services.MAX_QUERY_CHARS, required=False, allow_blank=True, help_text="The list's query string."
    )
    name = TextField(max_length=100)
    url = serializers.SerializerMethodField(help_text="The list with these filters: share it as it is.")

    class Meta:
        model = SavedView
        fields = ["id", "name", "list_name", "query", "url", "created_at"]
        read_only_fields = ["id", "url", "created_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["list_name"].choices = sorted(services.list_resources())

    def get_url(self, saved) -> str:
        return services.saved_view_url(saved)


@extend_schema_view(
    list=extend_schema(summary="Your saved views"),
    retrieve=extend_schema(summary="One of your saved views"),
    create=extend_schema(summary="Save a list's filters under a name"),
    destroy=extend_schema(summary="Remove one of your saved views"),
)
class SavedViewViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Each person's saved lists: the list's name and its filters."""

    serializer_class = SavedViewSerializer
    permission_classes = [IsAuthenticated]
    parser_classes = [BoundedJSONParser]
    schema = CollaborationSchema()
    create_response_etag = True  # a 201 carries the new record's ETag (response_with_etag())
    queryset = SavedView.objects.all()

    def get_queryset(self):
        return SavedView.objects.filter(owner=self.request.user)

    def retrieve(self, request, *args, **kwargs):
        return response_with_etag(self, self.get_object())

    def create(self, request, *args, **kwargs):
        incoming = self.get_serializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        try:
            saved = services.save_view(request.user, data["name"], data["list_name"], data.get("query", ""))
        except SERVICE_ERRORS as error:
            raise refuse(error) from None
        return response_with_etag(self, saved, status.HTTP_201_CREATED)
