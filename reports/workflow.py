"""The finding workflow: a case per problem (its fingerprint), given to someone, moved through its states,
and kept up to date by every run of its report in a fixed number of queries.

Watching: the person who gives a finding and the person given it both watch its case, so each is told
of the other's progress; the records' watchers are told of new and returning problems.
"""

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from nhs_joint.dates import format_date
from nhs_joint.registry import registry
from notifications import services as notices
from notifications.models import Notification

from .models import FindingCase

STATE_WORDS = {
    FindingCase.State.OPEN: "reopened",
    FindingCase.State.IN_PROGRESS: "marked in progress",
    FindingCase.State.RESOLVED: "marked resolved",
    FindingCase.State.NOT_A_PROBLEM: "recorded as not a problem",
}
# The states a person may choose (the data resolves the rest).
CHOSEN_STATES = tuple(STATE_WORDS)


class WorkflowError(ValueError):
    """A change refused, with a message that names the field (``field``)."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


def case_for(finding):
    """The case of a finding's problem, made when a finding from before cases existed is first acted on."""
    case = FindingCase.objects.filter(fingerprint=finding.fingerprint).select_related("assignee").first()
    if case is None:
        case = FindingCase.objects.create(
            fingerprint=finding.fingerprint,
            kind=finding.run.kind,
            rule=finding.rule,
            message=finding.message,
            region_id=finding.region_id,
            state=FindingCase.State.NOT_A_PROBLEM if finding.suppressed else FindingCase.State.OPEN,
            latest_finding=finding,
            last_seen=finding.run.finished,
        )
    return case


def assignable_people(finding):
    """Who can act on a finding: Staff and Regional directors of a body that runs one of the records it
    names (any of them when it names only records of no body)."""
    from accounts.models import Role

    people = get_user_model().objects.filter(is_active=True, groups__name__in=[Role.STAFF, Role.REGIONAL_DIRECTOR])
    bodies = finding.editing_bodies()
    if bodies:
        people = people.filter(bodies__in=bodies)
    return people.distinct().order_by("first_name", "last_name", "username")


def _tell(case, finding, text, by, kind=Notification.Kind.STATE, exclude=()):
    notices.notify_watchers(case, kind, text, actor=by, exclude=exclude)


def assign(finding, assignee, due_date, by):
    """Give the finding's case to ``assignee`` (who must be able to act on it), due on ``due_date``."""
    if assignee is None:
        raise WorkflowError("assignee", "Select the person to give this finding to.")
    if not assignable_people(finding).filter(pk=assignee.pk).exists():
        raise WorkflowError(
            "assignee", "Select a person who can act on this finding: staff of a body that runs one of its records."
        )
    if due_date is not None and due_date < timezone.localdate():
        raise WorkflowError("due_date", "The due date must be today or in the future.")
    with transaction.atomic():
        case = case_for(finding)
        case = FindingCase.objects.select_for_update().get(pk=case.pk)
        if not case.is_active:
            raise WorkflowError("assignee", f"This finding is {case.get_state_display().lower()}: reopen it first.")
        case.assignee, case.assigned_by, case.due_date = assignee, by, due_date
        case._history_user = by
        case.save()
        notices.watch(by, case, automatic=True)
        notices.watch(assignee, case, automatic=True)
        due = f", due {format_date(due_date)}" if due_date else ""
        notices.notify(
            [
                Notification(
                    user=assignee,
                    kind=Notification.Kind.ASSIGNED,
                    text=f"{notices.person(by)} gave you a finding to act on{due}: {case.message[:300]}",
                    url=finding.get_absolute_url(),
                    actor=by,
                    content_type=ContentType.objects.get_for_model(case),
                    object_id=case.pk,
                )
            ]
        )
        _tell(
            case,
            finding,
            f"{notices.person(by)} gave a finding to {notices.person(assignee)}{due}: {case.message[:300]}",
            by,
            exclude={assignee.pk},
        )
    return case


def change_state(finding, state, by, reason=""):
    """Move the finding's case to ``state``; “not a problem” needs a reason (and hides it from later runs
    until one of its records changes, as the decision always has)."""
    from . import services

    if state not in CHOSEN_STATES:
        raise WorkflowError("state", "Select open, in progress, resolved or not a problem.")
    reason = (reason or "").strip()
    if state == FindingCase.State.NOT_A_PROBLEM:
        services.decide(finding, by, reason)  # raises when there is no reason; sets the case's state too
        case = case_for(finding)
    else:
        with transaction.atomic():
            case = FindingCase.objects.select_for_update().get(pk=case_for(finding).pk)
            if case.state == state:
                return case
            case.state, case.state_changed = state, timezone.now()
            case.reason = reason[:2000] if state == FindingCase.State.RESOLVED else ""
            case._history_user = by
            case.save()
            notices.watch(by, case, automatic=True)
            _tell(case, finding, f"{notices.person(by)} {STATE_WORDS[state]} a finding: {case.message[:300]}", by)
    return case


def decided(finding, by, reason):
    """A “not a problem” decision: the case says so, with the reason (called by services.decide)."""
    case = case_for(finding)
    case = FindingCase.objects.select_for_update().get(pk=case.pk)
    case.state, case.state_changed, case.reason = FindingCase.State.NOT_A_PROBLEM, timezone.now(), reason
    case._history_user = by
    case.save()
    notices.watch(by, case, automatic=True)
    _tell(case, finding, f"{notices.person(by)} recorded a finding as not a problem: {case.message[:300]}", by)
    return case


def _record_keys(records):
    """(content type id, id) of each record a finding names that has pages, for its watchers."""
    keys = []
    for record in records or []:
        resource = registry.resource_for(record.get("type"))
        if resource is not None and isinstance(record.get("id"), int):
            keys.append((ContentType.objects.get_for_model(resource.model).pk, record["id"]))
    return keys


def update_cases(run, findings, now=None):
    """After a run: a case for each new problem, reopened for a returning one, “resolved by the data” for
    one the run no longer finds; the records' watchers told of new and returning problems. A fixed number
    of queries however many findings (bulk writes, with their history)."""
    now = now or timezone.now()
    by_fingerprint = {f.fingerprint: f for f in findings}
    existing = {c.fingerprint: c for c in FindingCase.objects.filter(fingerprint__in=list(by_fingerprint))}
    new, returning, seen = [], [], []
    for fingerprint, finding in by_fingerprint.items():
        case = existing.get(fingerprint)
        if case is None:
            new.append(
                FindingCase(
                    fingerprint=fingerprint,
                    kind=run.kind,
                    rule=finding.rule,
                    message=finding.message,
                    region_id=finding.region_id,
                    state=FindingCase.State.NOT_A_PROBLEM if finding.suppressed else FindingCase.State.OPEN,
                    state_changed=now,
                    latest_finding=finding,
                    last_seen=now,
                )
            )
            continue
        case.latest_finding, case.last_seen, case.message, case.region_id = (
            finding,
            now,
            finding.message,
            finding.region_id,
        )
        came_back = case.state == FindingCase.State.RESOLVED_BY_DATA or case.state == FindingCase.State.RESOLVED
        # “Not a problem” holds while the records stay as they were decided on; a change reopens it.
        came_back = came_back or (case.state == FindingCase.State.NOT_A_PROBLEM and not finding.suppressed)
        if came_back:
            case.state, case.state_changed = FindingCase.State.OPEN, now
            returning.append(case)
        else:
            seen.append(case)
    if new:
        bulk_create_with_history(new, FindingCase, batch_size=500, default_change_reason="Found by the report")
    if returning:
        bulk_update_with_history(
            returning,
            FindingCase,
            ["state", "state_changed", "latest_finding", "last_seen", "message", "region"],
            batch_size=500,
            default_change_reason="Found again by the report",
        )
    if seen:
        FindingCase.objects.bulk_update(seen, ["latest_finding", "last_seen", "message", "region"], batch_size=500)
    gone = list(
        FindingCase.objects.filter(kind=run.kind, state__in=FindingCase.ACTIVE).exclude(
            fingerprint__in=list(by_fingerprint)
        )
    )
    for case in gone:
        case.state, case.state_changed = FindingCase.State.RESOLVED_BY_DATA, now
    if gone:
        bulk_update_with_history(
            gone,
            FindingCase,
            ["state", "state_changed"],
            batch_size=500,
            default_change_reason="No longer found by the report",
        )
    _tell_watchers(new, returning, by_fingerprint, gone)
    return {"new": len(new), "reopened": len(returning), "resolved_by_data": len(gone)}


def _tell_watchers(new, returning, by_fingerprint, gone):
    """The records' watchers of new and returning problems; the cases' watchers of returning and resolved ones."""
    case_type = ContentType.objects.get_for_model(FindingCase).pk
    keys_of = {c.fingerprint: _record_keys(by_fingerprint[c.fingerprint].records) for c in new + returning}
    # Cases of returning or resolved problems have watchers of their own (the people acting on them).
    watched = notices.watchers(
        [k for keys in keys_of.values() for k in keys] + [(case_type, c.pk) for c in returning + gone]
    )
    rows = []
    for case in new + returning:
        finding = by_fingerprint[case.fingerprint]
        people = set()
        for key in keys_of[case.fingerprint]:
            people |= watched.get(key, set())
        people |= watched.get((case_type, case.pk), set()) if case.pk else set()
        verb = "found again" if case in returning else "found"
        for user_id in sorted(people):
            rows.append(
                Notification(
                    user_id=user_id,
                    kind=Notification.Kind.FINDING,
                    text=f"A report {verb} a problem with a record you watch: {finding.message[:300]}",
                    url=finding.get_absolute_url(),
                    content_type_id=case_type,
                    object_id=case.pk,
                )
            )
    for case in gone:
        for user_id in sorted(watched.get((case_type, case.pk), set())):
            rows.append(
                Notification(
                    user_id=user_id,
                    kind=Notification.Kind.STATE,
                    text=f"Resolved by the data: the report no longer finds “{case.message[:300]}”",
                    url=case.get_absolute_url(),
                    content_type_id=case_type,
                    object_id=case.pk,
                )
            )
    notices.notify(rows)
