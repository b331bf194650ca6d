"""Expectations (what the programmes ask of providers, commissioners and local health systems), the
consultations on them and the organisations' responses and agreements.

Moved from programmes/: each model keeps its table (``db_table``, and its history's tables through
``kept_history``), so the move changed no table (migrations/0001_initial.py).
"""

from django.db import models
from django.db.models import Q

from measures.models import Comparator, Measure, ProgrammeMeasure
from nhs_joint.archive import Archivable, LiveManager
from nhs_joint.dates import format_date
from nhs_joint.db import check_dates_in_order, end_not_before_start, kept_history
from nhs_joint.permissions import Decision, can_edit_by_bodies
from nhs_joint.records import PortalRecord
from programmes.models import Audience, Programme


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
    # Agreed by each body at the agree step (asks/services.py); not changed under another body's agreement.
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
    # Set by the consultation's daily tasks (asks/tasks.py), each once: the partners who had not answered were
    # reminded 7 days before it closed; its author was told it closed and is ready to agree.
    consultation_reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    consultation_closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    agreed_on = models.DateField(null=True, blank=True)
    agreed_by = models.ManyToManyField(
        "organisations.NationalBody",
        related_name="agreed_expectations",
        blank=True,
        verbose_name="agreed by",
        db_table="programmes_expectation_agreed_by",
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

    history = kept_history("programmes", m2m_fields=[agreed_by])
    objects = LiveManager("programme", "measure")
    all_objects = models.Manager()

    class Meta:
        db_table = "programmes_expectation"  # kept from before the move (module docstring)
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
        from .services import partner_may_see

        return partner_may_see(user, self)

    def __str__(self):
        area = self.region or "England"
        target = self.measure.target_words(self.comparator, self.target) if self.target is not None else ""
        audience = self.get_audience_display().lower()
        return f"{self.measure.name}: {target} for {audience} ({area})"

    def clean(self):
        super().clean()
        check_dates_in_order(self, "start_date", "due_date")
        if self.measure_id:
            self.measure.check_value(self.target, "target")


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
    history = kept_history("programmes")

    class Meta:
        db_table = "programmes_expectationresponse"  # kept from before the move (module docstring)
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
    history = kept_history("programmes")

    class Meta:
        db_table = "programmes_measureagreement"  # kept from before the move (module docstring)
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
        return (
            f"{self.organisation or self.local_system} agreed {self.programme_measure} on {format_date(self.agreed_on)}"
        )
