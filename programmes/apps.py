from django.apps import AppConfig


class ProgrammesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "programmes"

    def ready(self):
        # What this app tells the core: see nhs_joint/registry.py.
        from nhs_joint.registry import registry

        from . import glossary

        for text, href, order in [
            ("Programmes", "/programmes/", 10),
            ("Workstreams", "/workstreams/", 20),
        ]:
            registry.add_navigation(text, href, order)
        registry.autocomplete_models |= {"programmes.programme"}
        registry.add_glossary("Programmes", glossary.entries, 10)
