from django.db import models
from simple_history.models import HistoricalRecords

from nhs_joint.records import PortalRecord


class RegionQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)


class Region(PortalRecord, models.Model):
    """An NHS England region. The seven joint NHSE/I regions are active; retired codes are kept inactive."""

    api_key = ("ods_code", "region ODS code")  # how other records and the API name it (nhs_joint.api)
    ods_code = models.CharField("ODS code", max_length=3, unique=True)
    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=100, blank=True)
    slug = models.SlugField(max_length=100, unique=True)
    ons_code = models.CharField("ONS code", max_length=9, blank=True)
    active = models.BooleanField(default=True)
    effective_from = models.DateField(null=True, blank=True)
    effective_to = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)

    history = HistoricalRecords()
    objects = RegionQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(effective_to__isnull=True)
                | models.Q(effective_from__isnull=True)
                | models.Q(effective_to__gte=models.F("effective_from")),
                name="region_effective_to_not_before_from",
                violation_error_message="A region's end date must not be before its start date.",
            )
        ]

    def __str__(self):
        return self.short_name or self.name

    def natural_key(self):
        return (self.ods_code,)


class LocalHealthSystem(PortalRecord, models.Model):
    """A local health system: a sustainability and transformation partnership (STP) in 2018-19."""

    ods_code = models.CharField("ODS code", max_length=3, unique=True)
    ons_code = models.CharField("ONS code", max_length=9, blank=True)
    name = models.CharField(max_length=200)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="local_systems")

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = "local health system"

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.ods_code,)


class LocalOffice(models.Model):
    """An NHS England local office (Q70–Q84) or area team of an older ODS file, with the region it belonged to.

    None is current: they are kept, from NHS Digital's eauth file, so that an older organisation file
    naming only a local office or area team can still be linked to a region.
    """

    ods_code = models.CharField("ODS code", max_length=3, unique=True)
    name = models.CharField(max_length=200)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="local_offices")
    opened = models.DateField(null=True, blank=True)
    closed = models.DateField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["ods_code"]
        verbose_name = "local office or area team"
        verbose_name_plural = "local offices and area teams"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closed__isnull=True)
                | models.Q(opened__isnull=True)
                | models.Q(closed__gte=models.F("opened")),
                name="local_office_closed_not_before_opened",
                violation_error_message="A local office's close date must not be before its open date.",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.ods_code})"

    def natural_key(self):
        return (self.ods_code,)
