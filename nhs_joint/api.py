"""What every resource of the REST API shares: natural keys, validation by the models' own
rules, permissions from nhs_joint.permissions, ETags with If-Match, and documented errors."""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django import forms
from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.fields import ArrayField
from django.core import validators
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, OuterRef, ProtectedError
from django.utils.text import capfirst
from django_filters import MultipleChoiceFilter
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework import permissions as drf_permissions
from rest_framework.decorators import action
from rest_framework.fields import SkipField
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.relations import MANY_RELATION_KWARGS, PKOnlyObject
from rest_framework.response import Response
from rest_framework.settings import ISO_8601, api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from . import archive, conditional, failures, permissions
from .concurrency import version_of
from .history import entry_as_json, has_history, history_entries, history_queryset
from .parsers import MAX_JSON_DEPTH, BoundedJSONParser, too_large
from .registry import registry
from .tables import related


class JSONTypeMixin:
    """Input of the JSON type the schema documents, and no other.

    Left alone, DRF turns 7 into "7", "95" into 95 and "yes" into true: a client's mistake would be
    written instead of being answered with a 400 naming the field.
    """

    json_types: tuple = ()
    default_error_messages = {"json_type": "Give {expected}."}
    expected = "a value of the documented type"

    def to_internal_value(self, data):
        if not isinstance(data, self.json_types) or (isinstance(data, bool) and bool not in self.json_types):
            self.fail("json_type", expected=self.expected)
        return super().to_internal_value(data)


class TextField(JSONTypeMixin, serializers.CharField):
    json_types, expected = (str,), "text"


class EmailField(JSONTypeMixin, serializers.EmailField):
    json_types, expected = (str,), "an email address as text"


class SlugField(JSONTypeMixin, serializers.SlugField):
    json_types, expected = (str,), "a code as text"


class ChoiceField(JSONTypeMixin, serializers.ChoiceField):
    json_types, expected = (str,), "one of the choices, as text"

    def __init__(self, choices, **kwargs):
        super().__init__(choices, **kwargs)
        if self.choices and all(isinstance(key, int) and not isinstance(key, bool) for key in self.choices):
            self.json_types, self.expected = (int,), "one of the choices, as a whole number"


class IntegerField(JSONTypeMixin, serializers.IntegerField):
    json_types, expected = (int,), "a whole number"


class DecimalField(JSONTypeMixin, serializers.DecimalField):
    json_types, expected = (int, float), "a number"


class FloatField(JSONTypeMixin, serializers.FloatField):
    json_types, expected = (int, float), "a number"


class BooleanField(JSONTypeMixin, serializers.BooleanField):
    json_types, expected = (bool,), "true or false"


# The longest list any field takes: more is a mistake, or an attempt to keep the portal busy.
MAX_LIST_ITEMS = 100


def refuse_long_or_repeated(field, data, key=lambda item: item):
    """A list longer than the field takes is refused before any item is looked at; so is an item given twice."""
    if len(data) > field.max_items:
        raise serializers.ValidationError(f"Give at most {field.max_items} items; this list has {len(data):,}.")
    seen = set()
    for item in data:
        try:
            marker = key(item)
            hash(marker)
        except TypeError:
            continue  # not a value of the right type: the item's own check says so
        if marker in seen:
            raise serializers.ValidationError(f"Give each item once: “{marker}” is given more than once.")
        seen.add(marker)


class ListField(serializers.ListField):
    """A JSON array of at most ``max_items`` distinct values (documented as maxItems)."""

    def __init__(self, *args, max_items=MAX_LIST_ITEMS, **kwargs):
        self.max_items = max_items
        kwargs.setdefault("max_length", max_items)
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, list):
            refuse_long_or_repeated(self, data)
        return super().to_internal_value(data)


class KeyListField(serializers.ManyRelatedField):
    """A list of natural keys: a JSON array, not an object (whose keys DRF would iterate) nor a string.

    At most ``max_items`` keys, each given once, and all of them looked up in one query.
    """

    def __init__(self, *args, max_items=MAX_LIST_ITEMS, **kwargs):
        self.max_items = max_items
        super().__init__(*args, **kwargs)
        self.validators.append(validators.MaxLengthValidator(max_items))  # the schema's maxItems

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("not_a_list", input_type=type(data).__name__)
        if not self.allow_empty and len(data) == 0:
            self.fail("empty")
        refuse_long_or_repeated(self, data)
        child = self.child_relation
        for item in data:
            if item == "":
                child.fail("blank")
            if not isinstance(item, str):
                child.fail("invalid")
            if "\x00" in item:  # no key holds one, and PostgreSQL takes none in a query
                child.fail("does_not_exist", slug_name=child.slug_field, value=item.replace("\x00", "\\0"))
        found = {
            getattr(record, child.slug_field): record
            for record in child.get_queryset().filter(**{f"{child.slug_field}__in": data})
        }
        missing = [item for item in data if item not in found]
        if missing:
            child.fail("does_not_exist", slug_name=child.slug_field, value=missing[0])
        return [found[item] for item in data]


class NaturalKeyField(serializers.SlugRelatedField):
    """A related record referred to by its natural key, with a message that names the key."""

    @classmethod
    def many_init(cls, *args, max_items=MAX_LIST_ITEMS, **kwargs):
        list_kwargs = {"child_relation": cls(*args, **kwargs), "max_items": max_items}
        list_kwargs.update({key: value for key, value in kwargs.items() if key in MANY_RELATION_KWARGS})
        return KeyListField(**list_kwargs)

    def __init__(self, *args, key_name=None, **kwargs):
        self.key_name = key_name or kwargs.get("slug_field")
        super().__init__(*args, **kwargs)
        self.error_messages["does_not_exist"] = f"No record has the {self.key_name} “{{value}}”."
        self.error_messages["invalid"] = f"Give the {self.key_name} as text."
        self.error_messages["blank"] = f"Give the {self.key_name}" + (", or null." if self.allow_null else ".")

    def run_validation(self, data=serializers.empty):
        # DRF reads "" as null for related fields (a habit of HTML forms): in JSON, null is null.
        if data == "":
            self.fail("blank")
        return super().run_validation(data)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class IdField(serializers.PrimaryKeyRelatedField):
    """A related record referred to by its id: a whole number, not a string of digits nor "" for null."""

    def run_validation(self, data=serializers.empty):
        if data == "":
            self.fail("incorrect_type", data_type="string")
        return super().run_validation(data)

    def to_internal_value(self, data):
        if not isinstance(data, int) or isinstance(data, bool):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


def to_drf_errors(error):
    """A Django ValidationError as the API's per-field messages."""
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [m for e in errors for m in e.messages]
            for field, errors in error.error_dict.items()
        }
    return {"non_field_errors": error.messages}


class PortalModelSerializer(serializers.ModelSerializer):
    """A model serializer whose inputs take only their documented JSON types."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: TextField,
        models.TextField: TextField,
        models.EmailField: EmailField,
        models.SlugField: SlugField,
        models.IntegerField: IntegerField,
        models.SmallIntegerField: IntegerField,
        models.PositiveIntegerField: IntegerField,
        models.PositiveSmallIntegerField: IntegerField,
        models.BigIntegerField: IntegerField,
        models.DecimalField: DecimalField,
        models.FloatField: FloatField,
        models.BooleanField: BooleanField,
    }
    serializer_choice_field = ChoiceField
    serializer_related_field = IdField

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if isinstance(model_field, ArrayField):
            field_class = ListField
            choices = model_field.base_field.choices
            if choices:
                kwargs["max_items"] = len(choices)  # each choice at most once
        return field_class, kwargs

    def build_relational_field(self, field_name, relation_info):
        """A related model that declares ``api_key = (field, name)`` is named by that natural key
        (a programme by its slug, a body by its code); any other by its id."""
        field_class, kwargs = super().build_relational_field(field_name, relation_info)
        api_key = getattr(relation_info.related_model, "api_key", None)
        if api_key and not kwargs.get("read_only"):
            field_class = NaturalKeyField
            kwargs["slug_field"], kwargs["key_name"] = api_key
            kwargs["queryset"] = relation_info.related_model._default_manager.all()
            kwargs.pop("to_field", None)
        # An empty list is the model's rules' to refuse, with their own message (a programme's bodies).
        kwargs.pop("allow_empty", None)
        return field_class, kwargs

    def get_field_names(self, declared_fields, info):
        names = list(super().get_field_names(declared_fields, info))
        if archive.is_archivable(self.Meta.model) and "archived_at" not in names:
            names.append("archived_at")  # when the record was archived; null while it is live
        return names


class ModelRulesSerializer(PortalModelSerializer):
    """Runs the model's own validation (clean(), constraints) before anything is written.

    ``many_to_many`` names the fields set after saving; ``prepare(instance, attrs)``
    hands a model what it needs to check them (as the portal's forms do).
    """

    many_to_many: tuple = ()

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model = self.Meta.model
        if self.instance is not None:
            instance = model._base_manager.get(pk=self.instance.pk)  # archived or not: the caller decides
        else:
            instance = model()
        for name, value in attrs.items():
            if name in self.many_to_many:
                # Set after saving; the rules read the list to be saved (a programme's bodies, who agreed).
                setattr(instance, f"{name}_to_save", list(value))
            elif not isinstance(self.fields.get(name), serializers.ListSerializer):
                setattr(instance, name, value)
        self.prepare(instance, attrs)
        request = self.context.get("request")
        if request is not None:
            # The record as it is and as it would be saved: who may write it (nhs_joint.permissions.can_save).
            refuse_unless(permissions.can_save(request.user, instance))
        exclude = set(self.many_to_many) | set(self.nested_fields())
        try:
            instance.full_clean(exclude=exclude or None, validate_unique=True)
        except DjangoValidationError as error:
            raise serializers.ValidationError(to_drf_errors(error)) from None
        return attrs

    def nested_fields(self):
        return [name for name, field in self.fields.items() if isinstance(field, serializers.ListSerializer)]

    def prepare(self, instance, attrs):
        """Give the unsaved ``instance`` what its clean() needs from many-to-many ``attrs``."""


def refuse_unless(decision):
    """A refusal of the portal's rules as the API's 403, with its reason (also from inside a serializer)."""
    if not decision:
        raise exceptions.PermissionDenied(decision.reason)


class PortalFilterBackend(DjangoFilterBackend):
    """The app's filterset, read strictly: a filter given empty, or a single-valued one given twice, is a 400.

    (The list pages read an empty filter as "any", as a submitted form leaves it; an API client that
    sends ``?active=`` or ``?active=null`` has made a mistake worth telling.)

    A list asked for with none of its filters is what the filterset gives for no parameters
    (``PortalFilterSet.unfiltered``), without building the filterset and its form for each request.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and unfiltered_is_known(filterset_class):
            params = request.query_params
            if not any(name in params for name in filterset_class.base_filters):
                return filterset_class.unfiltered(queryset)
        return super().filter_queryset(request, queryset, view)

    def get_filterset(self, request, queryset, view):
        filterset = super().get_filterset(request, queryset, view)
        if filterset is not None:
            errors = {}
            for name, filter_ in filterset.filters.items():
                values = request.query_params.getlist(name)
                if not values:
                    continue
                if len(values) > 1 and not isinstance(filter_, MultipleChoiceFilter):
                    errors[name] = [f"Give {name} once."]
                elif any(not value.strip() for value in values):
                    errors[name] = [f"Give a value for {name}, or leave it out."]
                elif filter_.field_class is forms.NullBooleanField and values[0] not in ("true", "false"):
                    errors[name] = [f"Give {name} as true or false."]
            if errors:
                raise exceptions.ValidationError(errors)
        return filterset


def unfiltered_is_known(filterset_class):
    """Whether the filterset's ``unfiltered`` is what it gives for no parameters: declared by the class that last
    decides how a queryset is filtered (its own ``filter_queryset`` or ``qs``), or by one of its subclasses."""
    for klass in filterset_class.__mro__:
        names = vars(klass)
        if "unfiltered" in names:
            return True
        if "filter_queryset" in names or "qs" in names:
            return False
    return False


class PortalPermission(drf_permissions.BasePermission):
    """Reading needs a signed-in user; writing follows the portal's rules, with their reasons."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in drf_permissions.SAFE_METHODS:
            return True
        create_permission = getattr(view, "create_permission", None)
        if request.method == "POST" and create_permission is not None:
            refuse_unless(create_permission(request.user))
        return True

    def has_object_permission(self, request, view, obj):
        if request.method in drf_permissions.SAFE_METHODS:
            return True
        if (
            request.method == "DELETE"
            and request.query_params.get("permanently") == "true"
            and archive.is_archivable(type(obj))
            and request.user.is_administrator
        ):
            return True  # deleting an archivable record for good is the Administrators' (PortalViewSet.destroy)
        refuse_unless(view.change_permission(request.user, obj))
        return True


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "This record was changed since you read it: read it again and reapply your change."
    default_code = "precondition_failed"


def check_if_match(request, current):
    """Refuses (412) a change sent with an If-Match naming none of ``current`` (a tag, or a callable giving
    it, asked only when there is a tag to compare); ``*``, or no If-Match, lets it through."""
    expected = request.headers.get("If-Match")
    if expected and expected.strip() != "*":
        named = {tag.strip().removeprefix("W/") for tag in expected.split(",")}
        if (current() if callable(current) else current) not in named:
            raise PreconditionFailed()


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This record cannot be deleted while other records depend on it."
    default_code = "conflict"


def etag_of(obj, data=None):
    """A strong ETag: the record's version when ``data`` is None, else a digest of the representation."""
    if data is None:
        return f'"{version_of(obj)}"'
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:32]
    return f'"{digest}"'


class SingleRecordETagMixin:
    """GET of one record answers with its ETag, to send back in If-Match.

    A record that is written here and keeps a history is tagged by its version, as the portal's forms
    are; anything else (read-only records, whose nested data changes without them) by what was sent.
    """

    def etag_for(self, instance, data=None):
        if hasattr(type(instance), "history") and hasattr(self, "update"):
            return etag_of(instance)
        return etag_of(instance, self.get_serializer(instance).data if data is None else data)

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        data = self.get_serializer(instance).data
        response = Response(data)
        response["ETag"] = self.etag_for(instance, data)
        return response


class WordSerializer(serializers.Serializer):
    op = serializers.ChoiceField(choices=["equal", "insert", "delete"])
    text = serializers.CharField()


class HistoryChangeSerializer(serializers.Serializer):
    field = serializers.CharField(help_text="The field's name, as in the record.")
    label = serializers.CharField(help_text="The field's label, as the portal's pages show it.")
    old = serializers.CharField(allow_null=True, help_text="The value before, in words; null when empty.")
    new = serializers.CharField(allow_null=True, help_text="The value after, in words; null when empty.")
    added = serializers.ListField(
        child=serializers.CharField(), allow_null=True, help_text="Records added to a list of records (else null)."
    )
    removed = serializers.ListField(
        child=serializers.CharField(), allow_null=True, help_text="Records removed from a list of records (else null)."
    )
    words = WordSerializer(
        many=True,
        allow_null=True,
        help_text="For a long text, the difference word by word (else null): the equal and inserted texts make the new text.",
    )


class HistoryEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The entry's id: the record's version after it.")
    when = serializers.DateTimeField()
    who = serializers.CharField(help_text="The full name of who made the change, or “The system”.")
    kind = serializers.ChoiceField(choices=["created", "changed", "archived", "restored", "deleted"])
    reason = serializers.CharField(allow_blank=True)
    changes = HistoryChangeSerializer(many=True)


class HistoryMixin:
    """``GET <record>/history/``: the record's history in words, newest first, as its history page shows it
    (one entry per version: the page shows the steps of one save as one entry).

    Offered only by resources whose model keeps a history; read by whoever may read the record.
    """

    @classmethod
    def get_extra_actions(cls):
        actions = super().get_extra_actions()
        model = getattr(getattr(cls, "queryset", None), "model", None)
        if not has_history(model):
            actions = [a for a in actions if a.__name__ != "history"]
        return actions

    @extend_schema(
        summary="The record's history in words",
        description="Who changed what and when, newest first: values as the portal's pages show them "
        "(labels, names of related records, dates), and long texts also as a word-level difference.",
        responses=HistoryEntrySerializer(many=True),
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def history(self, request, *args, **kwargs):
        obj = self.get_object()
        page = self.paginate_queryset(history_queryset(obj))
        # One entry per version of the record, so that the count and pages are exact.
        entries = [entry_as_json(entry) for entry in history_entries(obj, page, join_saves=False)]
        return self.get_paginated_response(HistoryEntrySerializer(entries, many=True).data)


class ConditionalListMixin:
    """Lists answer 304 Not Modified to a client whose copy is current (nhs_joint/conditional.py)."""

    def list(self, request, *args, **kwargs):
        # The same kinds of record as the resource's pages, where the list is one of a resource's.
        model = self.get_queryset().model
        resource = registry.resource_for(model._meta.model_name)
        if resource is not None and resource.model is model:
            models = resource.page_models()
        else:
            models = conditional.related_models(model, detail=True)
        return conditional.respond(
            request, models, lambda: super(ConditionalListMixin, self).list(request, *args, **kwargs)
        )


class PortalContentNegotiation(DefaultContentNegotiation):
    """DRF's, with its answer to a request that names no media type and no format (no Accept header, or ``*/*``, as
    most clients send) given at once: the first renderer with its own media type, as DRF's own gives it."""

    def select_renderer(self, request, renderers, format_suffix=None):
        override = self.settings.URL_FORMAT_OVERRIDE
        if (
            request.META.get("HTTP_ACCEPT", "*/*") == "*/*"
            and not format_suffix
            and (override is None or override not in request.query_params)
        ):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)


class ReadingMixin:
    """What a read does not need: a throttle that counts writes only (``writes_only``) is not made for a read."""

    content_negotiation_class = PortalContentNegotiation

    def get_throttles(self):
        read = self.request.method in drf_permissions.SAFE_METHODS
        return [
            throttle() for throttle in self.throttle_classes if not (read and getattr(throttle, "writes_only", False))
        ]


class PortalViewSet(ReadingMixin, ConditionalListMixin, HistoryMixin, SingleRecordETagMixin, viewsets.ModelViewSet):
    """A resource: filters from the app's filterset, ETags on single records, all writes atomic.

    Bodies are JSON only: a form encoding cannot tell null from an empty string, nor carry nested shares.
    """

    permission_classes = [PortalPermission]
    parser_classes = [BoundedJSONParser]
    filter_backends = [PortalFilterBackend]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    create_response_etag = True  # a 201 carries the ETag a following GET gives (documented by api_schema)
    writable_resource = True  # api_schema documents its DELETE's 409 (archived, or other records depend on it)
    create_permission = staticmethod(permissions.can_edit_records)
    change_permission = staticmethod(permissions.can_edit)
    never_deleted = (
        ""  # why the records are never deleted, where their pages delete none (Resource.permissions.deletable)
    )
    list_queryset = None  # the list's own records (default_queryset's for_list), where they differ

    def http_method_not_allowed(self, request, *args, **kwargs):
        if request.method == "DELETE" and self.never_deleted:
            raise exceptions.MethodNotAllowed(request.method, detail=self.never_deleted)
        return super().http_method_not_allowed(request, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        with transaction.atomic():
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            self.perform_create(serializer)
        # Answered as a following GET would answer: the record as read back, with its ETag.
        instance = self.get_queryset().get(pk=serializer.instance.pk)
        data = self.get_serializer(instance).data
        response = Response(data, status=status.HTTP_201_CREATED)
        response["ETag"] = self.etag_for(instance, data)
        return response

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        with transaction.atomic():
            instance = self.get_object()
            if archive.is_hidden(instance):
                raise Conflict(
                    "This record, or the record it belongs to, is archived: restore it (POST …/restore/) "
                    "before changing it."
                )
            # Lock the row, then compare: two writers cannot both pass the check.
            # (No ordering and no joins: FOR UPDATE cannot lock the nullable side of an outer join.)
            list(type(instance)._base_manager.select_for_update().filter(pk=instance.pk).order_by().values_list("pk"))
            # Bad input is answered 400 whatever the version; good input only if the version still matches.
            serializer = self.get_serializer(instance, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            check_if_match(request, lambda: self.etag_for(instance))
            before = self.writable_state(instance)
            savepoint = transaction.savepoint()
            self.perform_update(serializer)
            instance = self.get_queryset().get(pk=instance.pk)
            if self.writable_state(instance) == before:
                # Nothing a client can set differs: write nothing (no history entry, no new version).
                transaction.savepoint_rollback(savepoint)
                instance = self.get_queryset().get(pk=instance.pk)
            else:
                transaction.savepoint_commit(savepoint)
        data = self.get_serializer(instance).data
        response = Response(data)
        response["ETag"] = self.etag_for(instance, data)
        return response

    def writable_state(self, instance):
        """The record as a client can set it: its representation without the read-only fields."""
        serializer = self.get_serializer(instance)
        data = serializer.data
        return {name: data.get(name) for name, field in serializer.fields.items() if not field.read_only}

    def get_queryset(self):
        if self.action == "list" and self.list_queryset is not None:
            queryset = self.list_queryset.all()  # a list's rows, its related records' keys read with them
        else:
            queryset = super().get_queryset()
        if not archive.is_archivable(queryset.model):
            return queryset
        if self.action == "list":
            archived = self.request.query_params.getlist("archived")
            if archived not in ([], ["true"], ["false"]):
                raise exceptions.ValidationError({"archived": ["Give archived once, as true or false."]})
            if archived == ["true"]:
                # with_archived keeps the joins, not the keys read with the row: the records' own queryset.
                return archive.with_archived(super().get_queryset()).filter(archived_at__isnull=False)
            return queryset
        # A single record is reached archived or not: to read it, restore it or see its history.
        return archive.with_archived(queryset)

    def destroy(self, request, *args, **kwargs):
        permanently = request.query_params.getlist("permanently")
        if permanently not in ([], ["true"], ["false"]):
            raise exceptions.ValidationError({"permanently": ["Give permanently once, as true or false."]})
        instance = self.get_object()
        if archive.is_archivable(type(instance)):
            if permanently != ["true"]:
                # DELETE archives: the record leaves the lists and the reports, and can be restored.
                if instance.archived_at is None:
                    with transaction.atomic():
                        instance.archive()
                return Response(status=status.HTTP_204_NO_CONTENT)
            if not request.user.is_administrator:
                raise exceptions.PermissionDenied("Only an Administrator can delete this record for good.")
            dependants = archive.dependants(instance)
            if dependants:
                raise Conflict(f"This record cannot be deleted while these depend on it: {'; '.join(dependants[:10])}.")
        try:
            with transaction.atomic():
                instance.delete()
        except ProtectedError as error:
            names = sorted({str(o) for o in error.protected_objects})[:10]
            raise Conflict(f"This record cannot be deleted while these depend on it: {'; '.join(names)}.") from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class ArchivableViewSetMixin:
    """Restoring an archived record: ``POST …/<key>/restore/``."""

    @extend_schema(request=None, summary="Restore an archived record")
    @action(detail=True, methods=["post"])
    def restore(self, request, *args, **kwargs):
        instance = self.get_object()
        if instance.archived_at is not None:
            with transaction.atomic():
                instance.restore()
        instance = self.get_queryset().get(pk=instance.pk)
        data = self.get_serializer(instance).data
        response = Response(data)
        response["ETag"] = self.etag_for(instance, data)
        return response


class ReadOnlyPortalViewSet(
    ReadingMixin, ConditionalListMixin, HistoryMixin, SingleRecordETagMixin, viewsets.ReadOnlyModelViewSet
):
    """Reference data (bodies, regions, local systems, organisations): loaded from ODS files, read here."""

    permission_classes = [PortalPermission]
    parser_classes = [BoundedJSONParser]
    filter_backends = [PortalFilterBackend]


def exception_handler(exc, context):
    """Errors the database raises despite validation become 400 or 409 answers, never a 500.

    A body too large is a 413, and one nested too deeply for Python's JSON reader a 400, on every operation
    (the token endpoint's parser included).
    """
    cause = failures.cause_of(exc)
    if cause:
        failures.log.warning("API %s: %s unreachable: %s", context["request"].path, cause, exc)
        exc = exceptions.APIException(failures.REASONS[cause])
        exc.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    elif isinstance(exc, RequestDataTooBig):
        exc = too_large()
    elif isinstance(exc, RecursionError):
        exc = exceptions.ParseError(f"The JSON is nested too deeply: at most {MAX_JSON_DEPTH} levels.")
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(to_drf_errors(exc))
    elif isinstance(exc, ProtectedError):
        exc = Conflict()
    elif isinstance(exc, IntegrityError):
        exc = exceptions.ValidationError(
            {"non_field_errors": ["This would break a rule of the data: " + str(exc).splitlines()[0]]}
        )
    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        response["Retry-After"] = str(failures.RETRY_AFTER)
    return response


@dataclass
class Api:
    """How a page resource (nhs_joint.generic.Resource) is also served under ``/api/v1/<its prefix>/``.

    The rest comes from the resource, declared once: the model, the address's key (``lookup``), the
    filterset, who may create and change the records, whether they are archived rather than deleted, and
    the fields (the record's key, then its form's fields). Each related record is named by its natural key
    where its model declares one (``api_key``), and each is joined in the one query of a list.
    """

    doc: str = ""  # the operations' description in the schema; by default the resource's intro
    fields: list | None = None  # None: "id" (or the lookup), the form's fields, ``more``, then ``read_only``
    more: tuple = ()  # fields beyond the form's, declared by the serializer (an appointment's nested shares)
    read_only: tuple = ()  # fields shown and never written (a version, when it was updated)
    extra_kwargs: dict = field(default_factory=dict)  # options of single fields (help texts, required)
    serializer: type = None  # the base: what a kind of record adds to the rules (ModelRulesSerializer)
    queryset: Callable | None = None  # () -> the records; by default the model's, with relations joined
    mixins: tuple = ()  # viewset classes whose actions a kind of record adds (a measure's chart)
    name: str = ""  # the serializer's name in the schema; by default the model's


class PlannedListSerializer(serializers.ListSerializer):
    """A list's rows as DRF would represent them, with each field's way of reading planned once per list.

    DRF's ``Serializer.to_representation`` asks every field of every row the general questions (a mapping or
    an object? a callable? a pk-only relation?) and calls the field's methods: about a third of an API list's
    time. Here each readable field's reader is chosen once per list (``_plan``): a plain attribute through a
    field whose own ``to_representation`` is DRF's text, whole number, choice or ISO date, a foreign key's
    id, a related record's natural key, a list of them; anything else (a method, a nested serializer, a
    decimal, a time) is read by the field itself, as DRF does. A serializer with its own
    ``to_representation`` is asked row by row. tests/test_first_renders.py checks that every API list gives
    what DRF gives.
    """

    def to_representation(self, data):
        rows = data.all() if isinstance(data, models.manager.BaseManager) else data
        child = self.child
        if type(child).to_representation is not serializers.Serializer.to_representation:
            return [child.to_representation(row) for row in rows]
        readers = None
        shown = []
        for row in rows:
            if readers is None:
                readers = _plan(child, type(row))
            shown.append(_represent(row, readers))
        return shown


# Plans made of plain readers only, per serializer class and model: a list's serializer builds its fields (DRF
# copies and maps every field of the model) on every request, and a plan that reads plain values needs none of them.
_plans = {}


def _plan(child, model):
    """Each readable field's name and reader (``_reader``), kept per serializer class and model when every reader
    is plain (reads the row's own values with a field of DRF's own, which reads neither the request nor the
    serializer it belongs to); the kept plan's fields are a serializer's made without a request."""
    key = (type(child), model)
    readers = _plans.get(key)
    if readers is not None:
        return readers
    if key not in _plans:
        try:
            fresh = [(field.field_name, _reader(field, model)) for field in type(child)()._readable_fields]
        except TypeError:  # a serializer that cannot be made without what its list was given
            fresh = None
        if fresh is not None and all(getattr(read, "plain", False) for _name, read in fresh):
            _plans[key] = fresh
            return fresh
        _plans[key] = None  # not plain: planned for each list, with its request
    return [(field.field_name, _reader(field, model)) for field in child._readable_fields]


_SKIP = object()


def _represent(row, readers):
    represented = {}
    for name, read in readers:
        value = read(row)
        if value is not _SKIP:
            represented[name] = value
    return represented


def _as_drf(field, model_field=None):
    """The field read and represented as DRF's Serializer.to_representation does; plain when the field is one of
    DRF's own fields (its to_representation DRF's) reading a column of the row's own (``model_field``)."""

    def read(row):
        try:
            attribute = field.get_attribute(row)
        except SkipField:
            return _SKIP
        check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
        return None if check is None else field.to_representation(attribute)

    read.plain = (
        model_field is not None
        and model_field.concrete
        and not model_field.is_relation
        and len(field.source_attrs) == 1
        and getattr(type(field).to_representation, "__module__", "") == "rest_framework.fields"
    )
    return read


def _plain(field, model, convert, model_field=None):
    """A plain attribute of the row (not a method), converted as the field's own to_representation would; ``plain``
    when it is a column of the row's own (never a related record, never the field's fallback)."""
    (name,) = field.source_attrs
    fallback = _as_drf(field)

    def read(row):
        try:
            value = getattr(row, name)
        except (AttributeError, KeyError, ObjectDoesNotExist):
            return fallback(row)  # as DRF answers it: a default, null or left out
        if value is None:
            return None
        if callable(value):
            return fallback(row)
        return convert(value)

    read.plain = model_field is not None and model_field.concrete and not model_field.is_relation
    return read


def _converter(field):
    """How ``field`` represents a value that is not None, where that is DRF's own simple way; else None."""
    own = type(field).to_representation
    if own is serializers.CharField.to_representation:
        return str
    if own is serializers.IntegerField.to_representation:
        return int
    if own is serializers.ChoiceField.to_representation:
        lookup = field.choice_strings_to_values
        return lambda value: value if value == "" else lookup.get(str(value), value)
    if own is serializers.DateField.to_representation:
        output = getattr(field, "format", api_settings.DATE_FORMAT)
        if output is not None and output.lower() == ISO_8601:
            return lambda value: value.isoformat() if value and not isinstance(value, str) else (value or None)
    if own is serializers.SlugRelatedField.to_representation:
        slug = field.slug_field
        return lambda value: getattr(value, slug)
    return None


def _reader(field, model):
    """How a list reads ``field`` of each row: a quick way where the field represents as DRF's own simple fields
    do (``_converter``), else the field itself (``_as_drf``)."""
    if field.source == "*" or len(field.source_attrs) != 1:
        return _as_drf(field)
    name = field.source_attrs[0]
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        model_field = None
    for kind, reader_of in _READERS:
        if isinstance(field, kind) and type(field).to_representation is kind.to_representation:
            return reader_of(field, model, model_field) or _as_drf(field)
    if model_field is None or model_field.is_relation and not model_field.many_to_one:
        return _as_drf(field)
    convert = _converter(field)
    if convert is None:
        return _as_drf(field, model_field)
    if model_field.many_to_one and isinstance(field, serializers.SlugRelatedField):
        return _key_reader(field, model, model_field, convert)
    return _plain(field, model, convert, model_field)


def _key_reader(field, model, model_field, convert):
    """A related record's natural key: read with the row where its list's query read it (``list_queryset``), else
    from the related record. Plain: a row of a list never reaches the record."""
    keys = KEYS + model_field.name
    from_record = _plain(field, model, convert)

    def read(row):
        values = row.__dict__
        return values[keys] if keys in values else from_record(row)

    read.plain = True
    return read


def _id_reader(field, model, model_field):
    """A foreign key's id, read from the row's own column (None: read by the field)."""
    if field.pk_field is None and model_field is not None and model_field.many_to_one:
        attname = model_field.attname

        def read(row):
            return getattr(row, attname)

        read.plain = True
        return read
    return None


def _many_reader(field, model, model_field):
    """The related records of a many-to-many field, each converted as the field's child would (None: read by the
    field)."""
    convert = _converter(field.child_relation)
    if convert is None or model_field is None or not model_field.many_to_many:
        return None
    name = field.source_attrs[0]
    keys = KEYS + name if isinstance(field.child_relation, NaturalKeyField) else None

    def read(row):
        if keys is not None and keys in row.__dict__:
            return list(row.__dict__[keys])  # read with the row (default_queryset)
        return [convert(value) for value in related(row, name)]

    read.plain = keys is not None
    return read


def _list_reader(field, model, model_field):
    """A list of plain values, each converted as the field's child would (None: read by the field)."""
    convert = _converter(field.child)
    if convert is None:
        return None
    return _plain(field, model, lambda values: [None if v is None else convert(v) for v in values], model_field)


# DRF's relational and list fields whose own to_representation a list may read around, and how.
_READERS = (
    (serializers.PrimaryKeyRelatedField, _id_reader),
    (serializers.ManyRelatedField, _many_reader),
    (serializers.ListField, _list_reader),
)


def api_fields(resource):
    """The fields a resource's API reads and writes: its key, its form's fields, then its read-only ones."""
    api = resource.api
    if api.fields is not None:
        return list(api.fields)
    key = "id" if resource.lookup == "pk" else resource.lookup
    form_fields = list(resource.form.form_class._meta.fields) if resource.form else []
    return [key] * (key not in form_fields) + form_fields + [*api.more, *api.read_only]


def serializer_for(resource):
    """The serializer of a resource, derived from its declaration (see Api)."""
    api, model = resource.api, resource.model
    base = api.serializer or ModelRulesSerializer
    fields = api_fields(resource)
    read_only = [*getattr(getattr(base, "Meta", None), "read_only_fields", ()), *api.read_only]
    form_fields = resource.form.form_class._meta.fields if resource.form else fields
    if resource.lookup != "pk" and resource.lookup not in form_fields:
        read_only.append(resource.lookup)  # given by the portal (a programme's slug), never by a client
    meta = type(
        "Meta",
        (getattr(base, "Meta", object),),
        {
            "model": model,
            "fields": fields,
            "read_only_fields": read_only,
            "extra_kwargs": api.extra_kwargs,
            "list_serializer_class": PlannedListSerializer,
        },
    )
    # Documented as the endpoints are: a base's docstring speaks of its rule, not of the record.
    attrs = {"Meta": meta, "__module__": model.__module__, "__doc__": api.doc or resource.list.intro or None}
    if issubclass(base, ModelRulesSerializer):  # lists of records are set after the record is saved
        attrs["many_to_many"] = tuple(f.name for f in model._meta.many_to_many if f.name in fields)
    parent = getattr(model, "parent_field", None)
    if parent in fields and not hasattr(base, f"validate_{parent}"):
        attrs[f"validate_{parent}"] = _may_add_to
    return type(f"{api.name or model.__name__}Serializer", (base,), attrs)


def _may_add_to(self, parent):
    """A record of another (a programme's risk): only those who may edit that one may add to it (else 403)."""
    refuse_unless(permissions.can_edit(self.context["request"].user, parent))
    return parent


KEYS = "_api_keys_"  # a row's annotation holding the natural keys of its many-to-many (KEYS + the field's name)


def default_queryset(model, serializer):
    """The model's records with every related record the representation names joined, read in the same query
    (the natural keys of a many-to-many, ``natural_keys``) or prefetched."""
    joined, prefetched, keys = [], [], {}
    fields = serializer().fields
    for name in serializer.Meta.fields:
        try:
            model_field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if model_field.many_to_many:
            child = getattr(fields.get(name), "child_relation", None)
            if isinstance(child, NaturalKeyField):
                keys[KEYS + name] = natural_keys(model_field, child.slug_field)
            else:
                prefetched.append(name)
        elif model_field.many_to_one and getattr(model_field.related_model, "api_key", None):
            joined.append(name)
    return model._default_manager.select_related(*joined).prefetch_related(*prefetched).annotate(**keys)


def list_queryset(queryset, serializer):
    """A list's records: ``queryset``, but each related record it joins that the list names by its natural key
    read as that key alone, with the row (not a model instance per row and relation, all its columns read);
    None where a field of the list reads more than the row's own values (``_plan``), or nothing is joined."""
    model, selected = queryset.model, queryset.query.select_related
    fields = serializer().fields
    if not isinstance(selected, dict) or not all(
        getattr(_reader(field, model), "plain", False) for field in serializer()._readable_fields
    ):
        return None
    keys, joined = {}, []
    for name, deeper in selected.items():
        field = fields.get(name)
        if not deeper and isinstance(field, serializers.SlugRelatedField) and field.source_attrs == [name]:
            keys[KEYS + name] = F(f"{name}__{field.slug_field}")
        else:
            joined.extend(_paths(name, deeper))
    if not keys:
        return None
    queryset = queryset.select_related(None)
    return (queryset.select_related(*joined) if joined else queryset).annotate(**keys)


def _paths(name, deeper):
    """select_related's paths of one of its entries (``{"a": {"b": {}}}`` → ``a__b``)."""
    if not deeper:
        return [name]
    return [f"{name}__{path}" for key, value in deeper.items() for path in _paths(key, value)]


def natural_keys(model_field, slug_field):
    """The natural keys of a row's many-to-many records, in their model's order, as an array read in the row's own
    query: an API list names them without a second query and a model instance each."""
    through = model_field.remote_field.through
    target = model_field.m2m_reverse_field_name()
    order = [
        f"-{target}__{name[1:]}" if name.startswith("-") else f"{target}__{name}"
        for name in model_field.related_model._meta.ordering or ["pk"]
    ]
    return ArraySubquery(
        through.objects.filter(**{model_field.m2m_field_name(): OuterRef("pk")})
        .order_by(*order)
        .values(f"{target}__{slug_field}")
    )


def viewset_for(resource):
    """The viewset of a resource: its records by its lookup, filtered by its filterset, written by its rules."""
    api = resource.api
    serializer = serializer_for(resource)
    archivable = (ArchivableViewSetMixin,) if resource.archivable else ()
    queryset = api.queryset() if api.queryset else default_queryset(resource.model, serializer)
    attrs = {
        "__doc__": api.doc or resource.list.intro,
        "__module__": resource.model.__module__,
        "queryset": queryset,
        "list_queryset": list_queryset(queryset, serializer),
        "serializer_class": serializer,
        "filterset_class": resource.list.filterset,
        "lookup_field": resource.lookup,
        "create_permission": staticmethod(resource.permissions.create),
        "change_permission": staticmethod(resource.permissions.change),
    }
    if not resource.permissions.deletable:
        # What the pages never delete the API does not delete either (405, with the reason).
        attrs["http_method_names"] = [name for name in PortalViewSet.http_method_names if name != "delete"]
        attrs["never_deleted"] = f"{capfirst(resource.verbose_name_plural)} are never deleted: " + (
            resource.permissions.kept_because or "change the record instead."
        )
    return type(f"{resource.model.__name__}ViewSet", (*api.mixins, *archivable, PortalViewSet), attrs)
