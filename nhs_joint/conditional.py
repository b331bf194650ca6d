"""Conditional GET for lists and record pages: an ETag from the data a page is drawn from, so that a
client that already holds the page is answered 304 before anything is read or drawn.

The data's version is the latest history entry of every kind of record the page can show: the
record's own kind and those it refers to, two steps out, and on a record's page those that refer to it. Every change
people make (edits, archiving, imports, lists of related records) writes a history entry, so any
change to what a page shows gives it a new tag. A page that may show a kind of record without a
history gets no tag and is always drawn. The tag also holds who asks (their session or token, so a
new sign-in or another person never shares a tag) and the address with its query.
"""

import hashlib
from functools import lru_cache

from django.db import connection
from django.utils.cache import get_conditional_response
from django.utils.http import quote_etag

from .history import has_history


def _neighbours(model, reverse):
    for field in model._meta.get_fields():
        target = getattr(field, "related_model", None)
        if not field.is_relation or target is None or isinstance(target, str):
            continue
        if field.auto_created and not field.concrete and not reverse:
            continue  # a relation from another kind of record to this one
        if target._meta.auto_created or target.__name__.startswith("Historical"):
            continue  # a many-to-many's own table (its ends are the records), or a history
        if target._meta.app_label in ("auth", "contenttypes", "sessions", "admin"):
            continue
        yield target


@lru_cache(maxsize=256)
def related_models(model, detail=False):
    """What a page of ``model`` can show: the record and what it refers to, two steps out; with ``detail``
    also the records that refer to it, and what those refer to."""
    first = {model, *_neighbours(model, reverse=detail)}
    second = {target for current in first for target in _neighbours(current, reverse=False)}
    return frozenset(first | second)


@lru_cache(maxsize=256)
def _version_sql(models):
    """The query of ``data_version`` for a frozenset of models (worked out once: reaching a model's
    history manager builds a class each time), or None when one of them keeps no history."""
    tables = set()
    for model in models:
        if not has_history(model):
            return None
        tables.add(model.history.model._meta.db_table)
    if not tables:
        return None
    quote = connection.ops.quote_name
    return " UNION ALL ".join(f"(SELECT max(history_id) FROM {quote(t)})" for t in sorted(tables))


def data_version(models):
    """One query: the latest history id of each of ``models``; None when one of them keeps no history."""
    sql = _version_sql(frozenset(models))
    if sql is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return tuple(row[0] for row in cursor.fetchall())


def who(request):
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    if key:
        return f"session:{key}"
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    return f"auth:{hashlib.sha256(auth.encode()).hexdigest()}" if auth else ""


def etag_for(request, models, *extra):
    """The page's ETag, or None when it cannot have one (an anonymous request, a kind without history)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    version = data_version(models)
    if version is None:
        return None
    # The user's roles and bodies decide the navigation and the buttons a page offers.
    parts = (
        who(request),
        user.pk,
        sorted(getattr(user, "roles", ())),
        sorted(getattr(user, "body_ids", ()) or ()),
        getattr(user, "region_id", None),
        request.get_full_path(),
        version,
        *extra,
    )
    return quote_etag(hashlib.sha256(repr(parts).encode()).hexdigest()[:32])


def has_pending_messages(request):
    storage = getattr(request, "_messages", None)
    return storage is not None and len(storage) > 0


def respond(request, models, draw, *extra):
    """``draw()``'s response with an ETag, or 304 Not Modified when the client's copy is current."""
    if request.method not in ("GET", "HEAD") or has_pending_messages(request):
        return draw()
    etag = etag_for(request, models, *extra)
    if etag is None:
        return draw()
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        return not_modified
    response = draw()
    if response.status_code == 200 and not response.has_header("ETag"):
        response["ETag"] = etag
        response["Cache-Control"] = "private, no-cache"
    return response
