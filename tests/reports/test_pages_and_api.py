"""The reports in the portal and the API: run on demand, follow progress, read and decide findings."""

import datetime as dt

import pytest
from rest_framework.test import APIClient

from nhs_joint.celery import app
from nhs_joint.history import format_datetime
from reports.models import Finding, FindingDecision, ReportRun
from tests import factories as f
from tests.factories import token_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager():
    """Run jobs in the test process (the real worker is tested in test_worker.py)."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def world(nhse, nhsi):
    london = f.RegionFactory(ods_code="Y56", name="London", short_name="London")
    post = f.AppointmentFactory(title="Director of Improvement", start_date=dt.date(2019, 4, 1))
    f.AppointmentShareFactory(appointment=post, body=nhse, fte_percent=50)
    f.AppointmentShareFactory(appointment=post, body=nhsi, fte_percent=40)
    staff = f.UserFactory(role="Staff", bodies=[nhse], first_name="Sam", last_name="Staff")
    return {"london": london, "staff": staff, "nhse": nhse}


def test_the_run_button_queues_a_run_and_its_page_shows_the_results(
    client, world, eager, django_capture_on_commit_callbacks
):
    client.force_login(world["staff"])
    page = client.get("/reports/").content.decode()
    assert "Run the consistency report" in page and 'name="kind" value="consistency"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/reports/run/", {"kind": "consistency"})
    run = ReportRun.objects.get()
    assert response["Location"] == f"/reports/{run.pk}/"
    assert run.status == "succeeded" and run.requested_by == world["staff"]
    html = client.get(f"/reports/{run.pk}/").content.decode()
    assert "total 90%, not 100%" in html and 'src="/static/portal/reports.js"' in html
    state = client.get(f"/reports/{run.pk}/progress/").json()
    assert state["is_finished"] and 'data-finished="true"' in state["html"]
    assert state["fields"]["status"] == "Succeeded" and state["fields"]["finished"] == format_datetime(run.finished)


def test_a_queued_run_shows_its_progress(client, world):
    run = ReportRun.objects.create(
        kind="duplication",
        status="running",
        progress=40,
        started=dt.datetime(2026, 11, 29, 14, 48, tzinfo=dt.UTC),
    )
    client.force_login(world["staff"])
    state = client.get(f"/reports/{run.pk}/progress/").json()
    assert not state["is_finished"] and 'data-finished="false"' in state["html"] and "40% done" in state["html"]
    assert state["fields"] == {
        "kind": "Duplication (remove unnecessary duplication)",
        "status": "Running",
        "requested": format_datetime(run.created),
        "started": "29 November 2026 at 2:48pm",
        "finished": "Not yet",
        "progress": "40%",
    }
    page = client.get(f"/reports/{run.pk}/").content.decode()
    assert 'data-run-field="started">29 November 2026 at 2:48pm<' in page
    assert 'data-run-field="finished">Not yet<' in page


def test_an_unknown_kind_is_refused_with_a_message(client, world):
    client.force_login(world["staff"])
    response = client.post("/reports/run/", {"kind": "everything"}, follow=True)
    assert "Choose the consistency or the duplication report" in response.content.decode()
    assert not ReportRun.objects.exists()


def test_findings_filter_export_and_decide(client, world, eager, django_capture_on_commit_callbacks):
    client.force_login(world["staff"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/reports/run/", {"kind": "consistency"})
    finding = Finding.objects.get(rule="appointment-shares")
    listing = client.get("/findings/?rule=appointment-shares").content.decode()
    assert "total 90%" in listing and "regional-coverage" not in listing.split("<tbody")[1]
    csv = client.get("/findings/?rule=appointment-shares&export=csv")
    assert b"total 90%" in b"".join(csv.streaming_content)
    empty = client.post(f"/findings/{finding.pk}/decision/", {"reason": " "})
    assert empty.status_code == 400 and 'href="#id_reason"' in empty.content.decode()
    done = client.post(f"/findings/{finding.pk}/decision/", {"reason": "Agreed part-time until March."}, follow=True)
    assert "Recorded as not a problem" in done.content.decode()
    decision = FindingDecision.objects.get()
    assert decision.decided_by == world["staff"] and decision.fingerprint == finding.fingerprint


def test_administrators_cannot_decide_findings(client, world):
    finding = Finding.objects.create(
        run=ReportRun.objects.create(kind="consistency", status="succeeded"),
        rule="board-approval",
        severity="high",
        message="m",
        records=[],
        fingerprint="f",
        records_state="s",
    )
    client.force_login(f.UserFactory(role="Administrator", bodies=[world["nhse"]]))
    assert client.post(f"/findings/{finding.pk}/decision/", {"reason": "x"}).status_code == 403
    assert not FindingDecision.objects.exists()


class TestApi:
    def client(self, user):
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
        return api

    def test_post_answers_202_with_the_run_then_status_and_findings(
        self, world, eager, django_capture_on_commit_callbacks
    ):
        api = self.client(world["staff"])
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post("/api/v1/report-runs/", {"kind": "consistency"}, format="json")
        assert response.status_code == 202
        assert response.json()["kind"] == "consistency" and response.json()["status"] == "queued"
        run_id = response.json()["id"]
        status = api.get(f"/api/v1/report-runs/{run_id}/").json()
        assert status["status"] == "succeeded" and status["progress"] == 100
        findings = api.get(f"/api/v1/findings/?run={run_id}&rule=appointment-shares").json()
        assert findings["count"] == 1
        record_types = {r["type"] for r in findings["results"][0]["records"]}
        assert record_types == {"appointment", "person"}
        assert {"id", "key", "label"} <= set(findings["results"][0]["records"][0])
        by_region = api.get(f"/api/v1/findings/?run={run_id}&region=Y56&region_scope=own").json()
        assert all(r["region"] == "Y56" for r in by_region["results"])
        # Without region_scope=own, the findings for all England come with London's.
        with_england = api.get(f"/api/v1/findings/?run={run_id}&region=Y56").json()
        assert all(r["region"] in ("Y56", None) for r in with_england["results"])
        assert with_england["count"] >= by_region["count"]

    def test_bad_kind_and_anonymous(self, world):
        api = self.client(world["staff"])
        response = api.post("/api/v1/report-runs/", {"kind": "all"}, format="json")
        assert response.status_code == 400 and "kind" in response.json()
        assert APIClient().post("/api/v1/report-runs/", {"kind": "consistency"}, format="json").status_code == 401
        assert not ReportRun.objects.exists()

    def test_a_decision_through_the_api(self, world):
        finding = Finding.objects.create(
            run=ReportRun.objects.create(kind="consistency", status="succeeded"),
            rule="board-approval",
            severity="high",
            message="m",
            records=[],
            fingerprint="f",
            records_state="s",
        )
        api = self.client(world["staff"])
        assert api.post(f"/api/v1/findings/{finding.pk}/decision/", {"reason": ""}, format="json").status_code == 400
        made = api.post(f"/api/v1/findings/{finding.pk}/decision/", {"reason": "Known."}, format="json")
        assert made.status_code == 201 and made.json()["decided_by"] == world["staff"].username
        assert Finding.objects.get().suppressed


def test_a_duplicate_work_finding_shows_both_texts_without_building_an_index(client, world, monkeypatch):
    from reports import duplication

    def refused(*args, **kwargs):
        raise AssertionError("a page built the duplication index")

    monkeypatch.setattr(duplication, "build_index", refused)
    records = [
        {
            "type": "workstream",
            "id": 1,
            "key": "1",
            "label": "Speeding up CHC eligibility decisions",
            "text": "Improvement support for commissioners to speed up CHC eligibility decisions.",
        },
        {
            "type": "workstream",
            "id": 2,
            "key": "2",
            "label": "NHS continuing healthcare assessment timeliness",
            "text": "Help CCGs make 80% of NHS continuing healthcare eligibility decisions within 28 days.",
        },
    ]
    finding = Finding.objects.create(
        run=ReportRun.objects.create(kind="duplication", status="succeeded"),
        rule="duplicate-work",
        severity="medium",
        message="m",
        records=records,
        score=0.54,
        shared_terms=["CHC ≈ NHS continuing healthcare", "eligibility decisions"],
        fingerprint="f",
        records_state="s",
    )
    client.force_login(world["staff"])
    page = client.get(f"/findings/{finding.pk}/").content.decode()
    assert "speed up CHC eligibility decisions" in page and "within 28 days" in page
    assert "CHC ≈ NHS continuing healthcare" in page and "0.54" in page
    api = APIClient()
    api.force_authenticate(world["staff"])
    shown = api.get(f"/api/v1/findings/{finding.pk}/").json()
    assert [r["text"] for r in shown["records"]] == [r["text"] for r in records]
