"""Throughput of the portal's pages and API lists against a bare Django view, under the same gunicorn.

    .venv/bin/python bench/web.py [--seconds 15] [--connections 8] [--rows 200]
    .venv/bin/python bench/web.py --scale 1 [--keep] [--write docs/performance-web.md]
    .venv/bin/python bench/web.py --scale 1 --keep --only search --baseline /work/main

``--only`` keeps the addresses whose label matches (and the bare view, first and last); ``--baseline`` serves
another checkout of the portal (the code before a change) beside this one, on the same database, and times
each address on both in turn, so that before and after are measured in one run under the same load.

It builds a database of its own (``--database``, or BENCH_DATABASE, else
nhs_joint_bench; dropped first), with ``--rows`` programmes or, with ``--scale``,
bench/scale.py's England-scale data at that scale (``--keep`` reuses the data a
previous run left, after applying any new migrations), starts
gunicorn with the portal's production-like settings (DEBUG off, persistent
connections), signs a Staff user in, and loads each address with wrk (Debian
package `wrk`) from this machine. It prints requests per second and each
address's ratio to the bare "ok" view, measured in the same run, and writes
them to bench/results/web-<date>.md. The bars: a signed-in 50-row list page
with the full layout at least 10% of the bare view; API lists at least 15%;
search, filtered lists, a programme's page and the dashboards at least 5%.

Pages are kept and revalidated by the versions of the tables they read (docs/page-versions.md); what those
versions cost a write is measured by bench/writes.py: about 0.9 ms more for a save and 2% more for an import
of 10,000 measurements, on this project's 2-core machine.
"""

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATABASE = os.environ.get("BENCH_DATABASE", "nhs_joint_bench")
BASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nhs_joint").rsplit("/", 1)[0]
ENV = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "DATABASE_URL": f"{BASE_URL}/{DATABASE}"}

# (label, address, headers kind, bar)
TARGETS = [
    ("bare Django view", "/bench/ok", None, None),
    ("programmes list page (50 rows, signed in)", "/programmes/", "session", 0.10),
    ("workstreams list page (50 rows, signed in)", "/workstreams/", "session", 0.10),
    ("programme detail page (signed in)", "/programmes/bench-programme-1/", "session", None),
    ("programmes API list (50 rows, token)", "/api/v1/programmes/", "token", 0.15),
    ("workstreams API list (50 rows, token)", "/api/v1/workstreams/", "token", 0.15),
]

# At England scale (bench/scale.py's data): every address of issue #15, each with its bar.
SCALE_TARGETS = [
    ("bare Django view", "/bench/ok", None, None),
    ("programmes list page (50 rows)", "/programmes/", "session", 0.10),
    ("workstreams list page (50 rows)", "/workstreams/", "session", 0.10),
    ("workstreams search", "/workstreams/?q=discharge", "session", 0.05),
    ("workstreams search, as typed", "/workstreams/?q=dischar", "session", 0.05),
    ("workstreams of a region", "/workstreams/?region=Y56", "session", 0.05),
    ("programme page", "/programmes/programme-1/", "session", 0.05),
    ("regional dashboard", "/regions/Y56/", "session", 0.05),
    ("national overview", "/regions/", "session", 0.05),
    ("programmes API list (50 rows)", "/api/v1/programmes/", "token", 0.15),
    ("workstreams API list (50 rows)", "/api/v1/workstreams/", "token", 0.15),
    ("measurements API list (50 rows)", "/api/v1/measurements/", "token", 0.15),
    ("workstreams API search", "/api/v1/workstreams/?q=discharge", "token", 0.05),
    # One address after another, each a different word (SEARCH_WORDS): run with PAGE_CACHE_SECONDS=0, so that
    # no drawing is kept and each request is drawn, as a first drawing is.
    ("search over 200 words", "/search/?q={word}", "session", 0.04),
    ("search API over 200 words", "/api/v1/search/?q={word}", "token", 0.04),
    ("bare Django view, again", "/bench/ok", None, None),
]


def search_words():
    """200 different things people search for: the scale data's words and NHS abbreviations, some as typed."""
    import csv

    import scale as scale_data

    words = list(scale_data.VOCABULARY[:120])
    with open(ROOT / "data" / "glossary" / "nhs_abbreviations.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    words += [row[0] for row in rows if row[0].isalnum()][:60]
    words += [w[: max(4, len(w) - 2)] for w in scale_data.VOCABULARY[120:140]]  # the last word as it is typed
    return list(dict.fromkeys(words))[:200]


def lua_paths(paths):
    """A wrk script that asks for each of ``paths`` in turn."""
    quoted = ",".join('"' + p.replace("\\", "").replace('"', "") + '"' for p in paths)
    return f"paths = {{{quoted}}}\ni = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format(nil, paths[i])\nend\n"


SIGN_IN = """
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from accounts.models import ApiToken, User
from organisations.models import NationalBody
user, _ = User.objects.get_or_create(username="bench.staff")
user.set_password("bench-password-1")
user.save()
user.groups.add(Group.objects.get(name="Staff"))
user.bodies.set(NationalBody.objects.filter(code__in=["NHSE", "NHSI"]))
session = SessionStore()
session["_auth_user_id"] = str(user.pk)
session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
session["_auth_user_hash"] = user.get_session_auth_hash()
session.create()
print(session.session_key, ApiToken.issue(user, name="Benchmark")[1])
"""


# The CSRF secret the benchmark's browser holds (32 letters and digits, as Django makes them).
CSRF_SECRET = "benchmarkcsrfsecret0123456789abc"


def prepare_scale(scale, keep):
    """bench/scale.py's England-scale data in this run's own database; a signed-in Staff user."""
    import psycopg2
    import scale as scale_data

    exists = False
    if keep:
        connection = psycopg2.connect(f"{BASE_URL}/postgres")
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE])
            exists = cursor.fetchone() is not None
        connection.close()
    if exists:
        manage("migrate", "--noinput")
    else:
        scale_data.fresh_database(DATABASE, env=ENV)
        scale_data.generate(scale, database=DATABASE)
    manage("rebuild_search")  # the scale data is written in bulk, past the search's signals
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SIGN_IN],
        cwd=ROOT,
        env=ENV,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return out[-2], out[-1]


def manage(*args):
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=ENV, check=True, stdout=subprocess.DEVNULL)


def prepare(rows):
    import psycopg2

    connection = psycopg2.connect(f"{BASE_URL}/postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {DATABASE}")
    connection.close()
    manage("migrate", "--noinput")
    manage("load_reference")
    script = f"""
import datetime as dt
from django.contrib.auth.models import Group
from django.contrib.sessions.backends.db import SessionStore
from accounts.models import ApiToken, User
from organisations.models import NationalBody
from programmes.models import Programme, Workstream
from regions.models import Region
nhse, nhsi = NationalBody.objects.get(code="NHSE"), NationalBody.objects.get(code="NHSI")
duty = nhse.duties.first()
regions = list(Region.objects.active())
programmes = Programme.objects.bulk_create([
    Programme(title=f"Bench programme {{n}}", slug=f"bench-programme-{{n}}", summary="A programme of the benchmark.",
              theme="bench", integration_stage="aligned", accountable_body=nhse, duty=duty, status="active",
              start_date=dt.date(2018, 4, 1))
    for n in range(1, {rows} + 1)])
Programme.bodies.through.objects.bulk_create(
    [Programme.bodies.through(programme=p, nationalbody=b) for p in programmes for b in (nhse, nhsi)])
workstreams = Workstream.objects.bulk_create([
    Workstream(programme=p, title=f"Workstream {{i}} of {{p.title}}", description="Work of the benchmark.",
               body=nhse, audiences=["providers"], start_date=dt.date(2018, 4, 1))
    for p in programmes for i in range(3)])
Workstream.regions.through.objects.bulk_create(
    [Workstream.regions.through(workstream=w, region=r) for w in workstreams for r in regions[:3]])
user = User.objects.create_user("bench.staff", password="bench-password-1")
user.groups.add(Group.objects.get(name="Staff"))
user.bodies.set([nhse, nhsi])
session = SessionStore()
session["_auth_user_id"] = str(user.pk)
session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
session["_auth_user_hash"] = user.get_session_auth_hash()
session.create()
print(session.session_key, ApiToken.issue(user, name="Benchmark")[1])
"""
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=ENV,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return out[-2], out[-1]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wrk(url, headers, seconds, connections):
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        command += ["-H", header]
    if "{word}" in url:  # each request another word
        from urllib.parse import quote

        base, path = url.split("/", 3)[2], "/" + url.split("/", 3)[3]
        script = Path(f"/tmp/bench-web-{os.getpid()}.lua")
        script.write_text(lua_paths([path.replace("{word}", quote(w)) for w in search_words()]))
        command += ["-s", str(script)]
        url = f"http://{base}/"
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    p50 = re.search(r"50%\s+([\d.]+\w+)", output).group(1)
    p99 = re.search(r"99%\s+([\d.]+\w+)", output).group(1)
    return rps, errors, p50, p99


def serve(root, workers):
    """gunicorn serving the checkout at ``root`` on a free loopback port: (process, base address)."""
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "nhs_joint.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--no-control-socket",
            "--log-level",
            "warning",
        ],
        cwd=root,
        env=ENV,
    )
    return server, f"http://127.0.0.1:{port}"


def page_weight(url, headers):
    request = urllib.request.Request(url, headers=dict(h.split(": ", 1) for h in headers))
    with urllib.request.urlopen(request, timeout=60) as response:
        assert response.status == 200, (url, response.status)
        return len(response.read())


def main():
    parser = argparse.ArgumentParser(description="Throughput of the portal's pages against a bare Django view.")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rows", type=int, default=200, help="programmes to create (three workstreams each)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn worker processes")
    parser.add_argument("--scale", type=float, help="bench/scale.py's England-scale data at this scale (1: full)")
    parser.add_argument("--keep", action="store_true", help="with --scale: reuse the data a previous run left")
    parser.add_argument("--write", help="also write the results, as Markdown, to this file")
    parser.add_argument("--only", help="only the addresses whose label matches this regular expression")
    parser.add_argument("--baseline", help="another checkout of the portal, timed beside this one (before/after)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is needed (Debian: apt-get install wrk)")

    if args.scale:
        session, token = prepare_scale(args.scale, args.keep)
        targets = SCALE_TARGETS
    else:
        session, token = prepare(args.rows)
        targets = TARGETS
    load_before = os.getloadavg()[0]
    if args.only:
        targets = [t for t in targets if t[1] == "/bench/ok" or re.search(args.only, t[0])]
    servers = {"": serve(ROOT, args.workers)}
    if args.baseline:
        servers[" (baseline)"] = serve(Path(args.baseline).resolve(), args.workers)
        targets = [t for target in targets for t in ([target] if target[1] == "/bench/ok" else [target, target])]
    try:
        for _, base in servers.values():
            for _ in range(100):
                try:
                    urllib.request.urlopen(f"{base}/bench/ok", timeout=1)
                    break
                except OSError:
                    time.sleep(0.2)
        headers = {
            None: [],
            # A browser sends its CSRF secret too, from the first page it was given.
            "session": [f"Cookie: sessionid={session}; csrftoken={CSRF_SECRET}"],
            "token": [f"Authorization: Token {token}"],
        }
        base = servers[""][1]
        # Check every address answers 200 before timing it, and weigh it.
        weights = {
            path: page_weight(base + path.replace("{word}", search_words()[0]), headers[kind])
            for _, path, kind, _ in targets
        }
        results = []
        seen = set()
        for label, path, kind, bar in targets:
            # With a baseline, each address is timed on this checkout, then on the baseline.
            suffix = " (baseline)" if (label, path) in seen and path != "/bench/ok" else ""
            seen.add((label, path))
            base = servers[suffix][1]
            wrk(base + path, headers[kind], 3, args.connections)  # warm up every worker
            rps, errors, p50, p99 = wrk(base + path, headers[kind], args.seconds, args.connections)
            results.append((label + suffix, path, rps, errors, p50, p99, weights[path], bar))
            print(
                f"{label}{suffix}: {rps:,.1f}/s p50 {p50} p99 {p99} {weights[path]:,} bytes, {errors} errors",
                flush=True,
            )
    finally:
        for server, _ in servers.values():
            server.terminate()
            server.wait(timeout=30)

    load_after = os.getloadavg()[0]
    # The bare view, measured first (and, at scale, again last): each ratio is to their mean.
    bare_runs = [r[2] for r in results if r[1] == "/bench/ok"]
    bare = sum(bare_runs) / len(bare_runs)
    data = (
        f"bench/scale.py's data at scale {args.scale:g}"
        if args.scale
        else f"{args.rows} programmes, {args.rows * 3} workstreams"
    )
    lines = [
        f"# Web throughput, {dt.date.today():%-d %B %Y}",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {_cpu()}, Python {platform.python_version()}, "
        f"gunicorn {args.workers} sync workers, wrk 2 threads {args.connections} connections "
        f"{args.seconds}s per address on the same machine; {data}. Ratios are to the mean of the bare view's "
        f"runs ({', '.join(f'{r:,.0f}' for r in bare_runs)} requests/s). Load average (1 minute) at the start "
        f"and the end: {load_before:.1f}, {load_after:.1f}.",
        "",
        "| address | requests/s | median | p99 | ratio to the bare view | bar | page | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    failed = False
    for label, path, rps, errors, p50, p99, weight, bar in results:
        ratio = rps / bare
        verdict = "" if bar is None else (f"{bar:.0%} ✓" if ratio >= bar else f"{bar:.0%} ✗")
        failed |= bar is not None and ratio < bar
        lines.append(
            f"| {label} `{path}` | {rps:,.0f} | {p50} | {p99} | {ratio:.3f} | {verdict} | "
            f"{weight / 1024:,.0f} KB | {errors} |"
        )
    report = "\n".join(lines) + "\n"
    print(report)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"web-{dt.date.today():%Y-%m-%d}.md").write_text(report)
    if args.write:
        Path(args.write).write_text(report)
    return 1 if failed else 0


def _cpu():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    sys.exit(main())
