"""What the notifications listen to: every recorded change (django-simple-history) and posted comments."""

from simple_history.signals import post_create_historical_record

from nhs_joint.registry import registry
from nhs_joint.signals import comment_posted

from . import services
from .models import Notification

# Kinds of record that people who edit them watch from then on.
WATCHED_WHEN_EDITED = {"programme"}

CHANGED = {"+": "added", "~": "changed", "-": "deleted"}


def record_changed(sender, instance, history_instance, history_user=None, **kwargs):
    """A record with pages changed: its watchers are told (in their digest); its editor watches a programme."""
    name = instance._meta.model_name
    if registry.resource_for(name) is None:
        return  # not a record with pages (a watch, a preference, a finding's case: told by its own service)
    user = history_user or getattr(history_instance, "history_user", None)
    if user is not None and name in WATCHED_WHEN_EDITED and history_instance.history_type != "-":
        services.watch(user, instance, automatic=True)
    verb = "archived" if getattr(instance, "is_archived", False) and history_instance.history_type == "~" else None
    verb = verb or CHANGED.get(history_instance.history_type, "changed")
    services.notify_watchers(
        instance,
        Notification.Kind.CHANGE,
        f"{services.person(user) if user else 'The portal'} {verb} {instance._meta.verbose_name} {instance}",
        actor=user,
    )


def comment_received(sender, comment, record, author, **kwargs):
    services.comment_posted(comment, record, author)


def connect():
    post_create_historical_record.connect(record_changed, dispatch_uid="notifications.record_changed")
    comment_posted.connect(comment_received, dispatch_uid="notifications.comment_posted")
