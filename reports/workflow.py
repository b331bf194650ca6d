"""The finding workflow: a case per problem (its fingerprint), given to someone, moved through its states,
and kept up to date by every run of its report in a fixed number of queries.

Watching: the person who gives a finding and the person given it both watch its case, so each is told
of the other's progress; the records' watchers are told of new and returning problems.
"""

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from nhs_joint.dates import format_date
from nhs_joint.registry import registry
from notifications import services as notices
from notifications.models import Notification, Watch

from .models import Finding, FindingCase

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


def _notify(case, finding, text, by, kind=Notification.Kind.STATE, exclude=()):
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
        _notify(
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
            _notify(case, finding, f"{notices.person(by)} {STATE_WORDS[state]} a finding: {case.message[:300]}", by)
    return case


def decided(finding, by, reason):
    """A “not a problem” decision: the case says so, with the reason (called by services.decide)."""
    case = case_for(finding)
    case = FindingCase.objects.select_for_update().get(pk=case.pk)
    case.state, case.state_changed, case.reason = FindingCase.State.NOT_A_PROBLEM, timezone.now(), reason
    case._history_user = by
    case.save()
    notices.watch(by, case, automatic=True)
    _notify(case, finding, f"{notices.person(by)} recorded a finding as not a problem: {case.message[:300]}", by)
    return case


CASE_CHANGES = "report_case_changes"  # a temporary table: the cases a run opened, reopened or resolved
RUN_PROBLEMS = "report_run_problems"  # a temporary table: each problem a run found, with its latest finding


def update_cases(run, now=None):
    """After a run has written its findings: a case for each new problem, reopened for a returning one,
    “resolved by the data” for one the run no longer finds; the records' watchers told of new and
    returning problems. Set-based: a fixed number of statements however many findings, each case's
    history written with it, nothing held in memory per finding. Returns the counts of each change."""
    now = now or timezone.now()
    history = FindingCase.history.model
    tables = {
        "case": FindingCase._meta.db_table,
        "history": history._meta.db_table,
        "finding": Finding._meta.db_table,
    }
    # The columns a case's history keeps (all but the excluded ones), copied from the case as it now is.
    kept = [f.column for f in history._meta.concrete_fields if not f.name.startswith("history_")]
    copied = ", ".join(kept)
    record_history = f"""INSERT INTO {tables["history"]} ({copied}, history_date, history_change_reason,
        history_type, history_user_id) SELECT {copied}, %(now)s, %(reason)s, %(type)s, NULL FROM {{source}}
        RETURNING id"""
    State = FindingCase.State
    values = {
        "run": run.pk,
        "kind": run.kind,
        "now": now,
        "open": State.OPEN,
        "not_a_problem": State.NOT_A_PROBLEM,
        "came_back": [State.RESOLVED_BY_DATA, State.RESOLVED],
        "active": list(FindingCase.ACTIVE),
        "resolved_by_data": State.RESOLVED_BY_DATA,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {CASE_CHANGES} (case_id bigint, change text) ON COMMIT DROP"
        )
        cursor.execute(f"TRUNCATE {CASE_CHANGES}")
        # Each problem the run found, with its latest finding: a table of its own, indexed and analysed, so
        # that every statement below joins it by fingerprint well however many the run found.
        cursor.execute(
            f"""CREATE TEMPORARY TABLE IF NOT EXISTS {RUN_PROBLEMS} (id bigint, fingerprint varchar(64) PRIMARY KEY,
            rule varchar(50), message text, region_id bigint, suppressed boolean) ON COMMIT DROP"""
        )
        cursor.execute(f"TRUNCATE {RUN_PROBLEMS}")
        cursor.execute(
            f"""INSERT INTO {RUN_PROBLEMS} SELECT DISTINCT ON (fingerprint) id, fingerprint, rule, message, region_id,
            suppressed FROM {tables["finding"]} WHERE run_id = %(run)s ORDER BY fingerprint, id DESC""",
            values,
        )
        cursor.execute(f"ANALYZE {RUN_PROBLEMS}")
        # Problems found before: each case follows its latest finding; one resolved (by people or by the
        # data) comes back, and “not a problem” holds while the records stay as they were decided on.
        cursor.execute(
            f"""WITH matched AS (
                SELECT c.id, l.id AS finding_id, l.message, l.region_id,
                    (c.state = ANY(%(came_back)s) OR (c.state = %(not_a_problem)s AND NOT l.suppressed)) AS came_back
                FROM {tables["case"]} c JOIN {RUN_PROBLEMS} l ON l.fingerprint = c.fingerprint),
            changed AS (
                UPDATE {tables["case"]} c SET latest_finding_id = m.finding_id, last_seen = %(now)s,
                    message = m.message, region_id = m.region_id,
                    state = CASE WHEN m.came_back THEN %(open)s ELSE c.state END,
                    state_changed = CASE WHEN m.came_back THEN %(now)s ELSE c.state_changed END
                FROM matched m WHERE c.id = m.id
                RETURNING c.*, m.came_back),
            kept AS ({record_history.format(source="changed WHERE came_back")})
            INSERT INTO {CASE_CHANGES} SELECT id, 'reopened' FROM kept""",
            {**values, "reason": "Found again by the report", "type": "~"},
        )
        # New problems: a case each, open (or “not a problem” where a decision still holds).
        cursor.execute(
            f"""WITH created AS (
                INSERT INTO {tables["case"]} (fingerprint, kind, rule, message, region_id, state, state_changed,
                    latest_finding_id, last_seen, reason)
                SELECT l.fingerprint, %(kind)s, l.rule, l.message, l.region_id,
                    CASE WHEN l.suppressed THEN %(not_a_problem)s ELSE %(open)s END, %(now)s, l.id, %(now)s, ''
                FROM {RUN_PROBLEMS} l WHERE NOT EXISTS (SELECT 1 FROM {tables["case"]} c WHERE c.fingerprint = l.fingerprint)
                ORDER BY l.id
                RETURNING *),
            kept AS ({record_history.format(source="created")})
            INSERT INTO {CASE_CHANGES} SELECT id, 'new' FROM kept""",
            {**values, "reason": "Found by the report", "type": "+"},
        )
        # Problems being acted on that the run no longer finds: resolved by the data.
        cursor.execute(
            f"""WITH gone AS (
                UPDATE {tables["case"]} c SET state = %(resolved_by_data)s, state_changed = %(now)s
                WHERE c.kind = %(kind)s AND c.state = ANY(%(active)s) AND NOT EXISTS (
                    SELECT 1 FROM {RUN_PROBLEMS} l WHERE l.fingerprint = c.fingerprint)
                RETURNING c.*),
            kept AS ({record_history.format(source="gone")})
            INSERT INTO {CASE_CHANGES} SELECT id, 'resolved_by_data' FROM kept""",
            {**values, "reason": "No longer found by the report", "type": "~"},
        )
        cursor.execute(f"SELECT change, count(*) FROM {CASE_CHANGES} GROUP BY change")
        counts = {"new": 0, "reopened": 0, "resolved_by_data": 0, **dict(cursor.fetchall())}
        _notify_watchers(cursor, tables)
    return counts


NOTICES_BATCH = 5000  # notifications saved at a time


def _notify_watchers(cursor, tables):
    """The records' watchers of new and returning problems; the cases' watchers of returning and resolved
    ones (the people acting on them). Found in one query; the notifications saved a batch at a time."""
    # The kinds of record with pages that a finding may name, as watches name them (in one query at most).
    models = [resource.model for resource in registry.declared_resources()]
    content_types = ContentType.objects.get_for_models(FindingCase, *models)
    case_type = content_types[FindingCase].pk
    types = {}
    for model in models:
        types.setdefault(model._meta.model_name, content_types[model].pk)
    user = get_user_model()._meta.db_table
    cursor.execute(
        f"""WITH changes AS (
            SELECT ch.case_id, ch.change, c.latest_finding_id, c.message
            FROM {CASE_CHANGES} ch JOIN {tables["case"]} c ON c.id = ch.case_id),
        watching AS (
            SELECT w.content_type_id, w.object_id, w.user_id FROM {Watch._meta.db_table} w
            JOIN {user} u ON u.id = w.user_id WHERE w.active AND u.is_active),
        types AS (SELECT * FROM unnest(%(names)s::text[], %(types)s::int[]) AS t(type_name, content_type_id)),
        told AS (
            SELECT w.user_id, ch.case_id FROM changes ch
            JOIN {tables["finding"]} f ON f.id = ch.latest_finding_id
            CROSS JOIN LATERAL jsonb_array_elements(f.records) r
            JOIN types t ON t.type_name = r->>'type'
            JOIN watching w ON w.content_type_id = t.content_type_id
                AND w.object_id = CASE WHEN r->>'id' ~ '^[0-9]{{1,18}}$' THEN (r->>'id')::bigint END
            WHERE ch.change IN ('new', 'reopened')
            UNION
            SELECT w.user_id, ch.case_id FROM changes ch
            JOIN watching w ON w.content_type_id = %(case_type)s AND w.object_id = ch.case_id
            WHERE ch.change IN ('reopened', 'resolved_by_data'))
        SELECT told.user_id, ch.case_id, ch.change, ch.latest_finding_id, ch.message
        FROM told JOIN changes ch ON ch.case_id = told.case_id
        ORDER BY ch.case_id, told.user_id""",
        {"names": list(types), "types": list(types.values()), "case_type": case_type},
    )
    finding_pages = registry.resource_for("finding")
    while rows := cursor.fetchmany(NOTICES_BATCH):
        notices.notify([_notice(row, case_type, finding_pages) for row in rows])


def _notice(row, case_type, finding_pages):
    user_id, case_id, change, finding_id, message = row
    url = finding_pages.detail_url(finding_id) if finding_id else ""
    if change == "resolved_by_data":
        text = f"Resolved by the data: the report no longer finds “{message[:300]}”"
        kind = Notification.Kind.STATE
    else:
        verb = "found again" if change == "reopened" else "found"
        text = f"A report {verb} a problem with a record you watch: {message[:300]}"
        kind = Notification.Kind.FINDING
    return Notification(user_id=user_id, kind=kind, text=text, url=url, content_type_id=case_type, object_id=case_id)
