"""Comments, board papers and saved views: what people add to the portal's records, and how they find lists again.

Comments and board papers hang off any kind of record through the content types framework, so that this app
imports none of the apps whose records it serves. Each keeps its history: an edited comment's earlier text, a
replaced paper's earlier file, who hid or archived what and why.
"""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from simple_history.models import HistoricalRecords

from nhs_joint.dates import format_date

COMMENT_MAX_CHARS = 5000


class Comment(models.Model):
    """A person's comment on a record: plain text, never deleted (an Administrator may hide it, with a reason)."""

    record_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    record_id = models.PositiveBigIntegerField()
    text = models.TextField("Comment", max_length=COMMENT_MAX_CHARS)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="comments")
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    hidden_reason = models.CharField("Reason", max_length=500, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["record_type", "record_id", "created_at"], name="comment_on_record")]

    def __str__(self):
        return f"Comment by {self.author} on {format_date(self.created_at, 'd M Y H:i')}"

    @property
    def is_hidden(self):
        return self.hidden_at is not None


class Attachment(models.Model):
    """A board paper: a file attached to a record, kept in the attachments storage, served only to people signed in.

    Replacing the file keeps the earlier one (its stored name stays in the history, and the file in storage);
    archiving takes it off the record's page without losing it.
    """

    record_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    record_id = models.PositiveBigIntegerField()
    title = models.CharField(max_length=200)
    stored_name = models.CharField(max_length=500, editable=False)  # the name in STORAGES["attachments"]
    file_name = models.CharField(max_length=255)  # as it was uploaded, offered again on download
    media_type = models.CharField(max_length=100)  # found from the content, not the name
    size = models.PositiveBigIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="attachments")
    uploaded_at = models.DateTimeField()
    archived_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["title", "pk"]
        indexes = [models.Index(fields=["record_type", "record_id"], name="attachment_on_record")]

    def __str__(self):
        return self.title


class SavedView(models.Model):
    """A list's filters saved under a name by one person: the list's address and its query string."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=100)
    list_name = models.CharField(max_length=50)  # the page resource's name ("programme")
    query = models.CharField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="saved_view_name_once_per_person")]

    def __str__(self):
        return self.name
