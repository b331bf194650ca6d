"""The OpenAPI schema of the REST API: every operation documents the errors it can answer with."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers
from rest_framework.parsers import JSONParser

from . import archive

# Operations that answer one record with its ETag (nhs_joint.api.SingleRecordETagMixin, PortalViewSet.update;
# PortalViewSet.create too, with its 201).
ETAG_ACTIONS = {"retrieve", "update", "partial_update"}


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ValidationErrorSerializer(serializers.Serializer):
    """Messages per field: {"field": ["message", ...], "non_field_errors": [...]}."""

    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


class PortalAutoSchema(AutoSchema):
    """Documents every error an operation can answer with, and the ETag / If-Match headers."""

    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        action = getattr(self.view, "action", None)
        if action in ETAG_ACTIONS or (action == "create" and getattr(self.view, "create_response_etag", False)):
            parameters.append(
                OpenApiParameter(
                    "ETag",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    response=[201 if action == "create" else 200],
                    required=True,
                    description="The version of the record: send it back in If-Match when you change it.",
                )
            )
        model = getattr(getattr(self.view, "queryset", None), "model", None)
        if archive.is_archivable(model) and action == "list":
            parameters.append(
                OpenApiParameter(
                    "archived",
                    OpenApiTypes.BOOL,
                    OpenApiParameter.QUERY,
                    required=False,
                    description="true: only archived records; false or left out: only live ones.",
                )
            )
        if archive.is_archivable(model) and action == "destroy":
            parameters.append(
                OpenApiParameter(
                    "permanently",
                    OpenApiTypes.BOOL,
                    OpenApiParameter.QUERY,
                    required=False,
                    description="Left out, a DELETE archives the record (restore it with POST …/restore/). "
                    "true: delete it for good: Administrators only, and only a record nothing depends on.",
                )
            )
        if action in ("update", "partial_update"):
            parameters.append(
                OpenApiParameter(
                    "If-Match",
                    OpenApiTypes.STR,
                    OpenApiParameter.HEADER,
                    required=False,
                    description="The ETag you read: the change is made only if the record is still at that version "
                    "(else 412).",
                )
            )
        return parameters

    def _get_filter_parameters(self):
        """A filter is left out or given a value (nhs_joint.api.PortalFilterBackend): text is never empty."""
        parameters = super()._get_filter_parameters()
        for parameter in parameters:
            schema = parameter.get("schema", {})
            if schema.get("type") == "array":
                schema = schema.get("items", {})
            if schema.get("type") == "string" and "enum" not in schema and "format" not in schema:
                schema.setdefault("minLength", 1)
        return parameters

    def _takes_json_only(self):
        parsers = getattr(self.view, "parser_classes", [])
        return bool(parsers) and all(issubclass(parser, JSONParser) for parser in parsers)

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        method = self.method.upper()
        extra = {
            "401": OpenApiResponse(ErrorSerializer, description="Not signed in: send a session cookie or a token."),
            "403": OpenApiResponse(ErrorSerializer, description="Your role, body or region does not allow this."),
            "400": OpenApiResponse(ValidationErrorSerializer, description="Bad input: a message for each field."),
        }
        if not getattr(self.view, "authentication_classes", True):
            # An operation open to everyone (the token endpoint) neither asks for a sign-in nor refuses one.
            del extra["401"], extra["403"]
        if "{" in self.path:
            extra["404"] = OpenApiResponse(ErrorSerializer, description="No such record.")
        elif self._is_list_view():
            extra["404"] = OpenApiResponse(ErrorSerializer, description="No such page of results.")
        if method in ("PUT", "PATCH"):
            extra["412"] = OpenApiResponse(
                ErrorSerializer, description="If-Match names a version that is no longer current."
            )
            extra["409"] = OpenApiResponse(ErrorSerializer, description="The record is archived: restore it first.")
        if method == "DELETE" and getattr(self.view, "writable_resource", False):
            extra["409"] = OpenApiResponse(ErrorSerializer, description="Other records depend on this one.")
        if method in ("POST", "PUT", "PATCH", "DELETE") and getattr(self.view, "throttle_classes", None):
            extra["429"] = OpenApiResponse(
                ErrorSerializer,
                description="Too many changes in a short time (API_WRITE_RATE): try again after Retry-After seconds.",
            )
        if method in ("POST", "PUT", "PATCH") and self._takes_json_only():
            extra["415"] = OpenApiResponse(
                ErrorSerializer, description="The body is not JSON (Content-Type: application/json)."
            )
        for code, response in extra.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code)
        return responses
