"""Trust (issue 14): input that cannot stall the portal, failures that say so, and each body's records its own.

Each test here failed on the portal before these rules: the list of 100,000 keys,
deep JSON, the bare 500 without a database, a report run that hung with Redis
away, and the cross-body edits that were allowed.
"""

import datetime as dt
import json
import socket
import threading

import pytest
from django.db import OperationalError, connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from measures.models import Measurement
from programmes.models import BoardApproval, Workstream
from reports.models import FindingDecision, ReportRun
from tests import factories as f

pytestmark = pytest.mark.django_db
API = "/api/v1"


def client_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {f.token_for(user)}")
    return client


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def world(nhse, nhsi):
    london = f.RegionFactory(ods_code="Y56", name="London")
    nhse_only = f.ProgrammeFactory(slug="winter", title="Winter", bodies=[nhse], start_date=dt.date(2018, 4, 1))
    joint = f.ProgrammeFactory(slug="maternity", title="Maternity", bodies=[nhse, nhsi], start_date=dt.date(2018, 4, 1))
    nhse_staff = f.UserFactory(role="Staff", bodies=[nhse])
    nhsi_staff = f.UserFactory(role="Staff", bodies=[nhsi])
    return {
        "nhse": nhse,
        "nhsi": nhsi,
        "london": london,
        "nhse_only": nhse_only,
        "joint": joint,
        "nhse_staff": nhse_staff,
        "nhsi_staff": nhsi_staff,
        "nhse_api": client_for(nhse_staff),
        "nhsi_api": client_for(nhsi_staff),
    }


# 4. One request cannot stall the portal -----------------------------------------------------------------------


class TestBoundedInput:
    def test_a_list_of_100000_keys_is_refused_without_a_query_per_key(self, world):
        body = {
            "title": "Elective recovery",
            "bodies": ["NHSE"] * 100_000,
            "integration_stage": "aligned",
            "status": "proposed",
            "start_date": "2019-04-01",
        }
        with CaptureQueriesContext(connection) as queries:
            response = world["nhse_api"].post(f"{API}/programmes/", body, format="json")
        assert response.status_code == 400, response.content
        assert "at most" in response.json()["bodies"][0]
        assert len(queries) < 20  # the token and the user; never one per key

    def test_a_key_given_twice_is_refused(self, world):
        body = {
            "title": "Elective recovery",
            "bodies": ["NHSE", "NHSE"],
            "integration_stage": "aligned",
            "status": "proposed",
            "start_date": "2019-04-01",
        }
        response = world["nhse_api"].post(f"{API}/programmes/", body, format="json")
        assert response.status_code == 400
        assert "more than once" in response.json()["bodies"][0]

    def test_repeated_audiences_are_refused_not_stored(self, world):
        body = {
            "programme": "winter",
            "title": "Discharge",
            "body": "NHSE",
            "regions": [],
            "audiences": ["providers"] * 10_000,
            "start_date": "2018-04-01",
        }
        response = world["nhse_api"].post(f"{API}/workstreams/", body, format="json")
        assert response.status_code == 400
        assert not Workstream.objects.filter(title="Discharge").exists()

    def test_keys_of_a_list_are_looked_up_in_one_query(self, world):
        regions = [f.RegionFactory().ods_code for _ in range(30)]
        body = {
            "programme": "winter",
            "title": "Discharge",
            "body": "NHSE",
            "regions": regions,
            "audiences": ["providers"],
            "start_date": "2018-04-01",
        }
        with CaptureQueriesContext(connection) as queries:
            response = world["nhse_api"].post(f"{API}/workstreams/", body, format="json")
        assert response.status_code == 201, response.content
        region_lookups = [q for q in queries if '"regions_region"."ods_code" IN (' in q["sql"]]
        assert len(region_lookups) == 1
        assert sorted(response.json()["regions"]) == sorted(regions)

    def test_a_record_under_an_archived_programme_is_answered_not_a_500(self, world):
        workstream = f.WorkstreamFactory(programme=world["nhse_only"], body=world["nhse"])
        assert world["nhse_api"].delete(f"{API}/programmes/winter/").status_code == 204
        response = world["nhse_api"].patch(f"{API}/workstreams/{workstream.pk}/", {"body": "NHSE"}, format="json")
        assert response.status_code < 500

    def test_an_unknown_key_among_many_is_named(self, world):
        body = {
            "title": "Elective recovery",
            "bodies": ["NHSE", "NHSX"],
            "integration_stage": "aligned",
            "status": "proposed",
            "start_date": "2019-04-01",
        }
        response = world["nhse_api"].post(f"{API}/programmes/", body, format="json")
        assert response.status_code == 400
        assert "NHSX" in response.json()["bodies"][0]

    def test_the_schema_documents_the_longest_lists(self, world):
        client = APIClient()
        client.force_authenticate(world["nhse_staff"])
        schema = client.get("/api/schema/?format=json").json()
        programme = schema["components"]["schemas"]["ProgrammeRequest"]["properties"]["bodies"]
        workstream = schema["components"]["schemas"]["WorkstreamRequest"]["properties"]["audiences"]
        assert programme["maxItems"] == 100
        assert workstream["maxItems"] == 3

    @pytest.mark.parametrize("who", ["anonymous", "staff"])
    def test_deeply_nested_json_is_a_400_not_a_500(self, world, who):
        client = APIClient() if who == "anonymous" else world["nhse_api"]
        body = "[" * 100_000 + "]" * 100_000
        for path in (f"{API}/programmes/", f"{API}/auth/token/"):
            response = client.post(path, body, content_type="application/json")
            assert response.status_code in (400, 401), (path, response.status_code)
            assert response["Content-Type"].startswith("application/json")

    def test_json_deeper_than_the_limit_is_refused_by_name(self, world):
        nested = "NHSE"
        for _ in range(25):
            nested = [nested]
        body = json.dumps({"title": "x", "bodies": nested})
        response = world["nhse_api"].post(f"{API}/programmes/", body, content_type="application/json")
        assert response.status_code == 400
        assert "nested too deeply" in response.json()["detail"]

    def test_a_body_too_large_is_a_json_413(self, world, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
        body = json.dumps({"title": "x" * 20_000})
        response = world["nhse_api"].post(f"{API}/programmes/", body, content_type="application/json")
        assert response.status_code == 413
        assert "at most 10,000 bytes" in response.json()["detail"]

    def test_the_token_operation_refuses_a_body_too_large_too(self, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
        body = json.dumps({"username": "x" * 20_000, "password": "y"})
        response = APIClient().post(f"{API}/auth/token/", body, content_type="application/json")
        assert response.status_code == 413
        assert "at most 10,000 bytes" in response.json()["detail"]

    def test_a_form_too_large_is_a_413_page(self, client, world, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
        client.force_login(world["nhse_staff"])
        response = client.post("/programmes/new/", {"title": "x" * 20_000})
        assert response.status_code == 413
        assert "too large" in response.content.decode()


# 5. The database away: a 503 page that needs no database ------------------------------------------------------


class TestDatabaseAway:
    @pytest.fixture
    def no_database(self, monkeypatch):
        def refuse(*args, **kwargs):
            raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")

        def switch_off():
            monkeypatch.setattr(BaseDatabaseWrapper, "cursor", refuse)

        return switch_off

    def test_a_signed_in_page_answers_503_with_the_nhs_page(self, client, world, no_database):
        client.raise_request_exception = False  # answered as gunicorn would answer it
        client.force_login(world["nhse_staff"])
        no_database()
        response = client.get("/programmes/")
        assert response.status_code == 503
        assert int(response["Retry-After"]) > 0
        page = response.content.decode()
        assert "Sorry, the service is unavailable" in page
        assert "nhsuk-header" in page and "cannot reach its database" in page

    def test_the_api_answers_503_as_json(self, world, no_database):
        api = world["nhse_api"]
        no_database()
        response = api.get(f"{API}/programmes/")
        assert response.status_code == 503
        assert response["Retry-After"]
        assert "database" in response.json()["detail"]

    def test_the_500_page_needs_no_database(self, rf, no_database):
        from nhs_joint.generic import server_error

        no_database()
        request = rf.get("/programmes/")
        response = server_error(request)  # no user on the request, and no database to find one
        assert response.status_code == 500
        assert "Sorry, there is a problem with the service" in response.content.decode()


# 6. Redis away: a report run answers at once and leaves nothing behind ----------------------------------------


@pytest.fixture
def redis_away():
    """Point the Celery app at a port where no Redis listens, and back again afterwards."""
    from nhs_joint.celery import app

    closed = f"redis://127.0.0.1:{free_port()}/0"
    saved = (app.conf.broker_url, app.conf.result_backend, app._pool, app.amqp._producer_pool)
    app.conf.broker_url = closed
    app.conf.result_backend = closed
    app._pool = None
    app.amqp._producer_pool = None
    backend = app._local.__dict__.pop("backend", None)
    yield
    app.conf.broker_url, app.conf.result_backend, app._pool, app.amqp._producer_pool = saved
    app._local.__dict__.pop("backend", None)
    if backend is not None:
        app._local.backend = backend


def responds_within(seconds, call):
    """Run ``call`` in a thread; fail if it has not answered after ``seconds`` (a guard, not a measurement)."""
    from django.db import connections

    result = {}

    def run():
        try:
            result.update(value=call())
        finally:
            connections.close_all()  # this thread's own connections, so the test database can be dropped

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"no answer within {seconds} seconds"
    return result["value"]


@pytest.mark.django_db(transaction=True)
class TestRedisAway:
    def test_the_api_answers_503_at_once_and_leaves_no_run(self, nhse, redis_away):
        from tests.conftest import create_roles

        create_roles()
        api = client_for(f.UserFactory(role="Staff", bodies=[nhse]))
        response = responds_within(15, lambda: api.post(f"{API}/report-runs/", {"kind": "consistency"}, format="json"))
        assert response.status_code == 503
        assert response["Retry-After"]
        assert "Reports cannot start now" in response.json()["detail"]
        assert ReportRun.objects.count() == 0

    def test_the_run_button_answers_503_with_a_page(self, client, nhse, redis_away):
        from tests.conftest import create_roles

        create_roles()
        client.force_login(f.UserFactory(role="Staff", bodies=[nhse]))
        response = responds_within(15, lambda: client.post("/reports/run/", {"kind": "duplication"}))
        assert response.status_code == 503
        assert "Reports cannot start now" in response.content.decode()
        assert ReportRun.objects.count() == 0


def test_a_queued_run_that_no_worker_takes_is_reaped(settings):
    from django.utils import timezone

    from reports import services

    run = f.ReportRunFactory(status=ReportRun.Status.QUEUED)
    fresh = f.ReportRunFactory(status=ReportRun.Status.QUEUED)
    long_ago = timezone.now() - dt.timedelta(seconds=settings.REPORT_QUEUED_STALE_AFTER + 60)
    ReportRun.objects.filter(pk=run.pk).update(created=long_ago, heartbeat=None)
    assert services.reap_stale_runs() == 1
    run.refresh_from_db()
    fresh.refresh_from_db()
    assert run.status == ReportRun.Status.FAILED and "No worker started this report" in run.error
    assert fresh.status == ReportRun.Status.QUEUED


# 7. Each body's records are its own ---------------------------------------------------------------------------


class TestCrossBody:
    def test_nhse_staff_cannot_change_nhsi_boards_decision(self, world):
        approval = f.BoardApprovalFactory(programme=world["joint"], body=world["nhsi"], decision="deferred")
        response = world["nhse_api"].patch(
            f"{API}/board-approvals/{approval.pk}/", {"decision": "approved"}, format="json"
        )
        assert response.status_code == 403
        assert "NHS Improvement" in response.json()["detail"]
        approval.refresh_from_db()
        assert approval.decision == "deferred"
        # Its own Board's staff can.
        response = world["nhsi_api"].patch(
            f"{API}/board-approvals/{approval.pk}/", {"decision": "approved"}, format="json"
        )
        assert response.status_code == 200, response.content

    def test_nhse_staff_cannot_record_nhsi_boards_decision(self, world):
        body = {"programme": "maternity", "body": "NHSI", "decision": "approved", "date": "2018-05-01"}
        response = world["nhse_api"].post(f"{API}/board-approvals/", body, format="json")
        assert response.status_code == 403
        assert not BoardApproval.objects.exists()

    def test_nhse_staff_cannot_edit_nhsi_boards_decision_on_the_web(self, client, world):
        approval = f.BoardApprovalFactory(programme=world["joint"], body=world["nhsi"], decision="deferred")
        client.force_login(world["nhse_staff"])
        assert client.get(f"/board-approvals/{approval.pk}/edit/").status_code == 403

    def test_a_workstream_is_owned_by_a_body_of_its_programme(self, world):
        workstream = f.WorkstreamFactory(programme=world["nhse_only"], body=world["nhse"])
        response = world["nhse_api"].patch(f"{API}/workstreams/{workstream.pk}/", {"body": "NHSI"}, format="json")
        assert response.status_code in (400, 403)
        workstream.refresh_from_db()
        assert workstream.body == world["nhse"]

    def test_a_workstream_is_not_given_to_a_body_the_editor_is_not_with(self, world):
        workstream = f.WorkstreamFactory(programme=world["joint"], body=world["nhse"])
        response = world["nhse_api"].patch(f"{API}/workstreams/{workstream.pk}/", {"body": "NHSI"}, format="json")
        assert response.status_code == 403
        assert "Only staff of NHS Improvement" in response.json()["detail"]

    def test_the_model_refuses_a_workstream_body_that_does_not_run_the_programme(self, world):
        """The rule is the model's, so the web form (which runs full_clean) refuses it as the API does."""
        from django.core.exceptions import ValidationError

        workstream = f.WorkstreamFactory(programme=world["nhse_only"], body=world["nhse"])
        workstream.full_clean()
        workstream.body = world["nhsi"]
        with pytest.raises(ValidationError, match="does not run"):
            workstream.full_clean()
        # A joint member of staff may not do it either: it is the programme's rule, not the editor's.
        joint_api = client_for(f.UserFactory(role="Staff", bodies=[world["nhse"], world["nhsi"]]))
        response = joint_api.patch(f"{API}/workstreams/{workstream.pk}/", {"body": "NHSI"}, format="json")
        assert response.status_code == 400
        assert "does not run" in response.json()["body"][0]

    def test_nhsi_staff_cannot_dismiss_a_finding_about_an_nhse_only_programme(self, world):
        finding = f.FindingFactory(
            records=[{"type": "programme", "id": world["nhse_only"].pk, "key": "winter", "label": "Winter"}]
        )
        url = f"{API}/findings/{finding.pk}/decision/"
        response = world["nhsi_api"].post(url, {"reason": "Fine."}, format="json")
        assert response.status_code == 403
        assert "NHS England" in response.json()["detail"]
        assert not FindingDecision.objects.exists()
        assert world["nhse_api"].post(url, {"reason": "Fine."}, format="json").status_code == 201

    def test_nhsi_staff_cannot_dismiss_it_on_the_web_either(self, client, world):
        finding = f.FindingFactory(
            records=[{"type": "programme", "id": world["nhse_only"].pk, "key": "winter", "label": "Winter"}]
        )
        client.force_login(world["nhsi_staff"])
        response = client.post(f"/findings/{finding.pk}/decision/", {"reason": "Fine."})
        assert response.status_code == 403
        assert not FindingDecision.objects.exists()

    def test_a_person_in_an_nhse_only_post_is_renamed_only_by_nhse_staff(self, world):
        person = f.PersonFactory(name="Rita Director")
        appointment = f.AppointmentFactory(person=person)
        f.AppointmentShareFactory(appointment=appointment, body=world["nhse"], fte_percent=100)
        response = world["nhsi_api"].patch(f"{API}/people/{person.pk}/", {"name": "Someone Else"}, format="json")
        assert response.status_code == 403
        person.refresh_from_db()
        assert person.name == "Rita Director"
        assert (
            world["nhse_api"].patch(f"{API}/people/{person.pk}/", {"name": "Rita D"}, format="json").status_code == 200
        )

    def test_a_measurements_source_is_set_by_the_portal(self, world):
        measure = f.MeasureFactory(code="ae-4hr", unit="percent")
        body = {"measure": "ae-4hr", "region": "Y56", "month": "2019-04-01", "value": 87.5, "source": "published"}
        response = world["nhse_api"].post(f"{API}/measurements/", body, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["source"] == "entered"
        generated = f.MeasurementFactory(measure=measure, region=None, month=dt.date(2019, 5, 1), source="generated")
        response = world["nhse_api"].patch(
            f"{API}/measurements/{generated.pk}/",
            {"value": 91.5, "source": "published", "reason": "Revised"},
            format="json",
        )
        assert response.status_code == 200
        generated.refresh_from_db()
        assert generated.source == Measurement.Source.ENTERED  # a person's figure, not a generated one passed off


# 9. Content-Security-Policy, the last Administrator, and import messages that name the right line ------------


class TestContentSecurityPolicy:
    PAGES = ["/programmes/", "/reports/", "/measurements/import/", "/no-such-page/", "/api/docs/"]

    def test_every_page_has_the_policy_and_every_inline_script_its_nonce(self, client, world):
        import re

        client.force_login(world["nhse_staff"])
        for path in ["/accounts/login/"] + self.PAGES:
            response = client.get(path)
            policy = response.get("Content-Security-Policy", "")
            assert "default-src 'self'" in policy and "unsafe-inline" not in policy, (path, policy)
            page = response.content.decode()
            inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page)
            nonce = re.search(r"'nonce-([^']+)'", policy)
            for attributes in inline:
                assert nonce and f'nonce="{nonce.group(1)}"' in attributes, (path, attributes)
            assert "<style" not in page, path

    def test_the_api_docs_load_their_script_from_the_portal(self, client, world):
        client.force_login(world["nhse_staff"])
        page = client.get("/api/docs/").content.decode()
        script = client.get("/api/docs/?script=")
        assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()
        assert "/api/docs/?script=" in page


class TestLastAdministrator:
    def test_the_last_administrator_cannot_give_up_the_role(self, client, nhse):
        admin = f.UserFactory(role="Administrator", bodies=[nhse])
        client.force_login(admin)
        data = {
            "username": admin.username,
            "email": admin.email or "a@example.nhs.uk",
            "bodies": [nhse.pk],
            "role": "Staff",
            "_version": admin.history.latest().history_id,
        }
        response = client.post(f"/users/{admin.pk}/edit/", data)
        assert response.status_code == 400
        assert "last active Administrator" in response.content.decode()
        assert set(admin.groups.values_list("name", flat=True)) == {"Administrator"}

    def test_the_last_administrator_cannot_be_deactivated(self, nhse):
        from accounts import services

        admin = f.UserFactory(role="Administrator", bodies=[nhse])
        with pytest.raises(services.LastAdministrator, match="cannot be deactivated"):
            services.set_active(admin, False, by=None)
        admin.refresh_from_db()
        assert admin.is_active

    def test_with_another_administrator_the_role_can_go(self, client, nhse):
        admin = f.UserFactory(role="Administrator", bodies=[nhse])
        f.UserFactory(role="Administrator", bodies=[nhse])
        client.force_login(admin)
        data = {
            "username": admin.username,
            "email": admin.email or "a@example.nhs.uk",
            "bodies": [nhse.pk],
            "role": "Staff",
            "_version": admin.history.latest().history_id,
        }
        assert client.post(f"/users/{admin.pk}/edit/", data).status_code == 302
        assert set(admin.groups.values_list("name", flat=True)) == {"Staff"}


def measurement_file(lines, bad_line):
    """A file with a header and ``lines`` good lines, with a byte that is not UTF-8 on line ``bad_line``."""
    rows = [b"measure,region,month,value"]
    for n in range(lines):
        rows.append(f"ae-4hr,Y56,{1900 + n // 12}-{n % 12 + 1:02d},{50 + n % 40}".encode())
    rows[bad_line - 1] = rows[bad_line - 1][:-1] + b"\xff"
    return b"\n".join(rows) + b"\n"


class TestImportLines:
    @pytest.fixture
    def ae(self, db):
        f.RegionFactory(ods_code="Y56", name="London")
        return f.MeasureFactory(code="ae-4hr", name="A&E", unit="percent", standard=95)

    @pytest.mark.parametrize("bad_line", [2, 333, 700])
    def test_an_undecodable_byte_is_blamed_on_its_own_line(self, ae, bad_line):
        import io

        from measures.services import MeasurementFileError, import_measurements

        with pytest.raises(MeasurementFileError) as raised:
            import_measurements(io.BytesIO(measurement_file(800, bad_line)), "f.csv")
        assert raised.value.errors == [
            f"f.csv: line {bad_line}: the file is not UTF-8 text (save it from the spreadsheet as “CSV UTF-8”)."
        ]
        assert not Measurement.objects.exists()

    def test_the_command_names_the_line_too(self, ae, tmp_path):
        from django.core.management import CommandError, call_command

        path = tmp_path / "figures.csv"
        path.write_bytes(measurement_file(800, 517))
        with pytest.raises(CommandError, match="line 517: the file is not UTF-8"):
            call_command("import_measurements", str(path))

    def test_a_value_over_two_lines_does_not_shift_the_lines_after_it(self, ae):
        import io

        from measures.services import MeasurementFileError, import_measurements

        text = 'measure,region,month,value\nae-4hr,"Y\n56",2019-04,50\nae-4hr,Y56,2019-05,lots\n'
        with pytest.raises(MeasurementFileError) as raised:
            import_measurements(io.StringIO(text), "f.csv")
        assert any(e.startswith("f.csv: line 4, value") for e in raised.value.errors), raised.value.errors


class TestImportOdsDamagedFiles:
    @pytest.fixture
    def reference(self, db):
        import io

        from django.core.management import call_command

        call_command("load_reference", stdout=io.StringIO())

    @pytest.mark.parametrize(
        "damage, message",
        [
            (lambda name: name[:5] + "\x00" + name[5:], "field 2 (name): it contains a NUL character"),
            (lambda name: name + " TRUST" * 50, "field 2 (name): 3"),
        ],
    )
    def test_a_nul_byte_or_an_over_long_name_is_refused_by_line(self, reference, tmp_path, damage, message):
        from organisations.models import Organisation
        from organisations.services import OdsFileError, import_ods
        from tests.test_reference import broken_copy, fields, joined

        cells = fields(line=7)
        cells[1] = damage(cells[1])
        path = broken_copy(tmp_path, 7, joined(cells))
        with pytest.raises(OdsFileError) as raised:
            import_ods(path, "trusts")
        assert any(f"etr.csv, line 7, {message}" in error for error in raised.value.errors), raised.value.errors
        assert Organisation.objects.count() == 0
