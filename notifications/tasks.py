"""Celery tasks of the notifications: an email at once, the daily digests, and the re-send of unsent ones."""

import logging

from celery import shared_task
from django.conf import settings

from . import services

log = logging.getLogger(__name__)


def _countdown(retries):
    return settings.NOTIFICATION_RETRY_SECONDS * (2**retries)


@shared_task(bind=True, name="notifications.send_notification", ignore_result=True, max_retries=services.MAX_TRIES)
def send_notification(self, notification_id):
    """Email one notification. A failed delivery is recorded on it and tried again later, doubling the wait."""
    try:
        return services.deliver(notification_id)
    except Exception as error:
        log.warning("notification %s: delivery failed (%s); trying again", notification_id, error)
        if self.request.retries >= self.max_retries:
            return False  # still unsent: the periodic re-send takes it up
        raise self.retry(
            exc=error, countdown=_countdown(self.request.retries), queue=settings.NOTIFICATIONS_QUEUE
        ) from error


@shared_task(bind=True, name="notifications.send_digest", ignore_result=True, max_retries=services.MAX_TRIES)
def send_digest(self, user_id):
    try:
        return services.deliver_digest(user_id)
    except Exception as error:
        log.warning("digest for user %s: delivery failed (%s); trying again", user_id, error)
        if self.request.retries >= self.max_retries:
            return 0  # still unsent: tomorrow's digest holds them
        raise self.retry(
            exc=error, countdown=_countdown(self.request.retries), queue=settings.NOTIFICATIONS_QUEUE
        ) from error


@shared_task(name="notifications.send_digests", ignore_result=True)
def send_digests():
    """Each morning: one email per person of what their digest gathered since the last one."""
    people = services.digest_due()
    for user_id in people:
        send_digest.apply_async(args=[user_id], queue=settings.NOTIFICATIONS_QUEUE)
    return len(people)


@shared_task(name="notifications.resend_unsent", ignore_result=True)
def resend_unsent():
    """Every ten minutes: queue again the immediate emails still unsent (the broker was away, or every try
    failed)."""
    ids = services.unsent_immediate()
    for pk in ids:
        send_notification.apply_async(args=[pk], queue=settings.NOTIFICATIONS_QUEUE)
    return len(ids)
