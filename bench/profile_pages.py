"""Where each first drawing spends its time: every --rotate target of bench/web.py drawn in this process, with
the page cache off, under cProfile, on the England-scale data bench/web.py left (BENCH_DATABASE).

    BENCH_DATABASE=nhs_joint_bench .venv/bin/python bench/profile_pages.py [--requests 20] [--only workstreams]

For each target it draws ``--requests`` of its addresses once without the profiler (median milliseconds and
queries per request) and once under it, and writes the profile's heaviest functions to
bench/profiles/<target>.txt: what docs/performance.md's figures of a first drawing come from.
"""

import argparse
import cProfile
import io
import os
import pstats
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import web  # noqa: E402  (bench/web.py: its targets, addresses and database)

os.environ.update({k: v for k, v in web.ENV.items() if k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")})
os.environ["PAGE_CACHE_SECONDS"] = "0"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--only", help="only the targets whose label contains one of these (a,b)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "profiles"))
    parser.add_argument("--no-profile", action="store_true", help="only the times and queries, no profile")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    page_client, api_client = web.signed_in_clients("Profile")
    regions = web.regions_of_database()
    out = Path(args.out)
    out.mkdir(exist_ok=True)
    summary = []
    for label, template, kind, _bar in web.ROTATE_TARGETS:
        if kind is None or (args.only and not any(w in label for w in args.only.split(","))):
            continue
        client = page_client if kind == "session" else api_client
        paths = web.rotate_paths(template, regions)[: args.requests]
        # Each address drawn twice: first in this process (nothing kept yet), then as the next person of a
        # crowd finds it (the parts and deep pages' orders kept per data version: nhs_joint/parts.py, page_ids.py).
        rounds = []
        for _ in range(2):
            times, cpu, queries = [], [], []
            for path in paths:
                with CaptureQueriesContext(connection) as captured:
                    start, start_cpu = time.perf_counter(), time.process_time()
                    response = client.get(path)
                    times.append((time.perf_counter() - start) * 1000)
                    cpu.append((time.process_time() - start_cpu) * 1000)
                assert response.status_code == 200, (path, response.status_code)
                queries.append(len(captured))
            rounds.append((statistics.median(times), statistics.median(cpu), sorted(set(queries))))
        (first, first_cpu, first_queries), (median, median_cpu, queries) = rounds
        line = (
            f"{label}: median {median:.1f} ms, of it {median_cpu:.1f} ms of this process's CPU (Python), "
            f"queries {queries}; drawn first in the process: {first:.1f} ms, {first_cpu:.1f} ms CPU, queries "
            f"{first_queries}; load {os.getloadavg()[0]:.1f}"
        )
        if args.no_profile:
            summary.append((label, median, median_cpu, queries))
            print(line, flush=True)
            continue
        profile = cProfile.Profile()
        profile.enable()
        for path in paths:
            client.get(path)
        profile.disable()
        text = io.StringIO()
        stats = pstats.Stats(profile, stream=text)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
        name = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        (out / f"{name}.txt").write_text(
            f"{label}: {template}, {len(paths)} addresses, drawn in process with the page cache off\n"
            + line
            + "\n\n"
            + text.getvalue()
        )
        summary.append((label, median, median_cpu, queries))
        print(line, flush=True)
    return summary


if __name__ == "__main__":
    main()
