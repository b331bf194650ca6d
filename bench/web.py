"""Throughput of the portal's pages and API lists against a bare Django view, under the same gunicorn.

    .venv/bin/python bench/web.py [--seconds 15] [--connections 8] [--rows 200]

It builds a database of its own (nhs_joint_bench, dropped first), starts
gunicorn with the portal's production-like settings (DEBUG off, persistent
connections), signs a Staff user in, and loads each address with wrk (Debian
package `wrk`) from this machine. It prints requests per second and each
address's ratio to the bare "ok" view, measured in the same run, and writes
them to bench/results/web-<date>.md. The bar: a signed-in 50-row list page
with the full layout at least 10% of the bare view; API lists at least 15%.
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
DATABASE = "nhs_joint_bench"
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
        [sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=ENV, check=True,
        capture_output=True, text=True,
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
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    p50 = re.search(r"50%\s+([\d.]+\w+)", output).group(1)
    return rps, int(non_2xx.group(1)) if non_2xx else 0, p50


def main():
    parser = argparse.ArgumentParser(description="Throughput of the portal's pages against a bare Django view.")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rows", type=int, default=200, help="programmes to create (three workstreams each)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="gunicorn worker processes")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is needed (Debian: apt-get install wrk)")

    session, token = prepare(args.rows)
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "nhs_joint.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--no-control-socket", "--log-level", "warning"],
        cwd=ROOT, env=ENV,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/bench/ok", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        headers = {
            None: [],
            "session": [f"Cookie: sessionid={session}"],
            "token": [f"Authorization: Token {token}"],
        }
        # Check every address answers 200 before timing it.
        for _label, path, kind, _ in TARGETS:
            request = urllib.request.Request(base + path, headers=dict(h.split(": ", 1) for h in headers[kind]))
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200, (path, response.status)
        results = []
        for label, path, kind, bar in TARGETS:
            wrk(base + path, headers[kind], 3, args.connections)  # warm up every worker
            rps, errors, p50 = wrk(base + path, headers[kind], args.seconds, args.connections)
            results.append((label, path, rps, errors, p50, bar))
    finally:
        server.terminate()
        server.wait(timeout=30)

    bare = results[0][2]
    lines = [
        f"# Web throughput, {dt.date.today():%-d %B %Y}",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {_cpu()}, Python {platform.python_version()}, "
        f"gunicorn {args.workers} sync workers, wrk 2 threads {args.connections} connections "
        f"{args.seconds}s per address on the same machine; {args.rows} programmes, {args.rows * 3} workstreams.",
        "",
        "| address | requests/s | median latency | ratio to the bare view | bar | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    failed = False
    for label, path, rps, errors, p50, bar in results:
        ratio = rps / bare
        verdict = "" if bar is None else (f"{bar:.0%} ✓" if ratio >= bar else f"{bar:.0%} ✗")
        failed |= bar is not None and ratio < bar
        lines.append(f"| {label} `{path}` | {rps:,.0f} | {p50} | {ratio:.1%} | {verdict} | {errors} |")
    report = "\n".join(lines) + "\n"
    print(report)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"web-{dt.date.today():%Y-%m-%d}.md").write_text(report)
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
