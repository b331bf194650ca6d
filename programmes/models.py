from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from nhs_joint.archive import Archivable, LiveManager
from nhs_joint.db import check_dates_in_order, end_not_before_start
from nhs_joint.permissions import Decision, can_edit_by_bodies, can_edit_delivery
from nhs_joint.records import PortalRecord

from .themes import theme_name


class Audience(models.TextChoices):
    PROVIDERS = "providers", "Providers"
    COMMISSIONERS = "commissioners", "Commissioners"
    LOCAL_SYSTEMS = "local_systems", "Local health systems"


class Comparator(models.TextChoices):
    AT_LEAST = ">=", "at least"
    AT_MOST = "<=", "at most"


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
        return f"{self.body.code} Board: {self.get_decision_display()} ({self.date:%-d %B %Y})"

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
        return [Audience(a).label for a in self.audiences if a in Audience.values]

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


class Measure(PortalRecord, Archivable):
    """A measure of success agreed with the organisations affected, such as the A&E 4-hour standard."""

    class Direction(models.TextChoices):
        HIGHER = "higher", "Higher is better"
        LOWER = "lower", "Lower is better"

    class Unit(models.TextChoices):
        PERCENT = "percent", "Percent"
        MINUTES = "minutes", "Minutes"
        COUNT = "count", "Count"

    api_key = ("code", "measure code")
    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=20, choices=Unit.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    standard = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    comparator = models.CharField(max_length=2, choices=Comparator.choices, blank=True)

    history = HistoricalRecords()
    objects = LiveManager()
    all_objects = models.Manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(unit="percent") | Q(standard__isnull=True) | Q(standard__gte=0, standard__lte=100),
                name="measure_percent_standard_between_0_and_100",
                violation_error_message="A percentage standard must lie between 0 and 100.",
            )
        ]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.code,)

    def check_value(self, value, field):
        """Raise a ValidationError on ``field`` when ``value`` is not a possible value of this measure."""
        if value is None:
            return
        if self.unit == self.Unit.PERCENT and not (Decimal(0) <= Decimal(value) <= Decimal(100)):
            raise ValidationError({field: f"{self.name} is a percentage: the value must lie between 0 and 100."})
        if Decimal(value) < 0:
            raise ValidationError({field: "The value must not be negative."})


class Expectation(PortalRecord, Archivable):
    """What a programme asks of an audience: the 'one voice' the bodies speak with.

    It goes through stages: a draft (seen by staff only), a consultation until a closing date (the
    organisations it applies to see it and respond), agreed by the programme's bodies once the consultation
    has closed (or, with the reason recorded, when none was needed), each body recording its own agreement
    in ``agreed_by``, and withdrawn. An agreed expectation is not changed: a new version (a draft that
    supersedes it) is, and when that is agreed the old one is withdrawn.
    """

    class Stage(models.TextChoices):
        DRAFT = "draft", "Draft"
        CONSULTATION = "consultation", "In consultation"
        AGREED = "agreed", "Agreed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    parent_field = "programme"  # edited by those who edit its programme (nhs_joint.records)
    # Agreed by each body at the agree step (programmes/asks.py); not changed under another body's agreement.
    agreement_field = "agreed_by"
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="expectations")
    issued_by = models.ForeignKey("organisations.NationalBody", on_delete=models.PROTECT, related_name="expectations")
    audience = models.CharField(max_length=20, choices=Audience.choices)
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="expectations",
        help_text="Leave empty for all of England.",
    )
    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, related_name="expectations")
    comparator = models.CharField(max_length=2, choices=Comparator.choices)
    target = models.DecimalField(max_digits=10, decimal_places=2)
    start_date = models.DateField()
    due_date = models.DateField()
    wording = models.TextField()
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.DRAFT)
    consultation_closes = models.DateField(
        "consultation closes", null=True, blank=True, help_text="The last day organisations can respond."
    )
    agreed_on = models.DateField(null=True, blank=True)
    agreed_by = models.ManyToManyField(
        "organisations.NationalBody", related_name="agreed_expectations", blank=True, verbose_name="agreed by"
    )
    responses_summary = models.TextField(
        blank=True, help_text="What the organisations said in the consultation, and what changed because of it."
    )
    no_consultation_reason = models.TextField(
        "why no consultation was needed",
        blank=True,
        default="",
        db_default="",  # rows written by SQL (bench/scale.py) have none
        help_text="Given when it is agreed without going out to consultation (a correction of wording, say).",
    )
    supersedes = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
        help_text="The agreed expectation this version replaces once it is agreed.",
    )

    history = HistoricalRecords(m2m_fields=[agreed_by])
    objects = LiveManager("programme", "measure")
    all_objects = models.Manager()

    class Meta:
        ordering = ["programme__title", "measure__code", "start_date"]
        indexes = [
            models.Index(
                fields=["programme", "measure", "start_date"],
                name="expectation_order_live",
                condition=Q(archived_at__isnull=True),
            ),
            models.Index(
                fields=["region", "start_date", "due_date"],
                name="expectation_region_live",
                condition=Q(archived_at__isnull=True),
            ),
        ]
        constraints = [
            end_not_before_start("expectation", end="due_date"),
            models.CheckConstraint(
                condition=~Q(stage="consultation") | Q(consultation_closes__isnull=False),
                name="expectation_consultation_has_closing_date",
                violation_error_message="A consultation needs a closing date.",
            ),
        ]

    def speaking_bodies(self):
        """The body that issues it speaks in it: only its staff write it (nhs_joint.permissions)."""
        return [("issued_by", self.issued_by)] if self.issued_by_id else []

    def edit_decision(self, user):
        """An agreed or withdrawn expectation is kept as it was agreed: a change is a new version."""
        if self.pk and self.stage in (self.Stage.AGREED, self.Stage.WITHDRAWN):
            stage = self.get_stage_display().lower()
            return Decision(
                False, f"This expectation is {stage}, so it cannot be changed. Start a new version to change it."
            )
        return can_edit_by_bodies(user, self)

    def seen_by(self, user):
        """Staff see every stage; a partner only an expectation consulted on or agreed for their own
        organisation or system (nhs_joint.permissions.can_see: their watches, notifications and mentions)."""
        if not user.is_partner:
            return True
        from .asks import partner_may_see

        return partner_may_see(user, self)

    @property
    def is_in_force(self):
        return self.stage == self.Stage.AGREED

    def __str__(self):
        area = self.region or "England"
        target = f"{Decimal(str(self.target)).normalize():f}" if self.target is not None else ""
        audience = self.get_audience_display().lower()
        return f"{self.measure.name}: {self.get_comparator_display()} {target} for {audience} ({area})"

    def clean(self):
        super().clean()
        check_dates_in_order(self, "start_date", "due_date")
        if self.measure_id:
            self.measure.check_value(self.target, "target")


class ProgrammeMeasure(PortalRecord, models.Model):
    """How the success of a programme is measured, as agreed by the bodies."""

    parent_field = "programme"  # edited by those who edit its programme (nhs_joint.records)
    # Each body records only its own agreement, and a measure agreed by one is not changed by the other's
    # staff under that agreement (nhs_joint.permissions.can_change_agreement).
    agreement_field = "agreed_by"
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="programme_measures")
    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, related_name="programme_measures")
    target = models.DecimalField(max_digits=10, decimal_places=2)
    agreed_on = models.DateField()
    agreed_by = models.ManyToManyField("organisations.NationalBody", related_name="agreed_measures")

    history = HistoricalRecords(m2m_fields=[agreed_by])
    objects = LiveManager("programme", "measure")
    all_objects = models.Manager()

    class Meta:
        ordering = ["programme__title", "measure__code"]
        constraints = [models.UniqueConstraint(fields=["programme", "measure"], name="programme_measure_unique")]

    def __str__(self):
        return f"{self.programme}: {self.measure.name}"

    def clean(self):
        super().clean()
        if self.measure_id:
            self.measure.check_value(self.target, "target")


class AreaFigures(models.Manager):
    """Regions' and England's figures only: what the dashboards, the reports and every page about regions read.

    An organisation's or a local health system's figures (from published statistics) are read through
    ``Measurement.every_level``, by the pages and API that name an organisation or a local system."""

    def get_queryset(self):
        return super().get_queryset().filter(organisation__isnull=True, local_system__isnull=True)


class Measurement(PortalRecord, models.Model):
    """One month's value of a measure, for an organisation, a local health system, a region or (none of them)
    England. A rate from published statistics keeps its numerator and denominator, and its value is derived from
    them, so that every figure above an organisation is an exact sum (measures/statistics_import.py)."""

    class Source(models.TextChoices):
        PUBLISHED = "published", "Published statistics"
        ENTERED = "entered", "Entered in the portal"
        IMPORTED = "imported", "Imported from a file"
        GENERATED = "generated", "Generated for demonstration"

    measure = models.ForeignKey(Measure, on_delete=models.CASCADE, related_name="measurements")
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="measurements"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="measurements"
    )
    local_system = models.ForeignKey(
        "regions.LocalHealthSystem",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="measurements",
        verbose_name="local health system",
    )
    month = models.DateField(help_text="The first day of the month.")
    value = models.DecimalField(max_digits=12, decimal_places=3)
    numerator = models.BigIntegerField(
        null=True, blank=True, help_text="The count the value is made of, for a rate from published statistics."
    )
    denominator = models.BigIntegerField(
        null=True, blank=True, help_text="The count the numerator is out of, for a rate from published statistics."
    )
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.ENTERED)

    objects = AreaFigures()
    every_level = models.Manager()
    history = HistoricalRecords()

    class Meta:
        base_manager_name = "every_level"
        ordering = ["measure__code", "region__name", "month"]
        # (measure, region, month) is indexed by the region unique constraint: a measure's series, a region's filter.
        indexes = [
            models.Index(fields=["region", "month"], name="measurement_region_month"),
            models.Index(
                fields=["organisation", "measure", "month"],
                condition=Q(organisation__isnull=False),
                name="measurement_organisation",
            ),
            models.Index(
                fields=["local_system", "measure", "month"],
                condition=Q(local_system__isnull=False),
                name="measurement_local_system",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "region", "month"],
                condition=Q(organisation__isnull=True, local_system__isnull=True),
                nulls_distinct=False,
                name="measurement_one_per_measure_region_month",
                violation_error_message="There is already a measurement of this measure for this region and month.",
            ),
            models.UniqueConstraint(
                fields=["measure", "organisation", "month"],
                condition=Q(organisation__isnull=False),
                name="measurement_one_per_measure_organisation_month",
                violation_error_message="There is already a measurement of this measure for this organisation and month.",
            ),
            models.UniqueConstraint(
                fields=["measure", "local_system", "month"],
                condition=Q(local_system__isnull=False),
                name="measurement_one_per_measure_local_system_month",
                violation_error_message="There is already a measurement of this measure for this local health system and month.",
            ),
            models.CheckConstraint(
                condition=Q(month__day=1),
                name="measurement_month_is_first_day",
                violation_error_message="The month must be given as its first day.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(organisation__isnull=True, local_system__isnull=True)
                    | Q(organisation__isnull=False, local_system__isnull=True, region__isnull=True)
                    | Q(organisation__isnull=True, local_system__isnull=False, region__isnull=True)
                ),
                name="measurement_one_area",
                violation_error_message="A figure is of one area: an organisation, a local health system, a region or England.",
            ),
            models.CheckConstraint(
                condition=Q(numerator__isnull=True, denominator__isnull=True) | Q(numerator__gte=0, denominator__gt=0),
                name="measurement_numerator_with_denominator",
                violation_error_message="A numerator is given with its denominator, which is more than 0.",
            ),
        ]

    @property
    def area(self):
        """The organisation, local health system or region the figure is of; None for England."""
        return self.organisation or self.local_system or self.region

    def __str__(self):
        value = f"{Decimal(str(self.value)).normalize():f}" if self.value is not None else ""
        return f"{self.measure.name}, {self.area or 'England'}, {self.month:%B %Y}: {value}"

    @property
    def is_generated(self):
        return self.source == self.Source.GENERATED

    def clean(self):
        super().clean()
        if self.measure_id:
            self.measure.check_value(self.value, "value")


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


class ExpectationResponse(PortalRecord, models.Model):
    """An organisation's or local health system's answer to an expectation in consultation.

    Given by a partner of that organisation or system; staff of the programme's bodies answer a concern.
    Only the organisation that gave it and staff see it.
    """

    class Position(models.TextChoices):
        AGREE = "agree", "We agree"
        CONCERNS = "concerns", "We have concerns"

    expectation = models.ForeignKey(Expectation, on_delete=models.PROTECT, related_name="responses")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="responses"
    )
    local_system = models.ForeignKey(
        "regions.LocalHealthSystem",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="responses",
        verbose_name="local health system",
    )
    position = models.CharField(max_length=20, choices=Position.choices)
    comment = models.TextField(blank=True, max_length=5000)
    responded_by = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="expectation_responses")
    responded_at = models.DateTimeField()
    answer = models.TextField(blank=True, max_length=5000)
    answered_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, blank=True, related_name="answered_responses"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    parent_field = "expectation"  # answered by those who edit the expectation (nhs_joint.records)
    history = HistoricalRecords()

    class Meta:
        ordering = ["expectation_id", "responded_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(organisation__isnull=True, local_system__isnull=False)
                | Q(organisation__isnull=False, local_system__isnull=True),
                name="expectation_response_one_responder",
                violation_error_message="A response is from one organisation or one local health system.",
            ),
            models.CheckConstraint(
                condition=~Q(position="concerns") | ~Q(comment=""),
                name="expectation_response_concern_has_comment",
                violation_error_message="Say what your concerns are.",
            ),
        ]

    @property
    def responder(self):
        return self.organisation or self.local_system

    @property
    def is_unanswered_concern(self):
        return self.position == self.Position.CONCERNS and not self.answer

    def __str__(self):
        return f"{self.responder}: {self.get_position_display()} ({self.expectation})"


class MeasureAgreement(PortalRecord, models.Model):
    """That an organisation or local health system agreed a programme's measure of success, and when.

    Recorded when an expectation on that measure is agreed after a consultation in which they agreed.
    """

    programme_measure = models.ForeignKey(ProgrammeMeasure, on_delete=models.CASCADE, related_name="agreements")
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="measure_agreements",
    )
    local_system = models.ForeignKey(
        "regions.LocalHealthSystem",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="measure_agreements",
        verbose_name="local health system",
    )
    agreed_on = models.DateField()
    expectation = models.ForeignKey(
        Expectation, on_delete=models.PROTECT, null=True, blank=True, related_name="measure_agreements"
    )

    parent_field = "programme_measure"
    history = HistoricalRecords()

    class Meta:
        ordering = ["programme_measure_id", "agreed_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(organisation__isnull=True, local_system__isnull=False)
                | Q(organisation__isnull=False, local_system__isnull=True),
                name="measure_agreement_one_party",
                violation_error_message="An agreement is with one organisation or one local health system.",
            ),
        ]

    def __str__(self):
        return f"{self.organisation or self.local_system} agreed {self.programme_measure} on {self.agreed_on:%-d %B %Y}"
