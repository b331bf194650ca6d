from django.apps import AppConfig


class SearchConfig(AppConfig):
    """One search across every kind of record: it reads every other app (as the dashboards do)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "search"

    def ready(self):
        from . import documents

        documents.connect_signals()
