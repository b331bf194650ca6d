"""Account changes made by Administrators, each recorded in the user's history."""

import secrets

from django.db import transaction

WORDS = (
    "amber", "beacon", "cedar", "delta", "ember", "falcon", "garnet", "harbour", "indigo", "juniper", "kestrel",
    "lantern", "meadow", "nimbus", "orchard", "pebble", "quartz", "river", "saffron", "thistle", "umber", "valley",
    "willow", "yarrow",
)


def one_time_password():
    """A password that is easy to read out and type, and strong enough for one sign-in."""
    words = [secrets.choice(WORDS) for _ in range(3)]
    return "-".join(words) + f"-{secrets.randbelow(90) + 10}"


@transaction.atomic
def set_one_time_password(user, by):
    password = one_time_password()
    user.set_password(password)
    user.must_change_password = True
    user._history_user = by
    user._change_reason = "One-time password set by an Administrator"
    user.save()
    return password


@transaction.atomic
def set_active(user, active, by):
    user.is_active = active
    user._history_user = by
    user._change_reason = "Reactivated" if active else "Deactivated"
    user.save(update_fields=["is_active"])
