"""The part of a measure's page this app draws (registered in apps.py): its England chart, a link to each
region's chart, and the way to correct any month's figure of England or a region."""

from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from nhs_joint import permissions
from regions.models import Region

from . import services

MAX_MONTHS = 600  # fifty years of monthly figures: the months offered for correction


def measure_charts_panel(request, record, resource):
    if resource.name != "measure":
        return ""
    chart = services.measure_chart(None, record, services.DEFAULT_MONTHS)
    regions = list(Region.objects.active().order_by("name"))
    # Every month held for the measure, latest first: any of them can be corrected, not the latest two only.
    months = list(record.measurements.order_by("-month").values_list("month", flat=True).distinct()[:MAX_MONTHS])
    return mark_safe(  # a Jinja2 template, autoescaped
        render_to_string(
            "regions/measure_panel.jinja",
            {
                "measure": record,
                "chart": chart,
                "regions": regions,
                "months": services.DEFAULT_MONTHS,
                "held_months": months,
                "can_correct": bool(permissions.can_edit_records(request.user)),
            },
            request=request,
        )
    )
