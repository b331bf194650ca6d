"""Who is asking, read in one query: the session, the person signed in, their roles and bodies, and the data's
versions that every page's tag is made of (nhs_joint/conditional.py).

Django reads a signed-in request's session, then the person, then the portal reads their roles and bodies and
the page reads the data's version: four queries, each built by the ORM, before anything is drawn, even for a
page answered 304 or from its kept drawing. Here:

- ``SessionStore`` is Django's database session (the same table, rows and expiry). The session's data, as it is
  kept, starts with the id of the person it names (``12|`` then Django's signed data), so that its row is read
  joined to that person, in one query, from the first request of the session in any web process. The person
  read is used only when the signed data names that same person. A session kept without the id (written
  before it was added, or by Django's own store) is joined to the person this process last found in it; the
  first time, its row is read, then the person (two queries).
- ``get_user`` is Django's ``auth.get_user`` for the password and NHS identity sign-ins, with the person read
  that way: the session hash is checked as Django checks it (a new password or a deactivation ends every
  session: accounts.models.User), and a person who is not active is refused, on every request.

The session's row and the person's are read on every request: a session ended (signed out, expired, flushed)
or a person deactivated is refused at once, in every web process. When that query cannot be read (a data
version that cannot be read, a part of the versions that fails: ``conditional.read_known``), the session and
the person are read as Django reads them, and the page's version on its own, so that the page is drawn.
"""

import re
from collections import OrderedDict
from functools import lru_cache
from threading import Lock

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends import db
from django.core.exceptions import SuspiciousOperation
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from nhs_joint import conditional
from nhs_joint.registry import registry

from .models import User, person_columns, person_from

# The id of the person a session names, before its signed data ("12|..."): no signed data has "|" in it.
OWNER_MARK = "|"
OWNER = re.compile(r"[0-9]{1,18}")  # an id that is a bigint
OWNED = re.compile(r"([0-9]{1,18})\|")

# Session key -> the id of the person its data named when last read here, for sessions kept without the id.
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
def _session_sql(parts):
    """The session's row, live, with the person whose id begins its data (else the first parameter's)."""
    from django.contrib.sessions.models import Session

    meta = Session._meta
    key, data, expires = (meta.get_field(name).column for name in ("session_key", "session_data", "expire_date"))
    user = User._meta
    owner = f"coalesce(substring(s.\"{data}\" from '^([0-9]{{1,18}})[|]')::bigint, %s)"
    return (
        f'SELECT s."{data}", {person_columns("u", with_known=True)} FROM "{meta.db_table}" s '
        f'LEFT JOIN "{user.db_table}" u ON u."{user.pk.column}" = {owner} '
        f'WHERE s."{key}" = %s AND s."{expires}" > %s'
    )


class SessionStore(db.SessionStore):
    """Django's database sessions, each read with the person it belongs to (see the module)."""

    # The person read with the session, with their ``Known`` (or None), once the session has been loaded.
    person = None

    def encode(self, session_dict):
        signed = super().encode(session_dict)
        owner = session_dict.get(SESSION_KEY)
        if isinstance(owner, str) and OWNER.fullmatch(owner):
            return f"{owner}{OWNER_MARK}{signed}"
        return signed

    def decode(self, session_data):
        owned = OWNED.match(session_data)
        return super().decode(session_data[owned.end() :] if owned else session_data)

    def load(self):
        self.person = None
        key = self.session_key
        rows = conditional.read_known(
            _session_sql(tuple(registry.page_versions)), [_owner_of(key), key, timezone.now()]
        )
        if rows is None:  # not read with the person: read as Django reads it, then the person (``get_user``)
            return super().load()
        if not rows:
            self._session_key = None
            _forget_owner(key)
            return {}
        kept = rows[0][0]
        try:
            data = self.decode(kept)
        except SuspiciousOperation:  # as Django's own: logged, and the session is none
            self._session_key = None
            return {}
        named = data.get(SESSION_KEY)
        person = rows[0][1:]
        if named is not None and person[0] is not None and named == str(person[0]):
            self.person = person_from(person)
        if named is not None and not OWNED.match(kept):
            _remember_owner(key, named)
        return data

    def delete(self, session_key=None):
        _forget_owner(session_key or self.session_key)
        super().delete(session_key)


# What ``read_person`` gives when the person cannot be read with the data's versions.
UNREAD = object()


def read_person(user_id):
    """(the person whose id is ``user_id`` with their roles and bodies, their ``Known``) in one query, None when
    there is no such person, or UNREAD when the query cannot be read (``conditional.read_known``)."""
    rows = conditional.read_known(_person_sql(tuple(registry.page_versions)), [user_id])
    if rows is None:
        return UNREAD
    return person_from(rows[0]) if rows else None


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
    found = UNREAD
    if _reads_person_by_id(backend):
        found = getattr(session, "person", None)
        if found is None or found[0].pk != user_id:
            found = read_person(user_id)
    if found is UNREAD:  # another backend's person, or one not read with the data's versions: as Django reads
        user = backend.get_user(user_id)
    elif found is not None:
        person, known = found
        user = person if backend.user_can_authenticate(person) else None
        if user is not None:
            request.portal_known = known
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
