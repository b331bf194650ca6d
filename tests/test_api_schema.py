"""schemathesis, from PyPI, fuzzes every operation of the live OpenAPI schema as an Administrator.

It must find no server error and no response (status, content type, body) that the schema does not document.
"""

import io
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from accounts.models import Role, User
from organisations.models import NationalBody

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
ST = Path(sys.executable).parent / "st"
ROOT = Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def api_server(transactional_db):
    """The portal under gunicorn (as in production), on the test database, for another process to call."""
    db = settings.DATABASES["default"]
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "nhs_joint.settings.test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "nhs_joint.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "--no-control-socket", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/healthz", timeout=2)
                break
            except urllib.error.HTTPError:
                break  # it answers (a 503 from the health check is still an answer)
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("gunicorn did not start")
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_schemathesis_finds_no_server_error_and_no_undocumented_response(api_server, tmp_path):
    for name in Role.ALL:
        Group.objects.get_or_create(name=name)
    call_command("seed_demo", stdout=io.StringIO())  # real rows for the operations to reach
    # An Administrator who is also Staff of both bodies, so that writes are tried, not only refused.
    user = User.objects.create_user("fuzz.admin", password="not-used-here-1")
    user.groups.set(Group.objects.filter(name__in=[Role.ADMINISTRATOR, Role.STAFF]))
    user.bodies.set(NationalBody.objects.all())
    token = Token.objects.create(user=user).key
    result = subprocess.run(
        [
            str(ST), "--no-color", "run", f"{api_server}/api/schema/",
            "--header", f"Authorization: Token {token}",
            "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "--phases", "examples,coverage,fuzzing",
            "--max-examples", "5",
            "--seed", "20181001",
            "--workers", "1",
        ],
        capture_output=True, text=True, timeout=1200, cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    tested = [line for line in result.stdout.splitlines() if line.strip().startswith("Tested:")]
    assert tested, result.stdout[-3000:]
