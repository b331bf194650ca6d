"""Account changes made by Administrators, each recorded in the user's history."""

import datetime
import secrets

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import Lower
from django.utils import timezone

WORDS = (
    "amber",
    "beacon",
    "cedar",
    "delta",
    "ember",
    "falcon",
    "garnet",
    "harbour",
    "indigo",
    "juniper",
    "kestrel",
    "lantern",
    "meadow",
    "nimbus",
    "orchard",
    "pebble",
    "quartz",
    "river",
    "saffron",
    "thistle",
    "umber",
    "valley",
    "willow",
    "yarrow",
)


def one_time_password():
    """A password that is easy to read out and type, and strong enough for one sign-in."""
    words = [secrets.choice(WORDS) for _ in range(3)]
    return "-".join(words) + f"-{secrets.randbelow(90) + 10}"


def last_administrator_refusal(user, role=None, active=True):
    """Why ``user`` may not lose the Administrator role (``role`` is their new one) or be deactivated, or None.

    The portal must always keep one active Administrator: without one nobody could manage users (or restore
    the role) from the portal's own pages.
    """
    from .models import Role, User

    if not (user.pk and user.is_active and Role.ADMINISTRATOR in user.roles):
        return None
    if active and (role is None or role == Role.ADMINISTRATOR):
        return None
    others = User.objects.filter(is_active=True, groups__name=Role.ADMINISTRATOR).exclude(pk=user.pk)
    if others.exists():
        return None
    change = "be deactivated" if not active else "lose the Administrator role"
    return (
        f"{user.username} is the portal's last active Administrator and cannot {change}: without one, nobody "
        "could manage users. Make someone else an Administrator first."
    )


@transaction.atomic
def set_one_time_password(user, by):
    password = one_time_password()
    user.set_password(password)
    user.must_change_password = True
    user._history_user = by
    user._change_reason = "One-time password set by an Administrator"
    user.save()
    return password


class LastAdministrator(Exception):
    pass


@transaction.atomic
def set_active(user, active, by):
    from .models import User

    # Lock the Administrators' rows: two deactivations at once cannot both leave the other as the last.
    list(User.objects.select_for_update().filter(groups__name="Administrator").values_list("pk"))
    refusal = last_administrator_refusal(user, active=active)
    if refusal:
        raise LastAdministrator(refusal)
    user.is_active = active
    user._history_user = by
    user._change_reason = "Reactivated" if active else "Deactivated"
    user.save(update_fields=["is_active"])


def people_who_cannot_sign_in(rows=25, now=None):
    """The active accounts whose people cannot get in now, each with why: sign-in paused after failed attempts
    (django-axes, until when), a one-time password not yet changed (they must choose their own first), or no
    role (signed in, they can do nothing). A fixed number of queries; at most ``rows`` listed, and the total.
    """
    now = now or timezone.now()
    cool_off = settings.AXES_COOLOFF_TIME
    cool_off = cool_off if isinstance(cool_off, datetime.timedelta) else datetime.timedelta(hours=cool_off)
    paused = {
        username.lower(): last + cool_off
        for username, last in AccessAttempt.objects.filter(attempt_time__gt=now - cool_off)
        .exclude(username__isnull=True)
        .values("username")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .values_list("username", "last")
    }
    User = get_user_model()
    blocked = (
        User.objects.filter(is_active=True)
        .annotate(role_count=Count("groups"), username_lower=Lower("username"))
        .filter(Q(must_change_password=True) | Q(role_count=0) | Q(username_lower__in=list(paused)[:1000]))
    )
    people = []
    for user in blocked.order_by("last_name", "first_name", "username")[:rows]:
        reasons = []
        until = paused.get(user.username.lower())
        if until is not None:
            reasons.append(("locked", until))
        if user.must_change_password:
            reasons.append(("one_time_password", None))
        if not user.role_count:
            reasons.append(("no_role", None))
        people.append((user, reasons))
    return people, blocked.count()
