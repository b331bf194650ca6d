"""The regions (their dashboards and the national overview) and the home page: they read every app."""

from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Prefetch
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path, re_path, reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.http import require_safe

from accounts.services import people_who_cannot_sign_in
from appointments.models import Appointment, AppointmentShare
from asks.models import Expectation, ExpectationResponse
from asks.services import consultations_for
from measures.models import Measure, ProgrammeMeasure
from nhs_joint import conditional, parts
from nhs_joint.dates import format_date
from nhs_joint.generic import DetailConfig, DetailPage, ListConfig, Resource
from nhs_joint.pdf import render_pdf
from nhs_joint.permissions import can_edit_delivery, can_edit_records
from nhs_joint.registry import registry
from nhs_joint.tables import Column
from programmes.models import Programme
from regions import filters
from regions.models import Region
from reports.models import FindingCase, FindingDecision

from . import my_work as work
from . import services as dashboards
from .my_work import gather as gather_my_work


def director_of(region):
    """The region's current Regional Director, from its prefetched ``current_appointments``, or None."""
    directors = [a for a in region.current_appointments if a.role == Appointment.Role.REGIONAL_DIRECTOR]
    return directors[0] if directors else None


def director_text(region):
    director = director_of(region)
    if director is None:
        return "None in post"
    return f"{director.person.name} ({'joint' if director.is_joint else 'single body'})"


regions = Resource(
    model=Region,
    name="region",
    prefix="regions",
    lookup="ods_code",
    lookup_converter="str",
    list=ListConfig(
        queryset=lambda: (
            Region.objects.prefetch_related(
                Prefetch("appointments", dashboards.current_appointments(), to_attr="current_appointments")
            )
            .annotate(organisation_count=Count("organisations", distinct=True))
            .order_by("name")
        ),
        filterset=filters.RegionFilterSet,
        columns=[
            Column("ods_code", "ODS code", order="code", link=True),
            Column("name", order="name", link=True),
            Column("active", getter=lambda r: "Active" if r.active else "Retired"),
            Column("director", "Regional Director", getter=director_text),
            Column("organisations", getter=lambda r: r.organisation_count, numeric=True),
        ],
        intro="The seven integrated regions, each led by one Regional Director working for both bodies, "
        "and the retired region codes that older files still use.",
        prefix="regions/codes",
    ),
    detail=DetailConfig(
        summary=lambda r: [
            ("ODS code", r.ods_code),
            ("Status", "One of the seven integrated regions" if r.active else "Retired region code"),
            ("Regional Director", director_text(r) if r.active else None),  # a retired code has none
            ("From", format_date(r.effective_from) if r.effective_from else None),
            ("To", format_date(r.effective_to) if r.effective_to else None),
            ("Notes", r.notes),
        ],
    ),
    reads=(AppointmentShare,),  # whether each Regional Director is joint
    # Its views are declared below: the URLs are made when the portal's are.
    extra_urls=lambda resource: [
        path("regions/", national_overview, name="region-overview"),
        # Region codes are three letters and digits, so the dashboard never shadows /regions/codes/.
        re_path(
            r"^regions/(?P<key>[A-Za-z0-9]{3})/$", RegionDashboard.as_view(resource=resource), name="region-detail"
        ),
        re_path(
            r"^regions/(?P<key>[A-Za-z0-9]{3})/board-pack\.pdf$",
            RegionPack.as_view(resource=resource),
            name="region-pack",
        ),
        re_path(
            r"^regions/(?P<key>[A-Za-z0-9]{3})/measures/(?P<code>[-a-zA-Z0-9_]+)/$",
            RegionMeasureChart.as_view(resource=resource),
            name="region-measure-chart",
        ),
    ],
)


def region_or_404(key):
    """The region alone: the dashboard gathers what it shows itself (the list's queryset prefetches every post)."""
    region = Region.objects.filter(ods_code=key).first()
    if region is None:
        raise Http404("No region found.")
    return region


PACK_STYLESHEET = Path(settings.BASE_DIR) / "static" / "portal" / "pack.css"


def _months_words(choices):
    words = ["every month" if c is None else str(c) for c in choices]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _dashboard_models():
    """What the dashboards are drawn from (nhs_joint/conditional.py): a region and the records about it, two
    steps out (its findings and their runs among them), the appointments' shares, the agreed measures, and
    the findings' cases and decisions."""
    models = conditional.related_models(Region, detail=True)
    return models | {AppointmentShare, ProgrammeMeasure, FindingDecision, FindingCase}


class RegionDashboard(DetailPage):
    """A region's dashboard: its director, joint posts, delivery, expectations, findings and SPC charts."""

    def get(self, request, key):
        region = region_or_404(key)
        months, valid = dashboards.months_choice(request.GET.get("months"))
        models = _dashboard_models()
        if _directs(request.user, region):
            models |= work.READS
        return conditional.respond(request, models, lambda: self.render_dashboard(request, region, months, valid))

    def render_dashboard(self, request, region, months, valid):
        can_edit_deliveries = bool(can_edit_delivery(request.user, region.pk, region))

        def render_body():
            context = dashboards.region_dashboard(region, months=months, kept_with=_dashboard_models())
            context.update(
                region=region,
                can_edit_deliveries=can_edit_deliveries,
                local_systems=list(region.local_systems.order_by("name")),
                months_error=None if valid else f"Choose months from {_months_words(dashboards.MONTH_CHOICES)}.",
                months_param=_months_param(months),
            )
            return render_to_string("regions/dashboard_body.jinja", context)

        # The same for everyone who may (or may not) update the region's delivery: drawn once per region, window
        # and data version, and kept for the next person (nhs_joint/parts.py).
        body = parts.shared(
            "region-dashboard",
            _dashboard_models(),
            (region.pk, region.ods_code, months, valid, can_edit_deliveries),
            render_body,
        )
        context = {
            "drawn_body": body,
            "region": region,
            "page_title": f"{region} region",
            "breadcrumbs": [{"text": "Home", "href": "/"}, {"text": "Regions", "href": "/regions/"}],
        }
        if _directs(request.user, region):
            # What needs the region's own director is theirs alone, so it is drawn for them beside the shared part
            # (the charts it reads are the dashboard's, read again for this one person).
            charts = dashboards.region_dashboard(region, months=months, kept_with=_dashboard_models())["charts"]
            context["needs_you"] = needs_you(request.user, region, charts)
        return render(request, "regions/dashboard.jinja", context, status=200 if valid else 400)


def _directs(user, region):
    """Whether ``user`` is a Regional director of ``region`` (their home is its dashboard)."""
    return user.is_regional_director and user.region_id == region.pk


def needs_you(user, region, charts):
    """What comes first on a Regional director's home (their region's dashboard): the region's red programmes and
    the measures needing a look, then their own work."""
    today = timezone.localdate()
    cases, counts = work.findings_held_or_given(user, today)
    return {
        "red": work.red_programmes(region),
        "attention": work.needing_a_look(charts),
        "cases": cases,
        "case_count": counts["total"],
        "case_overdue": counts["overdue"],
        "consultations": work.consultations_answered(user),
    }


def _months_param(months):
    return "all" if months is None else str(months)


def pack_file_stem(region):
    """The start of a pack's file name, from the region's own name: "london-region" for London,
    "london-commissioning-region" (never "…-region-region") for a region whose name says it is one."""
    stem = slugify(str(region)) or region.ods_code.lower()
    return stem if stem.endswith("region") else f"{stem}-region"


class RegionPack(RegionDashboard):
    """A region's Board pack as a PDF: director, the summary of every measure, then each measure's chart.

    The months chosen on the dashboard apply; a bad choice shows the dashboard with its message instead.
    """

    def get(self, request, key):
        region = region_or_404(key)
        months, valid = dashboards.months_choice(request.GET.get("months"))
        if not valid:
            return self.render_dashboard(request, region, months, valid)
        context = dashboards.region_pack(region, months=months)
        context.update(region=region, page_title=f"{region} region: Board pack")
        key = dashboards.pack_key(region, context)
        document = cache.get(key)
        if document is None:
            html = render_to_string("regions/pack.jinja", context, request=request)
            document = render_pdf(html, PACK_STYLESHEET.read_text(encoding="utf-8"))
            cache.set(key, document, dashboards.PACK_CACHE_SECONDS)
        response = HttpResponse(document, content_type="application/pdf")
        name = f"{pack_file_stem(region)}-board-pack-{context['made']:%Y-%m-%d}.pdf"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "private, no-store"
        return response


class RegionMeasureChart(DetailPage):
    """One measure's chart for a region, over a window of months or every month held."""

    def get(self, request, key, code):
        region = region_or_404(key)
        measure = Measure.objects.filter(code=code).first()
        if measure is None:
            raise Http404("No measure has this code.")
        months, valid = dashboards.months_choice(request.GET.get("months"), choices=dashboards.CHART_MONTH_CHOICES)
        chart = dashboards.measure_chart(region, measure, months)
        return render(
            request,
            "regions/measure_chart.jinja",
            {
                "region": region,
                "measure": measure,
                "chart": chart,
                "months": months,
                "month_choices": dashboards.CHART_MONTH_CHOICES,
                "months_error": None
                if valid
                else f"Choose months from {_months_words(dashboards.CHART_MONTH_CHOICES)}.",
                "page_title": f"{measure.name}, {region}",
                "can_correct": bool(can_edit_records(request.user)),
                "breadcrumbs": [
                    {"text": "Home", "href": "/"},
                    {"text": "Regions", "href": "/regions/"},
                    {"text": str(region), "href": region.get_absolute_url()},
                ],
            },
            status=200 if valid else 400,
        )


def national_overview(request):
    def render_page():
        # The same for everyone: drawn once per data version and kept for the next person (nhs_joint/parts.py).
        body = parts.shared(
            "national-overview",
            _dashboard_models(),
            (),
            lambda: render_to_string("regions/overview_body.jinja", dashboards.national_overview()),
        )
        context = {
            "drawn_body": body,
            "page_title": "The seven regions",
            "breadcrumbs": [{"text": "Home", "href": "/"}],
        }
        return render(request, "regions/overview.jinja", context)

    return conditional.respond(request, _dashboard_models(), render_page)


@require_safe
def home(request):
    """The home page by role, each starting with what needs them next: a Regional director lands on their
    region's dashboard, Staff on My work, an Administrator on the people who cannot sign in, a Partner on
    their open consultations."""
    user = request.user
    if user.is_partner:
        return partner_home(request)
    if user.is_regional_director and user.region_id:
        return HttpResponseRedirect(reverse("region-detail", args=[user.region.ods_code]))
    if user.is_editor:
        return my_work(request)
    if user.is_administrator:
        return administrator_home(request)
    mine = (
        Programme.objects.filter(bodies__in=user.body_ids)
        .distinct()
        .select_related("accountable_body")
        .prefetch_related("bodies")
        .order_by("title")
    )
    changes = Programme.history.select_related("history_user").filter(history_type="~").order_by("-history_date")[:10]
    return render(
        request,
        "home.jinja",
        {"page_title": "Home", "programmes": mine, "changes": changes, "is_admin": user.is_administrator},
    )


def my_work(request):
    context = gather_my_work(request)
    context.update(page_title="My work", breadcrumbs=None)
    return render(request, "dashboards/my_work.jinja", context)


def administrator_home(request):
    """An Administrator's home: the people who cannot sign in, and why, then their own work."""
    people, blocked = people_who_cannot_sign_in(rows=dashboards.LIST_ROWS)
    context = gather_my_work(request)
    context.update(page_title="Home", breadcrumbs=None, people=people, blocked=blocked, work_heading_level=3)
    return render(request, "dashboards/administrator_home.jinja", context)


def partner_home(request):
    """A Partner's home: the consultations open to their organisation with the days left to respond (the call
    to action), then what is asked of them."""
    user = request.user
    target = user.partner_of
    if target is None:  # not yet linked to an organisation: the page that says so
        return HttpResponseRedirect(reverse(registry.partner_home))
    system = target._meta.model_name == "localhealthsystem"
    today = timezone.localdate()
    open_now = list(
        consultations_for(user)
        .filter(stage=Expectation.Stage.CONSULTATION, consultation_closes__gte=today)
        .order_by("consultation_closes", "pk")[: dashboards.LIST_ROWS]
    )
    ours = ExpectationResponse.objects.filter(
        expectation__in=open_now, **{"local_system" if system else "organisation": target}
    )
    answered = {r.expectation_id: r for r in ours.order_by("responded_at")} if open_now else {}
    for expectation in open_now:
        expectation.days_left = (expectation.consultation_closes - today).days
        expectation.our_response = answered.get(expectation.pk)
    kind = "local-system" if system else "organisation"
    return render(
        request,
        "dashboards/partner_home.jinja",
        {
            "page_title": "Home",
            "target": target,
            "consultations": open_now,
            "waiting": sum(1 for e in open_now if e.our_response is None),
            "asks_url": reverse(f"{kind}-asks", args=[target.ods_code]),
            "letter_url": reverse(f"{kind}-asks-letter", args=[target.ods_code]),
            "today": today,
        },
    )


RESOURCES = [regions]
