from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from nhs_joint.db import check_dates_in_order, end_not_before_start
from nhs_joint.records import PortalRecord


class NationalBody(models.Model):
    """One of the two national bodies: NHS England (NHSE) and NHS Improvement (NHSI)."""

    api_key = ("code", "body code")  # how other records and the API name it (nhs_joint.api)
    code = models.CharField(max_length=8, unique=True)
    name = models.CharField(max_length=200, unique=True)
    ods_code = models.CharField("ODS code", max_length=8, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "national bodies"

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.code,)


class StatutoryDuty(models.Model):
    """A statutory responsibility that one body holds and the other cannot take over."""

    api_key = ("slug", "duty slug")
    body = models.ForeignKey(NationalBody, on_delete=models.PROTECT, related_name="duties")
    slug = models.SlugField(max_length=100, unique=True, help_text="Its natural key, e.g. nhse-ccg-assessment.")
    title = models.CharField(max_length=200)
    legal_basis = models.CharField(max_length=300)
    summary = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["body__code", "title"]
        verbose_name_plural = "statutory duties"

    def __str__(self):
        return f"{self.title} ({self.body.code})"

    def natural_key(self):
        return (self.slug,)


class Organisation(PortalRecord, models.Model):
    """An NHS provider or commissioner, from NHS Digital's Organisation Data Service (ODS)."""

    class Kind(models.TextChoices):
        NHS_TRUST = "nhs_trust", "NHS trust"
        FOUNDATION_TRUST = "foundation_trust", "NHS foundation trust"
        INDEPENDENT_PROVIDER = "independent_provider", "Independent provider"
        CCG = "ccg", "Clinical commissioning group"
        OTHER = "other", "Other"

    ods_code = models.CharField("ODS code", max_length=10, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, null=True, blank=True, related_name="organisations"
    )
    local_system = models.ForeignKey(
        "regions.LocalHealthSystem",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organisations",
        verbose_name="local health system",
    )
    postcode = models.CharField(max_length=10, blank=True)
    opened = models.DateField(null=True, blank=True)
    closed = models.DateField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [end_not_before_start("organisation", start="opened", end="closed")]

    def __str__(self):
        return self.name

    def natural_key(self):
        return (self.ods_code,)

    def clean(self):
        super().clean()
        check_dates_in_order(self, "opened", "closed")
        if self.local_system_id and self.region_id and self.local_system.region_id != self.region_id:
            raise ValidationError({"local_system": "This local health system belongs to another region."})
