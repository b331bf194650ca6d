"""What the data versions (nhs_joint/versions) cost a write: 1,000 saves and an import of 10,000 measurements,
each timed with the versions' triggers on and off, in one run.

    .venv/bin/python bench/writes.py [--rounds 3]

It builds a database of its own (BENCH_DATABASE, else nhs_joint_bench_writes; dropped first) from the
migrations and the reference data, then alternates the two settings ``--rounds`` times and prints the
median of each, and the difference. A save here is what a person's edit writes: a programme's title changed
and saved through the ORM, its history entry included, each in its own transaction (as each request is).
The import is measures.services.import_measurements of one file of 10,000 new figures (10 measures, 8
areas, 125 months), in one transaction, as the import page and job run it.

What it does not show: a busy write path with many writers at once. Two transactions that commit changes to
the same table take turns for that table's version row for the moment of their commits (the row is written
just before each commit); this script writes from one connection.
"""

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATABASE = os.environ.get("BENCH_DATABASE", "nhs_joint_bench_writes")
BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nhs_joint").rsplit("/", 1)[0]
os.environ.update({"DJANGO_SETTINGS_MODULE": "bench.settings", "DATABASE_URL": f"{BASE_URL}/{DATABASE}"})

SAVES = 1000
MONTHS = 125  # 10 measures x 8 areas (England and the seven regions) x 125 months = 10,000 figures


def set_versions(on):
    """Turns the versions' triggers on or off on every table."""
    from django.db import connection

    from nhs_joint.versions import triggers

    action = "ENABLE" if on else "DISABLE"
    with connection.cursor() as cursor:
        for table in sorted(set(connection.introspection.table_names(cursor)) - triggers.UNVERSIONED):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"ALTER TABLE {quoted} {action} TRIGGER {triggers.TRIGGER}")
            cursor.execute(f"ALTER TABLE {quoted} {action} TRIGGER {triggers.TRUNCATE_TRIGGER}")


def time_saves(programme):
    start = time.perf_counter()
    for n in range(SAVES):
        programme.title = f"Urgent and emergency care, edit {n}"
        programme.save()
    return time.perf_counter() - start


def import_file():
    from measures.models import Measure
    from regions.models import Region

    areas = [""] + list(Region.objects.active().values_list("ods_code", flat=True))
    lines = ["measure,region,month,value"]
    for measure in Measure.objects.order_by("code").values_list("code", flat=True):
        for area in areas:
            for month in range(MONTHS):
                lines.append(f"{measure},{area},{1990 + month // 12}-{month % 12 + 1:02d},{50 + month % 40}.5")
    return "\n".join(lines) + "\n"


def time_import(text):
    from measures.models import Measurement
    from measures.services import import_measurements

    Measurement.history.all().delete()
    Measurement.objects.all().delete()
    start = time.perf_counter()
    result = import_measurements(io.StringIO(text), "bench.csv")
    elapsed = time.perf_counter() - start
    assert result.created == len(text.splitlines()) - 1, result
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import scale  # bench/scale.py: this run's own database, from the migrations and the reference data

    scale.fresh_database(DATABASE, env=dict(os.environ))
    import django

    django.setup()
    from tests.factories import ProgrammeFactory

    programme = ProgrammeFactory(title="Urgent and emergency care")
    text = import_file()
    results = {True: {"saves": [], "import": []}, False: {"saves": [], "import": []}}
    for _ in range(args.rounds):
        for on in (False, True):
            set_versions(on)
            results[on]["saves"].append(time_saves(programme))
            results[on]["import"].append(time_import(text))
    set_versions(True)

    print(f"Writes with and without the data versions, median of {args.rounds} rounds each:\n")
    print("| write | versions off | versions on | difference |")
    print("|---|---:|---:|---:|")
    for key, label in (("saves", f"{SAVES:,} saves"), ("import", "import of 10,000 measurements")):
        off, on = statistics.median(results[False][key]), statistics.median(results[True][key])
        print(f"| {label} | {off:.2f} s | {on:.2f} s | {100 * (on - off) / off:+.1f}% |")


if __name__ == "__main__":
    main()
