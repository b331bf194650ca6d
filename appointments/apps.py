from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "appointments"

    def ready(self):
        # What this app tells the core: see nhs_joint/registry.py.
        from nhs_joint.registry import registry

        from . import api

        registry.add_navigation("Appointments", "/appointments/", 50)
        registry.add_navigation("People", "/people/", 55)
        registry.add_api("people", api.PersonViewSet, "person")
        registry.add_api("appointments", api.AppointmentViewSet, "appointment")
