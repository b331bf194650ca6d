from importlib import import_module

from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Watching records, notifications in the portal and by email, and each person's email preference."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"

    def ready(self):
        # What this app tells the core: see nhs_joint/registry.py.
        from nhs_joint.registry import registry

        from . import api, receivers, services, views
        from .models import Watch

        receivers.connect()
        # Its Celery tasks, which services send by name: registered here so that they run in this process
        # too when tasks run eagerly (CELERY_TASK_ALWAYS_EAGER).
        import_module(f"{self.name}.tasks")
        # Everyone's own notifications, partners' too (they are told only of what they may see).
        registry.open_to_partners(
            "notifications", "notifications-mark", "notification-settings", "notification-email-link"
        )
        registry.add_detail_panel("watch", views.watch_panel, 10, models=[Watch], reads=views.watch_reads)
        registry.add_account_item(views.account_item)
        registry.page_versions.append(services.unread_version)
        registry.add_api("notifications", api.NotificationViewSet, "notification")
        registry.add_api("watches", api.WatchViewSet, "watch")
        registry.api_paths.append(("notification-preference/", api.PreferenceView, "api-notification-preference"))
