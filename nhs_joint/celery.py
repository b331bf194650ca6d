"""The portal's Celery application: Redis is the broker, settings come from Django."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nhs_joint.settings.base")

app = Celery("nhs_joint")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="nhs_joint.ping")
def ping():
    """Answers 'pong': used by the health check to see that a worker is listening."""
    return "pong"
