"""Deep pages of long lists: the order of the list's records kept per query and data version.

Page 300 of the workstreams (``OFFSET 14950``) makes PostgreSQL join and sort 15,000 rows in the list's
order to hand back 50, on every request, though the order only changes when the data does. So from the
page ``DEEP_OFFSET`` reaches onwards, the ids of the list in its order, up to the end of the page asked for
(in blocks of ``BLOCK``), are read once in one query and kept in this process under the query's SQL and
the data version of the tables the page is drawn from (``conditional.request_version``); the page is then
its 50 records read by id, with their related records, in the same query as before. A kept order is never
stale: any committed change to a table the page reads gives the page a new version, and so a new key
(docs/page-versions.md). When the kept ids are all the list's, they also give its count, so the count's
query is not made. A shallower page's count is kept the same way (``cached_count``): every page of a list
has the same count, so a crowd reading different pages of it counts once per change of the data, not per page.

Kept: at most ``MAX_LISTS`` orders, each of at most ``MAX_IDS`` ids (8 bytes each), per web process. Lists
with no version (an anonymous request, a version that cannot be read) are read as before.

A list ordered by a search's rank (``q``, best matches first) is a different case: PostgreSQL reads and ranks
every match to find the first 50 (carrying each match's full row and its related records' through the sort),
and the count read the matches again. Such a page's ids are chosen from the matches' ids and ranks, read once
and counted in the same query, then its 50 records are read by id (``ranked_page``). A search of a list of live
records with nothing else chosen, whose records' search documents say whether each is live (``Rank.documents``), is
read from those documents alone: its likeliest matches ranked and counted up to the cap, without the list's tables.
"""

from array import array
from collections import OrderedDict
from threading import Lock

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import F, OrderBy, prefetch_related_objects
from django.db.models.query import ModelIterable
from django.db.models.sql.where import WhereNode

from . import prefetch
from .filters import Rank

DEEP_OFFSET = 1_000  # from page 21 of 50 rows
# A list page (not the API's) from its third page: a filtered list's OFFSET (a region's workstreams) tests each row
# it passes, where the order kept per filter and version makes every later page 50 records by id.
PAGE_DEEP_OFFSET = 100
MAX_IDS = 50_000  # read at once (PostgreSQL sorts the whole list for a deep page anyway); deeper: OFFSET
MAX_LISTS = 32
MAX_COUNTS = 256  # counts kept (a few dozen bytes each): every list and filter a crowd reads, per version
RANK = "search_rank"  # ranked_page's name for the rank

_cached = OrderedDict()
_counts = OrderedDict()
_lock = Lock()


class CachedOrder:
    """The first ids of a list in its order; ``complete`` when they are all of its ids."""

    __slots__ = ("ids", "complete")

    def __init__(self, ids, complete):
        self.ids = ids
        self.complete = complete

    def covers(self, top):
        return self.complete or top <= len(self.ids)

    def count_up_to(self, limit):
        """How many records the list has, counted up to ``limit + 1``, or None when these ids cannot tell."""
        if self.complete or len(self.ids) > limit:
            return min(len(self.ids), limit + 1)
        return None


def _key(queryset, version):
    ids = queryset.values_list("pk", flat=True)
    try:
        sql, params = ids.query.sql_with_params()
    except EmptyResultSet:
        return None
    return (queryset.db, connections[queryset.db].settings_dict["NAME"], sql, repr(params), version)


def list_key(queryset, version, shape=None):
    """The key a list's kept order, count and estimate are kept under (its ids' SQL and the data version), or None.
    ``shape``: what alone decides the list's SQL (``compiled``), which is then compiled once per process."""
    if version is None:
        return None
    if shape is None:
        return _key(queryset, version)
    found = compiled(("key", shape), lambda: _key(queryset, None))
    return None if found is None else (*found[:-1], version)


def order_for(queryset, version, bottom, top, key=None, deep=None):
    """The kept order of ``queryset`` covering its records ``bottom`` to ``top``, read (and kept) when the page
    is deep (from ``DEEP_OFFSET``, or ``deep`` if less); None when the page is better read as before (no version,
    shallow, or past ``MAX_IDS``). ``key``: the list's ``list_key``, where it is already known."""
    if version is None or not getattr(queryset, "ordered", False) or read_from_documents(queryset):
        return None
    key = key or _key(queryset, version)
    if key is None:
        return None
    cached_order = _cache_get(key)
    if cached_order is not None and cached_order.covers(top):
        return cached_order
    if bottom < min(DEEP_OFFSET, deep if deep is not None else DEEP_OFFSET) or top > MAX_IDS:
        return None
    # A page made deep by ``deep`` keeps the first DEEP_OFFSET ids only (about what its count reads); a deeper page
    # reads the list's order anew, up to MAX_IDS, in its place.
    size = max(DEEP_OFFSET, top) if bottom < DEEP_OFFSET else MAX_IDS
    ids = array("q", queryset.values_list("pk", flat=True)[: size + 1])
    complete = len(ids) <= size
    if not complete:
        ids = ids[:size]
    return _cache_set(key, CachedOrder(ids, complete))


def _cache_get(key, store=_cached):
    """What is cached under ``key`` (now the most recently used), or None."""
    with _lock:
        value = store.get(key)
        if value is not None:
            store.move_to_end(key)
        return value


def _cache_set(key, value, store=_cached, size=MAX_LISTS):
    """Cache ``value`` under ``key``, forgetting the least recently used beyond ``size``; returns ``value``."""
    with _lock:
        store[key] = value
        store.move_to_end(key)
        while len(store) > size:
            store.popitem(last=False)
    return value


def cached_count(key, limit, count):
    """``count()`` (a list's rows up to ``limit + 1``), kept under the list's ``key`` (``list_key``: its query and
    data version) and the limit; counted each time when there is no key."""
    if key is None:
        return count()
    key = ("count", limit, *key)
    counted = _cache_get(key, _counts)
    return counted if counted is not None else _cache_set(key, count(), _counts, MAX_COUNTS)


def cached_estimate(queryset, version, estimate, key=None):
    """``estimate(queryset)`` (the planner's estimate of a long list's rows, which the API gives beyond the exact
    count's cap), kept as an order is, per query and data version: every page of a list shares one count, so
    a crowd reading different pages of it asks PostgreSQL for it once per change of the data, not per page.
    ``key``: the list's ``list_key`` (in its order or not: the same rows), where it is already known."""
    key = key or (_key(queryset, version) if version is not None else None)
    if key is None:
        return estimate(queryset)
    key = ("estimate", *key)
    estimated = _cache_get(key)
    return estimated if estimated is not None else _cache_set(key, estimate(queryset))


def rows(queryset, ids, read=None, shape=None, key=None):
    """The records of ``ids`` from ``queryset`` (its related records joined and prefetched), in that order; with
    ``read`` (ListConfig.values), its rows as ``read`` gives them (dicts with their "pk").

    ``shape`` (with ``read``): what alone decides the query's SQL, which is then compiled once per process
    (``compiled``) and read with these ``ids``. ``key`` (records, without ``read``): the list's ``list_key``, where
    it is known. Then the records' query is compiled once per process for the list's query and what each record is
    read with (``_rows_read``), its ids one array, and afterwards only read: building and compiling it again for
    each page cost more of an API list's time than making its records."""
    position = {pk: n for n, pk in enumerate(ids)}
    if read is not None and shape is not None and len(ids):
        reading = compiled(("rows", shape), lambda: ValuesByIds.of(read(queryset.order_by().prefetch_related(None))))
        if reading is not None:
            found = reading.rows(list(ids))
            found.sort(key=lambda row: position[row["pk"]])
            return found
    records_read = _rows_read(queryset, key) if read is None and key is not None else None
    if records_read is not None:
        found = records_read.records(list(ids))
        if queryset._prefetch_related_lookups:
            prefetch_related_objects(found, *queryset._prefetch_related_lookups)
    else:
        chosen = queryset.order_by().filter(pk__in=list(ids))
        if read is not None:
            found = list(read(chosen.prefetch_related(None)))
            found.sort(key=lambda row: position[row["pk"]])
            return found
        found = list(chosen)
    found.sort(key=lambda record: position[record.pk])
    return found


class _RowsRead:
    """A list's records by id: its query compiled once, with the ids one array (``= ANY(%s)``)."""

    __slots__ = ("read",)

    def __init__(self, read):
        self.read = read

    @classmethod
    def of(cls, queryset):
        """The reading of ``queryset``'s records by ids, or None when it cannot be compiled so."""
        chosen = queryset.order_by().prefetch_related(None).filter(pk__in=[0])  # made an ``= ANY`` of one array
        if not prefetch.keys_as_array(chosen.query):
            return None
        read = prefetch.Read(chosen)
        return None if read.sql is None else cls(read)

    def records(self, ids):
        read = self.read
        with connections[read.db].cursor() as cursor:
            cursor.execute(read.sql, read.bind({prefetch.KEYS: ids}))
            return read.instances(cursor.fetchall())


def _rows_read(queryset, key):
    """The compiled read of ``queryset``'s records by id (a ``_RowsRead``, kept by ``compiled``), or None where it
    is read as Django reads it. Kept under what decides its SQL: the list's ids' SQL and parameters (its tables,
    conditions and order, from ``key``), its model, and what each record is read with (related records joined,
    annotations, deferred fields); the annotations themselves are part of the key, so a kept read is never used for
    another list's."""
    query = queryset.query
    if (
        queryset._iterable_class is not ModelIterable
        or queryset._known_related_objects
        or query.combinator
        or query.distinct
        or query.extra
        or query.values_select
        or query.is_sliced
    ):
        return None
    try:
        shape = (
            "records",
            *key[:4],
            queryset.model,
            repr(query.select_related),
            tuple(query.annotations.items()),
            query.annotation_select_mask and tuple(sorted(query.annotation_select_mask)),
            repr(query.deferred_loading),
        )
        hash(shape)
    except TypeError:  # an annotation that cannot be told apart from another
        return None
    return compiled(shape, lambda: _RowsRead.of(queryset))


def clear():
    """Forget every kept order and count, and the SQL compiled once (tests)."""
    with _lock:
        _cached.clear()
        _counts.clear()
        _compiled.clear()


# A list's SQL compiled once per process, by what alone decides it: a kind of record's list whose queryset is the
# same every time (ListConfig.cache_sql), asked for with none of its filters, archived or not (its key, its rows as
# values by id); a list's records by id (``_rows_read``). Only SQL is kept, never a row: each reading asks the
# database. Few shapes (a few per list); the bound is against the unforeseen.
_compiled = {}
_COMPILED_MAX = 256
_UNCOMPILABLE = object()  # a shape that cannot be compiled once: read as Django reads it, each time


def compiled(shape, make):
    """What ``make()`` gives for ``shape`` (SQL, or a ``ValuesByIds``), made once per process; None when it cannot
    be made once (``make()`` gave None), so that the caller reads as Django does."""
    with _lock:
        found = _compiled.get(shape)
    if found is None:
        found = make()
        with _lock:
            if len(_compiled) >= _COMPILED_MAX:
                _compiled.clear()
            _compiled[shape] = _UNCOMPILABLE if found is None else found
    return None if found is _UNCOMPILABLE else found


class ValuesByIds:
    """A list's page of rows as ``values()`` (ListConfig.values) read by their ids, its SQL compiled once with the
    ids one array (``"id" = ANY(%s)``, nhs_joint/prefetch.py), then read with each page's ids: the same rows, with
    the same converters, as Django's ``values()`` gives."""

    def __init__(self, compiler, sql, params, names, db):
        self.compiler, self.sql, self.params, self.names, self.db = compiler, sql, params, names, db
        self.slots = [i for i, param in enumerate(params) if isinstance(param, prefetch.Param)]
        self.convert = prefetch.row_converter(compiler)

    @classmethod
    def of(cls, values):
        """The reading of ``values`` (a queryset of ``values()``) by ids, or None when it cannot be compiled so."""
        values = values.filter(pk__in=[0])  # made an ``= ANY`` of one array below
        query = values.query
        if not prefetch.keys_as_array(query):  # as a record's sections' keys are read
            return None
        compiler = query.get_compiler(using=values.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return None
        names = (
            list(query.selected)
            if query.selected
            else [*query.extra_select, *query.values_select, *query.annotation_select]
        )
        return cls(compiler, sql, list(params), names, values.db)

    def rows(self, ids):
        params = list(self.params)
        for i in self.slots:
            params[i] = ids
        with connections[self.db].cursor() as cursor:
            cursor.execute(self.sql, params)
            found = cursor.fetchall()
        names = self.names
        return [dict(zip(names, row, strict=True)) for row in self.convert(found)]


class RankedPage:
    """A page's records and the number of records in the whole list."""

    __slots__ = ("rows", "count")

    def __init__(self, rows, count):
        self.rows = rows
        self.count = count


def _rank_of(queryset):
    """The search's rank a list is ordered by (best first, then by key), or None if it is ordered otherwise."""
    order = getattr(getattr(queryset, "query", None), "order_by", ())
    if len(order) != 2 or not all(isinstance(item, OrderBy) for item in order):
        return None
    rank, key = order
    if not (isinstance(rank.expression, Rank) and rank.descending) or key.descending:
        return None
    if not (isinstance(key.expression, F) and key.expression.name == "pk"):
        return None
    return rank.expression


def read_from_documents(queryset):
    """Whether a list's search is read from its records' search documents alone (``Rank.documents``): every page
    of it then comes from ``ranked_page``, in the order the documents give, never from an order kept here."""
    rank = _rank_of(queryset)
    return rank is not None and rank.documents is not None and rank.documents.lists(queryset)


def ranked_page(queryset, bottom, top, read=None, limit=None):
    """The records ``bottom`` to ``top`` of a list ordered by a search's rank (PortalFilterSet.search), with the
    list's count; None when the list is not so ordered or the page has no records (then read as before).

    The matches' ids and ranks are read once (narrow rows, kept by PostgreSQL for the query), the page's ids
    chosen from them and the matches counted; then the page's records by their ids, with their related
    records, without matching them again.

    A list whose search can be answered by its records' search documents alone (``Rank.documents``: a list of live
    records with no other filter) has its page's ids and its count, up to past ``limit`` (the paginator's), read
    from them: its likeliest matches ranked, the rest only for a page past them (search.query.DocumentsPage). Its
    count is then exact only up to ``limit``."""
    rank = _rank_of(queryset)
    if rank is None:
        return None
    if limit is not None and read_from_documents(queryset):
        ids, count = rank.documents.page(bottom, top, limit)
        chosen = queryset.order_by()
        chosen.query.where = WhereNode()  # the records are those found, by their ids
        return RankedPage(rows(chosen, ids, read) if ids else [], count)
    found = queryset.order_by().annotate(**{RANK: rank}).values_list("pk", RANK)
    try:
        sql, params = found.query.sql_with_params()
    except EmptyResultSet:
        return None
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(
            f"WITH found (pk, rank) AS MATERIALIZED ({sql}) SELECT pk, (SELECT count(*) FROM found) FROM found"
            " ORDER BY rank DESC, pk LIMIT %s OFFSET %s",
            [*params, top - bottom, bottom],
        )
        page = cursor.fetchall()
    if not page:
        return None
    chosen = queryset.order_by()
    chosen.query.where = WhereNode()  # the records are those found, by their ids
    return RankedPage(rows(chosen, [pk for pk, _ in page], read), page[0][1])
