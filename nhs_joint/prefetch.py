"""A record's related rows read together: ``prefetch_related_objects`` with each level's queries sent to
PostgreSQL as one statement.

A record's page reads the record, then the rows of each of its sections (a programme's approvals, workstreams,
regional delivery, expectations, agreed measures), then what those rows list (each workstream's regions). Django
sends one query per lookup, and each query is a round trip: a few milliseconds each when the machine is busy,
more than the page's Python. Here the lookups of one level are compiled as Django would compile them and sent as
one statement, each as a JSON array of its rows, and the rows are made into records and put in the caches
exactly as ``prefetch_related_objects`` would: a page of nine lookups over two levels costs two queries.

Reverse foreign keys and many-to-many relations, one step at a time (``Prefetch`` objects with their own
querysets and ``to_attr`` included) are read this way; any other lookup (a forward key, a generic relation, a
lookup through several relations at once, a column type not listed in ``_JSON_TYPES``) is left to Django's
own ``prefetch_related_objects``, which gives the same result in its own queries.
"""

import copy
import datetime as dt
import json
import uuid
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Prefetch, prefetch_related_objects
from django.db.models.fields.related_descriptors import (
    ManyToManyDescriptor,
    ReverseManyToOneDescriptor,
    _filter_prefetch_queryset,
)
from django.db.models.query import get_prefetcher, get_related_populators, normalize_prefetch_lookups
from django.utils.dateparse import parse_datetime

# How a column's value comes back in JSON, by the internal type of its field: as JSON gives it (numbers, text,
# booleans, lists of text), or as text turned back into what psycopg2 would have given.
_AS_JSON = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "PositiveBigIntegerField",
    "BooleanField",
    "CharField",
    "TextField",
    "SlugField",
    "EmailField",
    "URLField",
    "FileField",
    "FilePathField",
    "GenericIPAddressField",
}


def _datetime(text):
    value = parse_datetime(text)
    return value.astimezone(dt.UTC) if value.tzinfo is not None else value


_FROM_TEXT = {
    "DecimalField": Decimal,
    "FloatField": float,
    "DateField": dt.date.fromisoformat,
    "DateTimeField": _datetime,
    "TimeField": dt.time.fromisoformat,
    "UUIDField": uuid.UUID,
    "JSONField": str,  # the field's own converter reads the text, as it reads psycopg2's
}


def _kind(expression):
    """How a selected column is read back ("json", or a function of its text), or None when it cannot be."""
    try:
        field = expression.output_field
    except Exception:  # an extra select (a many-to-many's key): an integer, as JSON gives it
        return "json"
    while field.is_relation and getattr(field, "target_field", None) is not None:
        field = field.target_field
    internal = field.get_internal_type()
    if internal in _AS_JSON:
        return "json"
    if internal in _FROM_TEXT:
        return _FROM_TEXT[internal]
    if internal == "ArrayField" and field.base_field.get_internal_type() in _AS_JSON:
        return "json"
    if type(field).__name__ == "Field":  # an extra select without a type: as JSON gives it
        return "json"
    return None


class _Read:
    """One lookup's rows: its queryset compiled, then its rows made into records."""

    def __init__(self, queryset):
        self.queryset = queryset
        self.compiler = queryset.query.get_compiler(using=queryset.db)
        try:
            self.sql, self.params = self.compiler.as_sql()
        except EmptyResultSet:
            self.sql = None
            return
        self.kinds = [_kind(expression) for expression, _, _ in self.compiler.select]

    @property
    def readable(self):
        return self.sql is None or all(kind is not None for kind in self.kinds)

    def subquery(self):
        """The rows as one JSON array of arrays, in the queryset's order (an aggregate over a sorted subquery
        keeps its order)."""
        names = [f"c{i}" for i in range(len(self.kinds))]
        values = ", ".join(
            f"q.{name}" if kind == "json" else f"q.{name}::text" for name, kind in zip(names, self.kinds)
        )
        return (
            f"(SELECT coalesce(json_agg(json_build_array({values})), '[]')::text FROM ({self.sql}) AS q "
            f"({', '.join(names)}))"
        )

    def records(self, text):
        if self.sql is None:
            return []
        kinds = self.kinds
        rows = [
            tuple(
                value if kind == "json" or value is None else kind(value)
                for kind, value in zip(kinds, row, strict=True)
            )
            for row in json.loads(text)
        ]
        compiler, queryset = self.compiler, self.queryset
        db = queryset.db
        select, klass_info, annotation_col_map = compiler.select, compiler.klass_info, compiler.annotation_col_map
        model_cls = klass_info["model"]
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        init_list = [f[0].target.attname for f in select[start:end]]
        populators = get_related_populators(klass_info, select, db)
        records = []
        for row in compiler.results_iter(results=[rows]):
            obj = model_cls.from_db(db, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for attr_name, col_pos in (annotation_col_map or {}).items():
                setattr(obj, attr_name, row[col_pos])
            records.append(obj)
        return records


class _Lookup:
    """A one-step lookup on a list of records, as prefetch_one_level reads and stores it."""

    def __init__(self, instances, lookup, prefetcher, descriptor):
        self.instances = instances
        self.lookup = lookup
        querysets = lookup.get_current_querysets(0)
        self.reverse_key = not isinstance(descriptor, ManyToManyDescriptor)
        if self.reverse_key:
            # What RelatedManager.get_prefetch_querysets does, but without reading the rows.
            field = prefetcher.field
            queryset = querysets[0] if querysets else super(type(prefetcher), prefetcher).get_queryset()
            queryset._add_hints(instance=instances[0])
            queryset = queryset.using(queryset._db or prefetcher._db)
            queryset = _filter_prefetch_queryset(queryset, field.name, instances)
            self.field = field
            self.rel_obj_attr = field.get_local_related_value
            self.instance_attr = field.get_foreign_related_value
            self.cache_name = field.remote_field.cache_name
        else:
            queryset, self.rel_obj_attr, self.instance_attr, _single, self.cache_name, _is_descriptor = (
                prefetcher.get_prefetch_querysets(instances, querysets)
            )
        self.additional = [copy.copy(more) for more in getattr(queryset, "_prefetch_related_lookups", ())]
        if self.additional:
            queryset._prefetch_related_lookups = ()
        self.read = _Read(queryset)

    def store(self, text):
        """The rows read put in each record's cache, as prefetch_one_level puts them; the rows returned."""
        related = self.read.records(text)
        if self.reverse_key:
            by_key = {self.instance_attr(instance): instance for instance in self.instances}
            for rel_obj in related:
                if not self.field.is_cached(rel_obj):
                    self.field.set_cached_value(rel_obj, by_key[self.rel_obj_attr(rel_obj)])
        rel_obj_cache = {}
        for rel_obj in related:
            rel_obj_cache.setdefault(self.rel_obj_attr(rel_obj), []).append(rel_obj)
        lookup = self.lookup
        to_attr, as_attr = lookup.get_current_to_attr(0)
        for obj in self.instances:
            vals = rel_obj_cache.get(self.instance_attr(obj), [])
            if as_attr:
                setattr(obj, to_attr, vals)
            else:
                manager = getattr(obj, to_attr)
                qs = (
                    manager._apply_rel_filters(lookup.queryset)
                    if lookup.queryset is not None
                    else manager.get_queryset()
                )
                qs._result_cache = vals
                qs._prefetch_done = True
                obj._prefetched_objects_cache[self.cache_name] = qs
        return related


def prefetch_together(instances, lookups, using="default", also=()):
    """``prefetch_related_objects(instances, *lookups)``, each level's lookups read in one query; the querysets
    ``also`` are read in the first of them (a page's other parts), and their records returned, in order."""
    pending = [(list(instances), lookup) for lookup in normalize_prefetch_lookups(lookups)]
    others = [_Read(queryset) for queryset in also]
    for other in others:
        if not other.readable:
            raise ValueError(f"{other.queryset.model.__name__}: a column prefetch_together cannot read")
    first = True
    while pending or first:
        batch, by_django = _this_level(pending)
        texts = _read_together(using, [one.read for one in batch] + (others if first else []))
        if first:
            found = [other.records(texts.get(id(other), "[]")) for other in others]
            first = False
        pending = []
        for one in batch:
            related = one.store(texts.get(id(one.read), "[]"))
            pending += [(related, more) for more in normalize_prefetch_lookups(one.additional)]
        for objs, lookup in by_django:
            prefetch_related_objects(objs, lookup)
    return found


def _this_level(pending):
    """The level's lookups as (reads made together, lookups left to Django's own prefetch), each once."""
    batch, by_django, seen = [], [], set()
    for objs, lookup in pending:
        key = (id(objs), lookup.prefetch_to)
        if not objs or key in seen:
            continue
        seen.add(key)
        one = _one_step(objs, lookup)
        if one is None or not one.read.readable:
            by_django.append((objs, lookup))
        else:
            batch.append(one)
    return batch, by_django


def _read_together(using, reads):
    """Every read's JSON text in one query: {id(read): text}."""
    reads = [read for read in reads if read.sql is not None]
    if not reads:
        return {}
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join(read.subquery() for read in reads),
            [param for read in reads for param in read.params],
        )
        return dict(zip(map(id, reads), cursor.fetchone(), strict=True))


def _one_step(objs, lookup):
    """The lookup as one read, or None when it is not a one-step reverse key or many-to-many (or is done)."""
    if not isinstance(lookup, Prefetch) or "__" in lookup.prefetch_through:
        return None
    for obj in objs:
        if not hasattr(obj, "_prefetched_objects_cache"):
            try:
                obj._prefetched_objects_cache = {}
            except (AttributeError, TypeError):
                return None
    through_attr = lookup.prefetch_through
    to_attr = lookup.get_current_to_attr(0)[0]
    prefetcher, descriptor, attr_found, is_fetched = get_prefetcher(objs[0], through_attr, to_attr)
    if prefetcher is None or not attr_found or not isinstance(descriptor, ReverseManyToOneDescriptor):
        return None
    to_fetch = [obj for obj in objs if not is_fetched(obj)]
    if len(to_fetch) != len(objs):
        return None
    return _Lookup(objs, lookup, prefetcher, descriptor)
