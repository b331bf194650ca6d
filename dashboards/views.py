"""The regions (their dashboards and the national overview) and the home page: they read every app."""

from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import path, re_path
from django.utils.text import slugify

from appointments.models import Appointment, AppointmentShare
from measures.models import Measure, ProgrammeMeasure
from nhs_joint import conditional, parts
from nhs_joint.generic import DetailPage, Resource
from nhs_joint.pdf import render_pdf
from nhs_joint.permissions import can_edit_delivery, can_edit_records
from nhs_joint.tables import Column
from programmes.models import Programme
from regions import filters
from regions.models import Region
from reports.models import FindingCase, FindingDecision

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
    summary=lambda r: [
        ("ODS code", r.ods_code),
        ("Status", "One of the seven integrated regions" if r.active else "Retired region code"),
        ("Regional Director", director_text(r)),
        ("From", f"{r.effective_from:%-d %B %Y}" if r.effective_from else None),
        ("To", f"{r.effective_to:%-d %B %Y}" if r.effective_to else None),
        ("Notes", r.notes),
    ],
    intro="The seven integrated regions, each led by one Regional Director working for both bodies, "
    "and the retired region codes that older files still use.",
    list_prefix="regions/codes",
    reads=(AppointmentShare,),  # whether each Regional Director is joint
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
        return conditional.respond(
            request,
            _dashboard_models(),
            lambda: self.draw_dashboard(request, region, months, valid),
        )

    def draw_dashboard(self, request, region, months, valid):
        can_edit_deliveries = bool(can_edit_delivery(request.user, region.pk, region))

        def draw_body():
            context = dashboards.region_dashboard(region, months=months)
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
            draw_body,
        )
        context = {
            "drawn_body": body,
            "region": region,
            "page_title": f"{region} region",
            "breadcrumbs": [{"text": "Home", "href": "/"}, {"text": "Regions", "href": "/regions/"}],
        }
        return render(request, "regions/dashboard.jinja", context, status=200 if valid else 400)


def _months_param(months):
    return "all" if months is None else str(months)


class RegionPack(RegionDashboard):
    """A region's Board pack as a PDF: director, the summary of every measure, then each measure's chart.

    The months chosen on the dashboard apply; a bad choice shows the dashboard with its message instead.
    """

    def get(self, request, key):
        region = region_or_404(key)
        months, valid = dashboards.months_choice(request.GET.get("months"))
        if not valid:
            return self.draw_dashboard(request, region, months, valid)
        context = dashboards.region_pack(region, months=months)
        context.update(region=region, page_title=f"{region} region: Board pack")
        key = dashboards.pack_key(region, context)
        document = cache.get(key)
        if document is None:
            html = render_to_string("regions/pack.jinja", context, request=request)
            document = render_pdf(html, PACK_STYLESHEET.read_text(encoding="utf-8"))
            cache.set(key, document, dashboards.PACK_CACHE_SECONDS)
        response = HttpResponse(document, content_type="application/pdf")
        name = f"{slugify(region.name) or region.ods_code.lower()}-region-board-pack-{context['made']:%Y-%m-%d}.pdf"
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
    def draw():
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

    return conditional.respond(request, _dashboard_models(), draw)


regions.extra_urls = [
    path("regions/", national_overview, name="region-overview"),
    # Region codes are three letters and digits, so the dashboard never shadows /regions/codes/.
    re_path(r"^regions/(?P<key>[A-Za-z0-9]{3})/$", RegionDashboard.as_view(resource=regions), name="region-detail"),
    re_path(
        r"^regions/(?P<key>[A-Za-z0-9]{3})/board-pack\.pdf$",
        RegionPack.as_view(resource=regions),
        name="region-pack",
    ),
    re_path(
        r"^regions/(?P<key>[A-Za-z0-9]{3})/measures/(?P<code>[-a-zA-Z0-9_]+)/$",
        RegionMeasureChart.as_view(resource=regions),
        name="region-measure-chart",
    ),
]


def home(request):
    """The home page by role: Staff and Regional directors land on My work; others see the programmes."""
    user = request.user
    if user.is_editor:
        return my_work(request)
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


RESOURCES = [regions]
