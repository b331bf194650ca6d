"""Throughput of the portal's pages and API lists against a bare Django view, under the same gunicorn.

    .venv/bin/python bench/web.py [--seconds 15] [--connections 8] [--rows 200]
    .venv/bin/python bench/web.py --scale 1 [--keep] [--write docs/performance-web.md]
    .venv/bin/python bench/web.py --scale 1 --keep --only search --baseline /work/main

``--only`` keeps the addresses whose label matches (and the bare view, first and last); ``--baseline`` serves
another checkout of the portal (the code before a change) beside this one, on the same database, and times
each address on both in turn, so that before and after are measured in one run under the same load.
    .venv/bin/python bench/web.py --scale 1 --keep --rotate [--seconds 10] [--baseline /work/before]

(``--rotate --baseline``: each target rotating on the other checkout, then on this one, in the same run.)

With ``--rotate`` (at England scale) every target rotates through hundreds of different addresses (list pages 1
to 400, 600 programmes' pages, 154 search words for the lists, 200 things typed into the search page, 7 regions'
dashboards over 4 windows), with
PAGE_CACHE_SECONDS=0, so that every request is a first drawing, as a crowd's is; that is the figure this
portal reports. Then a second server with the page cache on asks for one address of each target again and
again: the cached figure, reported beside it and labelled so. The load average of the machine is printed
with every figure (the benchmark shares two cores with whatever else runs).

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


# --rotate: (label, address template, headers kind, bar); each template is filled by rotate_paths().
ROTATE_TARGETS = [
    ("bare Django view", "/bench/ok", None, None),
    ("programmes list page", "/programmes/?page={page40}", "session", 0.06),
    ("workstreams list page", "/workstreams/?page={page}", "session", 0.06),
    ("workstreams search", "/workstreams/?q={word}", "session", 0.04),
    ("workstreams of a region", "/workstreams/?region={region}&page={page20}", "session", 0.04),
    ("programme page", "/programmes/{slug}/", "session", 0.04),
    ("regional dashboard", "/regions/{region}/?months={months}", "session", 0.04),
    ("national overview", "/regions/", "session", 0.06),
    ("programmes API list", "/api/v1/programmes/?page={page40}", "token", 0.08),
    ("workstreams API list", "/api/v1/workstreams/?page={page}", "token", 0.08),
    ("measurements API list", "/api/v1/measurements/?page={page}", "token", 0.08),
    ("workstreams API search", "/api/v1/workstreams/?q={word}", "token", 0.04),
    ("search page", "/search/?q={typed}", "session", 0.05),  # 200 different things typed (search_words)
    ("bare Django view, again", "/bench/ok", None, None),
]


def rotate_paths(template, regions):
    """Every address a --rotate target goes through, in a fixed shuffled order (no two neighbours alike)."""
    import random

    import scale as scale_data

    if "{" not in template:
        return [template]
    values = {
        "page": [{"page": n} for n in range(1, 401)],
        "page40": [{"page40": n} for n in range(1, 41)],
        "word": [{"word": w} for w in scale_data.VOCABULARY[:154]],
        "typed": [{"typed": w} for w in search_words()],
        "slug": [{"slug": f"programme-{n}"} for n in range(0, 1800, 3)],  # 600 programmes
        "months": [{"region": r, "months": m} for r in regions for m in (12, 24, 36, 60)],
        "page20": [{"region": r, "page20": n} for r in regions for n in range(1, 21)],
    }
    key = next(k for k in ("months", "page20", "page40", "page", "word", "typed", "slug") if "{" + k + "}" in template)
    paths = [template.format(**v) for v in values[key]]
    random.Random(31).shuffle(paths)
    return paths


def regions_of_database():
    import psycopg2

    connection = psycopg2.connect(f"{BASE_URL}/{DATABASE}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT ods_code FROM regions_region WHERE active ORDER BY ods_code")
        codes = [code for (code,) in cursor.fetchall()]
    connection.close()
    return codes


def load_average():
    return os.getloadavg()[0]


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
    """A wrk script that asks for each of ``paths`` in turn; each of wrk's threads starts at its own place."""
    quoted = ",".join('"' + p.replace("\\", "").replace('"', "") + '"' for p in paths)
    return (
        f"paths = {{{quoted}}}\n"
        "local threads = 0\n"
        "function setup(thread)\n  threads = threads + 1\n  thread:set('id', threads)\nend\n"
        "function init(args)\n  i = ((id or 1) - 1) * math.floor(#paths / 2)\nend\n"
        "request = function()\n  i = i % #paths + 1\n  return wrk.format(nil, paths[i])\nend\n"
    )


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


def prepare_scale(scale, keep, as_is=False):
    """bench/scale.py's England-scale data in this run's own database; a signed-in Staff user. ``as_is``: the
    kept database measured as it is (no migrations, no search rebuild: others may be measuring it too)."""
    import psycopg2
    import scale as scale_data

    exists = False
    if keep:
        connection = psycopg2.connect(f"{BASE_URL}/postgres")
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE])
            exists = cursor.fetchone() is not None
        connection.close()
    if exists and not as_is:
        manage("migrate", "--noinput")
    elif not exists:
        scale_data.fresh_database(DATABASE, env=ENV)
        scale_data.generate(scale, database=DATABASE)
    if not (exists and as_is):
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


def wrk(url, headers, seconds, connections, paths=None):
    """wrk against ``url``, or, with ``paths``, against each of them in turn: (requests/s, errors, p50, p99)."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for header in headers:
        command += ["-H", header]
    if paths is None and "{word}" in url:  # each request another word
        from urllib.parse import quote

        base, path = url.split("/", 3)[2], "/" + url.split("/", 3)[3]
        paths = [path.replace("{word}", quote(w)) for w in search_words()]
        url = f"http://{base}/"
    if paths is not None:
        script = Path(f"/tmp/bench-web-{os.getpid()}.lua")
        script.write_text(lua_paths(paths))
        command += ["-s", str(script)]
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


def serve(root, workers, env=None):
    """gunicorn serving the checkout at ``root`` on a free loopback port, with ``env`` (ENV unless given):
    (process, base address)."""
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
        env=ENV if env is None else env,
    )
    return server, f"http://127.0.0.1:{port}"


def signed_in_clients(token_name):
    """Django test clients in this process for bench/scale.py's Staff user: (a page client signed in with a session
    and the CSRF cookie a browser holds, an API client with a token named ``token_name``). Django must be set up."""
    from django.conf import settings
    from django.test import Client

    from accounts.models import ApiToken, User

    settings.ALLOWED_HOSTS = ["*"]
    user = User.objects.get(username="bench.staff")
    _, token = ApiToken.issue(user, name=token_name)
    page_client = Client(HTTP_HOST="127.0.0.1")
    page_client.force_login(user)
    page_client.cookies["csrftoken"] = CSRF_SECRET
    return page_client, Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token}")


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
    parser.add_argument(
        "--as-is",
        action="store_true",
        help="with --keep: measure the kept database as it is, without migrating it or rebuilding its search",
    )
    parser.add_argument("--write", help="also write the results, as Markdown, to this file")
    parser.add_argument(
        "--only",
        help="only the addresses whose label matches this regular expression (with --rotate: the targets whose label "
        "contains one of these, a,b)",
    )
    parser.add_argument("--baseline", help="another checkout of the portal, timed beside this one (before/after)")
    parser.add_argument(
        "--rotate",
        action="store_true",
        help="with --scale: rotate through hundreds of addresses per target with the page cache off",
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench: wrk is needed (Debian: apt-get install wrk)")
    if args.rotate:
        if not args.scale:
            sys.exit("bench: --rotate needs --scale")
        return rotate(args)

    if args.scale:
        session, token = prepare_scale(args.scale, args.keep, args.as_is)
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


def start_server(workers, env, root=ROOT):
    """gunicorn serving the checkout at ``root`` on a free loopback port with ``env``: (process, base address),
    once it answers."""
    server, base = serve(root, workers, env)
    deadline = time.monotonic() + 120  # a loaded machine starts gunicorn slowly
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/bench/ok", timeout=5)
            break
        except OSError:
            time.sleep(0.5)
    return server, base


def stop_server(server):
    server.terminate()
    server.wait(timeout=30)


def _ms(text):
    """wrk's latency (``12.34ms``, ``1.02s``, ``850.00us``) in milliseconds."""
    number, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def time_rotating(args, mode, base, label, paths, headers, results):
    """One target on one server: first drawings rotating through every address (``paths``), or with the page
    cache on (``cached``) one address again and again; into ``results[(mode, label)]``."""
    if mode == "cached":
        weights = [page_weight(base + paths[0], headers)]
        paths = paths[:1]
    else:
        # Every address answers 200 before any is timed (a sample: the first, the last, a third).
        weights = [page_weight(base + p, headers) for p in (paths[0], paths[len(paths) // 3], paths[-1])]
    seconds = max(3, args.seconds // 2) if mode == "cached" else args.seconds
    wrk(base + "/", headers, 3, args.connections, paths=paths)  # warm up every worker
    load = load_average()
    rps, errors, p50, p99 = wrk(base + "/", headers, seconds, args.connections, paths=paths)
    load = (load + load_average()) / 2
    results[(mode, label)] = (rps, errors, p50, p99, load, sum(weights) / len(weights))
    print(
        f"{mode} {label}: {rps:,.1f}/s p50 {p50} p99 {p99} {errors} errors, {len(paths)} addresses, load {load:.1f}",
        flush=True,
    )


def rotate(args):
    """First drawings for a crowd: each target rotates through its addresses with the page cache off; then
    the cached figure (one address again and again, the page cache on), beside it."""
    from urllib.parse import quote

    session, token = prepare_scale(args.scale, args.keep, args.as_is)
    regions = regions_of_database()
    headers = {
        None: [],
        "session": [f"Cookie: sessionid={session}; csrftoken={CSRF_SECRET}"],
        "token": [f"Authorization: Token {token}"],
    }
    targets = ROTATE_TARGETS
    if args.only:
        wanted = args.only.split(",")
        targets = [t for t in targets if t[3] is None or any(w in t[0] for w in wanted)]
    paths = {label: [quote(p, safe="/?=&") for p in rotate_paths(t, regions)] for label, t, _, _ in targets}

    results = {}
    modes = [("first", {**ENV, "PAGE_CACHE_SECONDS": "0"}, ROOT)]
    if args.baseline:  # the code before a change, timed just before this code, target by target
        modes.insert(0, ("before", {**ENV, "PAGE_CACHE_SECONDS": "0"}, Path(args.baseline).resolve()))
    modes.append(("cached", {**ENV, "PAGE_CACHE_SECONDS": "300"}, ROOT))
    servers = {mode: start_server(args.workers, env, root) for mode, env, root in modes[:-1]}
    try:
        for label, _template, kind, _bar in targets:
            for mode in servers:
                time_rotating(args, mode, servers[mode][1], label, paths[label], headers[kind], results)
    finally:
        for server, _base in servers.values():
            stop_server(server)
    for mode, env, root in modes[-1:]:
        server, base = start_server(args.workers, env, root)
        try:
            for label, _template, kind, _bar in targets:
                time_rotating(args, mode, base, label, paths[label], headers[kind], results)
        finally:
            stop_server(server)

    def bare(mode):
        runs = [results[(mode, label)][0] for label, t, _, _ in targets if t == "/bench/ok"]
        return runs, sum(runs) / len(runs)

    first_runs, first_bare = bare("first")
    cached_runs, cached_bare = bare("cached")
    before = bare("before")[1] if args.baseline else None
    lines = [
        f"# First drawings for a crowd, {dt.datetime.now(dt.UTC):%-d %B %Y %H:%M} UTC",
        "",
        f"`bench/web.py --scale {args.scale:g} --rotate --seconds {args.seconds}` on {platform.machine()}, "
        f"{os.cpu_count()} cores, {_cpu()}, Python {platform.python_version()}; gunicorn {args.workers} sync workers, "
        f"wrk 2 threads {args.connections} connections on the same machine; bench/scale.py's data at scale "
        f"{args.scale:g}. **First drawings**: `PAGE_CACHE_SECONDS=0`, each target rotating through its addresses "
        f"(3 s of warm-up, then {args.seconds} s); ratios to the mean of the bare view's runs in the same server "
        f"({', '.join(f'{r:,.0f}' for r in first_runs)} requests/s). **Cached** (labelled): the page cache on, one "
        f"address of the target again and again ({max(3, args.seconds // 2)} s); ratios to that server's bare view "
        f"({', '.join(f'{r:,.0f}' for r in cached_runs)} requests/s). Load: the machine's 1-minute load average "
        "during each figure (two cores; other work shares them).",
        "",
        *(
            [
                "",
                f"**Before** (`--baseline {args.baseline}`): the same addresses served by that checkout, timed just "
                "before this code's, target by target, in the same run; its ratio is to its own bare view's runs.",
            ]
            if args.baseline
            else []
        ),
        "",
        "| address | addresses | first drawings: req/s | p50 | p99 | **ratio** | bar | load | "
        + ("before: ratio (p99) | " if args.baseline else "")
        + "cached (one address): ratio | page | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if args.baseline else "") + "---:|---:|---:|",
    ]
    failed = False
    for label, template, _, bar in targets:
        rps, errors, p50, p99, load, weight = results[("first", label)]
        c_rps, c_errors, *_ = results[("cached", label)]
        ratio = rps / first_bare
        ok = bar is None or (ratio >= bar and _ms(p99) < 500 and errors == 0)
        failed |= not ok
        verdict = "" if bar is None else f"{bar:.2f} {'✓' if ratio >= bar else '✗'}"
        lines.append(
            f"| {label} `{template}` | {len(paths[label])} | {rps:,.0f} | {p50} | {p99} | **{ratio:.3f}** | {verdict} | "
            f"{load:.1f} | "
            + (f"{results[('before', label)][0] / before:.3f} ({results[('before', label)][3]}) | " if before else "")
            + f"{c_rps / cached_bare:.3f} | {weight / 1024:,.0f} KB | {errors + c_errors} |"
        )
    report = "\n".join(lines) + "\n"
    print(report)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"web-rotate-{dt.datetime.now(dt.UTC):%Y-%m-%d-%H%M}.md").write_text(report)
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
