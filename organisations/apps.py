from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "organisations"

    def ready(self):
        # What this app tells the core: see nhs_joint/registry.py.
        from nhs_joint.registry import registry

        from . import api, glossary

        registry.add_navigation("Organisations", "/organisations/", 60)
        registry.autocomplete_models |= {"organisations.organisation"}
        registry.add_glossary("Bodies and organisations", glossary.entries, 20)
        registry.add_api("bodies", api.BodyViewSet, "body")
        registry.add_api("organisations", api.OrganisationViewSet, "organisation")
