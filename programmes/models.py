from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from nhs_joint.archive import Archivable, LiveManager
from nhs_joint.dates import format_date
from nhs_joint.db import check_dates_in_order, end_not_before_start
from nhs_joint.permissions import can_edit_delivery
from nhs_joint.records import PortalRecord

from .themes import theme_name


class Audience(models.TextChoices):
    PROVIDERS = "providers", "Providers"
    COMMISSIONERS = "commissioners", "Commissioners"
    LOCAL_SYSTEMS = "local_systems", "Local health systems"


AUDIENCE_LABELS = dict(Audience.choices)  # each audience's label (read for every row of the workstreams' list)


def check_accountability(bodies, accountable_body, duty):
    """The rules of statutory accountability for a programme, for models, forms and the API.

    ``bodies`` is the collection of bodies that run the programme. Returns a dict
    of field name to message, empty when the programme is sound.
    """
    errors = {}
    body_ids = {b.pk for b in bodies}
    if accountable_body is not None and body_ids and accountable_body.pk not in body_ids:
        errors["accountable_body"] = (
            f"{accountable_body.code} does not run this programme: the accountable body must be one of its bodies."
        )
    if duty is not None:
        if accountable_body is None:
            errors["duty"] = "Choose the accountable body before its statutory duty."
        elif duty.body_id != accountable_body.pk:
            errors["duty"] = (
                f"This duty belongs to {duty.body.code}, not to the accountable body {accountable_body.code}."
            )
    return errors


class Programme(PortalRecord, Archivable):
    """A national programme run by one or both bodies."""

    class IntegrationStage(models.TextChoices):
        SEPARATE = "separate", "Separate"
        ALIGNED = "aligned", "Aligned"
        ONE_TEAM = "one_team", "One team"

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    api_key = ("slug", "programme slug")  # how other records and the API name it (nhs_joint.api)
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    summary = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    theme = models.CharField(max_length=100, blank=True)
    bodies = models.ManyToManyField("organisations.NationalBody", related_name="programmes")
    integration_stage = models.CharField(
        max_length=20, choices=IntegrationStage.choices, default=IntegrationStage.SEPARATE
    )
    accountable_body = models.ForeignKey(
        "organisations.NationalBody",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accountable_for",
    )
    duty = models.ForeignKey(
        "organisations.StatutoryDuty",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="programmes",
        verbose_name="statutory duty",
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROPOSED)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    senior_responsible_owner = models.ForeignKey(
        "appointments.Appointment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_programmes",
    )
    # Optimistic locking: an edit saves only if the version it started from is still current.
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords(m2m_fields=[bodies])
    objects = LiveManager()
    all_objects = models.Manager()

    class Meta:
        ordering = ["title"]
        constraints = [end_not_before_start("programme")]
        # Live records in the lists' orders (the live manager hides archived ones): a page of 50 is read from
        # the index, and a workstream list walks programmes by title, then each one's workstreams by title.
        indexes = [models.Index(fields=["title"], name="programme_title_live", condition=Q(archived_at__isnull=True))]

    def __str__(self):
        return self.title

    def natural_key(self):
        return (self.slug,)

    @property
    def theme_name(self):
        """The theme's name ("urgent-care" is "Urgent and emergency care"): pages never show the stored code alone."""
        return theme_name(self.theme)

    def editing_bodies(self):
        """The bodies whose staff may edit this programme: the bodies that run it."""
        return list(self.bodies.all()) if self.pk else None

    def save(self, *args, **kwargs):
        if self.pk:
            self.version += 1
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        check_dates_in_order(self, "start_date", "end_date")
        # A form or serializer sets the bodies it is about to save, which the database does not hold yet.
        bodies = getattr(self, "bodies_to_save", None)
        if bodies is None:
            bodies = list(self.bodies.all()) if self.pk else []
        errors = check_accountability(bodies, self.accountable_body, self.duty)
        if errors:
            raise ValidationError(errors)


class BoardApproval(PortalRecord, models.Model):
    """A decision of one body's Board on a programme."""

    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        DEFERRED = "deferred", "Deferred"
        REJECTED = "rejected", "Rejected"

    parent_field = "programme"  # edited by those who edit its programme (nhs_joint.records)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="board_approvals")
    body = models.ForeignKey("organisations.NationalBody", on_delete=models.PROTECT, related_name="board_approvals")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    date = models.DateField()
    minute_reference = models.CharField(max_length=100, blank=True)

    history = HistoricalRecords()
    objects = LiveManager("programme")
    all_objects = models.Manager()

    class Meta:
        ordering = ["programme__title", "date"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "body", "date"], name="board_approval_one_decision_per_body_per_day"
            )
        ]

    def editing_bodies(self):
        """A Board's decision is that body's own: only its staff record or change it (not the other body's)."""
        return [self.body] if self.body_id else super().editing_bodies()

    def __str__(self):
        return f"{self.body.code} Board: {self.get_decision_display()} ({format_date(self.date)})"

    def clean(self):
        super().clean()
        if self.programme_id and self.body_id and not self.programme.bodies.filter(pk=self.body_id).exists():
            raise ValidationError({"body": "Only the Board of a body that runs the programme can approve it."})


class RegionalDelivery(PortalRecord, models.Model):
    """How a programme is being delivered in one region, kept by its regional team."""

    class Rag(models.TextChoices):
        RED = "red", "Red"
        AMBER = "amber", "Amber"
        GREEN = "green", "Green"

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="regional_deliveries")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="deliveries")
    lead = models.ForeignKey(
        "appointments.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries_led"
    )
    rag = models.CharField("RAG status", max_length=10, choices=Rag.choices)
    note = models.TextField(blank=True)
    updated = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()
    objects = LiveManager("programme")
    all_objects = models.Manager()

    class Meta:
        ordering = ["programme__title", "region__name"]
        verbose_name_plural = "regional deliveries"
        constraints = [models.UniqueConstraint(fields=["programme", "region"], name="regional_delivery_one_per_region")]

    def edit_decision(self, user):
        """Only the Regional director of the record's region changes it."""
        return can_edit_delivery(user, self.region_id, self.region)

    def __str__(self):
        return f"{self.programme} in {self.region}"


class Workstream(PortalRecord, Archivable):
    """A piece of a programme's work, owned by one body, aimed at some audiences in some regions."""

    parent_field = "programme"  # edited by those who edit its programme (nhs_joint.records)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="workstreams")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    body = models.ForeignKey(
        "organisations.NationalBody", on_delete=models.PROTECT, related_name="workstreams", verbose_name="owning body"
    )
    regions = models.ManyToManyField("regions.Region", related_name="workstreams", blank=True)
    audiences = ArrayField(models.CharField(max_length=20, choices=Audience.choices), default=list, blank=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    history = HistoricalRecords(m2m_fields=[regions])
    objects = LiveManager("programme")
    all_objects = models.Manager()

    class Meta:
        ordering = ["programme__title", "title"]
        # (programme, title) is indexed by its unique constraint; the search vector by migration 0004.
        indexes = [
            models.Index(fields=["start_date"], name="workstream_start_live", condition=Q(archived_at__isnull=True)),
            models.Index(
                fields=["body", "start_date"], name="workstream_body_start_live", condition=Q(archived_at__isnull=True)
            ),
        ]
        constraints = [
            end_not_before_start("workstream"),
            models.UniqueConstraint(fields=["programme", "title"], name="workstream_unique_title_per_programme"),
            models.CheckConstraint(
                condition=Q(audiences__contained_by=Audience.values),
                name="workstream_audiences_known",
                violation_error_message="Audiences must be providers, commissioners or local health systems.",
            ),
        ]

    def get_audience_labels(self):
        return [AUDIENCE_LABELS[a] for a in self.audiences if a in AUDIENCE_LABELS]

    def speaking_bodies(self):
        """The body that owns the workstream: only its staff change it or give it (nhs_joint.permissions)."""
        return [("body", self.body)] if self.body_id else []

    def __str__(self):
        return self.title

    def clean(self):
        super().clean()
        check_dates_in_order(self, "start_date", "end_date")
        # A workstream is owned by a body that runs its programme: NHS Improvement cannot own part of an
        # NHS England-only programme.
        if self.programme_id and self.body_id and not self.programme.bodies.filter(pk=self.body_id).exists():
            raise ValidationError(
                {"body": f"{self.body.name} does not run {self.programme}: choose one of the bodies that run it."}
            )


class ProgrammeRisk(PortalRecord, Archivable):
    """Something that could stop a programme succeeding: how likely, how bad, who owns it, what is done."""

    class Likelihood(models.IntegerChoices):
        RARE = 1, "1 – Rare"
        UNLIKELY = 2, "2 – Unlikely"
        POSSIBLE = 3, "3 – Possible"
        LIKELY = 4, "4 – Likely"
        ALMOST_CERTAIN = 5, "5 – Almost certain"

    class Impact(models.IntegerChoices):
        NEGLIGIBLE = 1, "1 – Negligible"
        MINOR = 2, "2 – Minor"
        MODERATE = 3, "3 – Moderate"
        MAJOR = 4, "4 – Major"
        CATASTROPHIC = 5, "5 – Catastrophic"

    parent_field = "programme"  # edited by those who edit its programme (nhs_joint.records)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="risks")
    title = models.CharField(max_length=200)
    likelihood = models.PositiveSmallIntegerField(choices=Likelihood.choices)
    impact = models.PositiveSmallIntegerField(choices=Impact.choices)
    owner = models.ForeignKey("appointments.Person", on_delete=models.PROTECT, related_name="risks_owned")
    mitigation = models.TextField(blank=True, help_text="What is being done to make it less likely or less bad.")

    history = HistoricalRecords()
    objects = LiveManager("programme")
    all_objects = models.Manager()

    class Meta:
        ordering = ["programme__title", "title"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "title"], name="programme_risk_unique_title"),
            models.CheckConstraint(condition=Q(likelihood__range=(1, 5)), name="programme_risk_likelihood_1_to_5"),
            models.CheckConstraint(condition=Q(impact__range=(1, 5)), name="programme_risk_impact_1_to_5"),
        ]

    def __str__(self):
        return self.title

    @property
    def score(self):
        """Likelihood times impact: 1 to 25."""
        return self.likelihood * self.impact
