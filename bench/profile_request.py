"""What every signed-in request costs before a page is drawn: the bare view, a page answered from its kept drawing,
a 304 and an API list answered from its drawing, each asked again and again in this process (the page cache on),
on the England-scale data bench/web.py left (BENCH_DATABASE).

    BENCH_DATABASE=nhs_joint_bench .venv/bin/python bench/profile_request.py [--requests 400] [--profile]
    BENCH_DATABASE=nhs_joint_bench .venv/bin/python bench/profile_request.py --code /path/to/another/checkout

With ``--code``, run it from that checkout's directory (its modules are then the ones imported, none of this one's).

For each it prints the median CPU time of this process per request, the wall-clock time, the queries (their SQL
with --sql) and the Python function calls per request (cProfile's count: the load on the machine does not change
it); with ``--profile`` it writes the heaviest functions to bench/profiles/request-<target>.txt.
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# --code PATH: the portal's code from another checkout (the code before a change), this benchmark's own.
CODE = Path(sys.argv[sys.argv.index("--code") + 1]).resolve() if "--code" in sys.argv else ROOT
sys.path.insert(0, str(CODE))
sys.path.insert(0, str(ROOT / "bench"))

import web  # noqa: E402  (bench/web.py: its database)

sys.path.insert(0, str(CODE))  # before this checkout, which bench/web.py puts first

os.environ.update({k: v for k, v in web.ENV.items() if k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")})
os.environ["PAGE_CACHE_SECONDS"] = "300"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--profile", action="store_true", help="keep a profile of each target in bench/profiles/")
    parser.add_argument("--sql", action="store_true", help="print each target's queries")
    parser.add_argument("--only", help="only the targets whose label contains one of these (a,b)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "profiles"))
    parser.add_argument("--code", help="serve the portal's code of this checkout (the code before a change)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    page_client, api_client = web.signed_in_clients("Profile")
    bare_client = Client(HTTP_HOST="127.0.0.1")
    tag = page_client.get("/programmes/")["ETag"]
    targets = [
        ("bare view", bare_client, "/bench/ok", {}),
        ("kept page", page_client, "/programmes/", {}),
        ("304", page_client, "/programmes/", {"HTTP_IF_NONE_MATCH": tag}),
        ("kept API list", api_client, "/api/v1/programmes/", {}),
    ]
    out = Path(args.out)
    out.mkdir(exist_ok=True)
    for label, client, path, headers in targets:
        if args.only and not any(word in label for word in args.only.split(",")):
            continue
        for _ in range(20):  # the drawing kept, the process warm
            client.get(path, **headers)
        times, cpu = [], []
        for _ in range(args.requests):
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(path, **headers)
            times.append((time.perf_counter() - start) * 1000)
            cpu.append((time.process_time() - start_cpu) * 1000)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, **headers)
        queries = [query["sql"] for query in captured.captured_queries]
        # Python function calls per request, counted by cProfile: what the load on the machine does not change.
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(args.requests):
            client.get(path, **headers)
        profile.disable()
        stats = pstats.Stats(profile)
        print(
            f"{label} ({path}, {response.status_code}): CPU {statistics.median(cpu):.3f} ms, wall "
            f"{statistics.median(times):.3f} ms, {len(queries)} queries, "
            f"{stats.total_calls / args.requests:,.0f} function calls; load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
        if args.sql:
            for sql in queries:
                print("   ", sql[:300])
        if args.profile:
            text = io.StringIO()
            stats.stream = text
            stats.sort_stats("cumulative").print_stats(70)
            stats.sort_stats("tottime").print_stats(40)
            name = label.replace(" ", "-")
            if args.code:
                name += "-" + Path(args.code).name
            (out / f"request-{name}.txt").write_text(f"{label}: {path}, {args.requests} requests\n\n{text.getvalue()}")


if __name__ == "__main__":
    main()
