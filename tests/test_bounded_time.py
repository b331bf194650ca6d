"""Every request answers in bounded time: a hung PostgreSQL or Redis gives the 503 page within seconds.

"Hung" is a server that is there but does not answer: stopped with SIGSTOP, its machine still accepts
connections and acknowledges what is sent, so neither refused connections nor TCP keepalives tell the
portal. Each test hangs a server of its own on a free loopback port, and only that one: PostgreSQL the tests'
own (`own_postgresql`, tests/conftest.py: started as scripts/bootstrap.py starts a project-local one, shared
with the outage test of tests/test_database_outage.py), Redis a plain redis-server. The 5 seconds are the client's
own timeout, a guard that fails the test when no answer comes, not a measurement the test asserts on. The
portal it serves waits 1 second for the database (DATABASE_REQUEST_TIMEOUT, 3 by default), so that the test
does not wait 3 seconds for each 503 it asks for.

Before the portal bounded its waits, the pages and the API gave no answer at all within 5 seconds (the
connection closed after gunicorn's worker timeout), starting a report took 12 seconds to its 503, and
/status/ gave signed-in people the generic 503.
"""

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import extensions

from nhs_joint.timeouts import wait_for_response
from reports.models import ReportRun
from tests import factories as f
from tests.conftest import create_roles
from tests.test_bootstrap import bootstrap, free_port
from tests.test_database_outage import (
    eventually,
    get,
    start_gunicorn,
    stop_gunicorn,
)
from tests.test_trust import responds_within

GUARD = 5  # seconds: the client gives up after this


def processes_of(pid):
    """``pid`` and every process below it (a PostgreSQL server and its backends), from /proc."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


@contextlib.contextmanager
def hung(pids):
    """Stop these processes (SIGSTOP) for the length of the block; they go on (SIGCONT) after it."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


# One worker (pytest-xdist) runs the tests that share `own_postgresql`, so that it is made once.
@pytest.mark.slow
@pytest.mark.xdist_group("own-postgresql")
def test_a_hung_postgresql_gives_the_503_page_within_5_seconds_and_status_answers_signed_in_people(
    tmp_path, own_postgresql
):
    # The tests' own PostgreSQL (tests/conftest.py), holding the run's migrated test database.
    web_port = free_port()
    url, cookie, token = own_postgresql.url, own_postgresql.cookie, own_postgresql.token
    env = {
        **own_postgresql.env,
        "DATABASE_CONN_MAX_AGE": "600",  # kept connections: the case that waited longest
        # A request waits 1 second for the database, not the default 3: the test waits for it on each request.
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "TEST_WORKER_DATABASE_REQUEST_TIMEOUT": "1",
    }
    postmaster = own_postgresql.running()
    web = log = None
    try:
        log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115 (closed in the finally below, with the server)
        web = start_gunicorn(web_port, env, log)
        base = f"http://127.0.0.1:{web_port}"
        page, api = f"{base}/programmes/", f"{base}/api/v1/programmes/"
        headers = {"Authorization": f"Token {token}"}

        status, _, html = eventually(lambda: get(page, cookie), 200)
        log.flush()
        assert status == 200 and "Sign out" in html, (tmp_path / "gunicorn.log").read_text()[-3000:]
        assert get(api, headers=headers)[0] == 200  # the worker now keeps its connection to the server

        with hung(processes_of(postmaster)):
            (status, headers_503, html), took = timed(lambda: get(page, cookie, timeout=GUARD))
            print(f"/programmes/ answered {status} in {took:.2f} s with PostgreSQL stopped")
            assert status == 503, f"no answer within {GUARD} s" if status is None else html[:500]
            assert int(headers_503.get("Retry-After", "0")) > 0
            assert "Sorry, the service is unavailable" in html and "nhsuk-header" in html

            (status, headers_503, body), took = timed(lambda: get(api, headers=headers, timeout=GUARD))
            print(f"/api/v1/programmes/ answered {status} in {took:.2f} s with PostgreSQL stopped")
            assert status == 503, f"no answer within {GUARD} s" if status is None else body[:500]
            assert int(headers_503.get("Retry-After", "0")) > 0
            assert "cannot reach its database" in body

            # Outside a request (a worker, a command) a new connection still gives up after its connect_timeout,
            # which libpq leaves to psycopg2's wait callback.
            def connect_outside_a_request():
                try:
                    psycopg2.connect(f"{url}?connect_timeout=2").close()
                except psycopg2.OperationalError as error:
                    return error

            before = extensions.get_wait_callback()
            extensions.set_wait_callback(wait_for_response)
            try:
                refused = responds_within(GUARD, connect_outside_a_request)
            finally:
                extensions.set_wait_callback(before)
            assert "did not answer within 2 seconds" in str(refused)

            # The status page answers signed-in people too, and says which part is down.
            (status, status_headers, html), took = timed(lambda: get(f"{base}/status/", cookie, timeout=GUARD))
            print(f"/status/ (signed in) answered {status} in {took:.2f} s with PostgreSQL stopped")
            assert status == 200, f"no answer within {GUARD} s" if status is None else html[:500]
            assert "Not working: records cannot be read or saved" in html
            assert "sessionid" not in status_headers.get("Set-Cookie", "")  # they stay signed in

        status, _, html = eventually(lambda: get(page, cookie), 200)
        assert status == 200 and "Sign out" in html
    finally:
        stop_gunicorn(web, log)


@contextlib.contextmanager
def celery_at(url):
    """Point the Celery app (broker and results) at ``url`` for the length of the block. (Celery reads
    CELERY_BROKER_URL from the environment before its settings, so that is pointed there too.)"""
    from nhs_joint.celery import app

    environment = os.environ.get("CELERY_BROKER_URL")
    saved = (app.conf.broker_url, app.conf.result_backend, app._pool, app.amqp._producer_pool)
    os.environ["CELERY_BROKER_URL"] = url
    app.conf.broker_url = app.conf.result_backend = url
    app._pool = app.amqp._producer_pool = None
    backend = app._local.__dict__.pop("backend", None)
    try:
        yield app
    finally:
        if environment is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = environment
        app.conf.broker_url, app.conf.result_backend, app._pool, app.amqp._producer_pool = saved
        app._local.__dict__.pop("backend", None)
        if backend is not None:
            app._local.backend = backend


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of the test's own on a free loopback port: (its URL, its process)."""
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    process = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert bootstrap.wait_for(lambda: bootstrap.redis_responds(url), 20), "the test's Redis did not start"
        yield url, process
    finally:
        os.kill(process.pid, signal.SIGCONT)
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_hung_redis_makes_starting_a_report_answer_503_within_5_seconds(client, nhse, own_redis):
    from tests.test_trust import client_for

    create_roles()
    staff = f.UserFactory(role="Staff", bodies=[nhse])
    api = client_for(staff)
    client.force_login(staff)
    url, redis = own_redis
    with celery_at(url):
        # A report starts while Redis answers: the portal's connections to it are open and kept.
        assert api.post("/api/v1/report-runs/", {"kind": "consistency"}, format="json").status_code == 202
        ReportRun.objects.all().delete()
        with hung([redis.pid]):
            response, took = timed(
                lambda: responds_within(
                    GUARD, lambda: api.post("/api/v1/report-runs/", {"kind": "consistency"}, format="json")
                )
            )
            print(f"POST /api/v1/report-runs/ answered {response.status_code} in {took:.2f} s with Redis stopped")
            assert response.status_code == 503 and response["Retry-After"]
            assert "Reports cannot start now" in response.json()["detail"]

            response, took = timed(
                lambda: responds_within(GUARD, lambda: client.post("/reports/run/", {"kind": "duplication"}))
            )
            print(f"POST /reports/run/ answered {response.status_code} in {took:.2f} s with Redis stopped")
            assert response.status_code == 503
            assert "Reports cannot start now" in response.content.decode()
    assert ReportRun.objects.count() == 0


@pytest.mark.django_db
def test_every_connection_carries_the_statement_and_lock_timeouts_and_keepalives():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('statement_timeout'), current_setting('lock_timeout')")
        assert cursor.fetchone() == ("30s", "10s")
    parameters = connection.connection.get_dsn_parameters()
    assert (parameters["keepalives"], parameters["keepalives_idle"], parameters["tcp_user_timeout"]) == (
        "1",
        "30",
        "60000",
    )
