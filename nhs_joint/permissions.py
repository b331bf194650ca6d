"""Who may do what: one place that every view, form and API endpoint asks.

The rules are those of DESIGN "Users and what they do":
- every signed-in user reads everything;
- Staff and Regional directors create and edit programme records of the bodies
  they belong to (joint records: either body's staff); records that belong to
  no body (measures, measurements, people) any of them may edit;
- only the Regional director of a region edits its regional delivery records;
- Administrators manage users;
- Partners see only what is asked of their own organisation (``can_see``).
Each answer carries the reason, so that a refusal can say why. A record with a
rule of its own says so with ``edit_decision(user)``, which ``can_edit`` asks
first (regional delivery records do); otherwise its ``editing_bodies()`` say whose
staff may edit it, by default those of the record it belongs to (its
``parent_field``, declared once per model: see nhs_joint/records.py).
"""

from typing import NamedTuple

from django.core.exceptions import PermissionDenied

from .registry import registry
from .words import with_article


class Decision(NamedTuple):
    allowed: bool
    reason: str = ""

    def __bool__(self):
        return self.allowed

    def enforce(self):
        if not self.allowed:
            raise PermissionDenied(self.reason)


ALLOWED = Decision(True)


def _names(bodies):
    return " and ".join(sorted(body.name for body in bodies))


def can_edit_records(user):
    if not (user.is_authenticated and user.is_active):
        return Decision(False, "You need to sign in.")
    if not user.is_editor:
        return Decision(False, "Only Staff and Regional directors can create or change records.")
    return ALLOWED


def can_edit(user, obj):
    """May ``user`` change or delete ``obj``?"""
    own_rule = getattr(obj, "edit_decision", None)
    if own_rule is not None:
        return own_rule(user)
    return can_edit_by_bodies(user, obj)


def can_edit_by_bodies(user, obj):
    """The portal's rule for programme records: an editor of a body that runs the record (a record's own
    ``edit_decision`` may add to it and then ask this)."""
    decision = can_edit_records(user)
    if not decision:
        return decision
    bodies = obj.editing_bodies()
    if not bodies:
        return ALLOWED
    if user.body_ids & {body.pk for body in bodies}:
        return ALLOWED
    yours = _names(user.bodies.all()) or "no body"
    return Decision(
        False,
        f"Only staff of {_names(bodies)} can change this {obj._meta.verbose_name}. Your account is with {yours}.",
    )


def can_save(user, obj):
    """May ``user`` save ``obj`` as it now stands (new, or with their changes applied)?

    The record as it would be saved must be one they may edit (``can_edit``: a Board approval moved to the
    other body's Board is refused), and a record given to a body (``obj.owning_body()``, a workstream's
    owner) only by that body's staff.
    """
    decision = can_edit(user, obj)
    if not decision:
        return decision
    owning_body = getattr(obj, "owning_body", None)
    body = owning_body() if owning_body else None
    if body is not None and body.pk not in user.body_ids:
        yours = _names(user.bodies.all()) or "no body"
        return Decision(
            False,
            f"Only staff of {body.name} can give {with_article(obj._meta.verbose_name)} to {body.name}. Your account is with {yours}.",
        )
    return ALLOWED


def can_record_delivery(user):
    """Regional delivery records are made by Regional directors (each for their own region)."""
    if user.is_authenticated and user.is_regional_director:
        return ALLOWED
    return Decision(False, "Only Regional directors record regional delivery.")


def can_edit_delivery(user, region_id, region=None):
    """Only the Regional director of a region edits its regional delivery records."""
    if not (user.is_authenticated and user.is_active):
        return Decision(False, "You need to sign in.")
    if not user.is_regional_director:
        return Decision(False, "Only the Regional director of a region can change its regional delivery records.")
    if user.region_id != region_id:
        return Decision(
            False, f"Only the Regional director of {region or 'that region'} can change its regional delivery records."
        )
    return ALLOWED


def can_manage_users(user):
    if user.is_authenticated and user.is_administrator:
        return ALLOWED
    return Decision(False, "Only Administrators can manage users.")


def bodies_error(user, bodies):
    """A form's message when a new record would belong to none of the user's bodies, else None."""
    if not bodies:
        return None
    if user.body_ids & {body.pk for body in bodies}:
        return None
    return f"You can only create records for a body you work for ({_names(user.bodies.all()) or 'none'})."


def can_run_reports(user):
    """Running a report changes no record: every signed-in member of staff, director or administrator may."""
    if not (user.is_authenticated and user.is_active):
        return Decision(False, "You need to sign in.")
    if not user.roles:
        return Decision(False, "Your account has no role in the portal yet: ask an Administrator.")
    return ALLOWED


def can_decide_findings(user, finding=None):
    """Deciding that a finding is not a problem is a judgement on the records: Staff and Regional directors
    of a body that runs a record the finding names (``finding.editing_bodies()``); any of them when it names
    only records of no body. Without a finding: whether the user may decide on any."""
    decision = can_edit_records(user)
    if not decision or finding is None:
        return decision
    bodies = finding.editing_bodies()
    if not bodies or user.body_ids & {body.pk for body in bodies}:
        return ALLOWED
    yours = _names(user.bodies.all()) or "no body"
    return Decision(
        False,
        f"Only staff of {_names(bodies)} can decide on this finding: it is about records that only they run. "
        f"Your account is with {yours}.",
    )


NOT_SEEN = Decision(False, "You cannot see this record.")


def can_see(user, record):
    """May ``user`` see ``record``: open its page, watch it, be told of it or mentioned on it?

    Asked of the record as it is when the question is asked (a watch when it starts, a notification when it
    is sent). A record with a rule of its own says so with ``seen_by(user)`` (a job is its owner's, an
    expectation a partner sees only once it is consulted on or agreed for their own organisation); otherwise
    its page resource's ``view_permission`` answers (user accounts: Administrators). Partners see nothing
    else: what is open to them is opened by a record's own rule.
    """
    if record is None or user is None or not (user.is_authenticated and user.is_active):
        return NOT_SEEN
    own_rule = getattr(record, "seen_by", None)
    if own_rule is not None:
        return ALLOWED if own_rule(user) else NOT_SEEN
    if user.is_partner:
        return NOT_SEEN
    resource = registry.resource_for(record._meta.model_name)
    if resource is not None and resource.view_permission is not None:
        return ALLOWED if resource.view_permission(user) else NOT_SEEN
    return ALLOWED
