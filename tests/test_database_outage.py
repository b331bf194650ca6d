"""With PostgreSQL stopped, a signed-in page answers 503 with the NHS.UK error page; pages recover when it returns.

The test runs on a PostgreSQL of the tests' own (`own_postgresql` in tests/conftest.py: started as
scripts/bootstrap.py starts a project-local one, in a temporary folder on a free loopback port, and shared with
the hung-PostgreSQL test of tests/test_bounded_time.py) and the portal under gunicorn against it; it stops and
starts that server itself. Its database is a copy of the run's migrated test database (pg_dump into psql: a few
seconds, where migrating an empty database takes most of a minute).
"""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connections

from tests.databases import BASELINE_SCHEMA
from tests.test_bootstrap import bootstrap, free_port

ROOT = Path(__file__).resolve().parents[1]

MAKE_SESSION = """
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
user = get_user_model().objects.create_user("outage", password="a-long-password-for-the-outage-test")
user.groups.add(Group.objects.get(name="Staff"))
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"  # the backend a password sign-in uses
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(session.session_key)
"""


def get(url, cookie=None, headers=None, timeout=30):
    """(status, headers, body) of a GET; status None when no answer came within ``timeout`` seconds."""
    request = urllib.request.Request(url, headers=headers or {})
    if cookie:
        request.add_header("Cookie", f"sessionid={cookie}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()
    except (urllib.error.URLError, TimeoutError):
        return None, {}, ""


def eventually(call, wanted, tries=60):
    """Ask again (at most ``tries`` times, a moment apart) until the answer's status is ``wanted``."""
    answer = call()
    for _ in range(tries):
        if answer[0] == wanted:
            break
        time.sleep(0.5)
        answer = call()
    return answer


def manage(env, *args, timeout=120):
    """``manage.py args`` of the portal in a process of its own with ``env``; its output once it has ended."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def copy_migrated_database(server, url):
    """Copy this process's test database, as migrated, into the empty database at ``url`` (on ``server``).

    The test database is the run's migrated template's copy (tests/databases.py), put back to its migrated rows
    after each transactional test; what a running test writes is not committed, so pg_dump does not see it. The
    test's own copy of the migrated rows (BASELINE_SCHEMA) stays behind. Nothing that migrating adds is lost:
    the schema, the data migrations' rows, the triggers and the extensions are all in the dump.
    """
    source = connections["default"].settings_dict
    dump_env = {**os.environ, "PGPASSWORD": source["PASSWORD"] or ""}
    dump = subprocess.Popen(
        [
            str(server.bindir / "pg_dump"),
            "--no-owner",
            "--no-privileges",
            f"--exclude-schema={BASELINE_SCHEMA}",
            "--host",
            source["HOST"] or "127.0.0.1",
            "--port",
            str(source["PORT"] or 5432),
            "--username",
            source["USER"],
            source["NAME"],
        ],
        env=dump_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        load = subprocess.run(
            [str(server.bindir / "psql"), "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "--dbname", url],
            stdin=dump.stdout,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        dump.stdout.close()
        dumped = dump.wait(timeout=300)
    assert dumped == 0, dump.stderr.read().decode()
    assert load.returncode == 0, load.stderr


def start_gunicorn(port, env, log):
    """The portal under gunicorn (one worker) on 127.0.0.1:``port``, writing to ``log``."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "nhs_joint.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "60",
            "--no-control-socket",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def stop_gunicorn(web, log):
    """Stops what ``start_gunicorn`` started (either may be None, when the test ended before it), and its log."""
    if web is not None:
        web.send_signal(signal.SIGTERM)
        try:
            web.wait(timeout=30)
        except subprocess.TimeoutExpired:
            web.kill()
    if log is not None:
        log.close()


# One worker (pytest-xdist) runs the tests that share `own_postgresql`, so that it is made once.
@pytest.mark.slow
@pytest.mark.xdist_group("own-postgresql")
def test_a_signed_in_page_is_a_503_while_postgresql_is_down_and_recovers(tmp_path, own_postgresql):
    web_port = free_port()
    server, url, env, cookie = own_postgresql.server, own_postgresql.url, own_postgresql.env, own_postgresql.cookie
    own_postgresql.running()
    web = log = None
    try:
        log = open(tmp_path / "gunicorn.log", "w")  # noqa: SIM115 (closed in the finally below, with the server)
        web = start_gunicorn(web_port, env, log)
        page = f"http://127.0.0.1:{web_port}/programmes/"

        status, _, html = eventually(lambda: get(page, cookie), 200)
        log.flush()
        assert status == 200 and "Sign out" in html, (tmp_path / "gunicorn.log").read_text()[-3000:]

        assert bootstrap.stop_local_postgres(server)
        status, headers, html = get(page, cookie)
        assert status == 503, html[:500]
        assert int(headers.get("Retry-After", "0")) > 0
        assert "Sorry, the service is unavailable" in html and "nhsuk-header" in html
        assert "Internal Server Error" not in html
        assert get(f"http://127.0.0.1:{web_port}/healthz")[0] == 503
        # The service status page still answers, and says in words which part is down.
        status, _, html = get(f"http://127.0.0.1:{web_port}/status/")
        assert status == 200, html[:500]
        assert "Some parts of the portal are not working" in html
        assert "Not working: records cannot be read or saved" in html

        bootstrap.start_local_postgres(bootstrap.Database.from_url(url), server)
        status, _, html = eventually(lambda: get(page, cookie), 200)
        assert status == 200 and "Sign out" in html
    finally:
        stop_gunicorn(web, log)
