"""Where a report run spends its time and memory: each rule, staging the findings, writing them, the cases.

    SCALE_DATABASE=nhs_joint_scale .venv/bin/python bench/report_steps.py [consistency|duplication] [--no-search]

Runs one report in this process (as a worker would, through reports.services.execute) on the data
bench/scale.py left in SCALE_DATABASE, and prints each step's time and the process's peak resident memory
when the step ended (the peak only rises: a step that raises it is the one that holds the most). The
findings and cases the run writes are those of a real run.

With --no-search the findings' search documents (written as a run succeeds, search/documents.py) are left
out of the run; instead the documents of a sample of its findings are written in a transaction that is rolled
back, and the time of all of them is estimated from the sample.
"""

import functools
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import scale  # noqa: E402  (bench/scale.py: its database)

os.environ.update({k: v for k, v in scale.ENV.items() if k in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")})

STEPS = []  # (name, seconds, CPU seconds of this process, peak MB when it ended)


def peak_mb():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def timed(name, function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        start, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            STEPS.append((name, time.perf_counter() - start, time.process_time() - cpu, peak_mb()))
            print(f"  ... {name}: {STEPS[-1][1]:.1f} s (CPU {STEPS[-1][2]:.1f} s), peak {STEPS[-1][3]} MB", flush=True)

    return wrapper


def timed_rule(rule):
    """The rule with its check timed apart from what the engine does with each finding it yields."""

    def check(context):
        spent, cpu, found = 0.0, 0.0, 0
        iterator = iter(rule.check(context))
        while True:
            start, started_cpu = time.perf_counter(), time.process_time()
            try:
                item = next(iterator)
            except StopIteration:
                break
            finally:
                spent += time.perf_counter() - start
                cpu += time.process_time() - started_cpu
            found += 1
            yield item
        STEPS.append((f"rule {rule.code} ({found} found)", spent, cpu, peak_mb()))
        print(f"  ... {STEPS[-1][0]}: {spent:.1f} s (CPU {cpu:.1f} s), peak {STEPS[-1][3]} MB", flush=True)

    return rule.__class__(rule.code, rule.kind, rule.severity, check, rule.summary, rule.name)


def search_sample(documents, run, size=2000):
    """The findings' search documents of ``size`` of the run's findings, written and rolled back: the time of
    all of them, estimated."""
    from django.db import connection, transaction

    from reports.models import Finding

    kind = documents.KIND_OF_MODEL[Finding]
    sample = list(kind.queryset().filter(run=run)[:size])
    with transaction.atomic(), connection.cursor() as cursor:
        start = time.perf_counter()
        documents._write(kind, sample, cursor)
        seconds = time.perf_counter() - start
        transaction.set_rollback(True)
    total = kind.queryset().count()
    print(
        f"  the findings' search documents (left out of the run): {len(sample)} in {seconds:.1f} s, so "
        f"{total} open findings in about {seconds * total / max(len(sample), 1):.0f} s",
        flush=True,
    )


def main():
    arguments = [a for a in sys.argv[1:] if not a.startswith("--")]
    kind = arguments[0] if arguments else "consistency"
    search = "--no-search" not in sys.argv
    import django

    django.setup()
    from nhs_joint.celery import give_statements_the_reports_time

    give_statements_the_reports_time()
    from reports import rules, services, workflow
    from reports.models import ReportRun

    declared = rules.all_rules()
    rules_timed = {code: timed_rule(rule) for code, rule in declared.items()}
    rules._registry = lambda: rules_timed
    # The engine's own steps, by name (those of an earlier engine too, to compare).
    from reports.models import Finding

    if hasattr(services, "StagedFindings"):
        services.StagedFindings._stage = timed("stage a batch of findings", services.StagedFindings._stage)
        services.StagedFindings.write = timed("write the findings", services.StagedFindings.write)
    else:
        services._findings = timed("build the findings", services._findings)
        Finding.objects.bulk_create = timed("write the findings", Finding.objects.bulk_create)
    services._keep_similar_records = timed("write the similar records", services._keep_similar_records)
    workflow.update_cases = timed("update the cases (and their history, notifications)", workflow.update_cases)
    services.workflow = workflow
    from search import documents

    real_refresh = documents.refresh_findings
    if search:
        documents.refresh_findings = timed("the findings' search documents (as the run succeeds)", real_refresh)
    else:
        documents.refresh_findings = lambda: None

    run = ReportRun.objects.create(kind=kind)
    start, cpu_start = time.perf_counter(), time.process_time()
    services.execute(run.pk)
    total = time.perf_counter() - start
    run.refresh_from_db()
    merged = {}
    for name, seconds, cpu, peak in STEPS:  # the batches of one step as one line
        count, spent, used, _ = merged.get(name, (0, 0.0, 0.0, 0))
        merged[name] = (count + 1, spent + seconds, used + cpu, peak)
    print(
        f"{kind} run {run.pk}: {run.status} in {total:.1f} s (CPU {time.process_time() - cpu_start:.1f} s), "
        f"peak {peak_mb()} MB; {run.counts.get('findings')} findings"
    )
    for name, (count, seconds, cpu, peak) in merged.items():
        print(f"  {name}{f' x{count}' if count > 1 else ''}: {seconds:.1f} s (CPU {cpu:.1f} s), peak {peak} MB")
    if not search:
        search_sample(documents, run)
    print("RESULT " + json.dumps({"seconds": round(total, 2), "peak_mb": peak_mb(), "counts": run.counts}))


if __name__ == "__main__":
    main()
