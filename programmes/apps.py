from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "programmes"

    def ready(self):
        # What this app tells the core: see nhs_joint/registry.py.
        from nhs_joint.registry import registry

        from . import glossary, one_voice, reference
        from .models import Expectation, ExpectationResponse, Measurement

        for text, href, order in [
            ("Programmes", "/programmes/", 10),
            ("Workstreams", "/workstreams/", 20),
            ("Expectations", "/expectations/", 30),
            ("Measures", "/measures/", 40),
            ("Consultations", "/consultations/", 47),
            ("Measurements", "/measurements/", 45),
        ]:
            registry.add_navigation(text, href, order)
        registry.add_navigation("What is asked of us", "/partners/", 5, role="Partner")
        registry.reference_loaders.append(reference.load_measures)
        # One voice: what is asked of each organisation and system, and the consultations on expectations.
        registry.api_paths.append(
            (
                "organisations/<str:code>/expectations/",
                one_voice.OrganisationExpectationsView,
                "api-organisation-expectations",
            )
        )
        registry.api_paths.append(
            (
                "local-systems/<str:code>/expectations/",
                one_voice.LocalSystemExpectationsView,
                "api-local-system-expectations",
            )
        )
        registry.add_detail_panel("asks", one_voice.asks_panel, 20, models=(Expectation, Measurement))
        registry.add_detail_panel(
            "consultation", one_voice.consultation_panel, 10, models=(Expectation, ExpectationResponse)
        )
        registry.open_to_partners(*one_voice.PARTNER_URL_NAMES)
        registry.partner_home = "partner-home"
        registry.autocomplete_models |= {"programmes.programme", "programmes.measure"}
        registry.add_glossary("Programmes", glossary.entries, 10)
