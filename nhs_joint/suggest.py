"""Records chosen from a long list: the page draws only the chosen one, and the list is asked for as people type.

A field choosing a record of a kind in ``registry.autocomplete_models`` (static/portal/autocomplete.js) draws
every record as an option while there are at most ``AUTOCOMPLETE_INLINE_LIMIT`` of them. Beyond that (2,000
programmes at England scale) the select holds only the empty choice and the chosen record, so that the form
still sends the same key, and names the suggestions view (``suggestions`` below) in ``data-source``; the
script asks it for the records matching what is typed. That is done only when the field offers every live
record of its kind, or those with some values of fields with choices (directors' appointments), as the
suggestions view offers them: a field narrowed otherwise keeps its options.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.forms.models import ModelChoiceIterator
from django.http import JsonResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from .registry import registry

MAX_QUERY = 100  # characters of ``q``
MAX_RESULTS = 20
MAX_NARROWING = 20  # values of one field narrowing the records
_MANY = {}  # (model, query, data version) -> whether the field offers more records than the limit
_MANY_SIZE = 1024


def inline_limit():
    return getattr(settings, "AUTOCOMPLETE_INLINE_LIMIT", 200)


def _resource(model):
    return registry.resource_for(model._meta.model_name)


def records_of(field):
    """The records a form field chooses from (its queryset), or None when its choices are not records."""
    queryset = getattr(field, "queryset", None)
    iterator = getattr(field, "iterator", None)
    if queryset is not None and isinstance(iterator, type) and issubclass(iterator, ModelChoiceIterator):
        return queryset
    return None


def _search(model):
    """The filterset whose ``q`` searches ``model`` (nhs_joint.filters.PortalFilterSet), or None."""
    resource = _resource(model)
    filterset = resource.list.filterset if resource is not None else None
    if filterset is None or not (getattr(filterset, "search_fields", ()) or getattr(filterset, "code_fields", ())):
        return None
    return filterset


def suggestible(model):
    return model._meta.label_lower in registry.autocomplete_models and _search(model) is not None


def _key_name(field):
    return field.to_field_name or "pk"


def _pk_sql(queryset):
    return queryset.order_by().values("pk").query.sql_with_params()


def _choice_fields(model):
    """The fields of ``model`` with a fixed set of choices (a role, a kind): what a field's list may be narrowed by."""
    return {
        field.name: field
        for field in model._meta.concrete_fields
        if field.choices and not field.is_relation and not field.primary_key
    }


def narrowing(queryset):
    """How ``queryset`` narrows the live records of its kind, as {field name: [values]} of fields with choices
    (the senior responsible owner among directors' appointments), or None when it narrows them otherwise
    (then the suggestions, which offer live records narrowed only so, would offer others)."""
    model = queryset.model
    fields = _choice_fields(model)
    lookups = {}  # as the queryset filters, to be compared with it
    for child in queryset.query.where.children:
        lhs, rhs = getattr(child, "lhs", None), getattr(child, "rhs", None)
        target = getattr(getattr(lhs, "target", None), "name", None)
        if target in fields and getattr(lhs, "alias", None) == model._meta.db_table:
            if child.lookup_name == "exact" and isinstance(rhs, (str, int)):
                lookups[f"{target}__exact"] = rhs
            elif child.lookup_name == "in" and isinstance(rhs, (list, tuple)):
                lookups[f"{target}__in"] = rhs
    try:
        if _pk_sql(queryset) != _pk_sql(model._default_manager.filter(**lookups)):
            return None
        return {
            name.rpartition("__")[0]: sorted(value, key=str) if name.endswith("__in") else [value]
            for name, value in lookups.items()
        }
    except Exception:  # a query that cannot be compiled here (an empty choice) is not compared
        return None


def _many(field, version):
    queryset = field.queryset
    limit = inline_limit()
    key = None
    if version is not None:
        sql, params = _pk_sql(queryset)
        key = (queryset.model._meta.label_lower, sql, repr(params), version, limit)
        if key in _MANY:
            return _MANY[key]
    many = len(queryset.order_by().values_list("pk", flat=True)[: limit + 1]) > limit
    if key is not None:
        if len(_MANY) >= _MANY_SIZE:
            _MANY.clear()
        _MANY[key] = many
    return many


def source_url(field, narrowed=None):
    """Where the script asks for the records of ``field``: the suggestions view, with the key the field sends
    and how the field narrows the records (``narrowing``)."""
    url = reverse("suggestions", args=[field.queryset.model._meta.label_lower])
    query = [("key", _key_name(field))]
    query += [(name, value) for name, values in sorted((narrowed or {}).items()) for value in values]
    return f"{url}?{urlencode(query)}"


def remote_source(field, version=None):
    """The suggestions' address when ``field`` draws only its chosen record, else None.

    Worked out once per field (a form's own copy); ``version`` (the data's version, when the caller has it)
    lets the count be kept between requests while nothing changed.
    """
    cached = getattr(field, "_remote_source", None)
    if cached is not None and cached[0] == inline_limit():
        return cached[1]
    url = None
    queryset = records_of(field)
    if (
        queryset is not None
        and not getattr(field.widget, "allow_multiple_selected", False)
        and field.widget.attrs.get("data-module") == "autocomplete"
        and suggestible(queryset.model)
        and (narrowed := narrowing(queryset)) is not None
        and _many(field, version)
    ):
        url = source_url(field, narrowed)
    field._remote_source = (inline_limit(), url)
    return url


def chosen_choices(bound_field):
    """A field drawn remotely: its empty choice and the chosen record (archived or not), as (value, text)."""
    field = bound_field.field
    choices = []
    if field.empty_label is not None:
        choices.append(("", field.empty_label))
    value = bound_field.value()
    if value in field.empty_values:
        return choices
    if isinstance(value, Model):
        record = value
    else:
        try:
            record = field.to_python(value)
        except ValidationError:
            return choices  # not a record: nothing chosen (the form says so)
    if record is not None:
        choices.append((str(field.prepare_value(record)), field.label_from_instance(record)))
    return choices


class BadQuery(Exception):
    pass


def _unique_key(model, name):
    if name == "pk":
        return "pk"
    try:
        field = model._meta.get_field(name)
    except Exception:
        raise BadQuery(f"key must be pk or a unique field of the record, not {name!r}.") from None
    if not field.concrete or field.is_relation or not (field.unique or field.primary_key):
        raise BadQuery(f"key must be pk or a unique field of the record, not {name!r}.")
    return name


@require_GET
def suggestions(request, model):
    """``/suggest/<app.model>/?q=urg&key=slug``: at most 20 live records matching ``q`` (as a list's search
    finds them), as [{"value": key, "label": text}], the key and text a field choosing them sends and shows.
    Other parameters name a field with choices and its values (``&role=national_director``): only records
    with one of those values are suggested, as the field offers them."""
    from django.apps import apps

    if model not in registry.autocomplete_models:
        return JsonResponse({"detail": "Not a kind of record chosen from a list."}, status=404)
    model_class = apps.get_model(model)
    filterset = _search(model_class)
    if filterset is None:
        return JsonResponse({"detail": "Not a kind of record chosen from a list."}, status=404)
    resource = _resource(model_class)
    try:
        resource.check_view(request.user)
    except PermissionDenied as refusal:
        return JsonResponse({"detail": str(refusal) or "You cannot see these records."}, status=403)
    q = request.GET.get("q", "")
    if len(q) > MAX_QUERY:
        return JsonResponse({"detail": f"q must be {MAX_QUERY} characters or fewer."}, status=400)
    if "\x00" in q:
        return JsonResponse({"detail": "q must be text."}, status=400)
    try:
        key = _unique_key(model_class, request.GET.get("key", "pk"))
    except BadQuery as problem:
        return JsonResponse({"detail": str(problem)}, status=400)
    queryset = model_class._default_manager.all()
    fields = _choice_fields(model_class)
    for name in request.GET:
        if name in ("q", "key"):
            continue
        values = request.GET.getlist(name)
        if name not in fields or len(values) > MAX_NARROWING:
            return JsonResponse({"detail": f"{name} does not narrow these records."}, status=400)
        queryset = queryset.filter(**{f"{name}__in": values})
    # What the record's text names (a person's appointment): read with it, not once per record.
    related = resource.list.queryset().query.select_related
    if related:
        queryset.query.select_related = related
    if q.strip():
        queryset = filterset(data={}, queryset=queryset, request=request).search(queryset, "q", q)
    else:
        queryset = queryset.order_by(*(model_class._meta.ordering or ["pk"]))
    records = list(queryset[:MAX_RESULTS])
    results = [
        {"value": str(record.pk if key == "pk" else getattr(record, key)), "label": str(record)} for record in records
    ]
    response = JsonResponse(results, safe=False)
    response["Cache-Control"] = "private, no-store"
    return response
