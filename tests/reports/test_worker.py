"""Report runs through a real Celery worker and the real Redis: requested by the API, read back; a worker killed."""

import datetime as dt
import io
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db.models import F
from rest_framework.test import APIClient

from reports import services
from reports.models import Finding, ReportRun
from tests import factories as f
from tests.conftest import create_roles
from tests.factories import token_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


class Worker:
    """A Celery worker process on its own queue, using the test database.

    Settings given as keywords (such as REPORT_RULE_DELAY) reach the worker through tests/worker_settings.py.
    """

    def __init__(self, queue, **env):
        db = settings.DATABASES["default"]
        self.log = io.StringIO()
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "nhs_joint",
                "worker",
                "--pool",
                "solo",
                "--concurrency",
                "1",
                "-Q",
                queue,
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "INFO",
            ],
            cwd=ROOT,
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={
                **os.environ,
                **{f"TEST_WORKER_{name}": value for name, value in env.items()},
                "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
                "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
                "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            },
        )
        # Read all the while, so that a worker that logs a lot never blocks on a full pipe, and what it said
        # so far can be shown at any time.
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.log.write(line)

    def kill(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.reader.join(timeout=30)

    def output(self):
        return self.log.getvalue()


@pytest.fixture(autouse=True)
def roles(transactional_db):
    create_roles()


@pytest.fixture
def queue(settings):
    name = f"reports-test-{uuid.uuid4().hex[:10]}"
    settings.REPORTS_QUEUE = name
    return name


@pytest.fixture
def workers():
    started = []
    yield lambda queue, **env: started.append(Worker(queue, **env)) or started[-1]
    for number, worker in enumerate(started, 1):
        worker.kill()
        # Shown with the test's output when it fails.
        print(f"--- Celery worker {number} ---\n{worker.output()}")


def wait_for(check, timeout=90, what="the run"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}")


def api_for(user):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    return api


def test_a_run_whose_worker_dies_is_marked_failed_and_the_next_run_requested_through_the_api_succeeds(
    queue, workers, settings, nhse
):
    # One test, one demonstration and one worker for both: a run through the API is the run after the dead one.
    call_command("seed_demo", stdout=io.StringIO())
    slow = workers(queue, REPORT_RULE_DELAY="1.5")
    run = services.request_run("consistency")
    wait_for(lambda: ReportRun.objects.filter(pk=run.pk, status="running", progress__gt=0).exists(), what="progress")
    slow.kill()
    # Its last sign of life is made older than REPORT_STALE_AFTER, as if that long had passed.
    settings.REPORT_STALE_AFTER = 2
    assert services.reap_stale_runs() == 0
    ReportRun.objects.filter(pk=run.pk).update(heartbeat=F("heartbeat") - dt.timedelta(seconds=3))
    assert services.reap_stale_runs() == 1
    run.refresh_from_db()
    assert run.status == "failed" and "stopped answering" in run.error
    assert not Finding.objects.filter(run=run).exists()

    # The next run, requested through the API, is done by a (new) worker and read back through the API.
    worker = workers(queue)
    api = api_for(f.UserFactory(role="Staff", bodies=[nhse]))
    response = api.post("/api/v1/report-runs/", {"kind": "consistency"}, format="json")
    assert response.status_code == 202
    run_id = response.json()["id"]
    done = wait_for(lambda: ReportRun.objects.filter(pk=run_id, status__in=["succeeded", "failed"]).first())
    assert done.status == "succeeded", (done.error, worker.output())
    assert done.worker and done.started and done.finished
    assert Finding.objects.filter(run=done).count() == 7
    findings = api.get(f"/api/v1/findings/?run={run_id}").json()
    assert findings["count"] == 7
    rules = {x["rule"] for x in findings["results"]}
    assert {"region-director", "board-approval", "appointment-shares"} <= rules
    east = api.get(f"/api/v1/findings/?run={run_id}&rule=region-director").json()["results"][0]
    assert east["region"] == "Y61" and {"type": "region", "key": "Y61"}.items() <= east["records"][0].items()
    run.refresh_from_db()
    assert run.status == "failed"  # the dead run stays failed; its message is never run again


def terminate_other_backends():
    """End every other session on the test database (the worker's): the database drops its connections mid-run."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return sum(1 for (ended,) in cursor.fetchall() if ended)


def test_a_run_whose_database_connection_drops_mid_run_is_retried_and_succeeds(queue, workers):
    call_command("seed_demo", stdout=io.StringIO())
    # Tried again after 2 seconds, not the default 5: long enough to see the run back in the queue.
    worker = workers(queue, REPORT_RULE_DELAY="0.5", REPORT_RETRY_SECONDS="2")
    run = services.request_run("consistency")
    wait_for(lambda: ReportRun.objects.filter(pk=run.pk, status="running", progress__gt=0).exists(), what="progress")
    assert terminate_other_backends() >= 1
    # The run goes back to the queue saying why (not failed, which would end it) ...
    requeued = wait_for(lambda: ReportRun.objects.filter(pk=run.pk, status="queued").first(), what="the retry")
    assert "database error" in requeued.error
    # ... and the retry, on a new connection, runs it to the end.
    done = wait_for(lambda: ReportRun.objects.filter(pk=run.pk, status__in=["succeeded", "failed"]).first())
    assert done.status == "succeeded", (done.error, worker.output())
    assert Finding.objects.filter(run=done).count() == 7 and done.progress == 100
