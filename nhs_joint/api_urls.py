"""The REST API under /api/v1/, its OpenAPI schema and its documentation pages.

The resources are those the apps registered (nhs_joint/registry.py), each under its own prefix.
"""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from .api_docs import DocsView, SchemaView
from .registry import registry
from .resolvers import keyed_by_first_segment
from .views import api_docs

router = DefaultRouter()
for route in registry.api_routes:
    router.register(route.prefix, route.viewset, basename=route.basename)

# Included under "api/" (nhs_joint/urls.py), first: an API address is found without trying every page's
# pattern, and a page's address passes the API's hundreds of patterns with one look at its first segment.
urlpatterns = [path(f"v1/{prefix}", view.as_view(), name=name) for prefix, view, name in registry.api_paths]
urlpatterns += [
    keyed_by_first_segment("v1/", include((router.urls, "api"), namespace="api")),
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", api_docs(DocsView.as_view(url_name="api-schema")), name="api-docs"),
]
