"""Who may do what: one place that every view, form and API endpoint asks.

The rules are those of docs/architecture.md, "Users and what they do":
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
    field: str = ""  # the field a refusal is about, where it is one (a form shows the reason beside it)

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
    """May ``user`` change or delete ``obj`` as it is? A record that speaks for a body (its owner, its
    issuing body) is changed only by that body's staff."""
    decision = _record_rule(user, obj)
    if decision:
        decision = _speaks_for_own_bodies(user, obj, changing=True)
    return decision


def can_decide_for(user, obj):
    """May ``user`` take a step that is the decision of the body a record speaks for (opening a consultation on
    an expectation, withdrawing it, starting its new version: its issuing body's)? Staff of a body that runs
    it who also work for each body it speaks for; whatever its stage, unlike ``can_edit``."""
    decision = can_edit_by_bodies(user, obj)
    if decision:
        decision = _speaks_for_own_bodies(user, obj, changing=True)
    return decision


def _record_rule(user, obj):
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

    A change is allowed only if the person may change the record as it is (the stored row) and as it will
    be (``obj``): an NHS England member of staff cannot take NHS Improvement's workstream by giving it to
    NHS England, nor move a Board's decision to the other body's Board. Each state is asked ``can_edit``
    and, where the record speaks for bodies (``obj.speaking_bodies()``: a workstream's owner, an
    expectation's issuing body), whether the person works for each of them. A record that carries the
    agreement of bodies (``agreement_field``, a programme measure's ``agreed_by``) changes only by the
    person's own bodies' agreement (see ``can_change_agreement``).
    """
    stored = type(obj)._base_manager.filter(pk=obj.pk).first() if obj.pk else None
    if stored is not None:
        decision = can_edit(user, stored)
        if not decision:
            return decision
    decision = _record_rule(user, obj)
    if decision:
        decision = _speaks_for_own_bodies(user, obj, changing=False)
    if not decision:
        return decision
    return can_change_agreement(user, stored, obj)


def _speaks_for_own_bodies(user, obj, changing):
    """Whether ``user`` works for every body ``obj`` speaks for (``speaking_bodies()``: [(field, body)])."""
    speaking = getattr(obj, "speaking_bodies", None)
    for field, body in speaking() if speaking else ():
        if body.pk not in user.body_ids:
            yours = _names(user.bodies.all()) or "no body"
            what = obj._meta.verbose_name
            if changing:
                reason = f"Only staff of {body.name} can change this {what}: it is {body.name}'s."
            else:
                reason = f"Only staff of {body.name} can give {with_article(what)} to {body.name}."
            return Decision(False, f"{reason} Your account is with {yours}.", field)
    return ALLOWED


def can_change_agreement(user, stored, obj):
    """A body records only its own agreement: the bodies added to or taken from the record's agreement
    (``obj.agreement_field``; the new list in ``<field>_to_save``, as a form or the API sets it) must be the
    person's own, and a record another body agreed is not changed under that agreement."""
    field = getattr(obj, "agreement_field", None)
    if field is None:
        return ALLOWED
    before = set(getattr(stored, field).all()) if stored is not None else set()
    after = set(getattr(obj, f"{field}_to_save")) if hasattr(obj, f"{field}_to_save") else before
    yours = _names(user.bodies.all()) or "no body"
    others = sorted((body for body in before ^ after if body.pk not in user.body_ids), key=lambda body: body.name)
    if others:
        return Decision(
            False,
            f"Only staff of {_names(others)} can record or withdraw {_possessive(others)} agreement. "
            f"Your account is with {yours}.",
            field,
        )
    changed = stored is not None and any(
        getattr(stored, f.attname) != getattr(obj, f.attname) for f in obj._meta.concrete_fields
    )
    standing = sorted((body for body in after if body.pk not in user.body_ids), key=lambda body: body.name)
    if changed and standing:
        return Decision(
            False,
            f"{_names(standing)} agreed this {obj._meta.verbose_name} as it stands: only their staff can change "
            f"it while their agreement is recorded. Your account is with {yours}.",
            field,
        )
    return ALLOWED


def _possessive(bodies):
    return " and ".join(f"{body.name}'s" for body in bodies)


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
    its page resource's ``permissions.view`` answers (user accounts: Administrators). Partners see nothing
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
    if resource is not None and resource.permissions.view is not None:
        return ALLOWED if resource.permissions.view(user) else NOT_SEEN
    return ALLOWED
