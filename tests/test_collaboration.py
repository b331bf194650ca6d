"""Comments, board papers and saved views (issue #17): on records' pages, in the API, and their rules."""

import datetime as dt
import io
import os
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from collaboration import services
from collaboration.models import Attachment, Comment, SavedView
from nhs_joint.signals import comment_posted
from tests import factories as f

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200


def docx_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(
            "[Content_Types].xml",
            '<Types><Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>',
        )
        z.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def odt_bytes():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", "<office:document-content/>")
    return buffer.getvalue()


@pytest.fixture
def storage_dir(settings, tmp_path):
    """The attachments storage in this test's own folder, so that what is stored can be counted."""
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "papers")},
        },
    }
    return tmp_path / "papers"


def stored_files(folder):
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture
def staff(nhse):
    return f.UserFactory(role="Staff", bodies=[nhse], first_name="Sam", last_name="Staff")


@pytest.fixture
def admin(nhse):
    return f.UserFactory(role="Administrator", bodies=[nhse])


@pytest.fixture
def programme(nhse):
    return f.ProgrammeFactory(bodies=[nhse], accountable_body=nhse)


class FixedClock:
    def __init__(self, monkeypatch, start):
        self.now = start
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def move(self, **delta):
        self.now += dt.timedelta(**delta)


# Comments --------------------------------------------------------------------------------------------------


def test_a_comment_is_shown_on_the_records_page_with_links_and_escaped_text(client, staff, programme):
    client.force_login(staff)
    text = "See https://localhost/ourwork/?a=1&b=2. <script>alert(1)</script>\n\nSecond paragraph"
    response = client.post(f"/comments/programme/{programme.pk}/", {"text": text})
    assert response.status_code == 302 and response["Location"].endswith("#comments")
    page = client.get(programme.get_absolute_url()).content.decode()
    assert 'href="https://localhost/ourwork/?a=1&amp;b=2"' in page
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<p>Second paragraph</p>" in page
    assert "Sam Staff" in page


def test_only_http_addresses_become_links():
    html = services.comment_html('javascript:alert(1) and "https://127.0.0.1/a)." and ftp://localhost/f')
    assert 'href="javascript' not in html and 'href="ftp' not in html
    assert 'href="https://127.0.0.1/a"' in html


def test_an_empty_or_too_long_comment_is_refused_naming_the_field(client, staff, programme):
    client.force_login(staff)
    response = client.post(f"/comments/programme/{programme.pk}/", {"text": "  "})
    assert response.status_code == 400 and b"Enter your comment" in response.content
    response = client.post(f"/comments/programme/{programme.pk}/", {"text": "x" * 5001})
    assert response.status_code == 400
    assert "Comment must be 5,000 characters or fewer" in response.content.decode()
    assert Comment.objects.count() == 0


def test_comments_are_taken_on_findings_workstreams_expectations_and_appointments(client, staff, nhse):
    client.force_login(staff)
    records = [
        ("finding", f.FindingFactory()),
        ("workstream", f.WorkstreamFactory(body=nhse)),
        ("expectation", f.ExpectationFactory(issued_by=nhse)),
        ("appointment", f.AppointmentFactory()),
    ]
    for record_type, record in records:
        assert client.post(f"/comments/{record_type}/{record.pk}/", {"text": f"On {record_type}"}).status_code == 302
        page = client.get(record.get_absolute_url()).content.decode()
        assert f"On {record_type}" in page and 'id="comments"' in page
    # Not on kinds of record that take no comments.
    measure = f.MeasureFactory()
    assert client.post(f"/comments/measure/{measure.pk}/", {"text": "No"}).status_code == 404


def test_comment_posted_is_sent_once_on_commit(staff, programme, django_capture_on_commit_callbacks):
    received = []

    def listener(sender, comment, record, author, **kwargs):
        received.append((comment.pk, record, author))

    comment_posted.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            comment = services.post_comment(programme, staff, "Hello")
        assert received == []  # nothing before the commit
        for callback in callbacks:
            callback()
        assert received == [(comment.pk, programme, staff)]
    finally:
        comment_posted.disconnect(listener)


def test_a_comment_is_edited_within_15_minutes_and_not_after(client, staff, programme, monkeypatch):
    clock = FixedClock(monkeypatch, timezone.now())
    comment = services.post_comment(programme, staff, "First words")
    client.force_login(staff)
    clock.move(minutes=14, seconds=59)
    assert client.post(f"/comments/{comment.pk}/edit/", {"text": "Second words"}).status_code == 302
    comment.refresh_from_db()
    assert comment.text == "Second words" and comment.edited_at == clock.now
    assert [h.text for h in comment.history.order_by("history_id")] == ["First words", "Second words"]
    clock.move(seconds=2)  # 15 minutes and 1 second after posting
    response = client.post(f"/comments/{comment.pk}/edit/", {"text": "Third words"})
    assert response.status_code == 403
    assert "15 minutes" in response.content.decode()
    comment.refresh_from_db()
    assert comment.text == "Second words"
    assert b"/edit/" not in client.get(programme.get_absolute_url()).content.split(b'id="comments"')[1]


def test_only_the_author_edits_a_comment(client, staff, nhse, programme):
    comment = services.post_comment(programme, staff, "Mine")
    other = f.UserFactory(role="Staff", bodies=[nhse])
    client.force_login(other)
    assert client.post(f"/comments/{comment.pk}/edit/", {"text": "Theirs"}).status_code == 403
    comment.refresh_from_db()
    assert comment.text == "Mine"


def test_an_administrator_hides_a_comment_with_a_reason_and_others_cannot(client, staff, admin, programme):
    comment = services.post_comment(programme, staff, "Something unkind")
    client.force_login(staff)
    assert client.post(f"/comments/{comment.pk}/hide/", {"reason": "No"}).status_code == 403
    client.force_login(admin)
    response = client.post(f"/comments/{comment.pk}/hide/", {"reason": ""})
    assert response.status_code == 400 and b"Enter why you are hiding this comment" in response.content
    assert client.post(f"/comments/{comment.pk}/hide/", {"reason": "Personal remarks"}).status_code == 302
    page = client.get(programme.get_absolute_url()).content.decode()
    assert "Comment hidden by an administrator: Personal remarks" in page
    assert "Something unkind" not in page
    comment.refresh_from_db()
    assert comment.text == "Something unkind"  # never deleted: kept, and in its history
    assert Comment.objects.filter(pk=comment.pk).exists()


def test_the_pages_etag_changes_when_a_comment_is_added(client, staff, programme):
    client.force_login(staff)
    url = programme.get_absolute_url()
    first = client.get(url)
    etag = first["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    services.post_comment(programme, staff, "New")
    again = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200 and again["ETag"] != etag and b"New" in again.content


def count_queries(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.usefixtures("render_every_time")
def test_a_records_page_runs_as_many_queries_with_many_comments_and_papers_as_with_one(
    client, staff, admin, nhse, storage_dir
):
    client.force_login(staff)
    appointment = f.AppointmentFactory()
    url = appointment.get_absolute_url()
    authors = [staff, admin]
    services.post_comment(appointment, staff, "One")
    services.attach(appointment, staff, upload("paper.pdf", PDF))
    few = count_queries(client, url)
    for i in range(12):
        services.post_comment(appointment, authors[i % 2], f"Comment {i} https://localhost/{i}")
    papers = [services.attach(appointment, staff, upload(f"paper{i}.pdf", PDF)) for i in range(6)]
    for paper in papers[:3]:
        services.replace(paper, admin, upload("new.docx", docx_bytes()))
    services.hide_comment(Comment.objects.last(), admin, "Off topic")
    many = count_queries(client, url)
    assert many == few, f"{few} queries with one comment and paper, {many} with many"
    page = client.get(url).content.decode()
    assert page.count('class="portal-comment"') == 13 and page.count("Earlier versions of") == 3


# Board papers ----------------------------------------------------------------------------------------------


def upload(name, content, content_type="application/octet-stream"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def approval(nhse, programme):
    return f.BoardApprovalFactory(programme=programme, body=nhse)


def test_a_paper_is_attached_to_a_board_approval_and_downloaded(client, staff, approval, storage_dir):
    client.force_login(staff)
    response = client.post(
        f"/papers/board-approval/{approval.pk}/new/", {"title": "Board paper", "file": upload("paper.pdf", PDF)}
    )
    assert response.status_code == 302, response.content[:2000]
    paper = Attachment.objects.get()
    assert paper.media_type == "application/pdf" and paper.size == len(PDF)
    assert len(stored_files(storage_dir)) == 1
    page = client.get(approval.get_absolute_url()).content.decode()
    assert "Board paper" in page
    download = client.get(f"/papers/{paper.pk}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"] == 'attachment; filename="paper.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Type"] == "application/pdf"


@pytest.mark.parametrize(
    "name, content",
    [
        ("paper.docx", docx_bytes()),
        ("paper.odt", odt_bytes()),
        ("paper.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)),
    ],
)
def test_word_and_opendocument_files_are_taken(client, staff, programme, storage_dir, name, content):
    client.force_login(staff)
    assert client.post(f"/papers/programme/{programme.pk}/new/", {"file": upload(name, content)}).status_code == 302
    assert Attachment.objects.get().title == "paper"


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("paper.pdf", ELF, "The selected file must be a PDF, Word, Excel or OpenDocument file"),
        (
            "paper.pdf",
            b"MZ\x90\x00\x03" + bytes(300),
            "The selected file must be a PDF, Word, Excel or OpenDocument file",
        ),
        ("paper.docx", PDF, "The selected file is a PDF: its name must end .pdf"),
        ("paper.docx", b"PK\x03\x04" + bytes(100), "The selected file must be a PDF, Word, Excel or OpenDocument file"),
        ("paper.pdf", b"", "The selected file is empty"),
    ],
)
def test_a_file_that_is_not_a_paper_is_refused_and_nothing_is_stored(
    client, staff, approval, storage_dir, name, content, message
):
    client.force_login(staff)
    response = client.post(f"/papers/board-approval/{approval.pk}/new/", {"file": upload(name, content)})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'href="#id_file"' in response.content.decode()  # the error summary names the field
    assert not Attachment.objects.exists() and stored_files(storage_dir) == []


class Big(io.RawIOBase):
    """A file of ``size`` bytes starting like a PDF, made as it is read (never held whole in memory)."""

    def __init__(self, size):
        self.size, self.position = size, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        n = min(len(buffer), self.size - self.position)
        if n <= 0:
            return 0
        chunk = (PDF + bytes(n))[:n] if self.position == 0 else bytes(n)
        buffer[:n] = chunk
        self.position += n
        return n


def multipart_body(name, size):
    """A multipart body with one file of ``size`` bytes, as a stream."""
    boundary = "portalboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    body = io.BufferedReader(Big(size), buffer_size=64 * 1024)
    stream = io.BufferedReader(_Chain(head, body, tail))
    return stream, len(head) + size + len(tail), f"multipart/form-data; boundary={boundary}"


class _Chain(io.RawIOBase):
    def __init__(self, *parts):
        self.parts = [io.BytesIO(p) if isinstance(p, bytes) else p for p in parts]

    def readable(self):
        return True

    def readinto(self, buffer):
        while self.parts:
            data = self.parts[0].read(len(buffer))
            if data:
                buffer[: len(data)] = data
                return len(data)
            self.parts.pop(0)
        return 0


def post_stream(client, url, name, size, **extra):
    stream, length, content_type = multipart_body(name, size)
    meta = {"wsgi.input": stream, "CONTENT_LENGTH": str(length), "CONTENT_TYPE": content_type}
    return client.generic("POST", url, **meta, **extra)


def test_a_21_mb_file_is_refused_without_being_stored_or_held_in_memory(client, staff, approval, storage_dir):
    import tracemalloc

    client.force_login(staff)
    client.get("/")  # a session and a CSRF-free test client
    tracemalloc.start()
    response = post_stream(client, f"/papers/board-approval/{approval.pk}/new/", "paper.pdf", 21 * 1024 * 1024)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert response.status_code == 400
    assert "The selected file must be smaller than 20 MB" in response.content.decode()
    assert not Attachment.objects.exists() and stored_files(storage_dir) == []
    assert peak < 8 * 1024 * 1024, f"{peak:,} bytes held while refusing a 21 MB file"


def test_the_size_limit_is_a_setting(client, staff, approval, storage_dir, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    client.force_login(staff)
    response = client.post(f"/papers/board-approval/{approval.pk}/new/", {"file": upload("p.pdf", PDF + bytes(2000))})
    assert (
        response.status_code == 400 and "The selected file must be smaller than 1.0\xa0KB" in response.content.decode()
    )
    assert not Attachment.objects.exists() and stored_files(storage_dir) == []


def test_a_signed_out_request_for_a_file_is_refused(client, staff, approval, storage_dir):
    paper = services.attach(approval, staff, upload("paper.pdf", PDF))
    response = client.get(f"/papers/{paper.pk}/download/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    api = client.get(f"/api/v1/attachments/{paper.pk}/download/")
    assert api.status_code in (401, 403)
    assert client.get(f"/api/v1/attachments/{paper.pk}/").status_code in (401, 403)


def test_a_replaced_file_stays_in_history_and_downloadable(client, staff, nhse, approval, storage_dir):
    paper = services.attach(approval, staff, upload("first.pdf", PDF))
    client.force_login(staff)
    second = docx_bytes()  # once: a document made a second later carries another time in its zip entries
    response = client.post(f"/papers/{paper.pk}/replace/", {"file": upload("second.docx", second)})
    assert response.status_code == 302
    paper.refresh_from_db()
    assert paper.file_name == "second.docx"
    assert len(stored_files(storage_dir)) == 2
    current = client.get(f"/papers/{paper.pk}/download/")
    assert b"".join(current.streaming_content) == second
    page = client.get(approval.get_absolute_url()).content.decode()
    assert "Earlier versions of" in page and "first.pdf" in page
    first = paper.history.order_by("history_id").first()
    old = client.get(f"/papers/{paper.pk}/versions/{first.history_id}/download/")
    assert old.status_code == 200 and b"".join(old.streaming_content) == PDF
    assert 'filename="first.pdf"' in old["Content-Disposition"]


def test_papers_are_archived_not_deleted(client, staff, approval, storage_dir):
    paper = services.attach(approval, staff, upload("first.pdf", PDF))
    client.force_login(staff)
    assert client.post(f"/papers/{paper.pk}/archive/").status_code == 302
    paper.refresh_from_db()
    assert paper.archived_at is not None and len(stored_files(storage_dir)) == 1
    assert "first.pdf" not in client.get(approval.get_absolute_url()).content.decode()


def test_only_those_who_may_change_the_record_attach_papers(client, nhsi, approval, storage_dir):
    other_body = f.UserFactory(role="Staff", bodies=[nhsi])
    client.force_login(other_body)
    response = client.post(f"/papers/board-approval/{approval.pk}/new/", {"file": upload("paper.pdf", PDF)})
    assert response.status_code == 403
    assert not Attachment.objects.exists() and stored_files(storage_dir) == []


def test_test_runs_store_papers_in_a_temporary_folder():
    from django.conf import settings

    location = settings.STORAGES["attachments"]["OPTIONS"]["location"]
    assert "portal-test-attachments-" in location and os.path.isdir(location)


# API -------------------------------------------------------------------------------------------------------


@pytest.fixture
def api(staff):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(staff)}")
    return client


def test_comments_through_the_api(api, staff, admin, programme, monkeypatch):
    clock = FixedClock(monkeypatch, timezone.now())
    created = api.post(
        "/api/v1/comments/", {"record_type": "programme", "record_id": programme.pk, "text": "Via API"}, format="json"
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    listed = api.get(f"/api/v1/comments/?record_type=programme&record_id={programme.pk}").json()
    assert [c["text"] for c in listed["results"]] == ["Via API"]
    assert api.patch(f"/api/v1/comments/{pk}/", {"text": "Edited"}, format="json").status_code == 200
    clock.move(minutes=16)
    late = api.patch(f"/api/v1/comments/{pk}/", {"text": "Too late"}, format="json")
    assert late.status_code == 403 and "15 minutes" in late.json()["detail"]
    assert api.post(f"/api/v1/comments/{pk}/hide/", {"reason": "No"}, format="json").status_code == 403
    too_long = api.post(
        "/api/v1/comments/", {"record_type": "programme", "record_id": programme.pk, "text": "x" * 5001}, format="json"
    )
    assert too_long.status_code == 400 and "text" in too_long.json()
    api.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(admin)}")
    hidden = api.post(f"/api/v1/comments/{pk}/hide/", {"reason": "Off topic"}, format="json")
    assert hidden.status_code == 200 and hidden.json()["text"] is None and hidden.json()["hidden_reason"] == "Off topic"
    assert api.delete(f"/api/v1/comments/{pk}/").status_code == 405


def test_papers_through_the_api(api, approval, storage_dir):
    created = api.post(
        "/api/v1/attachments/",
        {"record_type": "board-approval", "record_id": approval.pk, "file": upload("paper.pdf", PDF)},
        format="multipart",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    refused = api.post(
        "/api/v1/attachments/",
        {"record_type": "board-approval", "record_id": approval.pk, "file": upload("virus.pdf", ELF)},
        format="multipart",
    )
    assert refused.status_code == 400 and "file" in refused.json()
    replaced = api.post(
        f"/api/v1/attachments/{pk}/replace/", {"file": upload("v2.odt", odt_bytes())}, format="multipart"
    )
    assert replaced.status_code == 200, replaced.content
    versions = replaced.json()["earlier_versions"]
    assert [v["file_name"] for v in versions] == ["paper.pdf"]
    old = api.get(f"/api/v1/attachments/{pk}/versions/{versions[0]['version']}/")
    assert old.status_code == 200 and b"".join(old.streaming_content) == PDF
    current = api.get(f"/api/v1/attachments/{pk}/download/")
    assert current["Content-Type"] == "application/vnd.oasis.opendocument.text"
    assert api.delete(f"/api/v1/attachments/{pk}/").status_code == 204
    assert Attachment.objects.get(pk=pk).archived_at is not None
    assert len(stored_files(storage_dir)) == 2


def test_a_21_mb_file_is_refused_by_the_api_naming_the_field(staff, approval, storage_dir):
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Token {f.token_for(staff)}")
    response = post_stream(client, "/api/v1/attachments/", "paper.pdf", 21 * 1024 * 1024)
    assert response.status_code == 400, response.content
    assert response.json()["file"] == ["The selected file must be smaller than 20 MB"]
    assert not Attachment.objects.exists() and stored_files(storage_dir) == []


# Saved views -----------------------------------------------------------------------------------------------


def test_a_view_is_saved_from_a_list_and_opened_by_another_person(client, staff, nhse, nhsi, programme):
    client.force_login(staff)
    listing = client.get("/programmes/?status=active&page=2").content.decode()
    assert "Save this view" in listing
    response = client.post(
        "/saved-views/", {"name": "Active programmes", "list_name": "programme", "query": "status=active&page=2"}
    )
    assert response.status_code == 302 and response["Location"] == "/programmes/?status=active"
    saved = SavedView.objects.get()
    assert saved.owner == staff and saved.query == "status=active"
    mine = client.get("/saved-views/").content.decode()
    assert "Active programmes" in mine and 'href="/programmes/?status=active"' in mine
    assert [s.name for s in services.saved_views_for(staff)] == ["Active programmes"]
    # The shared link is the list with its filters: someone else opening it sees their own permitted list.
    other = f.UserFactory(role="Staff", bodies=[nhsi])
    client.force_login(other)
    assert client.get("/programmes/?status=active").status_code == 200
    assert services.saved_views_for(other) == []
    assert "Active programmes" not in client.get("/saved-views/").content.decode()


def test_a_saved_view_needs_a_name_and_a_real_list(client, staff):
    client.force_login(staff)
    response = client.post("/saved-views/", {"name": "", "list_name": "programme", "query": "status=active"})
    html = response.content.decode()
    assert response.status_code == 400 and "Enter a name for this view" in html
    # The list and its filters are carried, never offered as fields to edit.
    assert "List name" not in html and ">Query<" not in html
    assert '<input type="hidden" name="list_name" value="programme">' in html
    assert '<input type="hidden" name="query" value="status=active">' in html
    response = client.post("/saved-views/", {"name": "X", "list_name": "nothing", "query": ""})
    assert response.status_code == 400
    assert not SavedView.objects.exists()


def test_saved_views_through_the_api(api, staff):
    created = api.post(
        "/api/v1/saved-views/", {"name": "Mine", "list_name": "appointment", "query": "region=Y56"}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["url"] == "/appointments/?region=Y56"
    again = api.post("/api/v1/saved-views/", {"name": "Mine", "list_name": "appointment"}, format="json")
    assert again.status_code == 400 and "name" in again.json()
    assert [v["name"] for v in api.get("/api/v1/saved-views/").json()["results"]] == ["Mine"]
    assert api.delete(f"/api/v1/saved-views/{created.json()['id']}/").status_code == 204
