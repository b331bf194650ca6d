"""The API token endpoint: a username and password in JSON, a token back. The one API operation that
needs no sign-in, so a client can get the token it signs in with."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from nhs_joint.api import TextField
from nhs_joint.api_schema import ErrorSerializer, ValidationErrorSerializer


class AuthTokenSerializer(serializers.Serializer):
    """In: a username and password (JSON text). Out: the token."""

    username = TextField(write_only=True)
    password = TextField(write_only=True, trim_whitespace=False, style={"input_type": "password"})
    token = serializers.CharField(read_only=True, help_text="Send it as `Authorization: Token <token>`.")

    def validate(self, attrs):
        user = authenticate(request=self.context.get("request"), username=attrs["username"], password=attrs["password"])
        if user is None:
            raise serializers.ValidationError("Unable to log in with provided credentials.", code="authorization")
        attrs["user"] = user
        return attrs


class TokenView(APIView):
    """A token for a username and password.

    No session and no token are read here: a stale token or session cookie sent along cannot turn the
    request into a 401 or a CSRF refusal.
    """

    authentication_classes = []
    permission_classes = []
    throttle_classes = []
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    @extend_schema(
        auth=[],
        request=AuthTokenSerializer,
        responses={
            200: AuthTokenSerializer,
            400: OpenApiResponse(ValidationErrorSerializer, description="A field is missing, or the username and "
                                 "password do not match an active account."),
            415: OpenApiResponse(ErrorSerializer, description="The body is not JSON (Content-Type: application/json)."),
        },
    )
    def post(self, request, *args, **kwargs):
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response(AuthTokenSerializer({"token": token.key}).data)
