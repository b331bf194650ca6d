"""The real-text corpus's false and missed pairs at the shipped thresholds, side by side, to read and sort.

    .venv/bin/python bench/duplication_errors.py [--regions [data/duplication-real/regions.json]]
        [--corpus data/duplication-real/corpus.json] [--dev tests/reports/data/duplication-dev.json]

Each corpus pair is scored grouped 5-fold, as bench/duplication_quality.py scores it (a model fitted on the
other folds and the other two sets). Printed for each false pair (reported, not the same work) and each
missed one (the same work, not reported): its probability, each text's key, kind, publisher and title, and
for a near miss the corpus's reason; then the count of each by the two texts' kinds of publisher.
"""

import argparse
import json
from collections import Counter
from pathlib import Path

import duplication_quality as quality

ROOT = quality.ROOT


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT / "data" / "duplication-real" / "corpus.json"))
    parser.add_argument("--dev", default=str(ROOT / "tests" / "reports" / "data" / "duplication-dev.json"))
    parser.add_argument("--regions", nargs="?", const=str(ROOT / "data" / "duplication-real" / "regions.json"))
    args = parser.parse_args()
    import django

    django.setup()
    corpus = json.loads(Path(args.corpus).read_text(encoding="utf-8"))
    texts = {t["key"]: t for t in corpus["texts"]}
    why = {frozenset(n["pair"]): n["why"] for n in corpus["near_misses"]}
    measured = quality.Measured(quality.corpus_set(args.corpus, args.regions))
    others = [quality.Measured(quality.development_set(args.dev)), quality.Measured(quality.demonstration_set())]
    probabilities = quality.grouped_folds(measured, others)
    result = quality.score(measured, probabilities)
    probability = dict(zip(measured.pairs, probabilities))
    quality.show("grouped 5-fold", result)
    blocked = sorted(sorted(p) for p in measured.missing)
    print(f"same-work pairs never compared (the blocking rules or the candidate search): {blocked}")

    def describe(a, b):
        first, second = texts[a], texts[b]
        return (
            f"{probability.get(frozenset((a, b)), 0.0):.2f} {a} [{first['kind']}] {first['publisher'][:50]}: "
            f"{first['title'][:70]}\n     {b} [{second['kind']}] {second['publisher'][:50]}: {second['title'][:70]}"
        )

    for heading, pairs in (("False pairs", result["false"]), ("Missed pairs", result["missed"])):
        print(f"\n{heading}: {len(pairs)}")
        kinds = Counter()
        for a, b in pairs:
            kinds[" and ".join(sorted((texts[a]["kind"], texts[b]["kind"])))] += 1
            print(describe(a, b))
            if heading == "False pairs":
                print(f"     near miss: {why.get(frozenset((a, b)), '(not listed; different work by the convention)')}")
        print(f"{heading} by kinds of publisher: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))


if __name__ == "__main__":
    main()
