"""The portal's Celery application: Redis is the broker, settings come from Django."""

import os

from celery import Celery
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nhs_joint.settings.base")

app = Celery("nhs_joint")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="nhs_joint.ping")
def ping():
    """Answers 'pong': used by the health check to see that a worker is listening."""
    return "pong"


@worker_init.connect
def give_statements_the_reports_time(**kwargs):
    """A worker's statements may run as long as a report may (DATABASE_WORKER_STATEMENT_TIMEOUT), where a web
    request's are ended after DATABASE_STATEMENT_TIMEOUT: a report's queries read the whole store."""
    from django.conf import settings
    from django.db import connections

    options = settings.DATABASES["default"].setdefault("OPTIONS", {})
    timeout = round(settings.DATABASE_WORKER_STATEMENT_TIMEOUT * 1000)
    # PostgreSQL takes the last of a setting given twice: this one, after the web's.
    options["options"] = f"{options.get('options', '')} -c statement_timeout={timeout}".strip()
    connections.close_all()
