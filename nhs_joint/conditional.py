"""Conditional GET for lists and record pages: an ETag from the data a page is drawn from, so that a
client that already holds the page is answered 304 before anything is read or drawn, and a page kept
under that tag, so that asking again before anything changed is answered from the kept drawing.

The data's version is the version of every table the page is drawn from (nhs_joint/versions): the record's
own kind and those it refers to, two steps out, and on a record's page those that refer to it, with their
many-to-many and history tables. PostgreSQL gives a table a new version when a transaction that changed it
commits, in commit order, whatever wrote it (the ORM, bulk operations, raw SQL, imports, report runs, another
process), so any committed change to what a page shows gives it a new tag; tests/test_page_versions.py draws
every registered page and checks that each table it reads is one its version covers. The tag also holds who
asks (their session or token, so a new sign-in or another person never shares a tag) and the address with its
query. What a page shows of the person asking (the header's unread notifications) is added to the tag by the
app that shows it (``registry.page_versions``). A version that cannot be read means the page is drawn.

The kept drawings (the "pages" cache, for PAGE_CACHE_SECONDS) are keyed by the tag, so they are never
shared between people or sign-ins, plus what else the drawing depends on: the response format asked for,
the browser's CSRF secret (forms carry tokens made from it) and the day. Each drawing's CSP nonce is
replaced by a new one whenever it is served, so no two responses share a nonce. A page drawn with
messages to show, or that set a cookie or changed the session, is never kept.
"""

import hashlib
import logging
from contextvars import ContextVar
from functools import lru_cache

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.template.response import SimpleTemplateResponse
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import quote_etag

from .history import has_history
from .registry import registry
from .versions.triggers import VERSION_BUMP

# What stands for the CSP nonce in a kept drawing (never valid in a page: it holds NUL bytes).
NONCE_MARK = b"\x00nonce\x00"

logger = logging.getLogger(__name__)


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
def tables_of(models):
    """The tables a page drawn from ``models`` (a frozenset) reads, sorted: each one's own table, its
    many-to-many tables and its history."""
    from django.contrib.contenttypes.models import ContentType

    tables = {ContentType._meta.db_table}  # how records of any kind are named (comments, watches, findings)
    for model in models:
        meta = model._meta
        tables.add(meta.db_table)
        tables.update(field.remote_field.through._meta.db_table for field in meta.local_many_to_many)
        if has_history(model):
            tables.add(model.history.model._meta.db_table)
    return tuple(sorted(tables))


@lru_cache(maxsize=1)
def person_tables():
    """The tables of who is asking (the user model, its roles and bodies, what it refers to): what a page's header
    shows of them is drawn again when one of these changes (nhs_joint/jinja2.py, KeptLayout)."""
    from django.contrib.auth import get_user_model

    return tables_of(related_models(get_user_model()))


# The versions of a set of tables (nhs_joint/versions): each is a number from one sequence, given when a
# transaction that changed the table commits, so the list changes whenever one of the tables does.
VERSION_SQL = (
    "SELECT coalesce(array_agg(version ORDER BY version), '{}') FROM portal_data_version WHERE table_name = ANY(%s)"
)


class Known:
    """Every table's data version and what the apps add for one person (``registry.page_versions``), read in the
    same query as who is asking (accounts: the session with its person, or the API token with its person), so
    that a page's version costs no query of its own. Read before the page is drawn, as the version always is."""

    __slots__ = ("versions", "parts", "user_id")

    def __init__(self, versions, parts, user_id):
        self.versions = versions  # {table: version}
        self.parts = parts  # {part: value}, in the order of registry.page_versions
        self.user_id = user_id

    def version_of_tables(self, tables):
        """The versions of ``tables``, as VERSION_SQL gives them: those that have one, in order."""
        versions = self.versions
        return tuple(sorted(versions[table] for table in tables if table in versions))


# The columns ``known_columns`` adds: every table's name and version (in the tables' order), then each part.
KNOWN_SQL = (
    "ARRAY(SELECT table_name FROM portal_data_version ORDER BY table_name), "
    "ARRAY(SELECT version FROM portal_data_version ORDER BY table_name)"
)


def known_columns(person):
    """The columns of a query that reads who is asking which give its ``Known`` (read by ``known_from``): every
    table's version, and each of ``registry.page_versions`` for the person whose id is ``person`` (SQL).

    Such a query is read with ``read_known``."""
    return ", ".join([KNOWN_SQL, *(f"({part(person)})" for part in registry.page_versions)])


# Inside a transaction, a query that may fail is preceded by this savepoint, in the same statement.
SAVEPOINT = "portal_known"


def read_known(sql, params):
    """The rows of ``sql``, a query of who is asking with ``known_columns``, or None when it cannot be read (a
    version that cannot be read, a part that fails): then who is asking is read as Django reads it, and the
    page's version on its own (``data_version``), so that the page is drawn all the same.

    Inside a transaction that may have written (a test, a view that reads after its own save), its changes are
    numbered first, as ``data_version`` numbers them, and the query starts with a savepoint (in the same
    statement, so no round trip of its own) to which a failure is rolled back, so that the transaction goes on.
    The database away fails the reads that follow, as it fails any query."""
    return _read_or_none(sql, params, "Who is asking cannot be read with the data's version; reading them apart.")


def _read_or_none(sql, params, warning):
    inside = connection.in_atomic_block
    if inside:
        sql = f"SAVEPOINT {SAVEPOINT}; SET CONSTRAINTS {VERSION_BUMP} IMMEDIATE; {sql}"
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            # Read, the savepoint is left to the transaction, which releases it when it ends (or Django's own
            # savepoint before it does): releasing it now would cost every request a round trip.
            return cursor.fetchall()
    except DatabaseError as error:
        if inside:
            try:
                with connection.cursor() as cursor:
                    cursor.execute(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}; RELEASE SAVEPOINT {SAVEPOINT}")
            except DatabaseError:
                raise error from None  # the transaction cannot go on (the database is away): as any query
        logger.warning(warning, exc_info=True)
        return None


def known_width():
    """How many values ``known_columns`` gives."""
    return 2 + len(registry.page_versions)


def known_from(values, user_id):
    """The ``Known`` of the values ``known_columns`` gave, for the person ``user_id``."""
    tables, versions, *parts = values
    return Known(
        dict(zip(tables, versions, strict=True)), dict(zip(registry.page_versions, parts, strict=True)), user_id
    )


class Rendering:
    """What the page being drawn was read at: the tables of its version and their versions, and what the apps
    added for the person asking (``registry.page_versions``: the header's unread count), read in the same query.

    Parts of the page drawn for everyone (nhs_joint/parts.py), a list's kept order (nhs_joint/page_ids.py) and
    the header's unread count use it rather than asking again."""

    __slots__ = ("tables", "version", "parts", "user_id", "known")

    def __init__(self, tables, version, parts, user_id, known=None):
        self.tables = frozenset(tables)
        self.version = version
        self.parts = parts
        self.user_id = user_id
        self.known = known  # every table's version, when read with who is asking (``Known``)

    def version_of(self, models):
        """The page's version where it covers every table ``models`` are read from (then it changes whenever
        one of them does), else the versions of those tables where every table's version is known; else None."""
        tables = tables_of(frozenset(models))
        if self.tables.issuperset(tables):
            return self.version
        return self.known.version_of_tables(tables) if self.known is not None else None


# The page being drawn in this thread (or task), while ``respond`` draws it.
_rendering = ContextVar("portal_rendering", default=None)


def rendering():
    """The ``Rendering`` of the page being drawn, or None outside ``respond``."""
    return _rendering.get()


def person_part(part, user):
    """What ``part`` (one of ``registry.page_versions``) gave for ``user`` in the page's version, or None."""
    current = _rendering.get()
    if current is None or user is None or current.user_id != user.pk:
        return None
    return current.parts.get(part)


def data_version(models, request=None, _parts=None):
    """The versions of the tables ``models`` are read from, then what the apps add for the person asking
    (``registry.page_versions``): from what was read with who is asking (``Known``) when it was, else one query;
    None when it cannot be read, so that the page is drawn."""
    tables = tables_of(frozenset(models))
    user = getattr(request, "user", None)
    asking = user is not None and user.is_authenticated
    known = getattr(request, "portal_known", None) if asking else None
    if known is not None and known.user_id == user.pk:
        if _parts is not None:
            _parts.update(known.parts)
        return (known.version_of_tables(tables), *known.parts.values())
    sql, params = f"SELECT ({VERSION_SQL})", [list(tables)]
    parts = []
    if asking:
        for part in registry.page_versions:
            sql += f", (SELECT ({part('asking.person')}) FROM (SELECT %s AS person) AS asking)"
            params.append(user.pk)
            parts.append(part)
    # Inside a transaction that may have written (a test, a view that reads after its own save), the versions
    # of what it wrote are given now rather than at its commit, so that it reads its own writes; a failure is
    # rolled back to a savepoint, so that the transaction goes on (``read_known``).
    rows = _read_or_none(sql, params, "The data's version cannot be read; drawing the page.")
    if rows is None:
        return None
    row = rows[0]
    if _parts is not None:
        _parts.update(zip(parts, row[1:], strict=True))
    return (tuple(row[0]), *row[1:])


def requester_key(request):
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    if key:
        return f"session:{key}"
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    return f"auth:{hashlib.sha256(auth.encode()).hexdigest()}" if auth else ""


def etag_for(request, models, *extra):
    """The page's ETag, or None when it cannot have one (an anonymous request, a version that cannot be read)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    parts = {}
    version = data_version(models, request, _parts=parts)
    if version is None:
        return None
    known = getattr(request, "portal_known", None)
    known = known if known is not None and known.user_id == user.pk else None
    request.portal_rendering = Rendering(tables_of(frozenset(models)), version[0], parts, user.pk, known)
    # The user's roles and bodies decide the navigation and the buttons a page offers.
    parts = (
        requester_key(request),
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


def respond(request, models, render_page, *extra):
    """``render_page()``'s response with an ETag, or 304 Not Modified when the client's copy is current, or the
    drawing kept for this tag when there is one."""
    if request.method not in ("GET", "HEAD") or has_pending_messages(request):
        return render_page()
    etag = etag_for(request, models, *extra)
    if etag is None:
        return render_page()
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        # No CSP header: the browser keeps the one it stored with the page, whose nonce its scripts carry.
        not_modified._csp_exempt = True
        return not_modified
    key = _page_key(request, etag)
    if key is not None:
        try:
            cached = _pages().get(key)
        except Exception:  # where drawings are kept is away (Redis): the page is drawn, as without it
            logger.warning("Kept pages cannot be read; drawing the page.", exc_info=True)
            cached = key = None
        if cached is not None:
            return _from_cache(request, cached)
    secret = request.META.get("CSRF_COOKIE")  # the browser's, before the drawing may make one
    token = _rendering.set(getattr(request, "portal_rendering", None))
    try:
        response = render_page()
    finally:
        _rendering.reset(token)
    response.version_tables = tables_of(frozenset(models))  # what the tag covers (tests/test_page_versions.py)
    if response.status_code == 200 and not response.has_header("ETag"):
        response["ETag"] = etag
        response["Cache-Control"] = "private, no-cache"
        if key is not None:
            _cache_page(request, key, response, secret)
    return response


def _pages():
    return caches["pages"]


def _page_key(request, etag):
    """The key of the drawing kept for ``etag``, or None when drawings are not kept."""
    if settings.PAGE_CACHE_SECONDS <= 0:
        return None
    parts = (
        etag,
        request.META.get("HTTP_ACCEPT", ""),
        request.META.get("CSRF_COOKIE") or "",
        timezone.localdate().isoformat(),
    )
    return "page:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def _cache_page(request, key, response, secret):
    """Keeps ``response``'s drawing under ``key`` once it is drawn (an API response is drawn after the view)."""
    if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
        response.add_post_render_callback(lambda rendered: _store(request, key, rendered, secret))
    else:
        _store(request, key, response, secret)


def _store(request, key, response, secret):
    if response.streaming or response.cookies or has_pending_messages(request):
        return
    session = getattr(request, "session", None)
    if session is not None and session.modified:
        return
    # Forms' CSRF tokens are made from the browser's secret (part of the key): a drawing whose tokens come
    # from a secret made for it (the browser sent none) would not serve the next request without one.
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE") and (not secret or request.META.get("CSRF_COOKIE") != secret):
        return
    content = response.content
    if len(content) > settings.PAGE_CACHE_MAX_BYTES:
        return
    nonce = getattr(request, "_csp_nonce", None)
    has_nonce = isinstance(nonce, str) and nonce.encode() in content
    if has_nonce:
        content = content.replace(nonce.encode(), NONCE_MARK)
    headers = [(name, value) for name, value in response.headers.items() if name.lower() != "content-length"]
    try:
        _pages().set(key, {"content": content, "headers": headers, "nonce": has_nonce})
    except Exception:  # where drawings are kept is away: the page was drawn and is answered all the same
        logger.warning("A drawn page cannot be kept.", exc_info=True)


def _from_cache(request, cached):
    content = cached["content"]
    if cached["nonce"]:
        content = content.replace(NONCE_MARK, str(request.csp_nonce).encode())
    response = HttpResponse(content)
    for name, value in cached["headers"]:
        response[name] = value
    return response
