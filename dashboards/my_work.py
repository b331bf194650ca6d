"""My work: the home page of Staff and Regional directors, gathered in a fixed number of queries.

What is given to me (and overdue), what changed in the records I watch since my last visit, my region's
delivery (RAG) and the measures that need attention there, the expectations due in the next 90 days of
my bodies' programmes, and the sections other apps add through the registry (saved views).
"""

import datetime as dt

from django.db.models import Count, F, Q
from django.utils import timezone

from asks.models import Expectation
from nhs_joint.registry import registry
from notifications.models import Notification, Preference
from programmes.models import RegionalDelivery
from reports.models import FindingCase

from . import services as dashboards

DUE_WITHIN_DAYS = 90
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
    charts = dashboards.charts_for(dashboards.agreed_measures(region), region)
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
    active = FindingCase.objects.filter(state__in=FindingCase.ACTIVE)
    mine = active.filter(assignee=user)
    assigned = list(
        mine.select_related("region", "assigned_by").order_by(F("due_date").asc(nulls_last=True), "pk")[:LIST_ROWS]
    )
    counts = mine.aggregate(total=Count("pk"), overdue=Count("pk", filter=Q(due_date__lt=today)))
    # Overdue findings I gave to others, or of my region: the ones to chase.
    chase = Q(assigned_by=user) & ~Q(assignee=user)
    if user.region_id:
        chase |= Q(region_id=user.region_id) & ~Q(assignee=user)
    overdue = list(
        active.filter(chase, due_date__lt=today)
        .select_related("assignee", "region")
        .order_by("due_date", "pk")[:LIST_ROWS]
    )
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
        "assigned": assigned,
        "assigned_count": counts["total"],
        "assigned_overdue": counts["overdue"],
        "overdue": overdue,
        "changed": _changed(user, since),
        "region": region,
        "rag": rag,
        "attention": attention,
        "expectations": list(due[:LIST_ROWS]),
        "due_within_days": DUE_WITHIN_DAYS,
        "list_rows": LIST_ROWS,
        "sections": [html for section in registry.my_work_sections if (html := section.render(request))],
    }
