"""Report runs, their findings, and the decisions people take on findings."""

import hashlib

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from nhs_joint.records import PortalRecord
from nhs_joint.registry import registry
from nhs_joint.words import shorten

from .rules import rule_name


class ReportRun(PortalRecord, models.Model):
    """One run of the consistency or the duplication report over the whole store."""

    class Kind(models.TextChoices):
        CONSISTENCY = "consistency", "Consistency (speak with one voice)"
        DUPLICATION = "duplication", "Duplication (remove unnecessary duplication)"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="report_runs"
    )
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True, help_text="Findings per rule, and records examined.")
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="The worker running it (host and process).")
    heartbeat = models.DateTimeField(null=True, blank=True, help_text="When the worker last said it was alive.")

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["kind", "status", "-finished"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__gte=0, progress__lte=100), name="report_run_progress_percentage"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} report, run {self.pk}"

    @property
    def is_finished(self):
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)


def fingerprint_of(rule, records):
    """The rule and the sorted keys of the records it is about: the same problem has the same fingerprint."""
    keys = sorted(f"{r['type']}:{r['key']}" for r in records)
    return hashlib.sha256("|".join([rule, *keys]).encode()).hexdigest()


class Finding(PortalRecord, models.Model):
    """A problem a rule found in one run."""

    class Severity(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    run = models.ForeignKey(ReportRun, on_delete=models.CASCADE, related_name="findings")
    rule = models.CharField(max_length=50)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    message = models.TextField()
    region = models.ForeignKey(
        "regions.Region", on_delete=models.SET_NULL, null=True, blank=True, related_name="findings"
    )
    score = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    records = models.JSONField(default=list, help_text="[{type, id, key, label}] of the records it is about.")
    shared_terms = models.JSONField(default=list, blank=True, help_text="Words two similar records share.")
    pairs = models.JSONField(
        default=list,
        blank=True,
        help_text="Duplicate work: [{type, a, b, probability, band, cosine, evidence}] of each pair found.",
    )
    fingerprint = models.CharField(max_length=64)
    records_state = models.CharField(max_length=64, help_text="A digest of the records' versions when found.")
    suppressed = models.BooleanField(default=False, help_text="Decided “not a problem” and not changed since.")

    class Meta:
        ordering = ["rule", "-score", "pk"]
        indexes = [
            models.Index(fields=["run", "rule"]),
            models.Index(fields=["rule", "region"]),
            models.Index(fields=["fingerprint"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__gte=0, score__lte=1),
                name="finding_score_between_0_and_1",
            )
        ]

    def __str__(self):
        # A heading: the rule's name and the message cut between words; the page shows the message in full.
        return f"{self.rule_name}: {shorten(self.message, 80)}"

    @property
    def rule_name(self):
        return rule_name(self.rule)

    def watch_target(self):
        """Watching a finding watches its case, which lasts from run to run (notifications)."""
        return FindingCase.objects.filter(fingerprint=self.fingerprint).first() or self

    # How each kind of record a finding names reaches the bodies that run it (a lookup on NationalBody).
    BODY_LOOKUPS = {
        "programme": "programmes__id__in",
        "workstream": "programmes__workstreams__id__in",
        "expectation": "programmes__expectations__id__in",
        "appointment": "shares__appointment__id__in",
        "person": "shares__appointment__person__id__in",
    }

    def editing_bodies(self):
        """The bodies that run a record the finding names: their staff judge it (“not a problem”).

        None when it names only records of no body (measures, regions): then any member of staff may.
        """
        from organisations.models import NationalBody

        ids = {}
        for record in self.records or []:
            lookup = self.BODY_LOOKUPS.get(record.get("type"))
            if lookup and isinstance(record.get("id"), int):
                ids.setdefault(lookup, set()).add(record["id"])
        if not ids:
            return None
        condition = models.Q()
        for lookup, pks in ids.items():
            condition |= models.Q(**{lookup: pks})
        return list(NationalBody.objects.filter(condition).distinct()) or None


class FindingDecision(models.Model):
    """“Not a problem”: hides a finding from later runs until one of its records changes."""

    class Decision(models.TextChoices):
        NOT_A_PROBLEM = "not_a_problem", "Not a problem"

    fingerprint = models.CharField(max_length=64, db_index=True)
    rule = models.CharField(max_length=50)
    decision = models.CharField(max_length=20, choices=Decision.choices, default=Decision.NOT_A_PROBLEM)
    reason = models.TextField()
    records_state = models.CharField(max_length=64)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="finding_decisions")
    decided_at = models.DateTimeField(auto_now_add=True)
    finding = models.ForeignKey(Finding, on_delete=models.SET_NULL, null=True, blank=True, related_name="decisions")

    history = HistoricalRecords()

    class Meta:
        ordering = ["-decided_at"]

    def __str__(self):
        return f"{self.get_decision_display()}: {self.rule}"


class FindingCase(models.Model):
    """What people do about a problem, kept from run to run: the same problem has the same fingerprint.

    A run's findings come and go with the run; the case stays. It is given to someone to act on, with a
    due date, and goes open → in progress → resolved, or “not a problem” with a reason. A problem that
    a later run of its report no longer finds is “resolved by the data” (and says when); one that comes
    back is open again. Every change is in its history.
    """

    class State(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        RESOLVED = "resolved", "Resolved"
        NOT_A_PROBLEM = "not_a_problem", "Not a problem"
        RESOLVED_BY_DATA = "resolved_by_data", "Resolved by the data"

    ACTIVE = (State.OPEN, State.IN_PROGRESS)
    CLOSED_BY_PEOPLE = (State.RESOLVED, State.NOT_A_PROBLEM)

    fingerprint = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=20, choices=ReportRun.Kind.choices)
    rule = models.CharField(max_length=50)
    message = models.TextField(help_text="As the latest run worded it.")
    region = models.ForeignKey("regions.Region", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    state = models.CharField(max_length=20, choices=State.choices, default=State.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="finding_cases"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    due_date = models.DateField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why it is not a problem, or how it was resolved.")
    state_changed = models.DateTimeField(null=True, blank=True)
    latest_finding = models.ForeignKey(Finding, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    last_seen = models.DateTimeField(null=True, blank=True, help_text="When a run last found the problem.")

    history = HistoricalRecords(excluded_fields=["latest_finding", "last_seen", "message"])

    class Meta:
        ordering = ["due_date", "pk"]
        indexes = [models.Index(fields=["assignee", "state"]), models.Index(fields=["kind", "state"])]

    def __str__(self):
        return f"{self.rule}: {self.message[:80]}"

    def get_absolute_url(self):
        """The page of the latest finding of the problem (where it is acted on), or "" if none is kept."""
        if not self.latest_finding_id:
            return ""
        return registry.resource_for("finding").detail_url(self.latest_finding_id)

    @property
    def is_active(self):
        return self.state in self.ACTIVE

    def acting_people(self):
        """Who acts on the problem: the person holding it and the person who gave it to them. A comment on
        it asks them to act, so they hear of it at once (notifications.services.comment_posted)."""
        return {pk for pk in (self.assignee_id, self.assigned_by_id) if pk}


class PairJudgement(models.Model):
    """A reviewer's judgement of whether two records describe the same work, on their texts as they were.

    The duplicate-work rule reads the latest judgement of each pair: “not the same work” keeps the pair out
    of later runs while both texts are unchanged (a change to either brings it back), “same work” keeps
    it in; both are labelled examples that the next run's match model is fitted on with the shipped ones.
    """

    class Verdict(models.TextChoices):
        SAME = "same", "Same work"
        NOT_SAME = "not_same", "Not the same work"
        NOT_SURE = "not_sure", "Not sure"

    record_type = models.CharField(max_length=20, help_text="workstream or programme")
    first_id = models.BigIntegerField(help_text="The lower id of the two.")
    second_id = models.BigIntegerField()
    first_text = models.CharField(max_length=64, help_text="A digest of the first record's wording when judged.")
    second_text = models.CharField(max_length=64)
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    probability = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pair_judgements")
    decided_at = models.DateTimeField(auto_now_add=True)
    finding = models.ForeignKey(
        Finding, on_delete=models.SET_NULL, null=True, blank=True, related_name="pair_judgements"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["-decided_at", "-pk"]
        indexes = [models.Index(fields=["record_type", "first_id", "second_id"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(first_id__lt=models.F("second_id")), name="pair_judgement_order")
        ]

    def __str__(self):
        return f"{self.get_verdict_display()}: {self.record_type} {self.first_id} and {self.second_id}"


class SimilarRecord(models.Model):
    """One of a record's closest records in other programmes, as a duplication run found them (the
    “Similar work elsewhere” panels read these: no page builds the index)."""

    run = models.ForeignKey(ReportRun, on_delete=models.CASCADE, related_name="similar_records")
    record_type = models.CharField(max_length=20, help_text="workstream or programme")
    record_id = models.BigIntegerField()
    other_id = models.BigIntegerField()
    rank = models.PositiveSmallIntegerField()
    cosine = models.DecimalField(max_digits=4, decimal_places=3)
    probability = models.DecimalField(max_digits=4, decimal_places=3)

    class Meta:
        ordering = ["run", "record_type", "record_id", "rank"]
        indexes = [models.Index(fields=["record_type", "record_id", "run"])]

    def __str__(self):
        return f"{self.record_type} {self.record_id}: {self.other_id} ({self.cosine})"
