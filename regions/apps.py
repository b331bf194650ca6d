from django.apps import AppConfig


class RegionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "regions"

    def ready(self):
        # What this app tells the core: see nhs_joint/registry.py.
        from nhs_joint.registry import registry

        from . import api, glossary

        registry.add_api("local-systems", api.LocalSystemViewSet, "local-system")
        registry.add_glossary("Regions and their charts", glossary.entries, 30)
