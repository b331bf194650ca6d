from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self):
        # What this app tells the core: see nhs_joint/registry.py.
        from nhs_joint.registry import registry

        from . import api, authentication  # noqa: F401  (authentication registers the API's session scheme)

        registry.add_navigation("Users", "/users/", 90, role="Administrator")
        registry.api_paths.append(("auth/token/", api.TokenView, "api-token"))
