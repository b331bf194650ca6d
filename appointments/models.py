from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from nhs_joint.archive import Archivable, LiveManager
from nhs_joint.db import DateRange, check_dates_in_order, current_q, end_not_before_start, percentage
from nhs_joint.records import PortalRecord


class Person(PortalRecord, Archivable):
    """Someone who holds a post. People in the demonstration data are fictional."""

    api_key = ("email", "email")  # how other records and the API name them (nhs_joint.api)
    name = models.CharField(max_length=200)
    email = models.EmailField(unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="person"
    )

    history = HistoricalRecords()
    objects = LiveManager()
    all_objects = models.Manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.email,)

    def editing_bodies(self):
        """The bodies of the posts the person holds: someone in NHS England-only posts is NHS England's to edit
        (a joint post makes them either body's); someone holding no post, any member of staff's."""
        if not self.pk:
            return None
        from organisations.models import NationalBody

        bodies = list(
            NationalBody.objects.filter(
                shares__appointment__person=self, shares__appointment__archived_at__isnull=True
            ).distinct()
        )
        return bodies or None

    def save(self, *args, **kwargs):
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)


class AppointmentQuerySet(models.QuerySet):
    def current(self, on=None):
        """Appointments whose dates include ``on`` (today by default)."""
        return self.filter(current_q(on))


def check_shares(shares):
    """An appointment's shares, as (body, fte_percent) pairs, must name each body once and total 100.

    Returns a message, or None when the shares are sound. Used by the model, the
    admin, forms and the API.
    """
    shares = [(body, Decimal(str(pct))) for body, pct in shares if body is not None and pct is not None]
    if not shares:
        return "An appointment needs at least one body's share."
    bodies = [getattr(b, "pk", b) for b, _ in shares]
    if len(set(bodies)) != len(bodies):
        return "Each body may have only one share of an appointment."
    total = sum(pct for _, pct in shares)
    if total != Decimal(100):
        return f"The shares of an appointment must total 100% (these total {total.normalize():f}%)."
    return None


class Appointment(PortalRecord, Archivable):
    """A post held by a person, paid for by one body or shared by both (a joint appointment)."""

    class Role(models.TextChoices):
        REGIONAL_DIRECTOR = "regional_director", "Regional director"
        NATIONAL_DIRECTOR = "national_director", "National director"
        PROGRAMME_DIRECTOR = "programme_director", "Programme director"
        OTHER = "other", "Other"

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="appointments")
    title = models.CharField("post title", max_length=200)
    role = models.CharField(max_length=30, choices=Role.choices)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="appointments"
    )
    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.SET_NULL, null=True, blank=True, related_name="appointments"
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    history = HistoricalRecords()
    objects = LiveManager.from_queryset(AppointmentQuerySet)("person")
    all_objects = AppointmentQuerySet.as_manager()

    class Meta:
        ordering = ["person__name", "start_date"]
        constraints = [
            end_not_before_start("appointment"),
            models.CheckConstraint(
                condition=~Q(role="regional_director") | Q(region__isnull=False),
                name="appointment_regional_director_has_region",
                violation_error_message="A Regional Director appointment needs a region.",
            ),
            ExclusionConstraint(
                name="appointment_one_regional_director_at_a_time",
                expressions=[
                    ("region", RangeOperators.EQUAL),
                    (DateRange("start_date", "end_date"), RangeOperators.OVERLAPS),
                ],
                condition=Q(role="regional_director"),
                violation_error_message="This region already has a Regional Director for some of these dates.",
            ),
        ]

    def __str__(self):
        return f"{self.person}: {self.title}"

    def editing_bodies(self):
        """The bodies whose staff may edit this appointment: those that share it."""
        return [share.body for share in self.shares.all()] or None if self.pk else None

    def set_shares(self, wanted):
        """Make the post's shares exactly ``wanted`` ({body id: FTE percent}), writing only what differs.

        The one place shares are written, for the portal's form and the API alike; each change is in the
        shares' history.
        """
        wanted = dict(wanted)
        for share in self.shares.all():
            if share.body_id not in wanted:
                share.delete()
                continue
            value = wanted.pop(share.body_id)
            if share.fte_percent != value:
                share.fte_percent = value
                share.save()
        for body_id, value in wanted.items():
            AppointmentShare.objects.create(appointment=self, body_id=body_id, fte_percent=value)
        self._prefetched_objects_cache = {}

    @property
    def is_joint(self):
        return len({share.body_id for share in self.shares.all()}) > 1

    def clean(self):
        super().clean()
        check_dates_in_order(self, "start_date", "end_date")
        if self.pk:
            message = check_shares((s.body, s.fte_percent) for s in self.shares.all())
            if message:
                raise ValidationError({"shares": message})


class AppointmentShare(models.Model):
    """The part of an appointment that one body holds, as a percentage of full-time equivalent."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="shares")
    body = models.ForeignKey("organisations.NationalBody", on_delete=models.PROTECT, related_name="shares")
    fte_percent = models.DecimalField("FTE percent", max_digits=5, decimal_places=2)

    history = HistoricalRecords()

    class Meta:
        ordering = ["appointment", "body__code"]
        constraints = [
            models.UniqueConstraint(fields=["appointment", "body"], name="appointment_share_one_per_body"),
            percentage("appointment_share", "fte_percent"),
        ]

    def __str__(self):
        return f"{self.body.code} {self.fte_percent}%"
