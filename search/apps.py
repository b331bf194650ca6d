from django.apps import AppConfig


class SearchConfig(AppConfig):
    """One search across every kind of record: it reads every other app (as the dashboards do)."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "search"

    def ready(self):
        # What this app tells the core: see nhs_joint/registry.py.
        from nhs_joint.registry import registry

        from . import api, documents, models, query

        documents.connect_signals()
        registry.api_paths.append(("search/", api.SearchView, "api-search"))
        # A partner's search finds only their own organisation's consulted and agreed asks (search/views.py).
        registry.open_to_partners("search", "api-search")
        # Every list's q, the API lists' and the suggestions of long lists match as the search does.
        registry.text_search = query.matching_records
        registry.text_search_models += [models.SearchDocument, models.SearchWord]
