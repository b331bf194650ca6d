"""Views shared by the whole portal."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .celery import app as celery_app


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


@login_not_required
@never_cache
@require_GET
def healthz(request):
    """Database, Redis and worker state, as JSON. 200 while the database answers, else 503."""
    database = _database_state()
    broker = _broker_state()
    state = {"database": database, "redis": broker, "workers": _worker_state(broker)}
    return JsonResponse(state, status=200 if database == "ok" else 503)
