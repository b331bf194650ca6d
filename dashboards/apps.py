from django.apps import AppConfig
from jinja2 import pass_environment


class DashboardsConfig(AppConfig):
    """Regional dashboards, the national overview and the home page: they read every other app."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "dashboards"

    def ready(self):
        # What this app tells the core: see nhs_joint/registry.py.
        from nhs_joint.registry import registry
        from regions.models import Region

        from . import api, charts, panels

        registry.add_navigation("Regions", "/regions/", 70)
        registry.add_api("regions", api.RegionViewSet, "region")
        # A measure's page: its England chart, each region's a link away, any month's figure to correct.
        registry.add_detail_panel("measure-charts", panels.measure_charts_panel, 5, models=[Region])
        registry.template_globals.update(
            spc_svg=charts.render_svg,
            spc_summary=charts.summary,
            spc_sparkline=charts.sparkline_svg,
            spc_icon=charts.icon_svg,
            drawn_chart=pass_environment(charts.chart_html),
            drawn_tag=pass_environment(charts.tag_html),
        )
