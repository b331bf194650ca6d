"""Starting, running and reading background jobs; the export of a list too long for one request.

A job is started by a request (which only stores what the job needs and hands
it to a worker), run by a Celery worker (``run``), and followed on its page,
whose file only its owner can download. Apps register the work they hand over
with ``@runner(name)``.
"""

import io
import logging
from datetime import timedelta
from importlib import import_module

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.http import HttpResponseRedirect, QueryDict
from django.utils import timezone

from nhs_joint.failures import cause_of, service_unavailable

from .models import Job, JobChunk

log = logging.getLogger(__name__)

CHUNK_SIZE = 1 << 20  # bytes of a file kept in one row
RUNNERS = {}


class JobCannotStart(Exception):
    """Redis (which carries jobs to the workers) cannot be reached: no job was left behind."""

    def __init__(self, what="This"):
        super().__init__(
            f"{what} cannot start now: the service that runs long jobs cannot be reached. Nothing was kept; "
            "try again in a few minutes."
        )


class Refused(Exception):
    """A job's input is refused whole: ``errors`` names each problem (an imported file's bad lines)."""

    def __init__(self, message, errors=()):
        super().__init__(message)
        self.errors = list(errors)


def runner(name):
    """Register ``func(job, progress)`` as the work named ``name``; ``progress(percent)`` reports how far it is."""

    def register(func):
        RUNNERS[name] = func
        return func

    return register


def _write_chunks(job, purpose, pieces):
    buffer, number, size = bytearray(), 0, 0
    for piece in pieces:
        buffer += piece
        size += len(piece)
        while len(buffer) >= CHUNK_SIZE:
            JobChunk.objects.create(job=job, purpose=purpose, number=number, data=bytes(buffer[:CHUNK_SIZE]))
            del buffer[:CHUNK_SIZE]
            number += 1
    if buffer or number == 0:
        JobChunk.objects.create(job=job, purpose=purpose, number=number, data=bytes(buffer))
    return size


def read_chunks(job, purpose):
    """The file's pieces in order, one row at a time (never the whole file in memory)."""
    numbers = JobChunk.objects.filter(job=job, purpose=purpose).order_by("number").values_list("pk", flat=True)
    for pk in list(numbers):
        yield bytes(JobChunk.objects.values_list("data", flat=True).get(pk=pk))


def input_file(job):
    """The job's input as a binary file object."""
    return io.BytesIO(b"".join(read_chunks(job, "input")))


def write_output(job, filename, content_type, pieces):
    """Keep the file the job made (``pieces``: bytes), for its owner to download."""
    JobChunk.objects.filter(job=job, purpose="output").delete()
    job.size = _write_chunks(job, "output", pieces)
    job.filename, job.content_type = filename, content_type


def start(user, name, kind, title, params=None, input_pieces=None):
    """Keep what the job needs and hand it to a worker once that is committed; raises JobCannotStart."""
    with transaction.atomic():
        job = Job.objects.create(owner=user, runner=name, kind=kind, title=title[:200], params=params or {})
        if input_pieces is not None:
            _write_chunks(job, "input", input_pieces)

    def send():
        try:
            # By the task's name (jobs/tasks.py calls this module, never the other way round).
            current_app.signature("jobs.run_job").apply_async(args=[job.pk], queue=settings.REPORTS_QUEUE)
        except Exception as error:
            if cause_of(error) != "broker":
                raise
            log.warning("job %s could not be queued: %s", job.pk, error)
            Job.objects.filter(pk=job.pk, status=Job.Status.QUEUED).delete()
            raise JobCannotStart(kind.capitalize() if isinstance(kind, str) else "This") from error

    transaction.on_commit(send)
    return job


def start_export(request, resource, query):
    """A list page's CSV too long for one request: an export job, and the page that follows it."""
    try:
        job = start(
            request.user,
            "export",
            Job.Kind.EXPORT,
            f"Export of {resource.verbose_name_plural}",
            params={"resource": resource.name, "query": query.urlencode()},
        )
    except JobCannotStart as refusal:
        return service_unavailable(request, str(refusal), title="The export cannot start now")
    return HttpResponseRedirect(job.get_absolute_url())


def run(job_id):
    """Do the job (in a worker): its file or its messages are kept, and its status says how it ended."""
    import_module(settings.ROOT_URLCONF)  # every app's pages and runners are registered
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != Job.Status.QUEUED:
            return None  # deleted, or a message delivered twice
        job.status, job.started = Job.Status.RUNNING, timezone.now()
        job.save(update_fields=["status", "started"])

    def progress(percent):
        Job.objects.filter(pk=job.pk).update(progress=max(0, min(99, int(percent))))

    try:
        RUNNERS[job.runner](job, progress)
    except Refused as refusal:
        _finish(job, Job.Status.FAILED, str(refusal), refusal.errors)
    except Exception as error:
        log.exception("job %s (%s) failed", job.pk, job.runner)
        _finish(
            job, Job.Status.FAILED, f"The job stopped with an error ({error.__class__.__name__}). Nothing was saved."
        )
    else:
        _finish(job, Job.Status.SUCCEEDED, job.message)
    return job.pk


def _finish(job, status, message, errors=()):
    if status == Job.Status.FAILED:
        JobChunk.objects.filter(job=job, purpose="output").delete()
        job.filename = ""
    JobChunk.objects.filter(job=job, purpose="input").delete()  # the input is not kept once read
    Job.objects.filter(pk=job.pk).update(
        status=status,
        message=message,
        errors=list(errors),
        finished=timezone.now(),
        progress=100 if status == Job.Status.SUCCEEDED else job.progress,
        filename=job.filename,
        content_type=job.content_type,
        size=job.size,
    )


def tidy(now=None):
    """Forget finished jobs (and their files) after JOB_KEEP_DAYS; mark failed the jobs left waiting or running
    for a day (their message was lost or their worker died). Returns (forgotten, failed)."""
    now = now or timezone.now()
    _, deleted = Job.objects.filter(finished__lt=now - timedelta(days=settings.JOB_KEEP_DAYS)).delete()
    forgotten = deleted.get(Job._meta.label, 0)
    stuck = Job.objects.filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING], created__lt=now - timedelta(days=1))
    failed = 0
    for job in stuck:
        JobChunk.objects.filter(job=job).delete()
        failed += Job.objects.filter(pk=job.pk, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).update(
            status=Job.Status.FAILED,
            finished=now,
            filename="",
            message="The job did not finish: its worker stopped, or it never started. Nothing was saved; start it again.",
        )
    return forgotten, failed


@runner("export")
def export(job, progress):
    """The CSV of a list page, as the page would have streamed it: the same filters, columns and order."""
    from nhs_joint.exports import csv_lines
    from nhs_joint.generic import list_queryset
    from nhs_joint.registry import registry

    resource = registry.resource_named(job.params["resource"])
    query = QueryDict(job.params["query"])
    queryset, filterset = list_queryset(resource, query, job.owner)
    total = queryset.count() or 1
    rows = [0]

    def counted():
        for number, obj in enumerate(queryset.iterator(chunk_size=2000), start=1):
            if number % 5000 == 0:
                progress(99 * number / total)
            rows[0] = number
            yield obj

    pieces = (line.encode("utf-8") for line in csv_lines(resource.list.columns, counted()))
    write_output(job, f"{resource.prefix}.csv", "text/csv; charset=utf-8", pieces)
    job.message = f"{rows[0]:,} rows exported."
