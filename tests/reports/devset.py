"""The duplicate-work development set (tests/reports/data/duplication-dev.json), loaded through the models.

Used by tests/reports/test_duplication_quality.py and bench/duplication_quality.py: both load the set, run
the duplication report as a worker does (reports.services.execute on a ReportRun) and score what it found.
"""

import datetime as dt
import json
import re
from itertools import combinations
from pathlib import Path

from organisations.models import NationalBody
from programmes.models import Programme, Workstream
from regions.models import Region

PATH = Path(__file__).resolve().parent / "data" / "duplication-dev.json"
BODY_NAMES = {"NHSE": "NHS England", "NHSI": "NHS Improvement"}


def cases():
    return json.loads(PATH.read_text(encoding="utf-8"))


def load(data):
    """Create the set's bodies, regions, programmes and workstreams; {workstream id: key}."""
    bodies = {
        code: NationalBody.objects.get_or_create(code=code, defaults={"name": name})[0]
        for code, name in BODY_NAMES.items()
    }
    codes = sorted({code for w in data["workstreams"] for code in w["regions"]})
    regions = {
        code: Region.objects.get_or_create(ods_code=code, defaults={"name": f"Region {code}", "slug": code.lower()})[0]
        for code in codes
    }
    programmes = {}
    for p in data["programmes"]:
        programme = Programme.objects.create(
            title=p["title"],
            slug=f"dev-{p['key'].lower()}",
            summary=p["title"],
            description=p["title"],
            theme=p["theme"],
            integration_stage="separate",
            status="proposed",
            accountable_body=bodies[p["accountable_body"]],
            start_date=dt.date(2016, 4, 1),
            end_date=dt.date(2021, 3, 31),
        )
        programme.bodies.set([bodies[b] for b in p["bodies"]])
        programmes[p["key"]] = programme
    keys = {}
    for w in data["workstreams"]:
        workstream = Workstream.objects.create(
            programme=programmes[w["programme"]],
            title=w["title"],
            description=w["description"],
            body=bodies[w["body"]],
            audiences=w["audiences"],
            start_date=dt.date.fromisoformat(w["start"]),
            end_date=dt.date.fromisoformat(w["end"]),
        )
        workstream.regions.set([regions[code] for code in w["regions"]])
        keys[workstream.pk] = w["key"]
    return keys


def reported_pairs(run, keys):
    """{frozenset of two keys}: every two workstreams of the set that one duplicate-work finding names (a
    finding about a group of three names three pairs)."""
    pairs = set()
    for finding in run.findings.filter(rule="duplicate-work"):
        named = sorted(keys[r["id"]] for r in finding.records if r["type"] == "workstream" and r["id"] in keys)
        pairs |= {frozenset(pair) for pair in combinations(named, 2)}
    return pairs


def tiers(data):
    """{"easy"|"medium"|"hard": {frozenset pair}} from the set's notes."""
    out = {}
    for tier in ("easy", "medium", "hard"):
        listed = re.search(tier + r" \(\d+\): ([^;.]*)", data["notes"]).group(1)
        out[tier] = {frozenset(pair.strip().split("/")) for pair in listed.split(",")}
    return out


def score(data, found):
    """Precision, recall (overall and per tier), F1, and the near misses and false pairs reported."""
    truth = {frozenset(p) for p in data["positive_pairs"]}
    near = {frozenset(n["pair"]) for n in data["near_misses"]}
    hits = found & truth
    precision = len(hits) / len(found) if found else 0.0
    recall = len(hits) / len(truth)
    return {
        "found": len(found),
        "true": len(hits),
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if hits else 0.0,
        "recall_by_tier": {tier: len(found & pairs) / len(pairs) for tier, pairs in tiers(data).items()},
        "near_misses_reported": sorted(sorted(p) for p in found & near),
        "false_pairs": sorted(sorted(p) for p in found - truth - near),
        "missed": sorted(sorted(p) for p in truth - found),
    }
