"""The duplicate-work engine's own stages, timed in one process on stores worded as bench/scale.py words them.

    .venv/bin/python bench/duplication_stages.py [--sizes 5000,10000,20000] [--repeat 3] [--real]

No database: the workstreams are made here as bench/scale.py makes them (ten per programme, wording drawn
from its vocabulary, 1% near-copies of an earlier one, one audience each), then each stage of the engine
(reports/duplication.py) is run and its CPU time (time.process_time: this process only, so other people's
work on a shared machine slows it less than it does the clock) and wall time printed: the index (wording to
terms, markers, TF-IDF), the exact neighbour search, the evidence and probabilities of every candidate pair,
each record's closest records. With --real the descriptions are the real-text corpus's passages, drawn at
random and given a random title, to time the wording and markers on real lengths of text.
"""

import argparse
import json
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nhs_joint.settings.test")


def store(size, real=False, seed=7):
    from bench.scale import AUDIENCES, VOCABULARY, sentence

    rng = random.Random(seed)
    passages = []
    if real:
        corpus = json.loads((ROOT / "data" / "duplication-real" / "corpus.json").read_text(encoding="utf-8"))
        passages = [t["description"] for t in corpus["texts"]]
    records, texts, owners, audiences = [], [], [], defaultdict(list)
    for row in range(size):
        if texts and rng.random() < 0.01:
            title, description = rng.choice(texts)
            words = description.split()
            words[rng.randrange(len(words))] = rng.choice(VOCABULARY)
            description = " ".join(words)
        else:
            title = sentence(rng, 4).capitalize()
            description = rng.choice(passages) if real else sentence(rng, rng.randint(12, 24))
        texts.append((title, description))
        records.append((row, f"{title}, part {row % 10 + 1}", description))
        owners.append(row // 10)
        audiences[rng.choice(AUDIENCES)].append(row)
    return records, [audiences[a] for a in sorted(audiences)], np.array(owners)


def stages(records, groups, owners):
    from reports import duplication

    times = {}

    def timed(name, work):
        cpu, wall = time.process_time(), time.perf_counter()
        result = work()
        times[name] = (time.process_time() - cpu, time.perf_counter() - wall)
        return result

    index = timed("index", lambda: duplication.build_index(records))
    neighbours = timed(
        "neighbours", lambda: duplication.nearest(index, duplication.neighbours_per_record(), groups, owners)
    )
    model = duplication.match_model()
    scored = timed("evidence", lambda: duplication.scored_candidates(index, neighbours, model))
    timed("closest", lambda: duplication.closest_elsewhere(index, neighbours, scored, 5))
    return times, len(scored), sum(p.probability >= duplication.possible_threshold() for p in scored)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,10000,20000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--real", action="store_true")
    args = parser.parse_args()
    import django

    django.setup()
    previous = None
    for size in [int(s) for s in args.sizes.split(",")]:
        records, groups, owners = store(size, args.real)
        runs = [stages(records, groups, owners) for _ in range(args.repeat)]
        best = {name: min(run[0][name][0] for run in runs) for name in runs[0][0]}
        walls = {name: min(run[0][name][1] for run in runs) for name in runs[0][0]}
        total = sum(best.values())
        growth = f" (x{total / previous:.2f})" if previous else ""
        previous = total
        parts = ", ".join(f"{name} {best[name]:.2f} ({walls[name]:.2f} wall)" for name in best)
        print(
            f"{size:,} workstreams: CPU {total:.2f} s{growth}, least of {args.repeat} per stage: {parts}; "
            f"candidate pairs {runs[0][1]:,}, reaching 0.5 before blocking {runs[0][2]}",
            flush=True,
        )


if __name__ == "__main__":
    main()
