from django.apps import AppConfig
from django.db.models.signals import post_migrate


class VersionsConfig(AppConfig):
    name = "nhs_joint.versions"
    label = "versions"
    verbose_name = "Data versions"

    def ready(self):
        from . import triggers

        # After every migrate, every table (those of later migrations too) has its trigger.
        post_migrate.connect(triggers.install_after_migrate, sender=self, dispatch_uid="versions-triggers")
