from importlib import import_module

from django.apps import AppConfig


class ReportsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reports"

    def ready(self):
        # What this app tells the core: see nhs_joint/registry.py.
        from nhs_joint.registry import registry

        from . import api, glossary, services, similar
        from .rules import rule_name

        # Its Celery tasks, which services send by name: registered here so that they run in this process
        # too when tasks run eagerly (CELERY_TASK_ALWAYS_EAGER).
        import_module(f"{self.name}.tasks")
        registry.add_navigation("Findings", "/findings/", 32)
        registry.add_navigation("Reports", "/reports/", 36)
        registry.template_globals["rule_name"] = rule_name
        registry.add_glossary("Reports and their rules", glossary.entries, 40)
        registry.add_api("report-runs", api.ReportRunViewSet, "report-run")
        registry.add_api("findings", api.FindingViewSet, "finding")
        registry.record_flags.append(services.open_consistency_flags)
        # The panel reads the closest records kept by the latest duplication run: the pages' version covers them.
        registry.add_detail_panel(
            "similar-work",
            similar.similar_panel,
            40,
            models=(similar.SimilarRecord, similar.ReportRun),
            reads=similar.similar_reads,
        )
        registry.api_paths.append(("workstreams/<int:id>/similar/", similar.SimilarWorkView, "api-workstream-similar"))
        registry.api_paths.append(
            ("programmes/<slug:slug>/similar/", similar.SimilarProgrammesView, "api-programme-similar")
        )
