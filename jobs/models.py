"""Work too long for one request (large exports and imports), done by a Celery worker for one person.

The files a job reads and writes are kept in the database, in chunks, so that
whichever web host the person reaches next can serve the result: nothing
assumes one machine.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse


class Job(models.Model):
    class Kind(models.TextChoices):
        EXPORT = "export", "Export"
        IMPORT = "import", "Import"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    runner = models.CharField(
        max_length=50, help_text="The registered piece of work, e.g. export or measurement-import."
    )
    title = models.CharField(max_length=200)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.TextField(blank=True, help_text="What the job did, or why it failed.")
    errors = models.JSONField(default=list, blank=True, help_text="Each problem found in an imported file.")
    filename = models.CharField(
        max_length=200, blank=True, help_text="The name of the file to download, when there is one."
    )
    content_type = models.CharField(max_length=100, blank=True)
    size = models.BigIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-pk"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("job-detail", args=[self.pk])

    def seen_by(self, user):
        """A job is its owner's alone: its title can say what they are working on (nhs_joint.permissions.can_see)."""
        return user.pk == self.owner_id

    @property
    def is_finished(self):
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    @property
    def has_file(self):
        return self.status == self.Status.SUCCEEDED and bool(self.filename)


class JobChunk(models.Model):
    """A piece of a file a job reads (``input``) or writes (``output``), in order."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="chunks")
    purpose = models.CharField(max_length=10, choices=[("input", "Input"), ("output", "Output")])
    number = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        ordering = ["job", "purpose", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "purpose", "number"], name="job_chunk_once")]
