"""Pages for when the portal cannot do its work: they need neither the database nor the signed-in user.

When PostgreSQL or Redis cannot be reached the portal answers 503 with
Retry-After, not a bare 500: a page (or, under /api/, JSON) that says the
service is unavailable for a while. The 500 page is drawn the same way, so
that a failure of the database cannot also break the page that reports it.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse

log = logging.getLogger(__name__)

# Seconds a client is asked to wait before trying again.
RETRY_AFTER = 30

DATABASE_ERRORS = (OperationalError, InterfaceError)


def broker_errors():
    """The errors of a Redis (the Celery broker) that cannot be reached."""
    from kombu.exceptions import OperationalError as BrokerOperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (BrokerOperationalError, RedisConnectionError, RedisTimeoutError)


REASONS = {
    "database": "The portal cannot reach its database at the moment.",
    "broker": "The portal cannot reach the service that runs its background work at the moment.",
}


def cause_of(exc):
    """ "database" or "broker" when ``exc`` (or the error it was raised from) says that service cannot be
    reached, else None. (Celery's result store wraps a lost Redis in a RuntimeError, for one.)"""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, DATABASE_ERRORS):
            return "database"
        if isinstance(exc, broker_errors()):
            return "broker"
        exc = exc.__cause__
        seen += 1
    return None


def is_api(request):
    return request is not None and request.path.startswith("/api/")


def error_page(request, template, status, context):
    """A failure page drawn from the template alone: no query, no user, no session."""
    if is_api(request):
        return JsonResponse({"detail": context.get("reason") or context["page_title"]}, status=status)
    nonce = getattr(request, "csp_nonce", None)
    html = render_to_string(template, {**context, "cspNonce": str(nonce) if nonce else None})
    return HttpResponse(html, status=status)


def service_unavailable(request, reason, title="Sorry, the service is unavailable"):
    response = error_page(request, "errors/503.jinja", 503, {"page_title": title, "reason": reason})
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


def unavailable(request, cause):
    """The answer when ``cause`` ("database" or "broker") cannot be reached: the 503 page, except that the
    service status page answers everyone, signed in or not (drawn as for someone signed out, since who they
    are is in the database)."""
    if cause == "database" and request is not None and request.path == reverse("service-status"):
        from .views import service_status_without_database

        return service_status_without_database(request)
    return service_unavailable(request, REASONS[cause])


def server_error(request):
    """The 500 handler: a 503 when the error says a service is unreachable, else the static 500 page."""
    cause = cause_of(sys.exc_info()[1])
    if cause:
        return unavailable(request, cause)
    response = error_page(
        request, "errors/500.jinja", 500, {"page_title": "Sorry, there is a problem with the service"}
    )
    response["Cache-Control"] = "no-store"
    return response


class APIBodySizeMiddleware:
    """An API request announcing a body larger than DATA_UPLOAD_MAX_MEMORY_SIZE is answered 413 before it is read.

    A multipart body may carry one file of up to ATTACHMENT_MAX_BYTES besides. Django applies that limit to
    form posts only; the REST framework reads a JSON body straight from the stream (nhs_joint.parsers.BoundedJSONParser caps what the portal's own operations read).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings

        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
            # A file upload: its file is bounded as it arrives (ATTACHMENT_MAX_BYTES), the rest as form data.
            limit += getattr(settings, "ATTACHMENT_MAX_BYTES", 0)
        if limit is not None and is_api(request):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return JsonResponse(
                    {"detail": f"The body of the request is too large: send at most {limit:,} bytes."}, status=413
                )
        return self.get_response(request)


class ServiceUnavailableMiddleware:
    """A view that finds the database or Redis unreachable answers 503 with Retry-After.

    (Errors raised by other middleware before the view reach ``server_error``, which answers the same.)
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        cause = cause_of(exception)
        if cause is None:
            return None
        log.warning("%s %s: %s unreachable: %s", request.method, request.path, cause, exception)
        return unavailable(request, cause)
