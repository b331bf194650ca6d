import datetime
import hashlib
import hmac
import secrets
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import connection, models
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.functional import cached_property
from simple_history.models import HistoricalRecords

from nhs_joint.records import PortalRecord


class Role:
    """The portal's roles, each a Django group created by migration."""

    STAFF = "Staff"
    REGIONAL_DIRECTOR = "Regional director"
    ADMINISTRATOR = "Administrator"
    # People of providers, commissioners and local health systems: they see what is asked of their own
    # organisation or system and respond to consultations, and nothing else (accounts.middleware).
    PARTNER = "Partner"
    ALL = (STAFF, REGIONAL_DIRECTOR, ADMINISTRATOR, PARTNER)


class User(PortalRecord, AbstractUser):
    """A member of staff of one or both bodies, optionally in one region."""

    bodies = models.ManyToManyField(
        "organisations.NationalBody",
        related_name="members",
        blank=True,
        help_text="The bodies this person works for: one, or both for a joint appointment.",
    )
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="members"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="partners",
        help_text="A partner's organisation (a trust or a CCG).",
    )
    local_system = models.ForeignKey(
        "regions.LocalHealthSystem",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="partners",
        verbose_name="local health system",
        help_text="A partner's local health system, when they speak for the system rather than one organisation.",
    )
    must_change_password = models.BooleanField(
        default=False, help_text="Set with a one-time password: the user must choose a new one at next sign-in."
    )

    credentials_version = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Raised whenever the account's sign-ins must end: every session signed before is refused.",
    )

    history = HistoricalRecords(
        excluded_fields=["password", "last_login", "credentials_version"], m2m_fields=[bodies, "groups"]
    )

    class Meta:
        ordering = ["username"]

    @cached_property
    def _access(self):
        """(role names, body ids), read together in one query once per request: every page asks for both."""
        if self.pk is None:
            return frozenset(), frozenset()
        with connection.cursor() as cursor:
            cursor.execute(_access_sql(), [self.pk, self.pk])
            roles, bodies = cursor.fetchone()
        return frozenset(roles), frozenset(bodies)

    @cached_property
    def roles(self):
        """The names of this user's roles (Django groups), read once per request."""
        return self._access[0]

    @cached_property
    def body_ids(self):
        """The ids of the bodies this user works for, read once per request."""
        return self._access[1]

    @classmethod
    def active_people(cls, ids):
        """{id: user} of the active people among ``ids``, each with their roles and bodies (``_access``) read in
        the same query: one query however many people are asked about (the people a notification is for)."""
        roles, bodies = _access_arrays(f'"{cls._meta.db_table}"."{cls._meta.pk.column}"')
        people = cls.objects.filter(pk__in=ids, is_active=True).annotate(
            access_roles=RawSQL(roles, []), access_bodies=RawSQL(bodies, [])
        )
        found = {}
        for user in people:
            user.__dict__["_access"] = (frozenset(user.access_roles), frozenset(user.access_bodies))
            found[user.pk] = user
        return found

    def forget_access(self):
        """Read the roles and bodies again when next asked (after changing them)."""
        for name in ("_access", "roles", "body_ids"):
            self.__dict__.pop(name, None)

    def __str__(self):
        return self.get_full_name() or self.username

    # Sessions: Django refuses a session whose hash no longer matches. The hash covers the password
    # (a new password ends other sessions) and credentials_version (deactivation ends them all, so a
    # reactivated account's old sessions stay ended).
    def _get_session_auth_hash(self, secret=None):
        if not self.credentials_version:  # as Django's own: sessions from before this field keep working
            return super()._get_session_auth_hash(secret=secret)
        return salted_hmac(
            "accounts.User.get_session_auth_hash",
            f"{self.password}:{self.credentials_version}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def save(self, *args, **kwargs):
        """Saving a new password or a deactivation ends every API token and every session of the account."""
        end_credentials = self.pk is not None and (
            getattr(self, "_password", None) is not None
            or (not self.is_active and type(self)._default_manager.filter(pk=self.pk, is_active=True).exists())
        )
        if end_credentials:
            self.credentials_version += 1
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "credentials_version"}
        super().save(*args, **kwargs)
        if end_credentials:
            self.api_tokens.all().delete()

    def has_role(self, role):
        return role in self.roles

    @property
    def is_editor(self):
        """Staff and Regional directors create and edit programme records."""
        return self.is_active and bool(self.roles & {Role.STAFF, Role.REGIONAL_DIRECTOR})

    @property
    def is_administrator(self):
        return self.is_active and Role.ADMINISTRATOR in self.roles

    @property
    def is_partner(self):
        """A partner: someone of a provider, CCG or local system, who sees only what concerns them."""
        return Role.PARTNER in self.roles

    @property
    def partner_of(self):
        """The organisation or local health system a partner speaks for, or None."""
        return self.organisation or self.local_system

    @property
    def is_regional_director(self):
        return self.is_active and Role.REGIONAL_DIRECTOR in self.roles


class ApiTokenQuerySet(models.QuerySet):
    def live(self):
        return self.filter(expires__gt=timezone.now())


class ApiToken(models.Model):
    """An API token of one person on one device: only a digest of it is kept.

    The portal keeps its own small model rather than django-rest-knox: a token needs a device name
    that its owner recognises in the list of their tokens, the token endpoint keeps its documented
    JSON shape and open schema, and the rules that end a token (expiry, sign-out of a device, a
    password change, a one-time password, deactivation) belong with the portal's own accounts.
    A token is 32 random bytes: its SHA-256 digest cannot be turned back into it, so a copy of the
    database holds nothing that signs anyone in. It is found by its first characters (kept in clear
    to tell tokens apart) and its digest is compared in constant time.
    """

    PREFIX_LENGTH = 8

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="The device or program that uses it, to tell it apart.")
    prefix = models.CharField(max_length=PREFIX_LENGTH, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(default=timezone.now)
    expires = models.DateTimeField()
    last_used = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created", "-pk"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def digest_of(token):
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user, name="", now=None):
        """A new token for ``user``: returns (the record, the token). The token is never shown again."""
        now = now or timezone.now()
        token = secrets.token_urlsafe(32)
        record = cls.objects.create(
            user=user,
            name=(name or "API client")[:100],
            prefix=token[: cls.PREFIX_LENGTH],
            digest=cls.digest_of(token),
            created=now,
            expires=now + datetime.timedelta(days=settings.API_TOKEN_DAYS),
        )
        # Bounded: a person keeps at most API_TOKENS_PER_USER tokens; expired ones go, then the oldest.
        keep = cls.objects.filter(user=user).live().order_by("-created", "-pk").values_list("pk", flat=True)
        cls.objects.filter(user=user).exclude(pk__in=list(keep[: settings.API_TOKENS_PER_USER])).delete()
        return record, token

    @classmethod
    def find(cls, token):
        """The live token record for a token as sent, or None."""
        if not isinstance(token, str) or len(token) < cls.PREFIX_LENGTH or len(token) > 200:
            return None
        digest = cls.digest_of(token)
        # Every API request asks this, then the person's roles and bodies, then the data's version: one
        # query, written once (``_find_sql``), finds them all, where the ORM would spend longer writing it
        # than PostgreSQL spends answering it.
        from nhs_joint import conditional
        from nhs_joint.registry import registry

        params = [token[: cls.PREFIX_LENGTH], timezone.now()]
        rows = conditional.read_known(_find_sql(tuple(registry.page_versions)), params)
        with_known = rows is not None
        if not with_known:  # the data's versions cannot be read with it: the token and its person alone
            with connection.cursor() as cursor:
                cursor.execute(_find_sql(with_known=False), params)
                rows = cursor.fetchall()
        for row in rows:
            record, (user, known) = _found(row, with_known)
            if hmac.compare_digest(record.digest, digest):
                ApiToken.user.field.set_cached_value(record, user)
                record.known = known  # the data's versions, for the page's tag (nhs_joint/conditional.py)
                return record
        return None

    @property
    def is_expired(self):
        return self.expires <= timezone.now()


def _access_arrays(user):
    """(roles, bodies): the person's role names and body ids as two SQL arrays, for the person whose id is
    ``user`` in SQL."""
    groups, bodies = User.groups.through._meta, User.bodies.through._meta
    group = groups.get_field("group")
    body = bodies.get_field("nationalbody")
    return (
        f'ARRAY(SELECT g."name" FROM "{group.related_model._meta.db_table}" g '
        f'JOIN "{groups.db_table}" ug ON g."id" = ug."{group.column}" '
        f'WHERE ug."{groups.get_field("user").column}" = {user})',
        f'ARRAY(SELECT ub."{body.column}" FROM "{bodies.db_table}" ub '
        f'WHERE ub."{bodies.get_field("user").column}" = {user})',
    )


def _access_columns(user):
    return ", ".join(_access_arrays(user))


@lru_cache(maxsize=1)
def _access_sql():
    """The query of ``User._access``, written once from the models' own tables and columns."""
    return f"SELECT {_access_columns('%s')}"


@lru_cache(maxsize=8)
def _find_sql(parts=(), with_known=True):
    """The query of ``ApiToken.find``: the live tokens with a prefix, each with its person, their roles and
    bodies and (``with_known``) the data's versions for them, written once from the models' own tables and
    columns."""
    token, user = ApiToken._meta, User._meta
    columns = [f't."{f.column}"' for f in token.concrete_fields]
    owner, prefix, expires = (token.get_field(name).column for name in ("user", "prefix", "expires"))
    return (
        f"SELECT {', '.join(columns)}, {person_columns('u', with_known=with_known)} "
        f'FROM "{token.db_table}" t JOIN "{user.db_table}" u ON u."{user.pk.column}" = t."{owner}" '
        f'WHERE t."{prefix}" = %s AND t."{expires}" > %s'
    )


def person_columns(alias, with_known=False):
    """The columns of the person whose row is ``alias`` in SQL, their roles and bodies and, ``with_known``, the
    data's versions for them (nhs_joint/conditional.py ``known_columns``): read by ``person_from``."""
    from nhs_joint import conditional

    person = f'{alias}."{User._meta.pk.column}"'
    columns = [f'{alias}."{f.column}"' for f in User._meta.concrete_fields]
    sql = f"{', '.join(columns)}, {_access_columns(person)}"
    return f"{sql}, {conditional.known_columns(person)}" if with_known else sql


def person_from(values, with_known=True):
    """(the person with their roles and bodies, their ``Known`` or None) from the values of ``person_columns(…,
    with_known)``."""
    from nhs_joint import conditional

    n = len(User._meta.concrete_fields)
    user = _from_row(User, values[:n])
    user.__dict__["_access"] = (frozenset(values[n]), frozenset(values[n + 1]))
    return user, conditional.known_from(values[n + 2 :], user.pk) if with_known else None


def _from_row(model, values):
    fields = model._meta.concrete_fields
    values = [
        field.from_db_value(value, None, connection) if hasattr(field, "from_db_value") else value
        for field, value in zip(fields, values)
    ]
    return model.from_db(connection.alias, [field.attname for field in fields], values)


def _found(row, with_known=True):
    """(token record, (person, their ``Known`` or None)) from a row of ``_find_sql``."""
    n = len(ApiToken._meta.concrete_fields)
    return _from_row(ApiToken, row[:n]), person_from(row[n:], with_known)
