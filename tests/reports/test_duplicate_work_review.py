"""Duplicate work that reviewers judge, groups of the same work, and “Similar work elsewhere”."""

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from reports import services
from reports.models import PairJudgement, ReportRun
from tests import factories as f

pytestmark = pytest.mark.django_db

DISCHARGE = [
    (
        "Discharge to assess",
        "Discharge to assess: same-day discharge from acute wards, with community health and social care support "
        "at home.",
    ),
    (
        "Discharge to assess over seven days",
        "Discharge to assess from acute wards on the same day, with community and social care support at home.",
    ),
    (
        "Home first discharge to assess",
        "Patients leave acute wards on the day they are well enough, to be assessed at home with community health "
        "and social care support: discharge to assess.",
    ),
]
OTHER_WORK = [
    ("Bowel cancer screening age", "Extend the bowel cancer screening programme to people aged 50 to 74."),
    ("Agency staff cap", "Cap what trusts pay for agency nurses and locum doctors each shift."),
    ("Stroke thrombectomy", "Expand mechanical thrombectomy for stroke patients in comprehensive stroke centres."),
    ("GP online consultations", "Help practices offer online consultations and video appointments."),
]


@pytest.fixture
def staff(nhse):
    return f.UserFactory(role="Staff", bodies=[nhse], first_name="Sam", last_name="Staff")


PROGRAMMES = ["Urgent care", "Seven day services", "Ageing well", "Cancer", "Workforce", "Stroke", "Primary care"]


def workstream(nhse, title, description, programme_title="Screening"):
    programme = f.ProgrammeFactory(
        title=programme_title, summary="", description="", bodies=[nhse], accountable_body=nhse
    )
    return f.WorkstreamFactory(
        programme=programme,
        title=title,
        description=description,
        body=nhse,
        audiences=["providers"],
        start_date=dt.date(2018, 4, 1),
    )


@pytest.fixture
def store(nhse):
    """Three write-ups of one piece of work in three programmes, and other work."""
    titles = iter(PROGRAMMES)
    same = [workstream(nhse, *text, next(titles)) for text in DISCHARGE]
    others = [workstream(nhse, *text, next(titles)) for text in OTHER_WORK]
    return same, others


def duplication_run():
    run = ReportRun.objects.create(kind="duplication")
    services.execute(run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    return run


def work_findings(run):
    return list(run.findings.filter(rule="duplicate-work"))


def named(finding):
    return {r["id"] for r in finding.records if r["type"] == "workstream"}


def test_a_group_of_three_is_one_finding_naming_all_three(store):
    same, _ = store
    findings = work_findings(duplication_run())
    assert [named(x) for x in findings] == [{w.pk for w in same}]
    finding = findings[0]
    assert len(finding.pairs) == 3  # every pair of the three reaches the bar (complete linkage)
    assert all(r["label"] for r in finding.records if r["type"] == "programme") and len(finding.records) == 6
    assert "likely" in finding.message or "possibly" in finding.message
    assert 0.5 <= float(finding.score) <= 1


def test_a_pair_judged_not_the_same_work_stays_out_until_one_text_changes(client, store, staff):
    same, _ = store
    a, b, c = same
    c.delete()  # a pair, not a group
    finding = work_findings(duplication_run())[0]
    assert named(finding) == {a.pk, b.pk}
    client.force_login(staff)
    page = client.get(f"/findings/{finding.pk}/").content.decode()
    assert "Is this the same work?" in page and 'name="verdict"' in page
    response = client.post(f"/findings/{finding.pk}/judgement/", {"first": a.pk, "second": b.pk, "verdict": "not_same"})
    assert response.status_code == 302
    judgement = PairJudgement.objects.get()
    assert (judgement.first_id, judgement.second_id, judgement.decided_by) == (min(a.pk, b.pk), max(a.pk, b.pk), staff)
    assert "Not the same work" in client.get(f"/findings/{finding.pk}/").content.decode()

    assert work_findings(duplication_run()) == []  # both texts as judged: not reported

    b.description += " Weekends included."
    b.save()
    back = work_findings(duplication_run())
    assert [named(x) for x in back] == [{a.pk, b.pk}]  # one text changed: reported again


def test_a_judgement_is_refused_with_a_message_naming_the_field(client, store, staff):
    same, others = store
    finding = work_findings(duplication_run())[0]
    client.force_login(staff)
    page = client.post(f"/findings/{finding.pk}/judgement/", {"first": same[0].pk, "second": same[1].pk})
    assert page.status_code == 400 and "Choose same work, not the same work or not sure." in page.content.decode()
    api = APIClient()
    api.force_authenticate(staff)
    url = f"/api/v1/findings/{finding.pk}/judgements/"
    wrong = api.post(url, {"first": same[0].pk, "second": others[0].pk, "verdict": "same"}, format="json")
    assert wrong.status_code == 400 and "pair" in wrong.json()
    bad = api.post(url, {"first": same[0].pk, "second": same[1].pk, "verdict": "maybe"}, format="json")
    assert bad.status_code == 400 and "verdict" in bad.json()
    assert not PairJudgement.objects.exists()
    made = api.post(url, {"first": same[1].pk, "second": same[0].pk, "verdict": "same"}, format="json")
    assert made.status_code == 201 and made.json()["decided_by"] == staff.username
    assert [j["verdict"] for j in api.get(url).json()] == ["same"]


def test_judgements_teach_the_next_run_and_administrators_see_the_effect(client, store, staff, nhse):
    same, others = store
    finding = work_findings(duplication_run())[0]
    for x, y in ((same[0], same[1]), (same[1], same[2])):
        services.judge_pair(finding, staff, x.pk, y.pk, "same")
    services.judge_pair(finding, staff, same[0].pk, same[2].pk, "not_same")
    run = duplication_run()
    figures = run.counts["duplicate_work_model"]["workstream"]
    assert figures["judgements"] == 3
    assert 0 <= figures["agreement_before"] <= 1 and 0 <= figures["agreement_after"] <= 1
    admin = f.UserFactory(role="Administrator", bodies=[nhse])
    client.force_login(admin)
    assert "What reviewers taught the duplicate-work report" in client.get(f"/reports/{run.pk}/").content.decode()
    client.force_login(staff)
    assert "What reviewers taught" not in client.get(f"/reports/{run.pk}/").content.decode()


@pytest.mark.usefixtures("render_every_time")
def test_similar_work_elsewhere_answers_in_constant_queries(client, store, staff, nhse):
    same, others = store
    duplication_run()
    client.force_login(staff)
    page = client.get(same[0].get_absolute_url()).content.decode()
    assert "Similar work elsewhere" in page and same[1].title in page and same[2].title in page
    api = APIClient()
    api.force_authenticate(staff)
    shown = api.get(f"/api/v1/workstreams/{same[0].pk}/similar/").json()
    assert [r["id"] for r in shown["results"]][:2] == sorted(
        [same[1].pk, same[2].pk], key=lambda pk: -next(r["similarity"] for r in shown["results"] if r["id"] == pk)
    )
    assert all(0 <= r["similarity"] <= 1 and 0 <= r["probability"] <= 1 for r in shown["results"])

    def counted(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    # A workstream with one similar record and one with many cost the same queries, page and API alike.
    lone = workstream(nhse, "Bowel cancer screening kits", "Post bowel cancer screening kits to people aged 50.")
    duplication_run()
    few = len(api.get(f"/api/v1/workstreams/{lone.pk}/similar/").json()["results"])
    many = len(api.get(f"/api/v1/workstreams/{same[0].pk}/similar/").json()["results"])
    assert few < many
    assert counted(lone.get_absolute_url()) == counted(same[0].get_absolute_url())
    assert counted(f"/api/v1/workstreams/{lone.pk}/similar/") == counted(f"/api/v1/workstreams/{same[0].pk}/similar/")
    programme = same[0].programme
    assert api.get(f"/api/v1/programmes/{programme.slug}/similar/").status_code == 200
    assert api.get("/api/v1/workstreams/999999/similar/").status_code == 404


SCORES = """
import json, django
django.setup()
from reports import duplication
from tests.reports import devset
data = devset.cases()
index = duplication.build_index([(w["key"], w["title"], w["description"]) for w in data["workstreams"]])
neighbours = duplication.nearest(index, duplication.neighbours_per_record())
scored = duplication.scored_candidates(index, neighbours, duplication.match_model())
print(json.dumps([[p.a, p.b, p.cosine, p.probability] for p in scored]))
"""


def test_scores_are_the_same_from_run_to_run():
    """Two processes with different string hashing (the order of Python's sets) give the same scores."""
    root = Path(__file__).resolve().parents[2]

    def scores(seed):
        env = {**os.environ, "PYTHONHASHSEED": str(seed), "DJANGO_SETTINGS_MODULE": "nhs_joint.settings.test"}
        done = subprocess.run(
            [sys.executable, "-c", SCORES], cwd=root, env=env, capture_output=True, text=True, check=True
        )
        return json.loads(done.stdout.strip().splitlines()[-1])

    first, second = scores(1), scores(2)
    assert len(first) > 100 and first == second
