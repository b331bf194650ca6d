"""What every resource of the REST API shares: natural keys, validation by the models' own
rules, permissions from nhs_joint.permissions, ETags with If-Match, and documented errors."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, permissions as drf_permissions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from . import permissions
from .concurrency import version_of


class NaturalKeyField(serializers.SlugRelatedField):
    """A related record referred to by its natural key, with a message that names the key."""

    def __init__(self, *args, key_name=None, **kwargs):
        self.key_name = key_name or kwargs.get("slug_field")
        super().__init__(*args, **kwargs)
        self.error_messages["does_not_exist"] = f"No record has the {self.key_name} “{{value}}”."
        self.error_messages["invalid"] = f"Give the {self.key_name} as text."

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def to_drf_errors(error):
    """A Django ValidationError as the API's per-field messages."""
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [m for e in errors for m in e.messages]
            for field, errors in error.error_dict.items()
        }
    return {"non_field_errors": error.messages}


class ModelRulesSerializer(serializers.ModelSerializer):
    """Runs the model's own validation (clean(), constraints) before anything is written.

    ``many_to_many`` names the fields set after saving; ``prepare(instance, attrs)``
    hands a model what it needs to check them (as the portal's forms do).
    """

    many_to_many: tuple = ()

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model = self.Meta.model
        if self.instance is not None:
            instance = model.objects.get(pk=self.instance.pk)
        else:
            instance = model()
        for name, value in attrs.items():
            if name not in self.many_to_many and not isinstance(self.fields.get(name), serializers.ListSerializer):
                setattr(instance, name, value)
        self.prepare(instance, attrs)
        exclude = set(self.many_to_many) | {f for f in self.nested_fields()}
        try:
            instance.full_clean(exclude=exclude or None, validate_unique=True)
        except DjangoValidationError as error:
            raise serializers.ValidationError(to_drf_errors(error))
        return attrs

    def nested_fields(self):
        return [name for name, field in self.fields.items() if isinstance(field, serializers.ListSerializer)]

    def prepare(self, instance, attrs):
        """Give the unsaved ``instance`` what its clean() needs from many-to-many ``attrs``."""


class PortalPermission(drf_permissions.BasePermission):
    """Reading needs a signed-in user; writing follows the portal's rules, with their reasons."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in drf_permissions.SAFE_METHODS:
            return True
        create_permission = getattr(view, "create_permission", None)
        if request.method == "POST" and create_permission is not None:
            decision = create_permission(request.user)
            if not decision:
                raise exceptions.PermissionDenied(decision.reason)
        return True

    def has_object_permission(self, request, view, obj):
        if request.method in drf_permissions.SAFE_METHODS:
            return True
        decision = view.change_permission(request.user, obj)
        if not decision:
            raise exceptions.PermissionDenied(decision.reason)
        return True


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "This record was changed since you read it: read it again and reapply your change."
    default_code = "precondition_failed"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This record cannot be deleted while other records depend on it."
    default_code = "conflict"


def etag_of(obj):
    return f'"{version_of(obj)}"'


class PortalViewSet(viewsets.ModelViewSet):
    """A resource: filters from the app's filterset, ETags on single records, all writes atomic."""

    permission_classes = [PortalPermission]
    filter_backends = [DjangoFilterBackend]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    create_permission = staticmethod(permissions.can_edit_records)
    change_permission = staticmethod(permissions.can_edit)

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        response = Response(self.get_serializer(instance).data)
        response["ETag"] = etag_of(instance)
        return response

    def create(self, request, *args, **kwargs):
        with transaction.atomic():
            response = super().create(request, *args, **kwargs)
        return response

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        with transaction.atomic():
            instance = self.get_object()
            # Lock the row, then compare: two writers cannot both pass the check.
            # (No ordering and no joins: FOR UPDATE cannot lock the nullable side of an outer join.)
            list(type(instance).objects.select_for_update().filter(pk=instance.pk).order_by().values_list("pk"))
            expected = request.headers.get("If-Match")
            if expected and expected.strip() != "*":
                current = etag_of(instance)
                if current not in {tag.strip().removeprefix("W/") for tag in expected.split(",")}:
                    raise PreconditionFailed()
            serializer = self.get_serializer(instance, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            self.perform_update(serializer)
            instance = serializer.instance
        instance = self.get_queryset().get(pk=instance.pk)
        response = Response(self.get_serializer(instance).data)
        response["ETag"] = etag_of(instance)
        return response

    def destroy(self, request, *args, **kwargs):
        instance = self.get_object()
        try:
            with transaction.atomic():
                instance.delete()
        except ProtectedError as error:
            names = sorted({str(o) for o in error.protected_objects})[:10]
            raise Conflict(f"This record cannot be deleted while these depend on it: {'; '.join(names)}.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReadOnlyPortalViewSet(viewsets.ReadOnlyModelViewSet):
    """Reference data (bodies, regions, local systems, organisations): loaded from ODS files, read here."""

    permission_classes = [PortalPermission]
    filter_backends = [DjangoFilterBackend]

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        response = Response(self.get_serializer(instance).data)
        response["ETag"] = etag_of(instance)
        return response


def exception_handler(exc, context):
    """Errors the database raises despite validation become 400 or 409 answers, never a 500."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(to_drf_errors(exc))
    elif isinstance(exc, ProtectedError):
        exc = Conflict()
    elif isinstance(exc, IntegrityError):
        exc = exceptions.ValidationError({"non_field_errors": ["This would break a rule of the data: " + str(exc).splitlines()[0]]})
    return drf_exception_handler(exc, context)
