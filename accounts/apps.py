from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self):
        # What this app tells the core: see nhs_joint/registry.py.
        from nhs_joint.registry import registry

        from . import api, authentication  # noqa: F401  (authentication registers the API's session scheme)

        registry.add_navigation("Users", "/users/", 2, role="Administrator")
        # The help pages in every page's footer: partners read them too (the API documentation is not theirs).
        registry.open_to_partners("glossary", "service-status")
        registry.api_paths.append(("auth/token/", api.TokenView, "api-token"))
