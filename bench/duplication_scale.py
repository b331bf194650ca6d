"""The duplicate-work report on bench/scale.py's stores: its time, and the planted near-copies it finds.

    BENCH_DATABASE=nhs_joint_bench_dup .venv/bin/python bench/duplication_scale.py [--scales 0.25,0.5,1]

For each scale: a fresh database of its own (bench/scale.py: BENCH_DATABASE or SCALE_DATABASE), filled by
bench/scale.py generate(scale) (20,000 workstreams at full scale, 1% of them near-copies of an earlier one:
the same title and the description with one word replaced), then the duplication report run once in a
process of its own through reports.services.execute, as a worker runs it (--repeat times; the fastest is
kept). Printed per scale: the report's time, the CPU time of the report's own process (not PostgreSQL's; on
a shared machine it varies less than the time) and peak memory; the planted pairs that may be compared (the same title before ", part N", and the
blocking rules of the report: other programme, shared audience, overlapping regions and dates) and how many
of them a finding names; and the pairs findings name that are not planted.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import scale  # noqa: E402

RUN = """
import json, resource, time
from itertools import combinations
from django.db import connection
from reports import services
from reports.duplication import WORKSTREAM_BLOCKING
from reports.models import ReportRun
run = ReportRun.objects.create(kind="duplication")
started, cpu_started = time.perf_counter(), time.process_time()
services.execute(run.pk)
seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
run.refresh_from_db()
with connection.cursor() as cursor:
    cursor.execute(
        "SELECT a.id, b.id FROM programmes_workstream a JOIN programmes_workstream b "
        "ON split_part(a.title, ', part', 1) = split_part(b.title, ', part', 1) AND a.id < b.id"
    )
    same_title = cursor.fetchall()
    a_ids, b_ids = zip(*same_title) if same_title else ((), ())
    cursor.execute(WORKSTREAM_BLOCKING, [list(a_ids), list(b_ids)])
    planted = {frozenset(pair) for pair in cursor.fetchall()}
named = set()
for finding in run.findings.filter(rule="duplicate-work"):
    ids = sorted(r["id"] for r in finding.records if r["type"] == "workstream")
    named |= {frozenset(pair) for pair in combinations(ids, 2)}
print("RESULT " + json.dumps({
    "seconds": round(seconds, 2), "cpu_seconds": round(cpu_seconds, 2), "status": run.status, "error": run.error,
    "findings": run.counts.get("by_rule", {}).get("duplicate-work"),
    "planted_comparable": len(planted), "planted_found": len(planted & named), "not_planted": len(named - planted),
    "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
}))
"""


def run_report():
    return scale.shell_result(RUN)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="0.25,0.5,1")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of the report per scale; the fastest is kept (the others "
        "measured other people's work on a shared machine as much as the report's)",
    )
    args = parser.parse_args()
    previous = previous_cpu = None
    for factor in [float(s) for s in args.scales.split(",")]:
        scale.fresh_database()
        counts = scale.generate(factor)
        results = [run_report() for _ in range(args.repeat)]
        result = min(results, key=lambda r: r["seconds"])
        result["all"] = ", ".join(str(r["seconds"]) for r in results)
        cpu = min(r["cpu_seconds"] for r in results)
        growth = f", x{result['seconds'] / previous:.2f} the previous scale" if previous else ""
        cpu_growth = f", x{cpu / previous_cpu:.2f}" if previous else ""
        previous, previous_cpu = result["seconds"], cpu
        print(
            f"scale {factor:g}: {counts['programmes_workstream']:,} workstreams; duplication {result['seconds']} s "
            f"(fastest of {result['all']})"
            f"{growth}; the report's own process CPU {cpu} s (least of {', '.join(str(r['cpu_seconds']) for r in results)})"
            f"{cpu_growth} (peak {result['peak_mb']} MB, {result['status']}); planted pairs that may be compared "
            f"{result['planted_comparable']}, found {result['planted_found']}; pairs named that are not planted "
            f"{result['not_planted']}; duplicate-work findings {result['findings']}",
            flush=True,
        )


if __name__ == "__main__":
    main()
