"""Smaller bounds: a zip's entries counted before they are read, upload fields the pages do not take, archived
papers, what NHS identity must say before an account is matched, and forwarded addresses.

Each failed on the portal before: a zip of 20,000 empty entries built an object for each before the
10,000-entry check; a file in another field was read to disk; an archived paper still downloaded from its
page address; an unverified email matched an account, and a provider that did not answer held the request;
production settings read X-Forwarded-For with no proxy said to be there.
"""

import io
import json
import socket
import threading
import tracemalloc
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import RequestFactory
from rest_framework.test import APIClient

from accounts.oidc import REFUSAL, NHSIdentityBackend
from collaboration import services
from collaboration.models import Attachment
from tests import factories as f
from tests import test_collaboration as papers
from tests.test_collaboration import PDF, stored_files, upload
from tests.test_settings import PRODUCTION, run_manage
from tests.test_trust import responds_within

pytestmark = pytest.mark.django_db
# The board papers' fixtures, as their own tests use them.
staff, programme, approval, storage_dir = papers.staff, papers.programme, papers.approval, papers.storage_dir


# A zip's entries are counted from its last record, before zipfile reads its directory ------------------------


def zip_of_empty_entries(count):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive_file:
        archive_file.writestr("[Content_Types].xml", "wordprocessingml.document.main+xml")
        for n in range(count):
            archive_file.writestr(f"{n}", b"")
    return buffer.getvalue()


def test_a_zip_of_20000_entries_is_refused_before_its_directory_is_read():
    content = zip_of_empty_entries(20_000)
    paper = upload("paper.docx", content)
    tracemalloc.start()
    with pytest.raises(ValidationError) as refused:
        services.check_upload(paper)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert refused.value.message_dict["file"] == [services.WRONG_TYPE]
    assert peak < 512 * 1024, f"{peak:,} bytes used to refuse a zip of 20,000 entries"


def test_a_zip_within_the_bounds_is_still_read():
    assert services.check_upload(upload("paper.docx", zip_of_empty_entries(50))) == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )


# Page and API uploads take one file, in the field "file" ------------------------------------------------------


@pytest.fixture
def written_to_disk(monkeypatch):
    """The bytes Django's temporary-file upload handler writes (a file over FILE_UPLOAD_MAX_MEMORY_SIZE)."""
    written = {"bytes": 0}
    original = TemporaryFileUploadHandler.receive_data_chunk

    def receive_data_chunk(self, raw_data, start):
        written["bytes"] += len(raw_data)
        return original(self, raw_data, start)

    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", receive_data_chunk)
    return written


BIG = 3 * 1024 * 1024  # over FILE_UPLOAD_MAX_MEMORY_SIZE: Django would write it to a temporary file


def test_a_page_upload_with_a_file_in_another_field_is_refused_naming_it_and_nothing_is_written(
    client, staff, approval, storage_dir, written_to_disk
):
    client.force_login(staff)
    response = client.post(
        f"/papers/board-approval/{approval.pk}/new/",
        {"file": upload("paper.pdf", PDF), "extra": upload("big.bin", bytes(BIG))},
    )
    assert response.status_code == 400
    assert "the file in “extra” is not taken" in response.content.decode()
    assert written_to_disk["bytes"] <= len(PDF)  # the paper alone (the request is too large to keep in memory)
    assert not Attachment.objects.exists() and stored_files(storage_dir) == []


def test_two_files_in_the_file_field_are_refused(client, staff, approval, storage_dir, written_to_disk):
    client.force_login(staff)
    response = client.post(
        f"/papers/board-approval/{approval.pk}/new/",
        {"file": [upload("paper.pdf", PDF), upload("second.pdf", PDF + bytes(BIG))]},
    )
    assert response.status_code == 400
    assert "Send one file, in the field “file”" in response.content.decode()
    assert written_to_disk["bytes"] <= len(PDF)
    assert not Attachment.objects.exists()


def test_an_api_upload_with_a_file_in_another_field_is_refused_naming_it(staff, approval, storage_dir, written_to_disk):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(staff)}")
    response = api.post(
        "/api/v1/attachments/",
        {
            "record_type": "board-approval",
            "record_id": approval.pk,
            "file": upload("paper.pdf", PDF),
            "extra": upload("big.bin", bytes(BIG)),
        },
        format="multipart",
    )
    assert response.status_code == 400, response.content
    assert "“extra”" in response.json()["file"][0]
    assert written_to_disk["bytes"] <= len(PDF)
    assert not Attachment.objects.exists()


# An archived paper is refused at every address ----------------------------------------------------------------


def test_an_archived_paper_is_refused_at_its_page_addresses_as_in_the_api(client, staff, approval, storage_dir):
    paper = services.attach(approval, staff, upload("paper.pdf", PDF))
    first = paper.history.order_by("history_id").first()
    client.force_login(staff)
    assert client.get(f"/papers/{paper.pk}/download/").status_code == 200
    assert client.post(f"/papers/{paper.pk}/archive/").status_code == 302
    for address in (
        f"/papers/{paper.pk}/download/",
        f"/papers/{paper.pk}/versions/{first.history_id}/download/",
        f"/papers/{paper.pk}/replace/",
        f"/papers/{paper.pk}/archive/",
        f"/api/v1/attachments/{paper.pk}/download/",
    ):
        assert client.get(address).status_code == 404, address


# NHS identity: a verified email, and a provider that answers in time ------------------------------------------


class Provider:
    """A userinfo endpoint on a free loopback port that answers with ``claims``."""

    def __init__(self):
        provider = self
        self.claims = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = json.dumps(provider.claims).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hung_listener():
    """A loopback port that takes connections and never answers (its backlog accepts them)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.fixture
def nhs_identity(settings, hung_listener):
    provider = Provider()
    settings.OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = "portal"
    settings.OIDC_RP_CLIENT_SECRET = "secret"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{provider.url}/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{hung_listener}/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{provider.url}/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{provider.url}/jwks"
    yield provider
    provider.stop()


def signed_in_as(claims, payload, provider):
    provider.claims = claims
    backend = NHSIdentityBackend()
    request = RequestFactory().get("/accounts/login/nhs-identity/callback/")
    request.session = {}
    backend.request = request
    return backend.get_or_create_user("an-access-token", "an-id-token", payload), request.session


def test_an_account_is_matched_only_by_an_email_the_provider_verified(nhs_identity, settings):
    jo = f.UserFactory(username="jo", email="jo@example.nhs.uk")
    verified = {"sub": "1", "email": "JO@example.nhs.uk", "email_verified": True}
    assert signed_in_as(verified, {}, nhs_identity)[0] == jo
    for claims in ({"sub": "1", "email": "jo@example.nhs.uk"}, {**verified, "email_verified": False}):
        user, session = signed_in_as(claims, {"tid": "another-tenant"}, nhs_identity)
        assert user is None and session[REFUSAL]["reason"] == "no-email", claims
    # A tenant named in the settings is trusted without the claim (Microsoft Entra ID sends none).
    settings.OIDC_TRUSTED_EMAIL_TENANTS = ["nhsmail-tenant"]
    assert signed_in_as({"sub": "1", "email": "jo@example.nhs.uk"}, {"tid": "nhsmail-tenant"}, nhs_identity)[0] == jo
    unverified = signed_in_as({"sub": "1", "email": "jo@example.nhs.uk"}, {"tid": "another-tenant"}, nhs_identity)
    assert unverified[0] is None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)  # the request runs in a thread (a guard), with its own connection
def test_a_provider_that_does_not_answer_refuses_the_sign_in_within_its_timeout(nhs_identity, client, settings):
    """The token endpoint takes the connection and never answers: OIDC_TIMEOUT (5 s) ends the wait."""
    session = client.session
    session["oidc_states"] = {"a-state": {"code_verifier": "v" * 50, "nonce": "a-nonce", "added_on": 2e9}}
    session.save()
    response = responds_within(
        15, lambda: client.get("/accounts/login/nhs-identity/callback/", {"code": "a-code", "state": "a-state"})
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/login/nhs-identity/refused/"
    refused = client.get(response["Location"])
    assert refused.status_code == 403 and "did not answer the portal in time" in refused.content.decode()


# Forwarded addresses ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_production_reads_no_forwarded_address_unless_a_proxy_is_said_to_be_there():
    probe = "from django.conf import settings; print(settings.SIGN_IN_PROXY_COUNT)"
    result = run_manage("shell", "-c", probe, env_overrides=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "0"
    behind = run_manage("shell", "-c", probe, env_overrides={**PRODUCTION, "SIGN_IN_PROXY_COUNT": "1"})
    assert behind.stdout.strip().splitlines()[-1] == "1"
