"""The API token endpoint.

POST: a username and password in JSON, a new token back (with its expiry), named for the device that
asked. The one API operation that needs no sign-in, so a client can get the token it signs in with.
DELETE: revokes the token the request is signed with (a device signing out).
"""

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from nhs_joint.api import TextField
from nhs_joint.api_schema import ErrorSerializer, ValidationErrorSerializer

from .authentication import TokenRevocationAuthentication, refuse_if_password_change_due
from .models import ApiToken


class AuthTokenSerializer(serializers.Serializer):
    """In: a username and password (JSON text), and the device's name. Out: the token and when it ends."""

    username = TextField(write_only=True, max_length=150)
    password = TextField(write_only=True, trim_whitespace=False, max_length=4096, style={"input_type": "password"})
    name = TextField(
        required=False,
        max_length=100,
        help_text="The device or program the token is for, as you will see it in your list of tokens.",
    )
    token = serializers.CharField(
        read_only=True, help_text="Send it as `Authorization: Token <token>`. Shown only once."
    )
    expiry = serializers.DateTimeField(read_only=True, help_text="When the token stops working.")

    def validate(self, attrs):
        request = self.context["request"]
        # The Django request, where the lockout of failed sign-ins (django-axes) marks a refusal.
        user = authenticate(request=request._request, username=attrs["username"], password=attrs["password"])
        if user is None:
            raise serializers.ValidationError("Unable to log in with provided credentials.", code="authorization")
        refuse_if_password_change_due(user)
        attrs["user"] = user
        return attrs


class TokenView(APIView):
    """A token for a username and password; the token in use revoked.

    The POST reads no session and no token: a stale token or session cookie sent along cannot turn the
    request into a 401 or a CSRF refusal. The DELETE reads the token only.
    """

    authentication_classes = []
    permission_classes = []
    throttle_classes = []
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    def get_authenticators(self):
        if getattr(self, "_method", None) == "DELETE":
            return [TokenRevocationAuthentication()]
        return []

    def initialize_request(self, request, *args, **kwargs):
        self._method = request.method
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        auth=[],
        request=AuthTokenSerializer,
        responses={
            200: AuthTokenSerializer,
            400: OpenApiResponse(
                ValidationErrorSerializer,
                description="A field is missing, or the username and password do not match an active account.",
            ),
            403: OpenApiResponse(
                ErrorSerializer, description="The password is a one-time password: change it in the portal first."
            ),
            415: OpenApiResponse(ErrorSerializer, description="The body is not JSON (Content-Type: application/json)."),
            429: OpenApiResponse(
                ErrorSerializer,
                description="Too many failed sign-ins for this account or address: "
                "try again after the time given (also in Retry-After, in seconds).",
            ),
        },
    )
    def post(self, request, *args, **kwargs):
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        record, token = ApiToken.issue(
            serializer.validated_data["user"], name=serializer.validated_data.get("name", "")
        )
        return Response(AuthTokenSerializer({"token": token, "expiry": record.expires, "name": record.name}).data)

    @extend_schema(
        auth=[{"tokenAuth": []}],
        request=None,
        responses={
            204: OpenApiResponse(description="The token is revoked: it no longer signs anyone in."),
            401: OpenApiResponse(ErrorSerializer, description="No token was sent, or it is not valid."),
        },
    )
    def delete(self, request, *args, **kwargs):
        if not isinstance(request.auth, ApiToken):
            self.permission_denied(request)  # no token: 401
        request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
