"""Views shared by the whole portal."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .celery import app as celery_app
from .registry import registry


def _database_state():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # the health check reports any failure rather than raising
        return f"error: {exc.__class__.__name__}"


def _broker_state():
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "not used (reports run in the web process)"
    try:
        # The broker named in the settings, which the workers are given too (Celery on its own would
        # let a CELERY_BROKER_URL in the process environment win over the settings).
        with celery_app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
        return "ok"
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"


def _worker_state(broker):
    if broker != "ok":
        return "unknown"
    try:
        replies = celery_app.control.ping(timeout=0.5)
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"
    return f"{len(replies)} answering" if replies else "none answering"


def service_checks():
    """What the portal depends on and its state, as monitors read it: database, redis, workers."""
    database = _database_state()
    broker = _broker_state()
    return {"database": database, "redis": broker, "workers": _worker_state(broker)}


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """Database, Redis and worker state, as JSON. 200 while the database answers, else 503."""
    state = service_checks()
    return JsonResponse(state, status=200 if state["database"] == "ok" else 503)


def _status_rows(state):
    """Each check of ``service_checks`` in words: what it is, whether it works, and what that means."""
    database, broker, workers = state["database"], state["redis"], state["workers"]
    rows = [
        {
            "name": "Records (the database)",
            "working": database == "ok",
            "words": "Working"
            if database == "ok"
            else "Not working: records cannot be read or saved. The portal's team has been told.",
        }
    ]
    if broker.startswith("not used"):
        rows.append(
            {"name": "Reports", "working": True, "words": "Working: reports run straight away, inside the portal"}
        )
        return rows
    rows.append(
        {
            "name": "Report queue (Redis)",
            "working": broker == "ok",
            "words": "Working"
            if broker == "ok"
            else "Not working: reports cannot be started. Try again in a few minutes.",
        }
    )
    responding = workers.split(" ", 1)[0]
    if responding.isdigit():
        number = int(responding)
        words = f"Working: {number} report {'worker is' if number == 1 else 'workers are'} ready"
        rows.append({"name": "Report workers", "working": True, "words": words})
    elif broker != "ok":
        rows.append(
            {
                "name": "Report workers",
                "working": False,
                "words": "Not known, because the report queue cannot be reached",
            }
        )
    else:
        rows.append(
            {
                "name": "Report workers",
                "working": False,
                "words": "Not working: no report worker is answering, so reports wait in the queue",
            }
        )
    return rows


@login_not_required
@never_cache
@require_GET
def service_status(request):
    """The checks of /healthz in words, for people; /healthz stays JSON for monitors."""
    rows = _status_rows(service_checks())
    return render(
        request,
        "status.jinja",
        {
            "page_title": "Service status",
            "rows": rows,
            "all_working": all(row["working"] for row in rows),
            "checked_at": timezone.now(),
            # Drawn like the failure pages (errors/static.jinja), so the page's nonce is given here as there:
            # without it the design system's inline script is refused by the Content Security Policy.
            "cspNonce": str(request.csp_nonce),
        },
    )


def service_status_without_database(request):
    """The status page when reading who is asking (their session, their account) found the database away:
    drawn as for someone signed out and without their messages (kept in the session), so that drawing it
    needs no database. Their session itself is left as it is: they stay signed in for when it is back."""
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    request.__dict__.pop("_messages", None)
    return service_status(request)


@require_GET
def glossary(request):
    """The words the portal uses, from what each app registers (nhs_joint/registry.py)."""
    sections = registry.glossary_sections()
    return render(
        request,
        "glossary.jinja",
        {"page_title": "Glossary", "sections": sections, "breadcrumbs": [{"text": "Home", "href": "/"}]},
    )


def api_docs(docs_view):
    """The API documentation, or for someone signed out a page saying to sign in first (not a bare 403)."""

    @login_not_required
    def view(request, *args, **kwargs):
        if not request.user.is_authenticated and "HTTP_AUTHORIZATION" not in request.META:
            sign_in = reverse("login") + "?" + urlencode({"next": request.get_full_path()})
            return render(
                request,
                "api_sign_in.jinja",
                {"page_title": "Sign in to see the API documentation", "sign_in_url": sign_in},
            )
        return docs_view(request, *args, **kwargs)

    return view
