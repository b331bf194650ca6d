"""Watching records, the notifications people are sent, and how each person wants them by email.

A notification is written once and kept: it is the in-portal list, and it records its email's
delivery (sent, attempts, last error), so that a failed delivery is tried again and never lost.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from simple_history.models import HistoricalRecords


class Watch(models.Model):
    """A person follows a record: its changes, comments and new findings notify them.

    Stopping watching keeps the row (``active`` false), so that a programme watched automatically
    because they edit it is not watched again behind their back.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watches")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    active = models.BooleanField(default=True)
    automatic = models.BooleanField(default=False, help_text="Started by the portal (they edited the record).")
    created = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "content_type", "object_id"], name="one_watch_per_user_and_record")
        ]
        indexes = [models.Index(fields=["content_type", "object_id", "active"])]

    def __str__(self):
        return f"{self.user} watches {self.content_type.model} {self.object_id}"


class Preference(models.Model):
    """How a person wants their notifications by email, and when they last opened My work."""

    class Email(models.TextChoices):
        IMMEDIATE = (
            "immediate",
            "At once for what asks me to act (findings given to me, mentions, consultations), the rest daily",
        )
        DAILY = "daily", "Everything in a daily digest"
        NONE = "none", "No emails (notifications stay in the portal)"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email = models.CharField(max_length=10, choices=Email.choices, default=Email.IMMEDIATE)
    my_work_seen = models.DateTimeField(null=True, blank=True, help_text="When they last opened My work.")

    history = HistoricalRecords(excluded_fields=["my_work_seen"])

    def __str__(self):
        return f"{self.user}: {self.get_email_display()}"


class Notification(models.Model):
    class Kind(models.TextChoices):
        ASSIGNED = "assigned", "Finding given to you"
        MENTIONED = "mentioned", "Mentioned in a comment"
        COMMENT = "comment", "Comment"
        CHANGE = "change", "Change"
        FINDING = "finding", "New finding"
        STATE = "state", "Finding progress"
        CONSULTATION = "consultation", "Consultation for your organisation"
        RESPONSE = "response", "Response to your consultation"

    class Delivery(models.TextChoices):
        IMMEDIATE = "immediate", "At once"
        DIGEST = "digest", "In the daily digest"
        NONE = "none", "Not emailed"

    # Emailed at once to people who want that: what asks them to act (a consultation opened for their
    # organisation, its reminder and its close are CONSULTATION; a response to one they wrote is RESPONSE).
    URGENT = (Kind.ASSIGNED, Kind.MENTIONED, Kind.CONSULTATION, Kind.RESPONSE)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    text = models.CharField(max_length=500)
    url = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    content_type = models.ForeignKey(ContentType, on_delete=models.SET_NULL, null=True, blank=True)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    read = models.DateTimeField(null=True, blank=True)
    delivery = models.CharField(max_length=10, choices=Delivery.choices)
    sent = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created", "-pk"]
        indexes = [
            models.Index(fields=["user", "read"]),
            models.Index(fields=["delivery", "sent"]),
        ]

    def __str__(self):
        return self.text
