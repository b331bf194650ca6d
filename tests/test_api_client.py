"""A Python client generated from the live OpenAPI schema works against a running portal.

openapi-python-client (pinned in requirements-dev.txt) generates the client from the schema the portal
serves; the test imports it and uses it against the live server as an integrator would: a token for a
username and password, a list, a create, an update with If-Match, then a 412 and a 400 read through the
client's own types. Nothing is downloaded: the generator reads the schema file it is given.
"""

import datetime as dt
import importlib
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client as DjangoClient

from programmes.models import Programme
from tests import factories as f

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "portal_api_client"
PASSWORD = "correct horse battery staple"


def a_world():
    nhse = f.NationalBodyFactory(code="NHSE", name="NHS England", ods_code="X24")
    f.NationalBodyFactory(code="NHSI", name="NHS Improvement")
    duty = f.StatutoryDutyFactory(body=nhse, slug="nhse-mandate")
    f.RegionFactory(ods_code="Y56", name="London", short_name="London")
    f.ProgrammeFactory(
        slug="winter",
        title="Winter",
        bodies=[nhse],
        accountable_body=nhse,
        duty=duty,
        start_date=dt.date(2018, 4, 1),
    )
    return f.UserFactory(username="integrator", role="Staff", bodies=[nhse])


@pytest.fixture
def client_package(tmp_path):
    """The client generated from the schema the portal serves now, importable as PACKAGE."""
    reader = DjangoClient()
    reader.force_login(f.UserFactory(username="schema.reader"))
    response = reader.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(response.json()))
    config = tmp_path / "config.json"
    # No formatting pass afterwards: the generated code is used, not read.
    config.write_text(
        json.dumps({"package_name_override": PACKAGE, "project_name_override": PACKAGE, "post_hooks": []})
    )
    out = tmp_path / "generated"
    out.mkdir()
    result = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(schema), "--config", str(config), "--meta", "none"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=out,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # The generator names every part of the schema it could not turn into code; there must be none.
    assert "Warning" not in output and "Error" not in output, output
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(PACKAGE), response.json()
    finally:
        sys.path.remove(str(out))
        for name in [name for name in sys.modules if name == PACKAGE or name.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def operation(package, schema, path, method):
    """The generated module of an operation, found by its operationId in the schema."""
    operation_id = schema["paths"][path][method]["operationId"]
    return importlib.import_module(f"{package.__name__}.api.v1.{operation_id}")


def test_a_generated_client_gets_a_token_lists_creates_and_updates(client_package, live_server):
    package, schema = client_package
    live_server.thread.httpd.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    a_world()
    models = importlib.import_module(f"{PACKAGE}.models")
    get_token = operation(package, schema, "/api/v1/auth/token/", "post")
    list_programmes = operation(package, schema, "/api/v1/programmes/", "get")
    create_programme = operation(package, schema, "/api/v1/programmes/", "post")
    read_programme = operation(package, schema, "/api/v1/programmes/{slug}/", "get")
    patch_programme = operation(package, schema, "/api/v1/programmes/{slug}/", "patch")

    # A token, with the client that has none yet.
    anonymous = package.Client(base_url=live_server.url, raise_on_unexpected_status=True)
    answer = get_token.sync_detailed(
        client=anonymous, body=models.AuthTokenRequest(username="integrator", password=PASSWORD)
    )
    assert answer.status_code == 200 and isinstance(answer.parsed, models.AuthToken)
    refused = get_token.sync_detailed(
        client=anonymous, body=models.AuthTokenRequest(username="integrator", password="wrong")
    )
    assert refused.status_code == 400 and isinstance(refused.parsed, models.ValidationError)
    assert refused.parsed.non_field_errors
    client = package.AuthenticatedClient(
        base_url=live_server.url,
        token=answer.parsed.token,
        prefix="Token",
        raise_on_unexpected_status=True,
    )

    # A list.
    page = list_programmes.sync(client=client)
    assert isinstance(page, models.PaginatedProgrammeList)
    assert [programme.slug for programme in page.results] == ["winter"] and page.count == 1

    # A create: the 201 carries the ETag that a following GET gives.
    created = create_programme.sync_detailed(
        client=client,
        body=models.ProgrammeRequest.from_dict(
            {
                "title": "Elective recovery",
                "bodies": ["NHSE"],
                "integration_stage": "aligned",
                "accountable_body": "NHSE",
                "duty": "nhse-mandate",
                "status": "proposed",
                "start_date": "2019-04-01",
            }
        ),
    )
    assert created.status_code == 201 and isinstance(created.parsed, models.Programme)
    slug = created.parsed.slug
    assert created.parsed.start_date == dt.date(2019, 4, 1)
    read = read_programme.sync_detailed(slug, client=client)
    assert read.headers["ETag"] == created.headers["ETag"] and read.parsed == created.parsed

    # An update with If-Match: the version just created.
    updated = patch_programme.sync_detailed(
        slug,
        client=client,
        body=models.PatchedProgrammeRequest.from_dict({"status": "approved"}),
        if_match=created.headers["ETag"],
    )
    assert updated.status_code == 200 and isinstance(updated.parsed, models.Programme)
    assert updated.parsed.status == models.ProgrammeStatusEnum.APPROVED
    assert Programme.objects.get(slug=slug).status == "approved"
    assert updated.headers["ETag"] != created.headers["ETag"]
    assert read_programme.sync_detailed(slug, client=client).headers["ETag"] == updated.headers["ETag"]

    # A 412: the version of before the update is no longer current, and nothing is written.
    stale = patch_programme.sync_detailed(
        slug,
        client=client,
        body=models.PatchedProgrammeRequest.from_dict({"title": "Elective care"}),
        if_match=created.headers["ETag"],
    )
    assert stale.status_code == 412 and isinstance(stale.parsed, models.Error)
    assert "changed since you read it" in stale.parsed.detail
    assert Programme.objects.get(slug=slug).title == "Elective recovery"

    # A 400: an end before the start, named by field, and nothing is written.
    bad = patch_programme.sync_detailed(
        slug,
        client=client,
        body=models.PatchedProgrammeRequest.from_dict({"end_date": "2018-01-01"}),
        if_match=updated.headers["ETag"],
    )
    assert bad.status_code == 400 and isinstance(bad.parsed, models.ValidationError)
    assert "end_date" in bad.parsed.additional_properties, bad.parsed.to_dict()
    assert Programme.objects.get(slug=slug).end_date is None
