from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "measures"

    def ready(self):
        # What this app tells the core: see nhs_joint/registry.py.
        from nhs_joint.registry import registry

        from . import reference

        registry.add_navigation("Measures", "/measures/", 40)
        registry.add_navigation("Measurements", "/measurements/", 45)
        registry.reference_loaders.append(reference.load_measures)
        registry.autocomplete_models |= {"measures.measure"}
