"""Celery tasks of the reports: a run, the nightly runs, and the reaper of runs whose worker died."""

import logging
import os

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connections

from . import services, spread

log = logging.getLogger(__name__)


def drop_broken_connections():
    """Close this process's database connections outside a transaction, so the next query opens a new one.

    After the database drops a connection, every query on it fails until it is
    closed; closing a sound one only costs a reconnection.
    """
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


def _record(action, run_id, reason):
    """Write the run's new state if the database answers; if it does not, the retry or the reaper will."""
    try:
        action(run_id, reason)
    except services.DATABASE_ERRORS as error:
        log.warning("report run %s: could not record %r: %s", run_id, reason, error)
        drop_broken_connections()


@shared_task(
    bind=True,
    name="reports.run_report",
    acks_late=True,  # a worker that dies mid-run does not lose the message ...
    reject_on_worker_lost=True,  # ... and the run, found failed or running, is dealt with by services.execute
    max_retries=3,
    ignore_result=True,  # a run's outcome is its ReportRun row: sending one needs the broker, not the result store
    soft_time_limit=settings.REPORT_SOFT_TIME_LIMIT,
    time_limit=settings.REPORT_TIME_LIMIT,
)
def run_report(self, run_id):
    try:
        return services.execute(
            run_id, worker=f"{self.request.hostname or 'local'}:{os.getpid()}", retry_database_errors=True
        )
    except SoftTimeLimitExceeded:
        services.fail(
            run_id,
            f"The report took longer than {settings.REPORT_SOFT_TIME_LIMIT} seconds and was stopped. "
            "No findings were saved.",
        )
        return None
    except services.DATABASE_ERRORS as error:
        # The database went away for a moment: the run goes back to the queue (not failed, which would end it)
        # and is tried again shortly on a new connection (after REPORT_RETRY_SECONDS, then twice as long each
        # time), up to max_retries times.
        drop_broken_connections()
        if self.request.retries >= self.max_retries:
            _record(services.fail, run_id, f"The database could not be reached ({error}). No findings were saved.")
            return None
        _record(services.requeue, run_id, f"Trying again after a database error: {error}")
        raise self.retry(exc=error, countdown=settings.REPORT_RETRY_SECONDS * 2**self.request.retries) from error


@shared_task(name="reports.nightly")
def nightly(kind):
    return services.request_run(kind).pk


@shared_task(name="reports.reap_stale_runs")
def reap_stale_runs():
    return services.reap_stale_runs()


@shared_task(name="reports.neighbour_block", acks_late=True, reject_on_worker_lost=True)
def neighbour_block(path, k, number, start, stop):
    return spread.neighbour_block(path, k, number, start, stop)


@shared_task(name="reports.merge_neighbour_blocks", acks_late=True, reject_on_worker_lost=True)
def merge_neighbour_blocks(blocks, path, k, n):
    return spread.merge_neighbour_blocks(blocks, path, k, n)
