from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "programmes"

    def ready(self):
        # What this app tells the core: see nhs_joint/registry.py.
        from nhs_joint.registry import registry

        from . import api, glossary, reference

        for text, href, order in [
            ("Programmes", "/programmes/", 10),
            ("Workstreams", "/workstreams/", 20),
            ("Expectations", "/expectations/", 30),
            ("Measures", "/measures/", 40),
            ("Measurements", "/measurements/", 45),
        ]:
            registry.add_navigation(text, href, order)
        for prefix, viewset, basename in [
            ("programmes", api.ProgrammeViewSet, "programme"),
            ("board-approvals", api.BoardApprovalViewSet, "board-approval"),
            ("regional-deliveries", api.RegionalDeliveryViewSet, "regional-delivery"),
            ("workstreams", api.WorkstreamViewSet, "workstream"),
            ("expectations", api.ExpectationViewSet, "expectation"),
            ("measures", api.MeasureViewSet, "measure"),
            ("programme-measures", api.ProgrammeMeasureViewSet, "programme-measure"),
            ("measurements", api.MeasurementViewSet, "measurement"),
        ]:
            registry.add_api(prefix, viewset, basename)
        registry.reference_loaders.append(reference.load_measures)
        registry.add_glossary("Programmes", glossary.entries, 10)
