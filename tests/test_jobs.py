"""Long work off the request (issue 14, problem 8): large exports and imports are done by a worker.

A 764,000-row export used to be cut off by the web server's time limit with a
200 (the file silently short), and a valid 3.9 MB import ran out of time. Lists
longer than EXPORT_ROWS_IN_REQUEST and files larger than IMPORT_BYTES_IN_REQUEST
now become jobs: the request only hands them over, the page follows them, and
only the person who asked can download the result.
"""

import csv
import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jobs import services
from jobs.models import Job, JobChunk
from measures.models import Measurement
from tests import factories as f
from tests.test_trust import redis_away, responds_within  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(nhse):
    return f.UserFactory(role="Staff", bodies=[nhse])


@pytest.fixture
def programmes(nhse):
    made = [
        f.ProgrammeFactory(title=f"Programme {n:02d}", bodies=[nhse], status="active" if n % 2 else "proposed")
        for n in range(12)
    ]
    return made


def rows_of(response):
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


class TestExports:
    def test_a_long_export_becomes_a_job_whose_file_only_its_owner_gets(
        self, client, staff, programmes, settings, nhse
    ):
        settings.EXPORT_ROWS_IN_REQUEST = 3
        client.force_login(staff)
        response = client.get("/programmes/?status=active&export=csv")
        assert response.status_code == 302
        job = Job.objects.get()
        assert response["Location"] == f"/jobs/{job.pk}/"
        page = client.get(response["Location"]).content.decode()
        assert "Waiting to start" in page and 'http-equiv="refresh"' in page

        services.run(job.pk)  # as the worker does

        job.refresh_from_db()
        assert job.status == Job.Status.SUCCEEDED and job.progress == 100
        page = client.get(f"/jobs/{job.pk}/").content.decode()
        assert "6 rows exported" in page and 'http-equiv="refresh"' not in page
        rows = rows_of(client.get(f"/jobs/{job.pk}/download/"))
        expected = rows_of(self._streamed(client, settings, "/programmes/?status=active&export=csv"))
        assert rows == expected and len(rows) == 1 + 6  # the same file the page would have streamed

        other = f.UserFactory(role="Staff", bodies=[nhse])
        client.force_login(other)
        assert client.get(f"/jobs/{job.pk}/").status_code == 404
        assert client.get(f"/jobs/{job.pk}/download/").status_code == 404

    @staticmethod
    def _streamed(client, settings, url):
        settings.EXPORT_ROWS_IN_REQUEST = 1_000_000
        response = client.get(url)
        assert response.status_code == 200
        return response

    def test_a_short_export_is_streamed_at_once(self, client, staff, programmes):
        client.force_login(staff)
        response = client.get("/programmes/?export=csv")
        assert response.status_code == 200
        assert len(rows_of(response)) == 13
        assert not Job.objects.exists()

    def test_a_file_larger_than_a_chunk_is_kept_whole(self, staff, monkeypatch):
        monkeypatch.setattr(services, "CHUNK_SIZE", 10)
        job = Job.objects.create(owner=staff, runner="export", kind="export", title="t")
        services.write_output(job, "x.csv", "text/csv", [b"abcdefghijklmnopqrstuvwxy", b"z"])
        assert JobChunk.objects.filter(job=job, purpose="output").count() == 3
        assert b"".join(services.read_chunks(job, "output")) == b"abcdefghijklmnopqrstuvwxyz"


def measurements_csv(lines, bad=None):
    rows = ["measure,region,month,value"]
    for n in range(lines):
        rows.append(f"ae-4hr,Y56,{1950 + n // 12}-{n % 12 + 1:02d},{50 + n % 40}")
    if bad:
        rows[bad - 1] = rows[bad - 1].rsplit(",", 1)[0] + ",lots"
    return ("\n".join(rows) + "\n").encode()


class TestImports:
    @pytest.fixture
    def ae(self, db):
        f.RegionFactory(ods_code="Y56", name="London")
        return f.MeasureFactory(code="ae-4hr", name="A&E", unit="percent", standard=95)

    def test_a_large_file_is_imported_by_a_worker(self, client, staff, ae, settings):
        settings.IMPORT_BYTES_IN_REQUEST = 1000
        client.force_login(staff)
        upload = SimpleUploadedFile("figures.csv", measurements_csv(300), content_type="text/csv")
        response = client.post("/measurements/import/", {"file": upload})
        assert response.status_code == 302
        job = Job.objects.get()
        assert not Measurement.objects.exists()  # nothing was done in the request
        services.run(job.pk)
        job.refresh_from_db()
        assert job.status == Job.Status.SUCCEEDED, job.message
        assert Measurement.objects.count() == 300
        assert set(Measurement.objects.values_list("source", flat=True)) == {"imported"}
        assert "300 measurements added" in client.get(f"/jobs/{job.pk}/").content.decode()
        assert not JobChunk.objects.filter(job=job).exists()  # the uploaded file is not kept once read

    def test_a_large_bad_file_is_refused_whole_naming_its_lines(self, client, staff, ae, settings):
        settings.IMPORT_BYTES_IN_REQUEST = 1000
        client.force_login(staff)
        upload = SimpleUploadedFile("figures.csv", measurements_csv(300, bad=250), content_type="text/csv")
        client.post("/measurements/import/", {"file": upload})
        job = Job.objects.get()
        services.run(job.pk)
        job.refresh_from_db()
        assert job.status == Job.Status.FAILED
        assert job.errors == ["figures.csv: line 250, value: “lots” is not a number."]
        page = client.get(f"/jobs/{job.pk}/").content.decode()
        assert "nothing was saved" in page and "line 250, value" in page
        assert not Measurement.objects.exists()

    def test_a_small_file_is_imported_at_once(self, client, staff, ae):
        client.force_login(staff)
        upload = SimpleUploadedFile("figures.csv", measurements_csv(5), content_type="text/csv")
        assert client.post("/measurements/import/", {"file": upload}).status_code == 302
        assert Measurement.objects.count() == 5 and not Job.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_with_redis_away_an_export_answers_503_and_leaves_no_job(client, nhse, settings, redis_away):  # noqa: F811
    from tests.conftest import create_roles

    create_roles()
    settings.EXPORT_ROWS_IN_REQUEST = 1
    for _ in range(3):
        f.ProgrammeFactory(bodies=[nhse], start_date=dt.date(2018, 4, 1))
    client.force_login(f.UserFactory(role="Staff", bodies=[nhse]))
    response = responds_within(15, lambda: client.get("/programmes/?export=csv"))
    assert response.status_code == 503 and response["Retry-After"]
    assert "cannot start now" in response.content.decode()
    assert not Job.objects.exists()


def test_old_jobs_are_forgotten_and_stuck_ones_marked_failed(staff, settings):
    from django.utils import timezone

    now = timezone.now()
    old = Job.objects.create(
        owner=staff,
        runner="export",
        kind="export",
        title="old",
        status=Job.Status.SUCCEEDED,
        finished=now - dt.timedelta(days=settings.JOB_KEEP_DAYS + 1),
    )
    services.write_output(old, "old.csv", "text/csv", [b"a,b\n"])
    recent = Job.objects.create(
        owner=staff, runner="export", kind="export", title="recent", status=Job.Status.SUCCEEDED, finished=now
    )
    stuck = Job.objects.create(owner=staff, runner="export", kind="export", title="stuck", status=Job.Status.RUNNING)
    Job.objects.filter(pk=stuck.pk).update(created=now - dt.timedelta(days=2))
    assert services.tidy(now) == (1, 1)
    assert not Job.objects.filter(pk=old.pk).exists() and not JobChunk.objects.filter(job_id=old.pk).exists()
    assert Job.objects.filter(pk=recent.pk).exists()
    stuck.refresh_from_db()
    assert stuck.status == Job.Status.FAILED and "did not finish" in stuck.message
