"""How well the duplicate-work rule finds the same work in different words, on the development set.

    .venv/bin/python bench/duplication_quality.py

Creates a database of its own (DATABASE_TEST_NAME, default test_duplication_quality; PostgreSQL from
DATABASE_URL as the tests use it), loads tests/reports/data/duplication-dev.json through the models
(tests/reports/devset.py), runs the duplication report as a worker does (reports.services.execute on a
ReportRun), and prints precision, recall per tier, F1, the near misses reported (there must be none), the
pairs missed and the pairs reported that are not in the set, with the thresholds in force.
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nhs_joint.settings.test")
os.environ.setdefault("DATABASE_TEST_NAME", "test_duplication_quality")


def main():
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        from reports import services
        from reports.models import ReportRun
        from tests.reports import devset

        data = devset.cases()
        keys = devset.load(data)
        run = ReportRun.objects.create(kind="duplication")
        started = time.perf_counter()
        services.execute(run.pk)
        seconds = time.perf_counter() - started
        run.refresh_from_db()
        if run.status != "succeeded":
            raise SystemExit(f"the report failed: {run.error}")
        result = devset.score(data, devset.reported_pairs(run, keys))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    tiers = result["recall_by_tier"]
    print(
        f"development set: {len(data['workstreams'])} workstreams, {len(data['positive_pairs'])} pairs to find, "
        f"{len(data['near_misses'])} near misses"
    )
    print(
        f"thresholds: DUPLICATE_WORK_THRESHOLD {settings.DUPLICATE_WORK_THRESHOLD}, "
        f"DUPLICATE_WORK_MUTUAL_THRESHOLD {settings.DUPLICATE_WORK_MUTUAL_THRESHOLD}, "
        f"DUPLICATE_WORK_MUTUAL_MIN_TERMS {settings.DUPLICATE_WORK_MUTUAL_MIN_TERMS}, "
        f"DUPLICATE_WORK_NEIGHBOURS {settings.DUPLICATE_WORK_NEIGHBOURS}"
    )
    print(f"reported {result['found']} workstream pairs, {result['true']} of them in the set")
    print(f"precision {result['precision']:.3f}  recall {result['recall']:.3f}  F1 {result['f1']:.3f}")
    print("recall by tier: " + ", ".join(f"{tier} {value:.3f}" for tier, value in tiers.items()))
    print(f"near misses reported: {result['near_misses_reported'] or 'none'}")
    print(f"missed: {['/'.join(p) for p in result['missed']] or 'none'}")
    print(f"reported, not in the set: {['/'.join(p) for p in result['false_pairs']] or 'none'}")
    print(f"duplication report: {seconds:.2f} s")
    print("| precision | recall | easy | medium | hard | F1 | near misses reported |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {result['precision']:.2f} | {result['recall']:.2f} | {tiers['easy']:.2f} | {tiers['medium']:.2f} | "
        f"{tiers['hard']:.2f} | {result['f1']:.2f} | {len(result['near_misses_reported'])} |"
    )


if __name__ == "__main__":
    main()
