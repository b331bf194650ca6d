"""Who is asking, read in one query: the session, the person signed in, their roles and bodies, and the data's
versions that every page's tag is made of (nhs_joint/conditional.py).

Django reads a signed-in request's session, then the person, then the portal reads their roles and bodies and
the page reads the data's version: four queries, each built by the ORM, before anything is drawn, even for a
page answered 304 or from its kept drawing. Here:

- ``SessionStore`` is Django's database session (the same table, rows and expiry), whose row is read together
  with the person it was last found to belong to in this process (the session's user id is inside its signed
  data, which only Python reads). The person read is used only when the session's data names that same person;
  a session not seen before in this process reads its row, then the person (two queries).
- ``get_user`` is Django's ``auth.get_user`` for the password and NHS identity sign-ins, with the person read
  that way: the session hash is checked as Django checks it (a new password or a deactivation ends every
  session: accounts.models.User), and a person who is not active is refused, on every request.

The session's row and the person's are read on every request: a session ended (signed out, expired, flushed)
or a person deactivated is refused at once, in every web process.
"""

from collections import OrderedDict
from functools import lru_cache
from threading import Lock

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends import db
from django.core.exceptions import SuspiciousOperation
from django.db import connection
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from nhs_joint import conditional
from nhs_joint.registry import registry

from .models import User, person_columns, person_from

# Session key -> the id of the person its data named when last read here: which person's row to read with it.
MAX_KNOWN_SESSIONS = 20_000
_owners = OrderedDict()
_owners_lock = Lock()


def _owner_of(key):
    with _owners_lock:
        owner = _owners.get(key)
        if owner is not None:
            _owners.move_to_end(key)
        return owner


def _remember_owner(key, owner):
    with _owners_lock:
        _owners[key] = owner
        _owners.move_to_end(key)
        while len(_owners) > MAX_KNOWN_SESSIONS:
            _owners.popitem(last=False)


def _forget_owner(key):
    with _owners_lock:
        _owners.pop(key, None)


@lru_cache(maxsize=8)
def _session_sql(with_person, parts):
    """The session's row, live, and with ``with_person`` the person whose id is the first parameter."""
    from django.contrib.sessions.models import Session

    meta = Session._meta
    key, data, expires = (meta.get_field(name).column for name in ("session_key", "session_data", "expire_date"))
    where = f's."{key}" = %s AND s."{expires}" > %s'
    if not with_person:
        return f'SELECT s."{data}" FROM "{meta.db_table}" s WHERE {where}'
    user = User._meta
    return (
        f'SELECT s."{data}", {person_columns("u", with_known=True)} FROM "{meta.db_table}" s '
        f'LEFT JOIN "{user.db_table}" u ON u."{user.pk.column}" = %s WHERE {where}'
    )


class SessionStore(db.SessionStore):
    """Django's database sessions, each read with the person it belongs to (see the module)."""

    # The person read with the session (or None), once the session has been loaded.
    person = None

    def load(self):
        self.person = None
        key = self.session_key
        owner = _owner_of(key)
        sql = _session_sql(owner is not None, tuple(registry.page_versions))
        params = [key, timezone.now()]
        if owner is not None:
            params.insert(0, owner)
            sql = conditional.known_prefix() + sql
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            _forget_owner(key)
            return {}
        try:
            data = self.decode(row[0])
        except SuspiciousOperation:  # as Django's own: logged, and the session is none
            self._session_key = None
            return {}
        named = data.get(SESSION_KEY)
        if owner is not None and named == str(owner) and row[1] is not None:
            self.person = person_from(row[1:])
        if named is not None:
            _remember_owner(key, named)
        return data

    def delete(self, session_key=None):
        _forget_owner(session_key or self.session_key)
        super().delete(session_key)


def read_person(user_id):
    """(the person whose id is ``user_id`` with their roles and bodies, their ``Known``) in one query, or None."""
    with connection.cursor() as cursor:
        cursor.execute(conditional.known_prefix() + _person_sql(tuple(registry.page_versions)), [user_id])
        row = cursor.fetchone()
    return person_from(row) if row is not None else None


@lru_cache(maxsize=8)
def _person_sql(parts):
    user = User._meta
    return f'SELECT {person_columns("u", with_known=True)} FROM "{user.db_table}" u WHERE u."{user.pk.column}" = %s'


# The backends whose get_user is the person by id, refused unless user_can_authenticate (Django's ModelBackend;
# NHS identity's, accounts.oidc, gives the same answer): they are answered with the person read here.
def _reads_person_by_id(backend):
    from .oidc import NHSIdentityBackend

    return isinstance(backend, (ModelBackend, NHSIdentityBackend))


def get_user(request):
    """The person signed in to ``request``'s session, or AnonymousUser: Django's ``auth.get_user``, with the
    person (and the data's versions, ``request.portal_known``) read with the session (see the module)."""
    session = request.session
    user = None
    try:
        user_id = User._meta.pk.to_python(session[SESSION_KEY])
        backend_path = session[BACKEND_SESSION_KEY]
    except KeyError:
        return AnonymousUser()
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return AnonymousUser()
    backend = load_backend(backend_path)
    if _reads_person_by_id(backend):
        found = getattr(session, "person", None)
        if found is None or found[0].pk != user_id:
            found = read_person(user_id)
        if found is not None:
            person, known = found
            user = person if backend.user_can_authenticate(person) else None
            if user is not None:
                request.portal_known = known
    else:
        user = backend.get_user(user_id)
    # Verify the session, as Django does.
    if hasattr(user, "get_session_auth_hash"):
        session_hash = session.get(HASH_SESSION_KEY)
        session_auth_hash = user.get_session_auth_hash()
        verified = bool(session_hash) and constant_time_compare(session_hash, session_auth_hash)
        if not verified:
            if session_hash and any(
                constant_time_compare(session_hash, fallback) for fallback in user.get_session_auth_fallback_hash()
            ):
                session.cycle_key()
                session[HASH_SESSION_KEY] = session_auth_hash
            else:
                session.flush()
                request.__dict__.pop("portal_known", None)
                user = None
    return user or AnonymousUser()
