"""Watching, notifying and emailing: what the pages, the API, the report engine and the worker call.

Notifications are written in bulk (a fixed number of queries however many people are told) and
their emails queued when the transaction commits: an email is never sent for a change that was
rolled back, and a notification whose email could not be queued or delivered stays unsent, to be
tried again by the periodic re-send (``resend_unsent``).

Mentions: a comment mentions a person with "@" followed by their username or their email address
("@jo.director" or "@jo.director@example.nhs.uk"), matched whatever the case.
"""

import logging
import re
from collections import defaultdict
from datetime import timedelta
from functools import lru_cache

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from nhs_joint import permissions
from nhs_joint.records import record_key

from .models import Notification, Preference, Watch

log = logging.getLogger(__name__)

MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9_.+-]+(?:@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)?)")
PREFERENCE_SALT = "notifications.email-preference"
MAX_TRIES = 6  # by the task, with backoff; the periodic re-send goes on after that


def target_of(record):
    """What watching ``record`` means: a record may name another to be watched instead (a report's finding
    names its case, which lasts from run to run)."""
    target = getattr(record, "watch_target", None)
    return target() if callable(target) else record


def key_of(record):
    """(content type id, id) of the watched record: the key of watchers() and of the notifications' records."""
    content_type, pk = record_key(target_of(record))
    return content_type.pk, pk


def record_url(record):
    try:
        return record.get_absolute_url()
    except Exception:  # a record with no page of its own: the notification has no link
        return ""


# Watching -----------------------------------------------------------------------------------------


def watches_of(user, record):
    """The person's active watch of the record (none or one), as a queryset."""
    ct, pk = key_of(record)
    return active_watches(user.pk, ct, pk)


def active_watches(user, content_type, object_id):
    """The active watches of the person with this id of the record of this content type id and id: the same query
    for every record, so a record's page caches its SQL (nhs_joint/prefetch.py, ``cached_query``)."""
    return Watch.objects.filter(user=user, content_type_id=content_type, object_id=object_id, active=True)


def is_watching(user, record):
    return watches_of(user, record).exists()


def watch(user, record, automatic=False):
    """Start watching; an automatic watch never restarts one the person stopped. Returns whether they watch."""
    ct, pk = key_of(record)
    existing = Watch.objects.filter(user=user, content_type_id=ct, object_id=pk).first()
    if existing is None:
        Watch.objects.create(user=user, content_type_id=ct, object_id=pk, automatic=automatic)
        return True
    if not existing.active and not automatic:
        existing.active = True
        existing.save(update_fields=["active"])
    return existing.active


def unwatch(user, record):
    ct, pk = key_of(record)
    watch = Watch.objects.filter(user=user, content_type_id=ct, object_id=pk, active=True).first()
    if watch is not None:
        watch.active = False
        watch.save(update_fields=["active"])


def watchers(keys):
    """{(content type id, id): {user id, …}} of active watchers of the records ``keys``, in one query."""
    keys = set(keys)
    if not keys:
        return {}
    by_type = defaultdict(set)
    for ct, pk in keys:
        by_type[ct].add(pk)
    condition = Q()
    for ct, pks in by_type.items():
        condition |= Q(content_type_id=ct, object_id__in=pks)
    found = defaultdict(set)
    for ct, pk, user_id in Watch.objects.filter(condition, active=True, user__is_active=True).values_list(
        "content_type_id", "object_id", "user_id"
    ):
        found[(ct, pk)].add(user_id)
    return found


# Notifying ----------------------------------------------------------------------------------------


def delivery_for(kind, email, urgent=False):
    """When a notification is emailed: at once when it asks its person to act (its kind is urgent, or it is
    marked ``urgent``: a comment on a finding they hold or gave) and they want those at once; else in the
    daily digest, or never."""
    if email == Preference.Email.NONE:
        return Notification.Delivery.NONE
    if email == Preference.Email.IMMEDIATE and (urgent or kind in Notification.URGENT):
        return Notification.Delivery.IMMEDIATE
    return Notification.Delivery.DIGEST


def notify(notifications, records=()):
    """Save unsaved Notification rows (user, kind, text, url, …) in bulk, each with the delivery its person
    chose, and queue the immediate emails on commit. Returns what was saved.

    Inactive people are not told, nor is anyone told of a record they may not see (nhs_joint.permissions.can_see,
    asked now, as they are told: a partner hears of an expectation only once it is consulted on or agreed for
    their organisation). ``records`` are the records the rows are about where the caller holds them (a deleted
    record is no longer in the database); the others are read, one query per kind of record."""
    notifications = [n for n in notifications if n.user_id]
    if not notifications:
        return []
    people = get_user_model().active_people({n.user_id for n in notifications})
    about = _records_of(notifications, records)
    chosen = dict(Preference.objects.filter(user_id__in=people).values_list("user_id", "email"))
    kept = []
    for n in notifications:
        user = people.get(n.user_id)
        if user is None or (n.actor_id and n.actor_id == n.user_id):
            continue  # nobody is told of what they did themselves
        if n.content_type_id is not None and not permissions.can_see(user, about.get((n.content_type_id, n.object_id))):
            continue
        n.delivery = delivery_for(
            n.kind, chosen.get(n.user_id, Preference.Email.IMMEDIATE), urgent=getattr(n, "urgent", False)
        )
        n.text = n.text[:500]
        n.url = n.url[:500]
        kept.append(n)
    Notification.objects.bulk_create(kept, batch_size=1000)
    queue_emails([n.pk for n in kept if n.delivery == Notification.Delivery.IMMEDIATE])
    return kept


def _records_of(notifications, records):
    """{(content type id, id): record} of what the notifications are about: ``records`` as given, the rest
    read (archived ones too), one query per kind."""
    found = {key_of(record): record for record in records}
    missing = defaultdict(set)
    for n in notifications:
        if n.content_type_id is not None and (n.content_type_id, n.object_id) not in found:
            missing[n.content_type_id].add(n.object_id)
    for ct, pks in missing.items():
        model = ContentType.objects.get_for_id(ct).model_class()
        if model is not None:
            found.update(((ct, record.pk), record) for record in model._base_manager.filter(pk__in=pks))
    return found


def notify_watchers(record, kind, text, actor=None, exclude=(), also=(), urgent=()):
    """Tell everyone watching ``record`` and the people ``also`` (but ``actor`` and ``exclude``); those in
    ``urgent`` are emailed at once if they want what asks them to act at once."""
    target = target_of(record)
    key = key_of(target)
    url = record_url(record)
    users = (watchers([key]).get(key, set()) | set(also)) - {getattr(actor, "pk", None), *exclude}
    rows = []
    for user_id in sorted(users):
        row = Notification(
            user_id=user_id, kind=kind, text=text, url=url, actor=actor, content_type_id=key[0], object_id=key[1]
        )
        row.urgent = user_id in urgent
        rows.append(row)
    return notify(rows, records=[target])


def mentioned(text):
    """The active people a text mentions (see the module's docstring), in one query."""
    names = {name.rstrip(".").lower() for name in MENTION.findall(text or "")}
    if not names:
        return []
    User = get_user_model()
    usernames = Q()
    for name in names:
        usernames |= Q(username__iexact=name) | Q(email__iexact=name)
    return list(User.objects.filter(usernames, is_active=True))


def person(user):
    return str(user) if user else "The portal"


def acting_people(record):
    """The people a record says must act on it (a finding's: who holds it and who gave it), as user ids."""
    acting = getattr(target_of(record), "acting_people", None)
    return set(acting()) if callable(acting) else set()


def comment_posted(comment, record, author):
    """A comment: the people it mentions, and those who hold or gave the finding it is on, are told at once;
    the record's other watchers in their digest. Commenting makes its author a watcher of the record."""
    text = getattr(comment, "text", "") or ""
    key = key_of(record)
    watch(author, record, automatic=True)
    url = record_url(record)
    people = [u for u in mentioned(text) if u.pk != author.pk]
    notify(
        (
            Notification(
                user=u,
                kind=Notification.Kind.MENTIONED,
                text=f"{person(author)} mentioned you in a comment on {record}",
                url=url,
                actor=author,
                content_type_id=key[0],
                object_id=key[1],
            )
            for u in people
        ),
        records=[target_of(record)],
    )
    acting = acting_people(record)
    notify_watchers(
        record,
        Notification.Kind.COMMENT,
        f"{person(author)} commented on {record}",
        actor=author,
        exclude={u.pk for u in people},
        also=acting,
        urgent=acting,
    )


# Email --------------------------------------------------------------------------------------------


def queue_emails(ids):
    """Send the emails of these notifications once the transaction commits. A broker that cannot be
    reached loses nothing: the notifications stay unsent and the periodic re-send queues them again."""
    ids = list(ids)
    if not ids:
        return

    def send():
        # By the task's name (notifications/tasks.py calls this module, never the other way round).
        send_notification = current_app.signature("notifications.send_notification")
        for pk in ids:
            try:
                send_notification.apply_async(args=[pk], queue=settings.NOTIFICATIONS_QUEUE)
            except Exception as error:
                log.warning("notification %s could not be queued (it will be re-sent): %s", pk, error)
                return

    transaction.on_commit(send)


def preference_token(user, email):
    return signing.dumps({"u": user.pk, "e": email}, salt=PREFERENCE_SALT, compress=True)


def read_preference_token(token):
    """(user, email choice) from a link's token, or None when it was tampered with."""
    try:
        data = signing.loads(token, salt=PREFERENCE_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("e") not in Preference.Email.values:
        return None
    user = get_user_model().objects.filter(pk=data.get("u"), is_active=True).first()
    return (user, data["e"]) if user else None


def set_preference(user, email):
    preference, _ = Preference.objects.get_or_create(user=user)
    if preference.email != email:
        preference.email = email
        preference.save(update_fields=["email"])
    return preference


def absolute(url):
    return f"{settings.PORTAL_URL}{url}" if url.startswith("/") else url


def _message(user, subject, notifications):
    context = {
        "user": user,
        "subject": subject,
        "notifications": [(n, absolute(n.url) if n.url else "") for n in notifications],
        "portal_url": settings.PORTAL_URL,
        "stop_url": absolute(f"/notifications/email/{preference_token(user, Preference.Email.NONE)}/"),
        "daily_url": absolute(f"/notifications/email/{preference_token(user, Preference.Email.DAILY)}/"),
        "settings_url": absolute("/notifications/settings/"),
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("notifications/email.txt", context),
        to=[user.email],
        connection=get_connection(),
        headers={
            "List-Unsubscribe": f"<{context['stop_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(render_to_string("notifications/email.html", context), "text/html")
    return message


def _record_failure(ids, error):
    from django.db.models import F

    Notification.objects.filter(pk__in=ids).update(attempts=F("attempts") + 1, last_error=f"{error}"[:2000])


def deliver(notification_id):
    """Email one notification now. Returns True when sent (or nothing is left to send); raises the
    delivery's error after recording it on the notification."""
    n = Notification.objects.select_related("user").filter(pk=notification_id).first()
    if n is None or n.sent or n.delivery != Notification.Delivery.IMMEDIATE:
        return True
    if not n.user.email or not n.user.is_active:
        Notification.objects.filter(pk=n.pk).update(delivery=Notification.Delivery.NONE)
        return True
    try:
        _message(n.user, n.text, [n]).send()
    except Exception as error:
        _record_failure([n.pk], error)
        raise
    Notification.objects.filter(pk=n.pk).update(sent=timezone.now(), attempts=n.attempts + 1, last_error="")
    return True


def digest_due(now=None):
    """The people with digest notifications not yet sent."""
    now = now or timezone.now()
    return sorted(
        set(
            Notification.objects.filter(
                delivery=Notification.Delivery.DIGEST, sent__isnull=True, created__lte=now
            ).values_list("user_id", flat=True)
        )
    )


def deliver_digest(user_id, now=None):
    """One email of everything a person's digest holds (up to ``now``); all marked sent together."""
    now = now or timezone.now()
    pending = list(
        Notification.objects.filter(
            user_id=user_id, delivery=Notification.Delivery.DIGEST, sent__isnull=True, created__lte=now
        ).order_by("created", "pk")
    )
    if not pending:
        return 0
    user = get_user_model().objects.get(pk=user_id)
    ids = [n.pk for n in pending]
    if not user.email or not user.is_active:
        Notification.objects.filter(pk__in=ids).update(delivery=Notification.Delivery.NONE)
        return 0
    count = len(pending)
    subject = f"Your daily summary: {count} notification{'s' if count != 1 else ''} from the NHS Joint Working Portal"
    try:
        _message(user, subject, pending).send()
    except Exception as error:
        _record_failure(ids, error)
        raise
    from django.db.models import F

    Notification.objects.filter(pk__in=ids).update(sent=now, attempts=F("attempts") + 1, last_error="")
    return count


def unsent_immediate(older_than_seconds=300, now=None):
    now = now or timezone.now()
    return list(
        Notification.objects.filter(
            delivery=Notification.Delivery.IMMEDIATE,
            sent__isnull=True,
            created__lt=now - timedelta(seconds=older_than_seconds),
        ).values_list("pk", flat=True)[:1000]
    )


# The in-portal list --------------------------------------------------------------------------------


def unread_count(user):
    with connection.cursor() as cursor:
        cursor.execute(unread_version("%s"), [user.pk])
        return cursor.fetchone()[0]


def unread_version(person):
    """The query of the header's unread count for the person whose id is the SQL ``person``: also part of every
    page's version (nhs_joint/conditional.py), so a new notification is never hidden behind a kept page."""
    return _unread_sql().format(person=person)


@lru_cache(maxsize=1)
def _unread_sql():
    """``unread_count``'s query, written once from the model's own table and columns (every page asks it)."""
    meta = Notification._meta
    user, read = meta.get_field("user").column, meta.get_field("read").column
    return f'SELECT count(*) FROM "{meta.db_table}" WHERE "{user}" = {{person}} AND "{read}" IS NULL'


def mark(user, ids=None, read=True):
    """Mark some (or all) of a person's notifications read or unread; returns how many changed."""
    mine = Notification.objects.filter(user=user)
    if ids is not None:
        mine = mine.filter(pk__in=ids)
    if read:
        return mine.filter(read__isnull=True).update(read=timezone.now())
    return mine.filter(read__isnull=False).update(read=None)
