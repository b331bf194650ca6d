from django.apps import AppConfig


class AsksConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "asks"

    def ready(self):
        # What this app tells the core: see nhs_joint/registry.py.
        from measures.models import Measurement
        from nhs_joint.registry import registry

        from . import api, one_voice
        from .models import Expectation, ExpectationResponse

        registry.add_navigation("Expectations", "/expectations/", 30)
        registry.add_navigation("Consultations", "/consultations/", 47)
        registry.add_navigation("What is asked of us", "/partners/", 5, role="Partner")
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
        # The consultations in the API: the list, and a partner's response (the steps are the expectation's).
        registry.api_paths.append(("consultations/", api.ConsultationListView, "api-consultations"))
        registry.api_paths.append(
            ("consultations/<int:key>/responses/", api.ConsultationResponsesView, "api-consultation-responses")
        )
        registry.add_detail_panel("asks", one_voice.asks_panel, 20, models=(Expectation, Measurement))
        registry.add_detail_panel(
            "consultation", one_voice.consultation_panel, 10, models=(Expectation, ExpectationResponse)
        )
        registry.open_to_partners(*one_voice.PARTNER_URL_NAMES)
        registry.add_my_work_section("my-consultations", one_voice.my_consultations, 20)
        registry.partner_home = "partner-home"
