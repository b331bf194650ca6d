from django.apps import AppConfig
from jinja2 import pass_environment


class DashboardsConfig(AppConfig):
    """Regional dashboards, the national overview and the home page: they read every other app."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "dashboards"

    def ready(self):
        # What this app tells the core: see nhs_joint/registry.py.
        from measures.models import Measurement, ProgrammeMeasure
        from nhs_joint.registry import registry
        from regions.models import Region

        from . import api, areas, charts, panels

        # What each role uses most comes first (the header shows as many as fit, the rest under "More").
        registry.add_navigation("My work", "/my-work/", 1, role=("Staff", "Regional director"))
        registry.add_navigation("Regions", "/regions/", 34)
        registry.open_to_partners("home")  # a partner's home: their open consultations, then their asks
        # An organisation's and a local health system's page: each agreed measure's chart of its own figures.
        registry.add_detail_panel("figures", areas.figures_panel, 30, models=(Measurement, ProgrammeMeasure))
        registry.add_api("regions", api.RegionViewSet, "region")
        # A measure's page: its England chart, each region's a link away, any month's figure to correct.
        registry.add_detail_panel("measure-charts", panels.measure_charts_panel, 5, models=[Region])
        registry.template_globals.update(
            spc_svg=charts.render_svg,
            spc_summary=charts.summary,
            spc_figure=charts.figure_text,
            spc_table_rows=charts.table_rows,
            spc_sparkline=charts.sparkline_svg,
            spc_icon=charts.icon_svg,
            rendered_chart=pass_environment(charts.chart_html),
            rendered_tag=pass_environment(charts.tag_html),
            measure_rows=pass_environment(charts.measure_rows),
        )
