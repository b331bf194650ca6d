"""The API's OpenAPI schema is made once per version of the code and kept in the shared "schema" cache (Redis
here): a restarted process, or another one, reads it back in milliseconds without making it; ``make_api_schema``
makes it ahead of the first request; a changed file of the code makes a new one; a cache that does not answer
is passed over."""

import io
import json
import socket
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from accounts.models import Role
from nhs_joint import api_docs
from tests import factories as f

pytestmark = pytest.mark.django_db

SCHEMA = "/api/schema/?format=json"  # what the documentation page reads


@pytest.fixture
def made(monkeypatch):
    """How many times the schema is made (generated from the code), counted at the library's generator."""
    generator = api_docs.SchemaView.generator_class
    original = generator.get_schema
    calls = []

    def counted(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(generator, "get_schema", counted)
    return calls


@pytest.fixture
def restart(monkeypatch):
    """Start afresh, as a new web process does: none of the process's copies of the schema."""
    monkeypatch.setattr(api_docs, "_schemas", {})

    def again():
        api_docs._schemas.clear()

    return again


@pytest.fixture
def shared_in_redis(settings, restart):
    """The schema cache in Redis (the broker's server, another database), under a key prefix of this test's own."""
    broker = settings.CELERY_BROKER_URL.rsplit("/", 1)[0]
    settings.CACHES = {
        **settings.CACHES,
        "schema": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"{broker}/10",
            "KEY_PREFIX": f"test-schema-{uuid.uuid4().hex}",
            "TIMEOUT": 120,
        },
    }


@pytest.fixture
def reader(client, nhse):
    client.force_login(f.UserFactory(role=Role.STAFF, bodies=[nhse]))
    return client


def timed(client, url):
    started = time.perf_counter()
    response = client.get(url)
    return response, time.perf_counter() - started


def test_a_restarted_process_reads_the_schema_back_without_making_it(reader, shared_in_redis, made, restart):
    first = reader.get(SCHEMA)
    assert first.status_code == 200 and len(made) == 1
    restart()
    again, seconds = timed(reader, SCHEMA)
    assert again.status_code == 200
    assert len(made) == 1, "made again after a restart"
    assert again.content == first.content
    assert seconds < 1, seconds
    # The documentation page itself, and the schema once more from the process's own copy.
    assert reader.get("/api/docs/").status_code == 200
    assert reader.get(SCHEMA).content == first.content and len(made) == 1


def test_made_ahead_of_the_first_request_as_a_request_would_make_it(
    reader, shared_in_redis, made, restart, monkeypatch
):
    out = io.StringIO()
    call_command("make_api_schema", stdout=out)
    assert len(made) == 1 and api_docs.code_version() in out.getvalue()
    restart()
    served = reader.get(SCHEMA)
    assert served.status_code == 200 and len(made) == 1  # the first request after the release reads it back
    # Another version of the code makes its own, once; it is the one the command made.
    monkeypatch.setattr(api_docs, "_digest", "another-version")
    restart()
    anew = reader.get(SCHEMA)
    assert anew.status_code == 200 and len(made) == 2
    assert json.loads(anew.content) == json.loads(served.content)


def test_the_version_of_the_code_follows_its_files(tmp_path):
    files = api_docs.code_files()
    names = {str(path.relative_to(Path(django_settings.BASE_DIR).resolve())) for path in files}
    assert {"nhs_joint/api.py", "programmes/api.py", "search/api.py", "nhs_joint/settings/base.py"} <= names
    assert not any(name.startswith(("tests/", ".venv/")) or "/migrations/" in name for name in names)
    module = tmp_path / "views.py"
    module.write_text("FIELDS = ['title']\n")
    before = api_docs.digest_of([module], tmp_path)
    assert api_docs.digest_of([module], tmp_path) == before
    module.write_text("FIELDS = ['title', 'summary']\n")
    assert api_docs.digest_of([module], tmp_path) != before
    assert api_docs.digest_of([module], tmp_path, libraries=()) != api_docs.digest_of([module], tmp_path)


def test_a_schema_cache_that_does_not_answer_is_passed_over(reader, settings, made, restart):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings.CACHES = {
        **settings.CACHES,
        "schema": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed}/0",
        },
    }
    response = reader.get(SCHEMA)
    assert response.status_code == 200 and json.loads(response.content)["openapi"].startswith("3.")
    assert reader.get(SCHEMA).status_code == 200 and len(made) == 1  # kept in the process all the same
