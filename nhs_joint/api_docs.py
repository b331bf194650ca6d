"""The API's OpenAPI schema, made once per process, and its documentation page in the portal's layout.

The schema depends on the code alone (it is public to every signed-in person: SERVE_PUBLIC), so it is generated
at the first request and kept; generating it takes seconds, reading it back a few milliseconds. The
documentation page is a portal page (header, navigation, a way back) holding Swagger UI, whose files the
portal serves itself.
"""

import threading

from django.http import HttpResponse
from django.shortcuts import render
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

_schemas = {}
_lock = threading.Lock()


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, generated and written out (YAML or JSON) once per process for each version, language
    and format asked for."""

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        renderer, media_type = self.perform_content_negotiation(request)
        key = (version, request.GET.get("lang"), renderer.format, media_type)
        content = _schemas.get(key)
        if content is None:
            with _lock:  # two first requests at once make it once
                content = _schemas.get(key)
                if content is None:
                    generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
                    schema = generator.get_schema(request=request, public=self.serve_public)
                    content = _schemas[key] = renderer.render(schema, media_type, {"request": request})
        response = HttpResponse(content, content_type=media_type)
        response["Content-Disposition"] = f'inline; filename="{self._get_filename(request, version)}"'
        return response


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
