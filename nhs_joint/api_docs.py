"""The API's OpenAPI schema, made once per release of the code, and its documentation page in the portal's layout.

The schema depends on the code alone (it is public to every signed-in person: SERVE_PUBLIC). Generating it takes
seconds; reading it back a few milliseconds. So it is kept twice: in the process, and in the "schema" cache
(settings.CACHES: a folder of this machine by default, shared by its web processes and kept across restarts, or
Redis with API_SCHEMA_CACHE_URL) under a digest of the code it is made from. One process makes it once per
release, at the first request or ahead of it with ``manage.py make_api_schema`` (scripts/run.sh runs it before
the web server starts); every other process, and every restart, reads it back. A cache that does not answer is
passed over: the schema is made in the process, as it was before.

The documentation page is a portal page (header, navigation, a way back) holding Swagger UI, whose files the
portal serves itself.
"""

import hashlib
import logging
import sys
import threading
from importlib import metadata
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.cache import caches
from django.http import HttpResponse
from django.shortcuts import render
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

logger = logging.getLogger(__name__)

CACHE = "schema"  # the alias in settings.CACHES
# The libraries whose versions change the schema as much as the portal's own code does.
LIBRARIES = ("Django", "djangorestframework", "drf-spectacular", "django-filter")

_schemas = {}
_lock = threading.Lock()
_digest = None


def code_files():
    """The portal's Python files: the core's and every installed app's of this project (not the libraries')."""
    base = Path(settings.BASE_DIR).resolve()
    environment = Path(sys.prefix).resolve()  # a virtual environment made inside the checkout holds libraries
    roots = {base / "nhs_joint"}
    roots |= {
        path
        for path in (Path(app.path).resolve() for app in apps.get_app_configs())
        if path.is_relative_to(base) and not path.is_relative_to(environment)
    }
    roots = {root for root in roots if not any(other != root and root.is_relative_to(other) for other in roots)}
    return sorted(path for root in roots for path in root.rglob("*.py") if "migrations" not in path.parts)


def digest_of(paths, base, libraries=LIBRARIES):
    """A digest of the files' names (under ``base``) and contents and of the libraries' versions: the version of
    the code, the same wherever the code is installed."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(Path(path).resolve().relative_to(base)).encode() + b"\0")
        digest.update(Path(path).read_bytes() + b"\0")
    for library in libraries:
        try:
            version = metadata.version(library)
        except metadata.PackageNotFoundError:
            version = ""
        digest.update(f"{library}={version}\0".encode())
    return digest.hexdigest()[:16]


def code_version():
    """The version of the code this process runs, worked out once (reading its files takes milliseconds)."""
    global _digest
    if _digest is None:
        _digest = digest_of(code_files(), Path(settings.BASE_DIR).resolve())
    return _digest


def _cache_key(key):
    return "api-schema:" + ":".join([code_version(), *(str(part) for part in key)])


def _read_shared(key):
    try:
        return caches[CACHE].get(_cache_key(key))
    except Exception:  # a cache that does not answer: make it here
        logger.warning("The API schema cache could not be read; the schema is made in this process.", exc_info=True)
        return None


def _write_shared(key, content):
    try:
        caches[CACHE].set(_cache_key(key), content)
    except Exception:
        logger.warning("The API schema cache could not be written.", exc_info=True)


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, written out (YAML or JSON) for each version, language and format asked for: from the
    process's copy, else the shared cache's, else made (once per process at a time) and kept in both."""

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        renderer, media_type = self.perform_content_negotiation(request)
        key = (version, request.GET.get("lang"), renderer.format, media_type)
        content = _schemas.get(key)
        if content is None:
            with _lock:  # two first requests at once make it once
                content = _schemas.get(key)
                if content is None:
                    content = _read_shared(key)
                    if content is None:
                        content = self._make(request, version, renderer, media_type)
                        _write_shared(key, content)
                    _schemas[key] = content
        response = HttpResponse(content, content_type=media_type)
        response["Content-Disposition"] = f'inline; filename="{self._get_filename(request, version)}"'
        return response

    def _make(self, request, version, renderer, media_type):
        generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
        schema = generator.get_schema(request=request, public=self.serve_public)
        return renderer.render(schema, media_type, {"request": request})


def make_schema():
    """Make the schema as the documentation page reads it (JSON) and keep it, ahead of the first request: what
    ``manage.py make_api_schema`` runs at a release. Returns its size in bytes."""
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIRequestFactory, force_authenticate

    request = APIRequestFactory().get("/api/schema/", {"format": "json"}, HTTP_HOST="localhost")
    # Anyone signed in may read it: a user who is never saved stands for them.
    force_authenticate(request, user=get_user_model()(username="api-schema"))
    response = SchemaView.as_view()(request)
    if response.status_code != 200:
        raise RuntimeError(f"The API schema could not be made: {response.status_code}")
    return len(response.content)


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI inside the portal's layout (templates/jinja2/api_docs.jinja); its start script as before, reading
    the schema as JSON (quicker to write out and to read than YAML)."""

    def _get_schema_url(self, request):
        url = super()._get_schema_url(request)
        return url + ("&" if "?" in url else "?") + "format=json"

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        if request.GET.get("script") is not None:
            return response
        return render(
            request,
            "api_docs.jinja",
            {
                **response.data,
                "page_title": "API documentation",
                "breadcrumbs": [{"text": "Home", "href": "/"}, {"text": "API documentation", "href": request.path}],
            },
        )
