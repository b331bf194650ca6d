"""Measures of success, the programmes' agreed measures and the monthly measurements.

Moved from programmes/: each model keeps its table (``db_table``, and its history's tables through
``kept_history``), so the move changed no table (migrations/0001_initial.py).
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q

from nhs_joint import words
from nhs_joint.archive import Archivable, LiveManager
from nhs_joint.db import kept_history
from nhs_joint.records import PortalRecord
from programmes.models import Programme


class Comparator(models.TextChoices):
    AT_LEAST = ">=", "at least"
    AT_MOST = "<=", "at most"


class Measure(PortalRecord, Archivable):
    """A measure of success agreed with the organisations affected, such as the A&E 4-hour standard."""

    class Direction(models.TextChoices):
        HIGHER = "higher", "Higher is better"
        LOWER = "lower", "Lower is better"

    class Unit(models.TextChoices):
        PERCENT = "percent", "Percent"
        MINUTES = "minutes", "Minutes"
        COUNT = "count", "Count"
        RATE_PER_1000 = "rate_per_1000", "Rate per 1,000"

    api_key = ("code", "measure code")
    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=20, choices=Unit.choices)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    standard = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    comparator = models.CharField(max_length=2, choices=Comparator.choices, blank=True)
    # How many decimals its figures are written with: 87.5% (1), 18 minutes (0). Targets and standards are
    # written without trailing zeros ("at least 95%"), never with more decimals than this.
    decimal_places = models.PositiveSmallIntegerField(
        default=1,
        db_default=1,  # also for rows written without the ORM (bulk loads, raw SQL)
        validators=[MaxValueValidator(3)],
        help_text="How many decimal places its figures are written with: 1 for 87.5%, 0 for 18 minutes.",
    )

    history = kept_history("programmes")
    objects = LiveManager()
    all_objects = models.Manager()

    class Meta:
        db_table = "programmes_measure"  # kept from before the move (module docstring)
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

    def figure(self, value):
        """A figure of this measure in its unit and decimal places: "87.5%", "18 minutes", "4.2 per 1,000"."""
        return words.figure(value, self.unit, self.decimal_places)

    def target_words(self, comparator, value):
        """A target or standard of this measure in words: "at least 95%"."""
        return words.comparison(comparator, value, self.unit, self.decimal_places)

    @property
    def standard_words(self):
        """The national standard in words ("at least 95%"), or "No national standard"."""
        return (
            self.target_words(self.comparator, self.standard) if self.standard is not None else "No national standard"
        )

    def check_value(self, value, field):
        """Raise a ValidationError on ``field`` when ``value`` is not a possible value of this measure."""
        if value is None:
            return
        if self.unit == self.Unit.PERCENT and not (Decimal(0) <= Decimal(value) <= Decimal(100)):
            raise ValidationError({field: f"{self.name} is a percentage: the value must lie between 0 and 100."})
        if Decimal(value) < 0:
            raise ValidationError({field: "The value must not be negative."})


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
    agreed_by = models.ManyToManyField(
        "organisations.NationalBody", related_name="agreed_measures", db_table="programmes_programmemeasure_agreed_by"
    )

    history = kept_history("programmes", m2m_fields=[agreed_by])
    objects = LiveManager("programme", "measure")
    all_objects = models.Manager()

    class Meta:
        db_table = "programmes_programmemeasure"  # kept from before the move (module docstring)
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
    history = kept_history("programmes")

    class Meta:
        db_table = "programmes_measurement"  # kept from before the move (module docstring)
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
        value = self.measure.figure(self.value) if self.value is not None else ""
        return f"{self.measure.name}, {self.area or 'England'}, {self.month:%B %Y}: {value}"

    @property
    def is_generated(self):
        return self.source == self.Source.GENERATED

    def clean(self):
        super().clean()
        if self.measure_id:
            self.measure.check_value(self.value, "value")
