"""The duplicate-work rule on the hand-written development set: the same work in different words is found."""

import pytest

from reports import services
from reports.models import ReportRun

from . import devset

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded():
    data = devset.cases()
    return data, devset.load(data)


def duplication_run():
    run = ReportRun.objects.create(kind="duplication")
    services.execute(run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    return run


def test_the_development_set_is_found_with_no_near_miss(loaded):
    # The shipped model is fitted on this set's labelled pairs among others: these are in-sample figures,
    # a check that the rule, the blocking and the groups keep what the engine finds (bench/duplication_quality.py
    # gives the cross-validated ones).
    data, keys = loaded
    result = devset.score(data, devset.reported_pairs(duplication_run(), keys))
    assert result["near_misses_reported"] == []
    assert result["precision"] >= 0.85, result
    assert result["recall"] >= 0.70, result
    assert result["recall_by_tier"]["easy"] == 1, result


def test_each_finding_explains_itself_with_both_texts_and_what_they_share(loaded):
    data, keys = loaded
    run = duplication_run()
    by_pair = {}
    for finding in run.findings.filter(rule="duplicate-work"):
        named = frozenset(keys[r["id"]] for r in finding.records if r["type"] == "workstream")
        by_pair[named] = finding
    chc = by_pair[frozenset({"d07", "d24"})]  # "CHC" against "NHS continuing healthcare"
    texts = {r["key"]: r["text"] for r in chc.records if r["type"] == "workstream"}
    workstreams = {w["key"]: w for w in data["workstreams"]}
    assert sorted(texts.values()) == sorted([workstreams["d07"]["description"], workstreams["d24"]["description"]])
    assert any("CHC" in term and "continuing healthcare" in term for term in chc.shared_terms), chc.shared_terms
    assert 0 < chc.score <= 1
    assert "CHC" in chc.message or "continuing healthcare" in chc.message


def test_a_paraphrase_in_one_programme_or_for_another_audience_is_not_reported(loaded):
    _, keys = loaded
    ids = {key: pk for pk, key in keys.items()}
    from programmes.models import Workstream

    # Move one half of an easy pair into its partner's programme, and give another pair no shared audience.
    partner = Workstream.objects.get(pk=ids["d21"])
    Workstream.objects.filter(pk=ids["d17"]).update(programme=partner.programme, title="EPMA fund (moved)")
    Workstream.objects.filter(pk=ids["d18"]).update(audiences=["local_systems"])
    Workstream.objects.filter(pk=ids["d22"]).update(audiences=["providers"])
    found = devset.reported_pairs(duplication_run(), keys)
    assert frozenset({"d17", "d21"}) not in found
    assert frozenset({"d18", "d22"}) not in found
    assert frozenset({"d01", "d47"}) in found
