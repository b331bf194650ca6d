from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "appointments"

    def ready(self):
        # What this app tells the core: see nhs_joint/registry.py.
        from nhs_joint.registry import registry

        registry.add_navigation("Appointments", "/appointments/", 50)
        registry.autocomplete_models |= {"appointments.person", "appointments.appointment"}
        registry.add_navigation("People", "/people/", 55)
