"""England-scale data and the cost of both reports at a quarter, half and full scale.

    .venv/bin/python bench/scale.py [--scales 0.25,0.5,1] [--write docs/performance.md]
    .venv/bin/python bench/scale.py --scale 10 [--keep] [--write bench/results/scale-10.md]

With ``--scale`` one scale is built (or, with ``--keep``, the data a previous run left is reused) and the
report lists how long the data took to generate, the consistency and duplication runs' times and peak
memory (each in a process of its own), and how long each web address of ``bench/web.py --rotate`` takes to
draw in process on that data (median of a few different addresses each, the page cache off).

Full scale: 7 regions, 2,000 programmes, 20,000 workstreams, 5,000
appointments and 300,000 measurements (with deliveries, expectations, agreed
measures and Board approvals to match). Each scale gets a fresh database
(nhs_joint_scale, or SCALE_DATABASE), built from the migrations and load_reference, then filled
here with deterministic random data: workstream wording is drawn from an NHS
vocabulary, and 1% of workstreams are near-copies of another programme's, so
that the duplication report has real work to find. Each report runs once, in
a process of its own, through reports.services.execute (as a worker would);
the time printed is the report's own, not Django's start-up.
"""

import argparse
import datetime as dt
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
from psycopg2.extras import execute_values

ROOT = Path(__file__).resolve().parents[1]
# Each engineer's benchmarks may run at once on one server: SCALE_DATABASE (or BENCH_DATABASE) names a database of its own.
DATABASE = os.environ.get("SCALE_DATABASE") or os.environ.get("BENCH_DATABASE", "nhs_joint_scale")
SERVER = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/nhs_joint").rsplit("/", 1)[0]
ENV = {**os.environ, "DJANGO_SETTINGS_MODULE": "nhs_joint.settings.base", "DATABASE_URL": f"{SERVER}/{DATABASE}"}

VOCABULARY = [
    "access",
    "acute",
    "admissions",
    "adult",
    "advice",
    "agency",
    "alliance",
    "ambulance",
    "anticipatory",
    "assessment",
    "assurance",
    "audit",
    "autism",
    "bed",
    "bereavement",
    "budget",
    "cancer",
    "capacity",
    "capital",
    "cardiology",
    "care",
    "carers",
    "case",
    "children",
    "chronic",
    "clinical",
    "clinicians",
    "coding",
    "commissioning",
    "community",
    "complaints",
    "consultant",
    "continuity",
    "contract",
    "coordination",
    "coronary",
    "costs",
    "crisis",
    "data",
    "day",
    "deficit",
    "delayed",
    "dementia",
    "dental",
    "dermatology",
    "diabetes",
    "diagnostic",
    "digital",
    "discharge",
    "district",
    "domiciliary",
    "early",
    "efficiency",
    "elective",
    "emergency",
    "endoscopy",
    "engagement",
    "equality",
    "estates",
    "evaluation",
    "evidence",
    "frailty",
    "funding",
    "general",
    "governance",
    "guidance",
    "health",
    "hospital",
    "imaging",
    "improvement",
    "incentives",
    "inclusion",
    "infection",
    "information",
    "inpatient",
    "integrated",
    "intervention",
    "learning",
    "length",
    "liaison",
    "local",
    "maternity",
    "medicines",
    "mental",
    "midwifery",
    "model",
    "monitoring",
    "musculoskeletal",
    "neonatal",
    "network",
    "nursing",
    "obesity",
    "occupational",
    "oncology",
    "operational",
    "ophthalmology",
    "orthopaedic",
    "outcomes",
    "outpatient",
    "oversight",
    "paediatric",
    "palliative",
    "pathway",
    "patient",
    "payment",
    "peer",
    "performance",
    "pharmacy",
    "physiotherapy",
    "planning",
    "population",
    "practice",
    "prevention",
    "primary",
    "procurement",
    "productivity",
    "provider",
    "quality",
    "radiology",
    "recovery",
    "referral",
    "regional",
    "rehabilitation",
    "reporting",
    "respiratory",
    "review",
    "risk",
    "rota",
    "safeguarding",
    "safety",
    "screening",
    "secondary",
    "self",
    "service",
    "sickness",
    "social",
    "specialised",
    "staffing",
    "standards",
    "stroke",
    "support",
    "surgery",
    "sustainability",
    "system",
    "targets",
    "technology",
    "telehealth",
    "theatre",
    "therapy",
    "training",
    "transformation",
    "transport",
    "triage",
    "trust",
    "urgent",
    "vaccination",
    "variation",
    "virtual",
    "waiting",
    "ward",
    "weekend",
    "wellbeing",
    "winter",
    "workforce",
]
AUDIENCES = ["providers", "commissioners", "local_systems"]


def sentence(rng, words):
    return " ".join(rng.choice(VOCABULARY) for _ in range(words))


def connect(name):
    return psycopg2.connect(f"{SERVER}/{name}")


def manage(*args, env=None):
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env or ENV, check=True, stdout=subprocess.DEVNULL
    )


def fresh_database(database=None, env=None):
    """Drop and build ``database`` (this run's own) from the migrations and load_reference."""
    database = database or DATABASE
    admin = connect("postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {database}")
    admin.close()
    manage("migrate", "--noinput", env=env)
    manage("load_reference", env=env)


def ids(cursor, sql):
    cursor.execute(sql)
    return dict(cursor.fetchall())


def generate(scale, seed=2019, database=None):
    rng = random.Random(seed)
    n_programmes = int(2000 * scale)
    n_appointments = int(5000 * scale)
    months = int(375 * scale)  # 100 measures x 8 areas x months = 300,000 at full scale
    connection = connect(database or DATABASE)
    stages, stage_started = [], time.perf_counter()

    def stage(name):
        nonlocal stage_started
        now = time.perf_counter()
        stages.append((name, round(now - stage_started, 1)))
        stage_started = now

    with connection, connection.cursor() as cursor:
        # Written in bulk, consistent by construction: no row trigger per row (the foreign keys' deferred
        # checks, queued per row until the commit, and the data versions' notes); the versions of the tables
        # written are given once, at the commit, below.
        cursor.execute("SET LOCAL session_replication_role = replica")
        bodies = ids(cursor, "SELECT code, id FROM organisations_nationalbody")
        duties = ids(cursor, "SELECT slug, body_id FROM organisations_statutoryduty")
        cursor.execute("SELECT id FROM regions_region WHERE active ORDER BY ods_code")
        regions = [r for (r,) in cursor.fetchall()]
        duty_ids = ids(cursor, "SELECT slug, id FROM organisations_statutoryduty")
        nhse_duty = next(duty_ids[s] for s, b in duties.items() if b == bodies["NHSE"])
        nhsi_duty = next(duty_ids[s] for s, b in duties.items() if b == bodies["NHSI"])

        # Programmes, their bodies and Board approvals.
        rows = []
        for i in range(n_programmes):
            accountable = "NHSE" if i % 2 else "NHSI"
            rows.append(
                (
                    f"{sentence(rng, 3).capitalize()} programme {i}",
                    f"programme-{i}",
                    sentence(rng, 12),
                    sentence(rng, 30),
                    rng.choice(["urgent-care", "elective", "quality", "finance", "systems"]),
                    rng.choice(["separate", "aligned", "one_team"]),
                    "active" if i % 10 else "approved",
                    dt.date(2018, 4, 1) + dt.timedelta(days=rng.randrange(0, 700)),
                    None,
                    1,
                    bodies[accountable],
                    nhse_duty if accountable == "NHSE" else nhsi_duty,
                )
            )
        execute_values(
            cursor,
            """INSERT INTO programmes_programme (title, slug, summary, description, theme,
            integration_stage, status, start_date, end_date, version, accountable_body_id, duty_id) VALUES %s""",
            rows,
        )
        cursor.execute("SELECT id, accountable_body_id, start_date FROM programmes_programme ORDER BY id")
        programmes = cursor.fetchall()
        execute_values(
            cursor,
            "INSERT INTO programmes_programme_bodies (programme_id, nationalbody_id) VALUES %s",
            [(p, b) for p, b, _ in programmes]
            + [
                (p, bodies["NHSE"] if b == bodies["NHSI"] else bodies["NHSI"])
                for k, (p, b, _) in enumerate(programmes)
                if k % 3 == 0
            ],
        )
        execute_values(
            cursor,
            """INSERT INTO programmes_boardapproval (programme_id, body_id, decision, date,
            minute_reference) VALUES %s""",
            [(p, b, "approved", s - dt.timedelta(days=14), "B1") for p, b, s in programmes],
        )

        stage("programmes")
        # Workstreams: ten per programme; one in a hundred a near-copy of another programme's.
        rows, texts = [], []
        for p, b, start in programmes:
            for k in range(10):
                if texts and rng.random() < 0.01:
                    title, description = rng.choice(texts)
                    words = description.split()
                    words[rng.randrange(len(words))] = rng.choice(VOCABULARY)
                    description = " ".join(words)
                else:
                    title, description = sentence(rng, 4).capitalize(), sentence(rng, rng.randint(12, 24))
                texts.append((title, description))
                # Titles are unique within a programme: number the parts.
                rows.append((p, f"{title}, part {k + 1}", description, b, [rng.choice(AUDIENCES)], start, None))
        execute_values(
            cursor,
            """INSERT INTO programmes_workstream (programme_id, title, description, body_id,
            audiences, start_date, end_date) VALUES %s""",
            rows,
            page_size=2000,
        )
        cursor.execute("SELECT id FROM programmes_workstream ORDER BY id")
        workstreams = [w for (w,) in cursor.fetchall()]
        links = [(w, r) for w in workstreams for r in rng.sample(regions, rng.randint(0, 3))]
        execute_values(
            cursor,
            "INSERT INTO programmes_workstream_regions (workstream_id, region_id) VALUES %s",
            links,
            page_size=5000,
        )

        stage("workstreams")
        # Regional delivery for every active programme in every region.
        cursor.execute("""INSERT INTO programmes_regionaldelivery (programme_id, region_id, rag, note, updated)
            SELECT p.id, r.id, (ARRAY['red','amber','green'])[1 + (p.id + r.id) % 3], '', now()
            FROM programmes_programme p CROSS JOIN regions_region r WHERE p.status = 'active' AND r.active""")

        stage("regional delivery")
        # Measures (100), measurements per active region and England, and agreed measures and expectations.
        execute_values(
            cursor,
            """INSERT INTO programmes_measure (code, name, unit, direction, standard, comparator)
            VALUES %s""",
            [(f"scale-{m}", f"Scale measure {m}", "percent", "higher", 90, ">=") for m in range(100)],
        )
        cursor.execute("SELECT id FROM programmes_measure WHERE code LIKE 'scale-%%' ORDER BY id")
        measures = [m for (m,) in cursor.fetchall()]
        cursor.execute(
            """INSERT INTO programmes_measurement (measure_id, region_id, month, value, source)
            SELECT m.id, r.id, (date '1995-01-01' + make_interval(months => g))::date,
                   round((80 + random() * 15)::numeric, 1), 'generated'
            FROM programmes_measure m
            CROSS JOIN (SELECT id FROM regions_region WHERE active UNION ALL SELECT NULL) r
            CROSS JOIN generate_series(0, %s - 1) g
            WHERE m.code LIKE 'scale-%%'""",
            [months],
        )
        stage("measurements")
        execute_values(
            cursor,
            """INSERT INTO programmes_programmemeasure (programme_id, measure_id, target, agreed_on)
            VALUES %s""",
            [(p, rng.choice(measures), 90, s) for p, _, s in programmes],
        )
        today = dt.date.today()
        execute_values(
            cursor,
            """INSERT INTO programmes_expectation (programme_id, issued_by_id, audience, region_id,
            measure_id, comparator, target, start_date, due_date, wording, stage, responses_summary) VALUES %s""",
            [
                (
                    p,
                    b,
                    rng.choice(AUDIENCES),
                    rng.choice(regions + [None]),
                    rng.choice(measures),
                    ">=",
                    rng.choice([85, 90, 95]),
                    dt.date(2018, 4, 1),
                    today + dt.timedelta(days=400),
                    sentence(rng, 10),
                    "agreed",
                    "",
                )
                for p, b, _ in programmes
                for _ in range(2)
            ],
            page_size=2000,
        )

        stage("agreed measures and expectations")
        # People and appointments, most joint, some single-body.
        execute_values(
            cursor,
            "INSERT INTO appointments_person (name, email) VALUES %s",
            [(f"Person {i}", f"person{i}@example.nhs.uk") for i in range(n_appointments)],
        )
        cursor.execute("SELECT id FROM appointments_person ORDER BY id")
        people = [p for (p,) in cursor.fetchall()]
        roles = ["programme_director", "national_director", "other"]
        execute_values(
            cursor,
            """INSERT INTO appointments_appointment (person_id, title, role, region_id, start_date,
            end_date) VALUES %s""",
            [
                (
                    person,
                    f"{sentence(rng, 3).title()} lead",
                    rng.choice(roles),
                    rng.choice(regions + [None]),
                    dt.date(2019, 4, 1),
                    None,
                )
                for person in people
            ],
        )
        cursor.execute("SELECT id FROM appointments_appointment ORDER BY id")
        appointments = [a for (a,) in cursor.fetchall()]
        shares = []
        for a in appointments:
            if rng.random() < 0.7:
                shares += [(a, bodies["NHSE"], 50), (a, bodies["NHSI"], 50)]
            else:
                shares.append((a, bodies[rng.choice(["NHSE", "NHSI"])], 100))
        execute_values(
            cursor,
            "INSERT INTO appointments_appointmentshare (appointment_id, body_id, fte_percent) VALUES %s",
            shares,
            page_size=5000,
        )
        stage("people and appointments")
        # The tables written get new versions at the commit, as the row triggers would have given them.
        cursor.execute("SET LOCAL session_replication_role = origin")
        cursor.execute(
            "SELECT set_config('portal_versions.tables', %s, true); INSERT INTO portal_data_change DEFAULT VALUES",
            [",".join(WRITTEN)],
        )
    with connection, connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        stage("analyse")
        counts = {}
        for table in (
            "programmes_programme",
            "programmes_workstream",
            "appointments_appointment",
            "programmes_measurement",
        ):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    connection.close()
    print("generated: " + ", ".join(f"{name} {seconds} s" for name, seconds in stages), flush=True)
    return counts


# The tables generate() writes (their versions are given once, at its commit).
WRITTEN = (
    "programmes_programme",
    "programmes_programme_bodies",
    "programmes_boardapproval",
    "programmes_workstream",
    "programmes_workstream_regions",
    "programmes_regionaldelivery",
    "programmes_measure",
    "programmes_measurement",
    "programmes_programmemeasure",
    "programmes_expectation",
    "appointments_person",
    "appointments_appointment",
    "appointments_appointmentshare",
)


TIMER = """
import json, resource, time
from nhs_joint.celery import give_statements_the_reports_time
from reports import services
from reports.models import ReportRun
give_statements_the_reports_time()  # as a worker's: the reports' statement limit, not a web request's
out = {}
for kind in KINDS:
    run = ReportRun.objects.create(kind=kind)
    start = time.perf_counter()
    services.execute(run.pk)
    seconds = time.perf_counter() - start
    run.refresh_from_db()
    out[kind] = {"seconds": round(seconds, 2), "status": run.status, "findings": run.counts.get("by_rule", {}),
                 "error": run.error, "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}
print("RESULT " + json.dumps(out))
"""


def shell_result(script):
    """What ``script``, run by manage.py shell against this run's database, prints after "RESULT " (JSON)."""
    output = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=ENV,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def time_reports(kinds=("consistency", "duplication")):
    """Each report's time, status, findings and peak memory, all in one process (``kinds`` in turn)."""
    return shell_result(f"KINDS = {tuple(kinds)!r}\n" + TIMER)


def time_reports_apart(kinds=("consistency", "duplication")):
    """Each report in a process of its own, so that each one's peak memory is its own."""
    results = {}
    for kind in kinds:
        try:
            results.update(time_reports([kind]))
        except subprocess.CalledProcessError as error:  # killed (out of memory) or failed outside the run
            results[kind] = {
                "seconds": None,
                "status": f"process ended: {error.returncode}",
                "findings": {},
                "error": (error.stderr or "")[-500:],
                "peak_mb": None,
            }
    return results


def cpu():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def database_has_scale(scale):
    """Whether this run's database already holds the data of ``scale`` (as --keep reuses it)."""
    try:
        connection = connect(DATABASE)
    except psycopg2.OperationalError:
        return False
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM programmes_programme")
            return cursor.fetchone()[0] == int(2000 * scale)
    except psycopg2.Error:
        return False
    finally:
        connection.close()


def count_rows():
    connection = connect(DATABASE)
    with connection.cursor() as cursor:
        counts = {}
        for table in (
            "programmes_programme",
            "programmes_workstream",
            "appointments_appointment",
            "programmes_measurement",
        ):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    connection.close()
    return counts


def web_timings(requests=5):
    """Each web address of bench/web.py --rotate drawn in process on this run's database: bench/profile_pages.py."""
    env = {**ENV, "BENCH_DATABASE": DATABASE}
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SIGN_IN_FOR_TIMINGS],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    output = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "profile_pages.py"), "--requests", str(requests), "--no-profile"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [line for line in output.splitlines() if ": median " in line]


SIGN_IN_FOR_TIMINGS = """
from django.contrib.auth.models import Group
from accounts.models import User
from organisations.models import NationalBody
user, _ = User.objects.get_or_create(username="bench.staff")
user.groups.add(Group.objects.get(name="Staff"))
user.bodies.set(NationalBody.objects.filter(code__in=["NHSE", "NHSI"]))
"""


def one_scale(args):
    """--scale: one scale's data (kept with --keep), both reports apart, and the web addresses."""
    import resource

    scale = args.scale
    started = time.perf_counter()
    kept = args.keep and database_has_scale(scale)
    migrated = 0.0
    if not kept:
        fresh_database()
        migrated = time.perf_counter() - started
        generate(scale)
    built = time.perf_counter() - started
    generate_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    counts = count_rows()
    load = os.getloadavg()[0]
    print(f"scale {scale}: {counts} {'kept' if kept else f'built in {built:.0f}s'}, load {load:.1f}", flush=True)
    timings = time_reports_apart() if not args.no_reports else {}
    for kind, result in timings.items():
        print(f"{kind}: {result}", flush=True)
    web = web_timings() if not args.no_web else []
    lines = [
        f"# bench/scale.py --scale {scale:g}, {dt.datetime.now(dt.UTC):%-d %B %Y %H:%M} UTC",
        "",
        f"{platform.machine()}, {os.cpu_count()} cores ({cpu()}), "
        f"{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, PostgreSQL on the same "
        f"machine, Python {platform.python_version()}; load average {load:.1f} when the data was ready (other work "
        "shares the two cores).",
        "",
        "| step | time | peak memory | result |",
        "|---|---:|---:|---|",
        f"| data: {counts['programmes_programme']:,} programmes, {counts['programmes_workstream']:,} workstreams, "
        f"{counts['appointments_appointment']:,} appointments, {counts['programmes_measurement']:,} measurements | "
        + (
            f"{built:.0f} s | {generate_peak} MB | generated ({migrated:.0f} s of it building the empty database "
            "from the migrations) |"
            if not kept
            else "(kept from an earlier run) | | |"
        ),
    ]
    for kind, result in timings.items():
        seconds = "—" if result["seconds"] is None else f"{result['seconds']} s"
        peak = "—" if result["peak_mb"] is None else f"{result['peak_mb']} MB"
        found = ", ".join(f"{rule} {n}" for rule, n in sorted(result["findings"].items())) or result.get("error") or ""
        lines.append(f"| {kind} report | {seconds} | {peak} | {result['status']}: {found} |")
    if web:
        lines += ["", "Each web address drawn in process (bench/profile_pages.py, page cache off):", ""]
        lines += [f"- {line}" for line in web]
    report = "\n".join(lines) + "\n"
    print(report)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"scale-{scale:g}-{dt.datetime.now(dt.UTC):%Y-%m-%d-%H%M}.md").write_text(report)
    if args.write:
        Path(args.write).write_text(report)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="0.25,0.5,1")
    parser.add_argument("--scale", type=float, help="one scale only, with the full report (10: ten times England)")
    parser.add_argument("--keep", action="store_true", help="with --scale: reuse the data a previous run left")
    parser.add_argument("--no-web", action="store_true", help="with --scale: leave out the web addresses")
    parser.add_argument("--no-reports", action="store_true", help="with --scale: leave out the reports")
    parser.add_argument("--write", help="also write the results, as Markdown, to this file")
    args = parser.parse_args()
    if args.scale:
        return one_scale(args)
    results = []
    for scale in [float(s) for s in args.scales.split(",")]:
        fresh_database()
        started = time.perf_counter()
        counts = generate(scale)
        built = time.perf_counter() - started
        timings = time_reports()
        results.append((scale, counts, built, timings))
        print(
            f"scale {scale}: {counts} built in {built:.0f}s; "
            + "; ".join(f"{k} {v['seconds']}s {v['status']} (peak {v['peak_mb']} MB)" for k, v in timings.items()),
            flush=True,
        )

    lines = [
        f"Measured {dt.date.today():%-d %B %Y} on {platform.machine()}, {os.cpu_count()} cores ({cpu()}), "
        f"{round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, PostgreSQL on the same "
        f"machine, Python {platform.python_version()}, by `bench/scale.py`.",
        "",
        "| scale | programmes | workstreams | appointments | measurements | consistency (s) | duplication (s) | duplicate-work findings |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for scale, counts, _, timings in results:
        lines.append(
            f"| {scale:g} | {counts['programmes_programme']:,} | {counts['programmes_workstream']:,} | "
            f"{counts['appointments_appointment']:,} | {counts['programmes_measurement']:,} | "
            f"{timings['consistency']['seconds']} | {timings['duplication']['seconds']} | "
            f"{timings['duplication']['findings'].get('duplicate-work', 0)} |"
        )
    if len(results) >= 2:
        half, full = results[-2][3]["duplication"]["seconds"], results[-1][3]["duplication"]["seconds"]
        lines += [
            "",
            f"Doubling the data from the last two scales multiplied the duplication report's time by "
            f"{full / half:.2f} (the bar: at most 2.3).",
        ]
    report = "\n".join(lines) + "\n"
    print(report)
    if args.write:
        Path(args.write).write_text(report)


if __name__ == "__main__":
    main()
