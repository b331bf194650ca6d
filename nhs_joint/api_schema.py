"""The OpenAPI schema of the REST API: every operation documents the errors it can answer with."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ValidationErrorSerializer(serializers.Serializer):
    """Messages per field: {"field": ["message", ...], "non_field_errors": [...]}."""

    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


class PortalAutoSchema(AutoSchema):
    """Documents every error an operation can answer with."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        method = self.method.upper()
        extra = {
            "401": OpenApiResponse(ErrorSerializer, description="Not signed in: send a session cookie or a token."),
            "403": OpenApiResponse(ErrorSerializer, description="Your role, body or region does not allow this."),
            "400": OpenApiResponse(ValidationErrorSerializer, description="Bad input: a message for each field."),
        }
        if "{" in self.path:
            extra["404"] = OpenApiResponse(ErrorSerializer, description="No such record.")
        elif self._is_list_view():
            extra["404"] = OpenApiResponse(ErrorSerializer, description="No such page of results.")
        if method in ("PUT", "PATCH"):
            extra["412"] = OpenApiResponse(ErrorSerializer, description="If-Match names a version that is no longer current.")
        if method == "DELETE":
            extra["409"] = OpenApiResponse(ErrorSerializer, description="Other records depend on this one.")
        for code, response in extra.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code)
        return responses
