"""Running the reports: request a run, execute it (in a Celery worker), reap runs whose worker died, decide.

A run's findings and its final status are written in one transaction, so a run
that fails leaves no findings. Until then the findings wait, a batch at a time
as the rules yield them, in a temporary table of the worker's connection
(StagedFindings): a run holds one batch in memory however many it finds, and
its findings, their cases and the cases' history are written set-based
(INSERT ... SELECT), never row by row. Progress and a heartbeat are committed
after every rule (and every batch of a rule that finds many), so that pages
and the API can show how far a run has gone and a run whose worker died can
be told apart from a slow one.
"""

import hashlib
import json
import logging
import os
import socket
import time
import uuid
from collections import defaultdict
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Case, F, IntegerField, Max, Q, Value, When
from django.utils import timezone
from psycopg2.extras import execute_values

from nhs_joint.dates import format_date
from nhs_joint.registry import registry

from . import workflow
from .models import Finding, FindingDecision, PairJudgement, ReportRun, SimilarRecord, fingerprint_of
from .rules import Context, rules_of

log = logging.getLogger(__name__)

# The database went away for a moment (a restart, a fail-over, a dropped connection): worth trying again.
DATABASE_ERRORS = (OperationalError, InterfaceError)


class RunAlreadyFinished(Exception):
    pass


class ReportsCannotStart(Exception):
    """Redis (the broker that carries runs to the workers) cannot be reached: no run was queued."""

    def __init__(self, error=None):
        super().__init__(
            "Reports cannot start now: the service that runs them cannot be reached. Nothing was queued; "
            "try again in a few minutes."
        )
        self.error = error


def request_run(kind, user=None):
    """Queue a run of one kind of report; the task is sent once the transaction commits.

    When Redis cannot be reached the run is removed again and ReportsCannotStart raised: a run that no
    worker will ever be given would otherwise wait in the queue for ever. (The broker's connection
    timeouts in the settings make this a matter of seconds.)
    """
    from nhs_joint.failures import cause_of

    if kind not in ReportRun.Kind.values:
        raise ValueError(f"kind must be one of {', '.join(ReportRun.Kind.values)}")
    reap_stale_runs()
    run = ReportRun.objects.create(kind=kind, requested_by=user, task_id=str(uuid.uuid4()))

    def send():
        try:
            # By the task's name (reports/tasks.py calls this module, never the other way round).
            current_app.signature("reports.run_report").apply_async(
                args=[run.pk], task_id=run.task_id, queue=settings.REPORTS_QUEUE
            )
        except Exception as error:
            if cause_of(error) != "broker":
                raise
            log.warning("report run %s could not be queued: %s", run.pk, error)
            ReportRun.objects.filter(pk=run.pk, status=ReportRun.Status.QUEUED).delete()
            raise ReportsCannotStart(error) from error

    transaction.on_commit(send)
    return run


def reap_stale_runs(now=None):
    """Mark failed every running run whose worker has been silent too long, and every queued run that no
    worker has taken for REPORT_QUEUED_STALE_AFTER seconds (its message was lost); returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.REPORT_STALE_AFTER)
    stale = ReportRun.objects.filter(status=ReportRun.Status.RUNNING, heartbeat__lt=cutoff)
    count = 0
    for run in stale:
        reason = (
            f"The worker running this report ({run.worker or 'unknown'}) stopped answering: no sign of life since "
            f"{format_date(run.heartbeat, 'j F Y H:i:s')}. No findings were saved; run the report again."
        )
        count += ReportRun.objects.filter(pk=run.pk, status=ReportRun.Status.RUNNING, heartbeat__lt=cutoff).update(
            status=ReportRun.Status.FAILED, error=reason, finished=now
        )
    # A queued run's last sign of life is its request, or its return to the queue after a database error.
    queued_cutoff = now - timedelta(seconds=settings.REPORT_QUEUED_STALE_AFTER)
    waited_too_long = Q(status=ReportRun.Status.QUEUED) & (
        Q(heartbeat__lt=queued_cutoff) | Q(heartbeat__isnull=True, created__lt=queued_cutoff)
    )
    for run in ReportRun.objects.filter(waited_too_long):
        reason = (
            f"No worker started this report: it waited in the queue from "
            f"{format_date(run.heartbeat or run.created, 'j F Y H:i:s')}. No findings were saved; "
            "run the report again."
        )
        count += ReportRun.objects.filter(waited_too_long, pk=run.pk).update(
            status=ReportRun.Status.FAILED, error=reason, finished=now
        )
    return count


def _beat(run_id, **fields):
    ReportRun.objects.filter(pk=run_id).update(heartbeat=timezone.now(), **fields)


def _start(run_id, worker):
    with transaction.atomic():
        run = ReportRun.objects.select_for_update().get(pk=run_id)
        if run.is_finished:
            # A redelivered message for a run that was reaped, or already done: nothing to do.
            raise RunAlreadyFinished(run.status)
        run.status = ReportRun.Status.RUNNING
        run.started = timezone.now()
        run.heartbeat = run.started
        run.worker = worker
        run.progress = 0
        run.error = ""
        run.save(update_fields=["status", "started", "heartbeat", "worker", "progress", "error"])
    return run


def execute(run_id, worker=None, retry_database_errors=False):
    """Run every rule of the run's kind, then write all its findings with its final status, or nothing.

    Any error marks the run failed and is raised again; except that, with
    ``retry_database_errors`` (the Celery task), a database error is raised
    with the run left as it is, for the caller to put it back in the queue and
    try again: a run marked failed would never be run again.
    """
    worker = worker or f"{socket.gethostname()}:{os.getpid()}"
    try:
        run = _start(run_id, worker)
    except RunAlreadyFinished:
        log.info("report run %s is already finished; nothing to do", run_id)
        return None
    staging = StagedFindings()
    try:
        context = Context()
        rules = rules_of(run.kind)
        counts = {}
        staging.open()
        for index, rule in enumerate(rules):
            delay = settings.REPORT_RULE_DELAY
            if delay:
                time.sleep(delay)
            counts[rule.code] = staging.add(rule, rule.check(context), beat=lambda: _beat(run_id))
            _beat(run_id, progress=int(90 * (index + 1) / len(rules)))
        with transaction.atomic():
            locked = ReportRun.objects.select_for_update().get(pk=run_id)
            if locked.status != ReportRun.Status.RUNNING or locked.worker != worker:
                raise RunAlreadyFinished(locked.status)
            written, suppressed = staging.write(run)
            _keep_similar_records(run, context.similar_records)
            cases = workflow.update_cases(run)
            locked.status = ReportRun.Status.SUCCEEDED
            locked.finished = timezone.now()
            locked.progress = 100
            locked.counts = {
                "findings": written,
                "suppressed": suppressed,
                "by_rule": counts,
                "cases": cases,
                **context.figures,
            }
            locked.save(update_fields=["status", "finished", "progress", "counts"])
        return run_id
    except RunAlreadyFinished:
        log.warning("report run %s was finished elsewhere while this worker ran it; its result is dropped", run_id)
        return None
    except Exception as error:
        if retry_database_errors and isinstance(error, DATABASE_ERRORS):
            raise  # the run stays as it is: the task puts it back in the queue and tries again
        fail(run_id, f"The report stopped with an error: {error.__class__.__name__}: {error}. No findings were saved.")
        raise
    finally:
        staging.close()


def _keep_similar_records(run, similar):
    """Each record's closest records elsewhere, as this run found them, in place of an earlier run's.

    ``similar``: (record_type, record_id, other_id, rank, cosine, probability) tuples, written with one
    multi-row INSERT per 5,000 (about 100,000 rows at England scale: model instances would cost seconds).
    """
    if not similar:
        return
    kinds = sorted({row[0] for row in similar})
    SimilarRecord.objects.filter(record_type__in=kinds).exclude(run=run).delete()
    table = connection.ops.quote_name(SimilarRecord._meta.db_table)
    with connection.cursor() as cursor:
        execute_values(
            cursor.cursor,
            f"INSERT INTO {table} (run_id, record_type, record_id, other_id, rank, cosine, probability) VALUES %s",
            [(run.pk, *row) for row in similar],
            page_size=5000,
        )


def fail(run_id, reason):
    ReportRun.objects.filter(pk=run_id).exclude(status=ReportRun.Status.SUCCEEDED).update(
        status=ReportRun.Status.FAILED, error=reason, finished=timezone.now()
    )


def requeue(run_id, reason):
    """A transient error: the task will retry, so the run goes back to the queue, saying why."""
    ReportRun.objects.filter(pk=run_id, status__in=[ReportRun.Status.QUEUED, ReportRun.Status.RUNNING]).update(
        status=ReportRun.Status.QUEUED, error=reason, progress=0
    )


def records_state(records, versions):
    """A digest of the records' latest history rows: any change to any of them changes it."""
    parts = sorted(f"{r['type']}:{r['id']}:{versions.get((r['type'], r['id']), 0)}" for r in records)
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def record_versions(record_lists, known=None):
    """{(type, id): latest history id} for every record named, one query per type of record.

    ``known``: versions already read (a run reads its findings' records a batch at a time); only the
    records not in it are asked for, and they are added to it.
    """
    versions = {} if known is None else known
    ids = defaultdict(set)
    for records in record_lists:
        for record in records:
            if (record["type"], record["id"]) not in versions:
                ids[record["type"]].add(record["id"])
    for type_name, pks in ids.items():
        for pk in pks:
            versions[(type_name, pk)] = 0  # no history (or a kind of record without): version 0
        # The kind of record is the one the portal declares pages for (nhs_joint/registry.py).
        resource = registry.resource_for(type_name)
        if resource is None or not hasattr(resource.model, "history"):
            continue
        model = resource.model
        for pk, latest in (
            model.history.filter(id__in=pks).values_list("id").annotate(latest=Max("history_id")).order_by()
        ):
            versions[(type_name, pk)] = latest
    return versions


FINDINGS_BATCH = 2000  # findings a run holds in memory at a time, however many its rules find


def batches(items, size):
    """Lists of up to ``size`` of ``items`` (any iterable, read as it goes)."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class StagedFindings:
    """A run's findings as its rules yield them, a batch at a time, in a temporary table of the worker's own
    database connection; written as the run's findings with its final status in one statement, or never.

    A run holds one batch of findings in memory (and the versions of the records they name), however many
    its rules find: ten times England finds hundreds of thousands. The table lives only as long as the
    connection, so a worker that dies, or a connection that drops, leaves nothing behind.
    """

    TABLE = "report_staged_findings"
    COLUMNS = (
        "rule",
        "severity",
        "message",
        "region_id",
        "score",
        "records",
        "shared_terms",
        "pairs",
        "fingerprint",
        "records_state",
    )

    def __init__(self):
        self.versions = {}  # {(type, id): latest history id} of the records named so far: each asked once
        self.opened = False

    def open(self):
        with connection.cursor() as cursor:
            cursor.execute(
                f"""CREATE TEMPORARY TABLE IF NOT EXISTS {self.TABLE} (
                    seq bigserial, rule varchar(50), severity varchar(10), message text, region_id bigint,
                    score numeric(4, 3), records jsonb, shared_terms jsonb, pairs jsonb, fingerprint varchar(64),
                    records_state varchar(64))"""
            )
            cursor.execute(f"TRUNCATE {self.TABLE} RESTART IDENTITY")
        self.opened = True

    def add(self, rule, found, beat=None):
        """Stage what ``rule`` found (FindingData, read as the rule yields them); returns how many.

        ``beat`` is called after each full batch: a rule that finds many is still alive.
        """
        count = 0
        for batch in batches(found, FINDINGS_BATCH):
            for item in batch:
                item.rule, item.severity = rule.code, rule.severity  # as the rule is declared
            self._stage(batch)
            count += len(batch)
            if beat is not None and len(batch) == FINDINGS_BATCH:
                beat()
        return count

    def _stage(self, batch):
        record_versions((item.records for item in batch), known=self.versions)
        rows = [
            (
                item.rule,
                item.severity,
                item.message,
                item.region_id,
                item.score,
                json.dumps(item.records),
                json.dumps(list(item.shared_terms)),
                json.dumps(list(item.pairs)),
                fingerprint_of(item.rule, item.records),
                records_state(item.records, self.versions),
            )
            for item in batch
        ]
        with connection.cursor() as cursor:
            execute_values(
                cursor.cursor,
                f"INSERT INTO {self.TABLE} ({', '.join(self.COLUMNS)}) VALUES %s",
                rows,
                template="(%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s::jsonb, %s, %s)",
                page_size=FINDINGS_BATCH,
            )

    def write(self, run):
        """The staged findings as the run's, in the order found; each suppressed when a decision holds for
        its fingerprint and its records as they are. Returns (findings, suppressed)."""
        finding = connection.ops.quote_name(Finding._meta.db_table)
        decision = connection.ops.quote_name(FindingDecision._meta.db_table)
        columns = ", ".join(self.COLUMNS)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""WITH written AS (
                    INSERT INTO {finding} (run_id, {columns}, suppressed)
                    SELECT %s, {", ".join(f"s.{c}" for c in self.COLUMNS)}, EXISTS (
                        SELECT 1 FROM {decision} d WHERE d.fingerprint = s.fingerprint
                        AND d.records_state = s.records_state)
                    FROM {self.TABLE} s ORDER BY s.seq
                    RETURNING suppressed)
                SELECT count(*), count(*) FILTER (WHERE suppressed) FROM written""",
                [run.pk],
            )
            return cursor.fetchone()

    def close(self):
        if not self.opened:
            return
        self.opened = False
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{self.TABLE}")
        except DatabaseError as error:  # the connection is gone (and the table with it), or its transaction failed
            log.info("the staged findings were not dropped (%s): they go with the connection", error)


def decide(finding, user, reason):
    """“Not a problem”: the finding is hidden in later runs until one of its records changes."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("Give the reason why this is not a problem.")
    with transaction.atomic():
        decision = FindingDecision.objects.create(
            fingerprint=finding.fingerprint,
            rule=finding.rule,
            reason=reason,
            records_state=finding.records_state,
            decided_by=user,
            finding=finding,
        )
        Finding.objects.filter(pk=finding.pk).update(suppressed=True)
        workflow.decided(finding, user, reason)
    return decision


class JudgementRefused(ValueError):
    """A judgement that cannot be kept, with the field it is about."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


def judge_pair(finding, user, first, second, verdict):
    """Keep a reviewer's judgement of one pair of a duplicate-work finding, on the two texts as they are now.

    “Not the same work” keeps the pair out of later runs until one of the two texts changes; “same work”
    keeps it in; both teach the next run's match model (reports/duplication.py). Raises JudgementRefused,
    naming the field, for a pair the finding does not name or a verdict that is not one of the three.
    """
    from .duplication import current_fingerprints

    if verdict not in PairJudgement.Verdict.values:
        raise JudgementRefused("verdict", "Choose same work, not the same work or not sure.")
    first, second = sorted((first, second))
    pair = next((p for p in finding.pairs or [] if (p["a"], p["b"]) == (first, second)), None)
    if pair is None:
        raise JudgementRefused("pair", "This finding does not name that pair of records.")
    texts = current_fingerprints(pair["type"], [first, second])
    if len(texts) != 2:
        raise JudgementRefused("pair", "One of the two records no longer exists.")
    return PairJudgement.objects.create(
        record_type=pair["type"],
        first_id=first,
        second_id=second,
        first_text=texts[first],
        second_text=texts[second],
        verdict=verdict,
        probability=pair["probability"],
        decided_by=user,
        finding=finding,
    )


def latest_judgements(finding):
    """{(first id, second id): PairJudgement} of the latest judgement of each pair the finding names."""
    pairs = [(p["type"], p["a"], p["b"]) for p in finding.pairs or []]
    if not pairs:
        return {}
    about = Q()
    for record_type, first, second in pairs:
        about |= Q(record_type=record_type, first_id=first, second_id=second)
    latest = {}
    for judgement in PairJudgement.objects.filter(about).select_related("decided_by").order_by("decided_at", "pk"):
        latest[(judgement.first_id, judgement.second_id)] = judgement
    return latest


def severity_rank():
    """An ordering expression: high severity first, then medium, then low (as the pages list findings)."""
    return Case(
        *(When(severity=value, then=Value(rank)) for rank, value in enumerate(Finding.Severity.values)),
        default=Value(len(Finding.Severity.values)),
        output_field=IntegerField(),
    )


def by_severity(findings):
    """Findings most severe first, then by rule and the surest first."""
    return findings.order_by(severity_rank(), "rule", F("score").desc(nulls_last=True), "pk")


def open_findings():
    """The findings of the latest successful run of each kind, less those decided “not a problem”."""
    latest = []
    for kind in ReportRun.Kind.values:
        run_id = (
            ReportRun.objects.filter(kind=kind, status=ReportRun.Status.SUCCEEDED)
            .order_by("-finished", "-pk")
            .values_list("pk", flat=True)
            .first()
        )
        if run_id:
            latest.append(run_id)
    return Finding.objects.filter(run_id__in=latest, suppressed=False)


def open_consistency_flags(type_name, ids):
    """{id: [{"text", "href"}]}: the open findings of the latest consistency report that name each record
    of ``type_name`` among ``ids``, in one query. Registered as a record flag (nhs_joint/registry.py)."""
    if not ids:
        return {}
    wanted = set(ids)
    about = Q()
    for pk in wanted:
        about |= Q(records__contains=[{"type": type_name, "id": pk}])
    flags = {}
    for finding in open_findings().filter(run__kind=ReportRun.Kind.CONSISTENCY).filter(about).order_by("pk"):
        for record in finding.records:
            if record.get("type") == type_name and record.get("id") in wanted:
                flags.setdefault(record["id"], []).append(
                    {"text": finding.message, "href": finding.get_absolute_url(), "rule": finding.rule}
                )
    return flags
