"""How long NHS England's A&E files take to import: one month of England, that month again, and 36 months.

    .venv/bin/python bench/statistics_import.py [--rounds 3]

It builds a database of its own (BENCH_DATABASE, else nhs_joint_bench_stats; dropped first) from the
migrations, the reference data and the ODS file of trusts, then imports data/statistics/ae/ as
``import_statistics ae`` does: one month (March 2019, about 270 providers) into an empty table, the same month
again (every figure compared, none changed), and all 36 months (April 2016 to March 2019) into an empty table.
Each is timed ``--rounds`` times; the median is printed beside its limit (one month < 2 s, 36 months < 30 s),
and the script exits non-zero if a median is over its limit.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATABASE = os.environ.get("BENCH_DATABASE", "nhs_joint_bench_stats")
BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nhs_joint").rsplit("/", 1)[0]
os.environ.update({"DJANGO_SETTINGS_MODULE": "bench.settings", "DATABASE_URL": f"{BASE_URL}/{DATABASE}"})

FILES = sorted((ROOT / "data" / "statistics" / "ae").glob("Monthly-AE-*.csv.gz"))
ONE_MONTH = ROOT / "data" / "statistics" / "ae" / "Monthly-AE-March-2019.csv.gz"
LIMITS = {"one month": 2.0, "the same month again": 2.0, "36 months": 30.0}


def empty():
    from measures.models import Measurement

    Measurement.history.all().delete()
    Measurement.every_level.all().delete()


def timed(paths):
    from measures.statistics_import import import_statistics

    streams = [(path.name, path.open("rb")) for path in paths]
    try:
        start = time.perf_counter()
        result = import_statistics(streams, "ae")
        return time.perf_counter() - start, result
    finally:
        for _, stream in streams:
            stream.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import scale  # bench/scale.py: this run's own database, from the migrations and the reference data

    scale.fresh_database(DATABASE, env=dict(os.environ))
    scale.manage("import_ods", str(ROOT / "data" / "ods" / "etr.csv"), "--kind", "trusts", env=dict(os.environ))
    import django

    django.setup()
    assert len(FILES) == 36, FILES
    times = {label: [] for label in LIMITS}
    results = {}
    for _ in range(args.rounds):
        empty()
        seconds, results["one month"] = timed([ONE_MONTH])
        times["one month"].append(seconds)
        seconds, results["the same month again"] = timed([ONE_MONTH])
        times["the same month again"].append(seconds)
        empty()
        seconds, results["36 months"] = timed(FILES)
        times["36 months"].append(seconds)

    print(f"Imports of NHS England's A&E files, median of {args.rounds} rounds:\n")
    print("| import | provider lines | figures written | median | limit |")
    print("|---|---:|---:|---:|---:|")
    over = []
    for label, limit in LIMITS.items():
        result, median = results[label], statistics.median(times[label])
        written = result.created + result.updated
        print(f"| {label} | {result.lines:,} | {written:,} | {median:.2f} s | < {limit:.0f} s |")
        if median >= limit:
            over.append(label)
    if over:
        sys.exit(f"Over the limit: {', '.join(over)}.")


if __name__ == "__main__":
    main()
