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

Compiling a query is most of what a query costs Python: a record's page of six sections and four panels spent
more of its time building SQL than drawing. The queries of a page have the same shape for every record; only
their values differ. So their SQL is **cached**: built and compiled once per process, then read with each record's
values (``Param``), as a prepared statement is. ``get(...)`` reads one record so, ``prefetch_together(...,
cached=True)`` its sections (the records' keys one array, ``= ANY(%s)``, so that the SQL is the same however many
there are), and ``cached_query(build, **values)`` any other query (a page's panels). Only SQL is cached, never a
row: what is read is always what the database holds.
"""

import copy
import datetime as dt
import json
import uuid
from decimal import Decimal

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Expression, Prefetch, prefetch_related_objects
from django.db.models.expressions import Col
from django.db.models.fields.related_descriptors import (
    ManyToManyDescriptor,
    ReverseManyToOneDescriptor,
    _filter_prefetch_queryset,
)
from django.db.models.lookups import In, Lookup
from django.db.models.manager import BaseManager
from django.db.models.query import (
    MAX_GET_RESULTS,
    ModelIterable,
    get_prefetcher,
    get_related_populators,
    normalize_prefetch_lookups,
)
from django.db.models.sql.where import WhereNode
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property

from .archive import LiveManager, archived_included

# Whole-number fields: a key of these is sent as one array of integers (``= ANY(%s)``).
_INTEGER_KEYS = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "PositiveBigIntegerField",
}

# How a column's value comes back in JSON, by the internal type of its field: as JSON gives it (numbers, text,
# booleans, lists of text), or as text turned back into what psycopg2 would have given.
_AS_JSON = _INTEGER_KEYS | {
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


class Param(Expression):
    """A value a cached query is given each time it is read: one placeholder in its SQL, given a value as it is
    (already what the column holds: an id, a text)."""

    def __init__(self, name, output_field=None):
        super().__init__(output_field=output_field)
        self.name = name

    def __repr__(self):
        return f"Param({self.name!r})"

    def as_sql(self, compiler, connection):
        return "%s", [self]


_KEYS = "keys"  # the Param of a section's records' keys


class _AnyOf(Lookup):
    """``column = ANY(%s)``: the records' keys as one array, so that a lookup's SQL is the same however many
    records it is read for (made in place of the ``in`` Django's prefetch adds; never registered)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        sql, params = self.process_lhs(compiler, connection)
        return f"{sql} = ANY(%s)", (*params, self.rhs)


def _keys_as_array(query):
    """The ``in`` of the records' keys that Django's prefetch added last to ``query``'s conditions, made an
    ``= ANY`` of one array (a Param): True, or False when it is not one that can be cached (a list sliced per record,
    keys of several columns or not whole numbers)."""
    node = query.where
    while node.children and isinstance(node.children[-1], WhereNode):
        last = node.children[-1]
        if last.negated or len(last.children) != 1:
            return False
        node = last
    last = node.children[-1] if node.children else None
    if node.negated or not isinstance(last, In) or not isinstance(last.lhs, Col):
        return False
    field = last.lhs.output_field
    while field.is_relation and getattr(field, "target_field", None) is not None:
        field = field.target_field
    if field.get_internal_type() not in _INTEGER_KEYS:
        return False
    node.children[-1] = _AnyOf(last.lhs, Param(_KEYS))
    return True


# What is cached: each query's shape, compiled, by what decides it (the function or lookup that builds it, whether
# archived records are included). Shapes are few (a kind of record's lookups and panels); the bound only stops
# an unforeseen variety of them from growing without end.
_CACHED = {}
_CACHED_MAX = 1024
_UNCACHEABLE = object()  # a shape that cannot be cached: built and compiled each time, as Django does


def _cached_shape(key, make):
    shape = _CACHED.get(key)
    if shape is None:
        if len(_CACHED) >= _CACHED_MAX:
            _CACHED.clear()
        shape = make()
        _CACHED[key] = _UNCACHEABLE if shape is None else shape
    return shape


def row_converter(compiler):
    """What ``compiler.results_iter(results=[rows])`` does to the rows its SQL reads (each column's converters from
    the database's values), worked out once for a query compiled once, rather than on every reading."""
    fields = [selected[0] for selected in compiler.select[0 : compiler.col_count]]
    if compiler.has_composite_fields(fields):
        return lambda rows: compiler.results_iter(results=[rows])
    converters = compiler.get_converters(fields)
    if not converters:
        return lambda rows: rows
    return lambda rows: compiler.apply_converters(rows, converters)


class _Read:
    """One queryset's rows: compiled (once, when it is cached), then its rows made into records."""

    def __init__(self, queryset):
        self.model, self.db = queryset.model, queryset.db
        self.compiler = queryset.query.get_compiler(using=self.db)
        self.kinds, self.slots = [], []
        try:
            self.sql, self.params = self.compiler.as_sql()
        except EmptyResultSet:
            self.sql, self.params = None, ()
            return
        self.kinds = [_kind(expression) for expression, _, _ in self.compiler.select]
        self.slots = [(i, param.name) for i, param in enumerate(self.params) if isinstance(param, Param)]
        self.convert = row_converter(self.compiler)

    @property
    def readable(self):
        return self.sql is None or all(kind is not None for kind in self.kinds)

    def bind(self, values):
        """The query's parameters with each Param given its value from ``values``."""
        if not self.slots:
            return self.params
        params = list(self.params)
        for i, name in self.slots:
            params[i] = values[name]
        return params

    @cached_property
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
        return self.instances(rows)

    def instances(self, rows):
        """The rows (as the database driver gives them) made into records, as Django's ModelIterable makes them."""
        compiler, db = self.compiler, self.db
        select, klass_info, annotation_col_map = compiler.select, compiler.klass_info, compiler.annotation_col_map
        model_cls = klass_info["model"]
        select_fields = klass_info["select_fields"]
        start, end = select_fields[0], select_fields[-1] + 1
        init_list = [f[0].target.attname for f in select[start:end]]
        populators = get_related_populators(klass_info, select, db)
        records = []
        for row in self.convert(rows):
            obj = model_cls.from_db(db, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for attr_name, col_pos in (annotation_col_map or {}).items():
                setattr(obj, attr_name, row[col_pos])
            records.append(obj)
        return records


# A list's records read by id (nhs_joint/page_ids.py, ``rows``) are compiled once as a section's records are: the
# same reading of rows into records, and the same array of keys.
Read, KEYS, keys_as_array = _Read, _KEYS, _keys_as_array


class CachedQuery:
    """A cached query and this reading's values (what ``cached_query`` gives), for ``prefetch_together(also=...)``."""

    __slots__ = ("read", "params")

    def __init__(self, read, params):
        self.read, self.params = read, params


def _once(queryset):
    """A queryset compiled for this reading only."""
    read = _Read(queryset)
    return CachedQuery(read, read.params)


def _cacheable(function):
    """Whether a function is one of a module's (the same object every time), not one made per call."""
    return "<locals>" not in getattr(function, "__qualname__", "<locals>")


def cached_query(build, **values):
    """The queryset ``build(**values)``, for ``prefetch_together(also=...)``: built and compiled once per process
    with each value a ``Param``, then read with these ``values``. ``build`` is a module's function whose
    queryset depends on nothing but its parameters, each used only as a value to compare a column with."""
    if not _cacheable(build):
        return _once(build(**values))
    key = ("query", build, tuple(sorted(values)), archived_included())
    read = _cached_shape(key, lambda: _Read(build(**{name: Param(name) for name in values})))
    return CachedQuery(read, read.bind(values))


class _Get:
    """``queryset.get(**where)`` without its prefetch lookups, compiled with each value a Param."""

    def __init__(self, queryset, names):
        self.lookups = queryset._prefetch_related_lookups
        queryset = queryset.prefetch_related(None).filter(**{name: Param(name) for name in names})
        if queryset.query.can_filter() and not queryset.query.distinct_fields:
            queryset = queryset.order_by()
        queryset.query.set_limits(high=MAX_GET_RESULTS)
        self.conditions = {name: _condition(queryset.query.where, name) for name in names}
        self.read = _Read(queryset)

    @property
    def cacheable(self):
        return self.read.sql is not None and all(node is not None for node in self.conditions.values())

    def get(self, where):
        model, connection = self.read.model, connections[self.read.db]
        values = {}
        for name, value in where.items():
            node = self.conditions[name]
            try:  # the value prepared as the lookup prepares it (a number from the address's text ...)
                _sql, params = type(node)(node.lhs, value).process_rhs(self.read.compiler, connection)
            except EmptyResultSet:  # a number no column of its type holds
                raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.") from None
            values[name] = params[0]
        with connection.cursor() as cursor:
            cursor.execute(self.read.sql, self.read.bind(values))
            records = self.read.instances(cursor.fetchall())
        if len(records) == 1:
            return records[0]
        if not records:
            raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
        raise model.MultipleObjectsReturned(f"get() returned more than one {model._meta.object_name}.")


def _condition(where, name):
    """The lookup of ``where`` that compares a column with the Param ``name`` (one, at the top level), or None."""
    found = [node for node in where.children if isinstance(node, Lookup) and getattr(node.rhs, "name", None) == name]
    return found[0] if len(found) == 1 and not where.negated and where.connector == "AND" else None


def get(queryset_of, **where):
    """``(record, lookups)``: ``queryset_of().get(**where)`` read without its prefetch lookups, and those lookups
    (for ``prefetch_together(..., cached=True)``). The queryset is made and compiled once per process (and whether
    archived records are included), then each record only read: ``queryset_of`` is a module's function that
    gives the same queryset every time (no date, no setting, no person in it); each key of ``where`` a field of
    the record (no lookup through a relation). Raises DoesNotExist or ValueError as ``get`` does."""
    if _cacheable(queryset_of) and all("__" not in name and value is not None for name, value in where.items()):
        key = ("get", queryset_of, tuple(sorted(where)), archived_included())
        shape = _cached_shape(key, lambda: _cacheable_get(queryset_of(), where))
        if shape is not _UNCACHEABLE:
            return shape.get(where), shape.lookups
    queryset = queryset_of()
    return queryset.prefetch_related(None).get(**where), queryset._prefetch_related_lookups


def _cacheable_get(queryset, where):
    if (
        queryset._iterable_class is not ModelIterable
        or queryset._known_related_objects
        or queryset.query.combinator
        or queryset.query.select_for_update
    ):
        return None
    shape = _Get(queryset, list(where))
    return shape if shape.cacheable else None


class _Shape:
    """How a one-step lookup is read and its rows stored: made for one reading, or, cached, once per process
    with the records' keys a Param."""

    def __init__(self, instances, lookup, prefetcher, descriptor, cache=False):
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
        self.additional = list(getattr(queryset, "_prefetch_related_lookups", ()))
        if self.additional:
            queryset._prefetch_related_lookups = ()
        if cache:
            self.cacheable = _keys_as_array(queryset.query)
            if not self.cacheable:
                return
        self.read = _Read(queryset)


class _Lookup:
    """A one-step lookup on a list of records, as prefetch_one_level reads and stores it."""

    def __init__(self, instances, lookup, shape, cached=False):
        self.instances = instances
        self.lookup = lookup
        self.shape = shape
        self.read = shape.read
        self.additional = [copy.copy(more) for more in shape.additional]
        if not cached:
            self.params = shape.read.params
            return
        keys = [key for key in (shape.instance_attr(obj)[0] for obj in instances) if key is not None]
        self.params = shape.read.bind({_KEYS: keys}) if keys else None  # None: nothing to read

    def store(self, text):
        """The rows read put in each record's cache, as prefetch_one_level puts them; the rows returned."""
        shape = self.shape
        related = self.read.records(text) if self.params is not None else []
        if shape.reverse_key:
            field = shape.field
            by_key = {shape.instance_attr(instance): instance for instance in self.instances}
            for rel_obj in related:
                if not field.is_cached(rel_obj):
                    field.set_cached_value(rel_obj, by_key[shape.rel_obj_attr(rel_obj)])
        rel_obj_cache = {}
        for rel_obj in related:
            rel_obj_cache.setdefault(shape.rel_obj_attr(rel_obj), []).append(rel_obj)
        lookup = self.lookup
        to_attr, as_attr = lookup.get_current_to_attr(0)
        for obj in self.instances:
            vals = rel_obj_cache.get(shape.instance_attr(obj), [])
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
                obj._prefetched_objects_cache[shape.cache_name] = qs
        return related


def prefetch_together(instances, lookups, using="default", also=(), cached=False):
    """``prefetch_related_objects(instances, *lookups)``, each level's lookups read in one query; the querysets
    ``also`` (or ``CachedQuery`` queries) are read in the first of them (a page's other parts), and their records
    returned, in order. ``cached``: the lookups are the same objects each time (``get``'s), and their SQL is cached."""
    pending = [(list(instances), lookup) for lookup in normalize_prefetch_lookups(lookups)]
    others = [other if isinstance(other, CachedQuery) else _once(other) for other in also]
    for other in others:
        if not other.read.readable:
            raise ValueError(f"{other.read.model.__name__}: a column prefetch_together cannot read")
    first = True
    while pending or first:
        batch, by_django = _this_level(pending, cached)
        reads = [(one.read, one.params) for one in batch]
        if first:
            reads += [(other.read, other.params) for other in others]
        texts = _read_together(using, reads)
        if first:
            found = [other.read.records(text) for other, text in zip(others, texts[len(batch) :], strict=True)]
            first = False
        pending = []
        for one, text in zip(batch, texts, strict=False):
            related = one.store(text)
            pending += [(related, more) for more in normalize_prefetch_lookups(one.additional)]
        for objs, lookup in by_django:
            prefetch_related_objects(objs, lookup)
    return found


def _this_level(pending, cached):
    """The level's lookups as (reads made together, lookups left to Django's own prefetch), each once."""
    batch, by_django, seen = [], [], set()
    for objs, lookup in pending:
        key = (id(objs), lookup.prefetch_to)
        if not objs or key in seen:
            continue
        seen.add(key)
        one = _one_step(objs, lookup, cached)
        if one is None or not one.read.readable:
            by_django.append((objs, lookup))
        else:
            batch.append(one)
    return batch, by_django


def _read_together(using, reads):
    """Each (read, parameters)'s JSON text, in one query: a list in their order ("[]" for those with nothing to
    read)."""
    wanted = [(read, params) for read, params in reads if read.sql is not None and params is not None]
    if not wanted:
        return ["[]"] * len(reads)
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT " + ", ".join(read.subquery for read, _ in wanted),
            [param for _, params in wanted for param in params],
        )
        texts = iter(cursor.fetchone())
    return [next(texts) if read.sql is not None and params is not None else "[]" for read, params in reads]


def _one_step(objs, lookup, cached=False):
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
    if cached:
        key = (type(objs[0]), through_attr, to_attr, lookup.queryset, archived_included(), objs[0]._state.db)
        shape = _cached_shape(key, lambda: _cached_lookup(objs, lookup, prefetcher, descriptor))
        if shape is not _UNCACHEABLE:
            return _Lookup(objs, lookup, shape, cached=True)
    return _Lookup(objs, lookup, _Shape(objs, lookup, prefetcher, descriptor))


# Managers whose queryset depends on nothing but whether archived records are included (part of the key).
_PLAIN_QUERYSETS = {BaseManager.get_queryset, LiveManager.get_queryset}


def _cached_lookup(objs, lookup, prefetcher, descriptor):
    if lookup.queryset is None:  # read through the related model's manager: cached only when that is plain
        manager_queryset = super(type(prefetcher), prefetcher).get_queryset
        if getattr(manager_queryset, "__func__", None) not in _PLAIN_QUERYSETS:
            return None
    shape = _Shape(objs, lookup, prefetcher, descriptor, cache=True)
    return shape if shape.cacheable else None
