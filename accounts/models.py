from django.contrib.auth.models import AbstractUser
from django.db import models
from django.urls import reverse
from django.utils.functional import cached_property
from simple_history.models import HistoricalRecords


class Role:
    """The portal's roles, each a Django group created by migration."""

    STAFF = "Staff"
    REGIONAL_DIRECTOR = "Regional director"
    ADMINISTRATOR = "Administrator"
    ALL = (STAFF, REGIONAL_DIRECTOR, ADMINISTRATOR)


class User(AbstractUser):
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
    must_change_password = models.BooleanField(
        default=False, help_text="Set with a one-time password: the user must choose a new one at next sign-in."
    )

    history = HistoricalRecords(excluded_fields=["password", "last_login"], m2m_fields=[bodies, "groups"])

    class Meta:
        ordering = ["username"]

    @cached_property
    def roles(self):
        """The names of this user's roles (Django groups), read once per request."""
        return frozenset(self.groups.values_list("name", flat=True))

    @cached_property
    def body_ids(self):
        """The ids of the bodies this user works for, read once per request."""
        return frozenset(self.bodies.values_list("pk", flat=True))

    def __str__(self):
        return self.get_full_name() or self.username

    def get_absolute_url(self):
        return reverse("user-detail", args=[self.pk])

    def editing_bodies(self):
        return None

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
    def is_regional_director(self):
        return self.is_active and Role.REGIONAL_DIRECTOR in self.roles
