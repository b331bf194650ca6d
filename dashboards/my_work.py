"""My work: the home page of Staff (and the work part of the other roles' homes), in a fixed number of queries.

The findings I hold or gave (overdue first), the consultations I wrote with responses waiting for an answer,
what changed in the records I watch since my last visit, my region's delivery (RAG) and the measures that
need attention there, the expectations due in the next 90 days of my bodies' programmes, and the sections
other apps add through the registry (saved views).
"""

import datetime as dt

from django.db.models import Case, Count, F, IntegerField, Max, Q, Value, When
from django.utils import timezone

from asks.models import Expectation, ExpectationResponse
from nhs_joint.registry import registry
from notifications.models import Notification, Preference
from programmes.models import RegionalDelivery
from reports.models import FindingCase

from . import services as dashboards

DUE_WITHIN_DAYS = 90
# What the work sections read, beyond a dashboard's own tables (nhs_joint/conditional.py): for a page's version.
READS = frozenset({FindingCase, Expectation, Expectation.history.model, ExpectationResponse, RegionalDelivery})
LIST_ROWS = dashboards.LIST_ROWS
CHANGE_KINDS = (
    Notification.Kind.CHANGE,
    Notification.Kind.COMMENT,
    Notification.Kind.FINDING,
    Notification.Kind.STATE,
    Notification.Kind.MENTIONED,
)


def _last_visit(user, now):
    """When they last opened My work (None the first time); this visit is remembered for the next."""
    preference, _ = Preference.objects.get_or_create(user=user)
    since = preference.my_work_seen
    Preference.objects.filter(pk=preference.pk).update(my_work_seen=now)
    return since


def _changed(user, since):
    """The watched records that changed since ``since``: the latest notice of each, newest first."""
    notices = Notification.objects.filter(user=user, kind__in=CHANGE_KINDS)
    if since is not None:
        notices = notices.filter(created__gt=since)
    seen, rows = set(), []
    for notice in notices.order_by("-created", "-pk")[: LIST_ROWS * 4]:
        key = (notice.content_type_id, notice.object_id) if notice.object_id else ("n", notice.pk)
        if key in seen:
            continue
        seen.add(key)
        rows.append(notice)
        if len(rows) == LIST_ROWS:
            break
    return rows


def _attention(region):
    """The region's measures with a special cause of concern or failing their target (worst first)."""
    return needing_a_look(dashboards.charts_for(dashboards.agreed_measures(region), region))


def findings_held_or_given(user, today, rows=LIST_ROWS):
    """The active findings a person holds or gave to someone: overdue first, then the soonest due, then those
    with no due date; with how many there are and how many are overdue."""
    mine = FindingCase.objects.filter(Q(assignee=user) | Q(assigned_by=user), state__in=FindingCase.ACTIVE)
    overdue_first = Case(When(due_date__lt=today, then=Value(0)), default=Value(1), output_field=IntegerField())
    listed = list(
        mine.select_related("assignee", "assigned_by", "region").order_by(
            overdue_first, F("due_date").asc(nulls_last=True), "pk"
        )[:rows]
    )
    counts = mine.aggregate(
        total=Count("pk"),
        overdue=Count("pk", filter=Q(due_date__lt=today)),
        held=Count("pk", filter=Q(assignee=user)),
    )
    for case in listed:
        case.overdue = case.due_date is not None and case.due_date < today
        case.held = case.assignee_id == user.pk
    return listed, counts


def consultations_answered(user, rows=LIST_ROWS):
    """The expectations a person wrote (created) that are in consultation, or closed and not yet agreed, with
    responses nobody has answered yet: the newest response first."""
    written = Expectation.history.filter(history_user=user, history_type="+").values("id")
    waiting = Q(responses__answer="")
    found = (
        Expectation.objects.filter(pk__in=written, stage=Expectation.Stage.CONSULTATION)
        .annotate(
            waiting=Count("responses", filter=waiting),
            concerns=Count("responses", filter=waiting & ~Q(responses__position="agree")),
            latest=Max("responses__responded_at", filter=waiting),
        )
        .filter(waiting__gt=0)
        .select_related("programme", "measure")
        .order_by("-latest", "pk")
    )
    return list(found[:rows])


def red_programmes(region, rows=LIST_ROWS):
    """A region's programmes whose delivery is red."""
    return list(
        RegionalDelivery.objects.filter(region=region, rag=RegionalDelivery.Rag.RED)
        .select_related("programme", "lead")
        .order_by("programme__title")[:rows]
    )


def needing_a_look(charts):
    """Of a region's measures' charts, those with a special cause of concern or failing their target."""
    needing = [
        chart
        for chart in charts
        if (chart.result.latest is not None and chart.result.latest.variation == "concern")
        or chart.result.assurance_icon == "fail"
    ]
    return sorted(needing, key=dashboards.attention)


def gather(request, now=None):
    user = request.user
    now = now or timezone.now()
    today = timezone.localdate(now)
    since = _last_visit(user, now)
    cases, counts = findings_held_or_given(user, today)
    region = user.region if user.region_id else None
    rag, attention = [], []
    if region is not None:
        counted = dict(
            RegionalDelivery.objects.filter(region=region).values_list("rag").annotate(n=Count("pk")).order_by()
        )
        rag = [(choice, label, counted.get(choice, 0)) for choice, label in RegionalDelivery.Rag.choices]
        attention = _attention(region)
    due = (
        Expectation.objects.filter(
            programme__bodies__in=user.body_ids,
            due_date__gte=today,
            due_date__lte=today + dt.timedelta(days=DUE_WITHIN_DAYS),
        )
        .distinct()
        .select_related("programme", "measure", "region")
        .order_by("due_date", "pk")
    )
    return {
        "today": today,
        "since": since,
        "cases": cases,
        "case_count": counts["total"],
        "case_overdue": counts["overdue"],
        "case_held": counts["held"],
        "consultations": consultations_answered(user),
        "changed": _changed(user, since),
        "region": region,
        "rag": rag,
        "attention": attention,
        "expectations": list(due[:LIST_ROWS]),
        "due_within_days": DUE_WITHIN_DAYS,
        "list_rows": LIST_ROWS,
        "can_edit": user.is_editor,
        "sections": [html for section in registry.my_work_sections if (html := section.render(request))],
    }
