"""Celery tasks of the reports: a run, the nightly runs, and the reaper of runs whose worker died."""

import os

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError

from . import services


@shared_task(
    bind=True,
    name="reports.run_report",
    acks_late=True,  # a worker that dies mid-run does not lose the message ...
    reject_on_worker_lost=True,  # ... and the run, found failed or running, is dealt with by services.execute
    max_retries=3,
    soft_time_limit=settings.REPORT_SOFT_TIME_LIMIT,
    time_limit=settings.REPORT_TIME_LIMIT,
)
def run_report(self, run_id):
    try:
        return services.execute(run_id, worker=f"{self.request.hostname or 'local'}:{os.getpid()}")
    except SoftTimeLimitExceeded:
        services.fail(
            run_id, f"The report took longer than {settings.REPORT_SOFT_TIME_LIMIT} seconds and was stopped. "
            "No findings were saved."
        )
        return None
    except (OperationalError, InterfaceError) as error:
        # The database went away for a moment: try again shortly, up to max_retries times.
        if self.request.retries >= self.max_retries:
            services.fail(run_id, f"The database could not be reached ({error}). No findings were saved.")
            return None
        services.requeue(run_id, f"Retrying after a database error: {error}")
        raise self.retry(exc=error, countdown=5 * 2 ** self.request.retries)


@shared_task(name="reports.nightly")
def nightly(kind):
    return services.request_run(kind).pk


@shared_task(name="reports.reap_stale_runs")
def reap_stale_runs():
    return services.reap_stale_runs()
