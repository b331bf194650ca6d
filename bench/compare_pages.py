"""Every record page of the England-scale database, drawn by one checkout in this process, written to a folder,
so that two checkouts' pages can be compared byte for byte (the per-response nonce and CSRF token made the same):

    cd /work/main && BENCH_DATABASE=nhs_joint_bench_perf .venv/bin/python /path/to/this/bench/compare_pages.py /tmp/a
    cd /work/this && BENCH_DATABASE=nhs_joint_bench_perf .venv/bin/python bench/compare_pages.py /tmp/b
    diff -r /tmp/a /tmp/b

The pages: bench/web.py's 600 programmes, every 67th workstream, and the first 15 records of each other kind with
sections (measures, people, expectations, Board approvals, regional delivery, regions, agreed measures). Each
checkout is the one in the working directory (its code is imported from there). The page cache is off.
"""

import os
import re
import sys
from pathlib import Path

ROOT = Path.cwd()
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import web  # noqa: E402  (bench/web.py of the checkout compared: its addresses and database)

os.environ.update({k: v for k, v in web.ENV.items() if k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")})
os.environ["PAGE_CACHE_SECONDS"] = "0"

# Every 67th workstream (about 300 of the 20,000 at England scale).
WORKSTREAM_STEP = 67

OTHERS = [
    ("programmes_measure", "code", "/measures/{}/"),
    ("appointments_person", "id", "/people/{}/"),
    ("programmes_expectation", "id", "/expectations/{}/"),
    ("programmes_boardapproval", "id", "/board-approvals/{}/"),
    ("programmes_regionaldelivery", "id", "/regional-deliveries/{}/"),
    ("regions_region", "ods_code", "/regions/{}/"),
    ("programmes_programmemeasure", "id", "/programme-measures/{}/"),
]


def addresses(connection):
    paths = web.rotate_paths("/programmes/{slug}/", [])
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM programmes_workstream ORDER BY id")
        sampled = cursor.fetchall()[::WORKSTREAM_STEP]
        paths += [f"/workstreams/{pk}/" for (pk,) in sampled]
        for table, column, address in OTHERS:
            cursor.execute(f"SELECT {column} FROM {table} ORDER BY 1 LIMIT 15")
            paths += [address.format(value) for (value,) in cursor.fetchall()]
    return paths


def main():
    import django

    django.setup()
    from django.db import connection

    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    client, _ = web.signed_in_clients("Compare")
    paths = addresses(connection)
    for path in paths:
        response = client.get(path)
        html = response.content.decode()
        html = re.sub(r'nonce="[^"]+"', 'nonce="N"', html)
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken" value="T"', html)
        name = re.sub(r"[^a-z0-9]+", "_", path.lower()).strip("_")
        (out / f"{name}.html").write_text(f"{response.status_code}\n{html}")
    print(f"{len(paths)} pages written to {out}")


if __name__ == "__main__":
    main()
