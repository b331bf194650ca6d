"""Where PostgreSQL spends a first drawing's time: every query of bench/web.py's --rotate targets, drawn in this
process with the page cache off, run again under EXPLAIN (ANALYZE, BUFFERS) on the England-scale data
bench/web.py left (BENCH_DATABASE).

    BENCH_DATABASE=nhs_joint_bench_perf .venv/bin/python bench/explain_pages.py --only "workstreams search"
    BENCH_DATABASE=nhs_joint_bench_perf .venv/bin/python bench/explain_pages.py --only "search page" --plans 2

For each target it draws ``--requests`` of its addresses (all of them unless given), keeps each query with its
parameters, and runs each again with EXPLAIN (ANALYZE, BUFFERS): per query of the page (by its place in the
page's queries) the median, 90th percentile and largest execution and planning time in milliseconds and the
buffers it read, and the plans of the slowest addresses (``--plans``). Reads only: nothing is written but the
signed-in session of the benchmark's user.
"""

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import web  # noqa: E402  (bench/web.py: its targets, addresses and database)

os.environ.update({k: v for k, v in web.ENV.items() if k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")})
os.environ["PAGE_CACHE_SECONDS"] = "0"


def quantile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", required=True, help="the targets whose label contains one of these (a,b)")
    parser.add_argument("--requests", type=int, help="addresses per target (all of them unless given)")
    parser.add_argument("--plans", type=int, default=1, help="the plans of this many slowest addresses per query")
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection

    page_client, api_client = web.signed_in_clients("Explain")
    regions = web.regions_of_database()

    for label, template, kind, _bar in web.ROTATE_TARGETS:
        if kind is None or not any(w in label for w in args.only.split(",")):
            continue
        client = page_client if kind == "session" else api_client
        paths = web.rotate_paths(template, regions)[: args.requests]
        client.get(paths[0])  # the process's first drawing (templates, the glossary) is not a first drawing's
        by_place = {}  # place in the page's queries -> [(execution ms, planning ms, buffers, path, plan)]
        for path in paths:
            captured = []

            def keep(execute, sql, params, many, context, captured=captured):
                captured.append((sql, params))
                return execute(sql, params, many, context)

            with connection.execute_wrapper(keep):
                response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            for place, (sql, params) in enumerate(captured):
                if not sql.lstrip().upper().startswith(("SELECT", "WITH", "(")):
                    continue
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params)
                    explained = cursor.fetchone()[0]
                    explained = json.loads(explained) if isinstance(explained, str) else explained
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                    text = "\n".join(row[0] for row in cursor.fetchall())
                top = explained[0]
                plan = top["Plan"]
                buffers = plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0)
                by_place.setdefault((place, " ".join(sql.split())[:110]), []).append(
                    (top["Execution Time"], top["Planning Time"], buffers, path, text)
                )
        print(f"\n## {label}: {template}, {len(paths)} addresses, load {os.getloadavg()[0]:.1f}")
        total = [0.0] * len(paths)
        for (place, head), runs in sorted(by_place.items()):
            execution = [r[0] for r in runs]
            planning = [r[1] for r in runs]
            for i, r in enumerate(runs[: len(paths)]):
                total[i] += r[0] + r[1]
            print(
                f"query {place}: execution median {statistics.median(execution):.2f} ms, p90 "
                f"{quantile(execution, 0.9):.2f}, max {max(execution):.2f}; planning median "
                f"{statistics.median(planning):.2f} ms; buffers median {statistics.median(r[2] for r in runs):.0f}"
                f" ({len(runs)} runs)\n    {head}"
            )
        print(
            f"all queries (execution + planning) per address: median {statistics.median(total):.2f} ms, p90 "
            f"{quantile(total, 0.9):.2f}, max {max(total):.2f}"
        )
        for (place, _head), runs in sorted(by_place.items()):
            if statistics.median(r[0] + r[1] for r in runs) < 1.0:
                continue
            for execution, planning, _buffers, path, text in sorted(runs, key=lambda r: -r[0])[: args.plans]:
                print(f"\n### query {place}, {path}: {execution:.2f} ms (+{planning:.2f} planning)\n{text}")


if __name__ == "__main__":
    main()
