from importlib import import_module

from django.apps import AppConfig


class JobsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "jobs"
    verbose_name = "Background jobs"

    def ready(self):
        # The list pages (nhs_joint, which imports no app) hand an export too long for one request to this app.
        from nhs_joint import exports

        from . import services

        exports.background = services.start_export
        # Its Celery tasks, which services send by name: registered here so that they run in this process
        # too when tasks run eagerly (CELERY_TASK_ALWAYS_EAGER).
        import_module(f"{self.name}.tasks")
