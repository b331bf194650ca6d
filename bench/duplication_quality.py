"""How well the duplicate-work engine finds the same work, on labelled sets, measured without tuning on them.

    .venv/bin/python bench/duplication_quality.py [--corpus data/duplication-real/corpus.json]
        [--dev tests/reports/data/duplication-dev.json] [--regions [PATH]] [--write-labelled-pairs]

Three labelled sets:
- the real-text corpus (texts[{key, title, description, ...}], same_work[[k, k]], groups[[k, k, ...]],
  near_misses[{pair, why}]): every text is its own programme, all may be compared;
- the hand-written development set (programmes, workstreams with audiences, regions and dates,
  positive_pairs, near_misses): compared as the report compares workstreams (a shared audience,
  another programme, overlapping regions and dates);
- the demonstration data (programmes/demo.py): short one-line descriptions, one pair the same work.

For each set the engine (reports/duplication.py) builds the index, finds each record's nearest records
exactly, and measures the evidence on every candidate pair. The match model is then fitted and tested
three ways, and precision and recall of the reported pairs (probability >= DUPLICATE_WORK_POSSIBLE) and
the precision of the "likely" band (>= DUPLICATE_WORK_LIKELY) are printed for each:
- other sets: fitted on the other sets' labelled pairs only, tested on this one;
- grouped 5-fold: fitted on the other sets and this set with the records of one fold left out (a labelled
  group of the same work stays in one fold), tested on the pairs that touch that fold's records;
- shipped: fitted on every set, as the portal ships it (in sample: an upper bound, not a result);
and, for comparison, the closest-match rule the report used before the match model.
--regions compares the corpus's texts as the portal compares workstreams, only when their regions overlap (or one
has none), with each text's region taken from its publisher (data/duplication-real/regions.json, written by
bench/corpus_regions.py; an assumption about how such texts would be recorded, docs/duplication.md).
--features names the evidence to weigh (default: reports.duplication.FEATURES), to compare others.
--learner compares other learners with the portal's logistic regression (MatchModel): "forest" (a random
forest), "boosted" (histogram gradient boosting), each optionally calibrated within the training folds
("forest-isotonic", "boosted-isotonic", "boosted-platt"). They need scikit-learn, which the portal does not
use (docs/duplication.md: they did no better); install it in a venv of your own to compare.
A pair counts as reported when the engine reports it; "group pairs" count every pair of records that one
group finding names (the engine's groups: complete linkage of the reported pairs).

--write-labelled-pairs writes the evidence and labels of both sets' candidate pairs to
data/duplication/labelled_pairs.json, which the portal fits its model on.
"""

import argparse
import datetime as dt
import json
import os
import sys
from itertools import combinations
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nhs_joint.settings.test")


FOLDS = 5


class LabelledSet:
    """A labelled set as the engine sees it: texts, what may be compared, and the true pairs."""

    def __init__(self, name, texts, groups, owners, truth, near_misses, comparable):
        self.name, self.texts, self.groups, self.owners = name, texts, groups, owners
        self.truth, self.near_misses, self.comparable = truth, near_misses, comparable


def all_pairs(groups):
    return {frozenset(pair) for group in groups for pair in combinations(group, 2)}


def corpus_set(path, regions_path=None):
    """The corpus; with ``regions_path`` (bench/corpus_regions.py: {key: [region code]}), two texts are compared
    only when their regions overlap or one has none, as the portal compares workstreams."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    texts = [(t["key"], t["title"], t["description"]) for t in data["texts"]]
    truth = {frozenset(p) for p in data.get("same_work", [])} | all_pairs(data.get("groups", []))
    near = {frozenset(n["pair"]) for n in data.get("near_misses", [])}
    owners = np.arange(len(texts))
    comparable = lambda a, b: True  # noqa: E731
    if regions_path:
        regions = {key: set(codes) for key, codes in json.loads(Path(regions_path).read_text()).items()}
        comparable = lambda a, b: not regions[a] or not regions[b] or bool(regions[a] & regions[b])  # noqa: E731
    return LabelledSet("real-text corpus", texts, None, owners, truth, near, comparable)


def _overlap(a, b):
    regions = not a["regions"] or not b["regions"] or set(a["regions"]) & set(b["regions"])
    return bool(regions) and a["start"] <= b["end"] and b["start"] <= a["end"]


def development_set(path):
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    workstreams = data["workstreams"]
    texts = [(w["key"], w["title"], w["description"]) for w in workstreams]
    audiences = {}
    for row, w in enumerate(workstreams):
        for audience in w["audiences"]:
            audiences.setdefault(audience, []).append(row)
    owners = np.array([int(w["programme"][1:]) for w in workstreams])
    by_key = {w["key"]: w for w in workstreams}
    truth = {frozenset(p) for p in data["positive_pairs"]}
    near = {frozenset(n["pair"]) for n in data["near_misses"]}
    groups = [audiences[a] for a in sorted(audiences)]
    return LabelledSet(
        "development set", texts, groups, owners, truth, near, lambda a, b: _overlap(by_key[a], by_key[b])
    )


def demonstration_set():
    """The demonstration data (programmes/demo.py, seed_demo): 100 one-line workstreams in which only the
    two "Discharge to assess" workstreams are the same work (planted); every other pair is different work."""
    from programmes.demo import WORKSTREAMS

    texts, owners, audiences, regions = [], [], {}, {}
    programmes = {slug: n for n, slug in enumerate(dict.fromkeys(w[0] for w in WORKSTREAMS))}
    for row, (slug, title, description, _, audience_list, region_codes) in enumerate(WORKSTREAMS):
        key = f"{slug}/{title}"
        texts.append((key, title, description))
        owners.append(programmes[slug])
        regions[key] = set(region_codes or ())
        for audience in audience_list:
            audiences.setdefault(str(audience), []).append(row)
    truth = {
        frozenset(
            (
                "urgent-emergency-care/Discharge to assess",
                "seven-day-services/Discharge to assess over seven days",
            )
        )
    }
    return LabelledSet(
        "demonstration data",
        texts,
        [audiences[a] for a in sorted(audiences)],
        np.array(owners),
        truth,
        set(),
        lambda a, b: not regions[a] or not regions[b] or bool(regions[a] & regions[b]),
    )


class Measured:
    """A set's candidate pairs with their evidence and labels (after the blocking rules)."""

    def __init__(self, labelled, features=None):
        from reports import duplication

        self.set = labelled
        index = duplication.build_index(
            labelled.texts, phrases=bool(set(features or ()) & set(duplication.PHRASE_FEATURES))
        )
        neighbours = duplication.nearest(index, duplication.neighbours_per_record(), labelled.groups, labelled.owners)
        left, right, scores = duplication.candidate_pairs(neighbours)
        keys = index.ids
        keep = [labelled.comparable(keys[a], keys[b]) for a, b in zip(left.tolist(), right.tolist())]
        left, right, scores = left[keep], right[keep], scores[keep]
        self.pairs = [frozenset((keys[a], keys[b])) for a, b in zip(left.tolist(), right.tolist())]
        self.features = duplication.pair_features(index, neighbours, left, right, scores, features)
        self.cosines = np.asarray(scores, dtype=float)
        sizes = np.diff(index.matrix.indptr)
        self.sizes = [(int(sizes[a]), int(sizes[b])) for a, b in zip(left.tolist(), right.tolist())]
        self.labels = np.array([pair in labelled.truth for pair in self.pairs], dtype=float)
        self.missing = labelled.truth - set(self.pairs)  # true pairs the candidate search never offered

    def folds(self):
        """A fold number per record: the records of one labelled group share a fold."""
        parent = {key: key for key, *_ in self.set.texts}

        def root(key):
            while parent[key] != key:
                key = parent[key]
            return key

        for a, b in sorted(sorted(p) for p in self.set.truth):
            low, high = sorted((root(a), root(b)))
            parent[high] = low  # each group's root is its first key: the folds do not depend on set order
        roots = sorted({root(key) for key in parent})
        fold_of_root = {r: n % FOLDS for n, r in enumerate(roots)}
        return {key: fold_of_root[root(key)] for key in parent}


def _groups(measured, probabilities):
    """The engine's groups of the reported pairs (a pair that was no candidate counts as probability 0)."""
    from reports.duplication import Pair, groups_of, possible_threshold

    known = {pair: float(p) for pair, p in zip(measured.pairs, probabilities)}
    reported = [Pair(*sorted(pair), 0.0, p, None) for pair, p in known.items() if p >= possible_threshold()]
    return groups_of(reported, lambda a, b: known.get(frozenset((a, b)), 0.0))


def score(measured, probabilities):
    """Precision, recall, the likely band's precision, and the near misses reported, of one set."""
    from reports.duplication import likely_threshold, possible_threshold

    truth = measured.set.truth
    reported = {p for p, prob in zip(measured.pairs, probabilities) if prob >= possible_threshold()}
    likely = {p for p, prob in zip(measured.pairs, probabilities) if prob >= likely_threshold()}
    grouped = set()
    for group in _groups(measured, probabilities):
        grouped |= {frozenset(pair) for pair in combinations(group, 2)}

    def precision(found):
        return len(found & truth) / len(found) if found else 1.0

    return {
        "reported": len(reported),
        "true": len(reported & truth),
        "precision": precision(reported),
        "recall": len(reported & truth) / len(truth),
        "likely": len(likely),
        "likely_precision": precision(likely),
        "likely_recall": len(likely & truth) / len(truth),
        "group_pairs": len(grouped),
        "group_precision": precision(grouped),
        "group_recall": len(grouped & truth) / len(truth),
        "near_misses": sorted(sorted(p) for p in reported & measured.set.near_misses),
        "false": sorted(sorted(p) for p in reported - truth),
        "missed": sorted(sorted(p) for p in truth - reported),
    }


def closest_match_rule(measured, high=0.6, low=0.2, min_terms=18):
    """The rule before the match model: a cosine of 0.6, or each the other's closest comparable record with a
    cosine of 0.2 and 18 distinct terms each (DUPLICATE_WORK_THRESHOLD, ..._MUTUAL_THRESHOLD, ..._MIN_TERMS)."""
    best = {}
    for pair, cosine in zip(measured.pairs, measured.cosines):
        for one in pair:
            if cosine > best.get(one, (-1, None))[0]:
                best[one] = (cosine, pair)
    reported = []
    for pair, cosine, sizes in zip(measured.pairs, measured.cosines, measured.sizes):
        mutual = all(best[one][1] == pair for one in pair) and min(sizes) >= min_terms
        reported.append(1.0 if cosine >= high or (mutual and cosine >= low) else 0.0)
    return np.array(reported)


def logistic(features, labels):
    from reports.duplication import MatchModel

    return MatchModel.fit(features, labels)


class _Fitted:
    def __init__(self, classifier):
        self.classifier = classifier

    def probability(self, features):
        return self.classifier.predict_proba(features)[:, 1]


def sklearn_learner(name):
    """A fit(features, labels) of one of scikit-learn's learners, deterministic (fixed random_state, one
    thread), calibrated within the training data when the name says how (5 folds: isotonic or Platt)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier

    kind, _, calibration = name.partition("-")

    def fit(features, labels):
        if kind == "forest":
            classifier = RandomForestClassifier(n_estimators=150, min_samples_leaf=10, random_state=0, n_jobs=1)
        else:
            classifier = HistGradientBoostingClassifier(
                max_depth=3,
                learning_rate=0.05,
                max_iter=150,
                min_samples_leaf=20,
                l2_regularization=1.0,
                early_stopping=False,
                random_state=0,
            )
        if calibration:
            method = {"isotonic": "isotonic", "platt": "sigmoid"}[calibration]
            classifier = CalibratedClassifierCV(classifier, method=method, cv=5)
        return _Fitted(classifier.fit(features, labels))

    return fit


FIT = logistic  # the learner compared (--learner)


def other_sets(test, others):
    model = FIT(np.vstack([m.features for m in others]), np.concatenate([m.labels for m in others]))
    return model.probability(test.features)


def grouped_folds(measured, others):
    """Each fold predicted by a model fitted on the other folds and the other sets."""
    fold_of = measured.folds()
    pair_folds = [{fold_of[k] for k in pair} for pair in measured.pairs]
    probabilities = np.zeros(len(measured.pairs))
    for fold in range(FOLDS):
        test = np.array([fold in folds for folds in pair_folds])
        features = np.vstack([measured.features[~test], *[m.features for m in others]])
        labels = np.concatenate([measured.labels[~test], *[m.labels for m in others]])
        model = FIT(features, labels)
        probabilities[test] = model.probability(measured.features[test])
    return probabilities


def shipped(measured, sets):
    model = FIT(np.vstack([m.features for m in sets]), np.concatenate([m.labels for m in sets]))
    return model.probability(measured.features)


def show(name, result):
    print(
        f"  {name:<28} reported {result['reported']:>3} ({result['true']} true): precision {result['precision']:.2f} "
        f"recall {result['recall']:.2f} | likely {result['likely']} precision {result['likely_precision']:.2f} "
        f"recall {result['likely_recall']:.2f} | group pairs {result['group_pairs']} precision "
        f"{result['group_precision']:.2f} recall {result['group_recall']:.2f} | near misses {len(result['near_misses'])}"
    )


def write_labelled_pairs(sets, path):
    from reports.duplication import FEATURES

    rows, labels, sources = [], [], []
    for measured in sets:
        rows += [[round(float(v), 5) for v in row] for row in measured.features]
        labels += [int(v) for v in measured.labels]
        sources += [measured.set.name] * len(measured.pairs)
    data = {
        "about": "Evidence (reports.duplication.FEATURES) and labels (1: the same work) of every candidate pair of "
        "the labelled sets, written by bench/duplication_quality.py --write-labelled-pairs on "
        f"{dt.date.today():%-d %B %Y}. The portal fits its match model on these and reviewers' judgements.",
        "features": list(FEATURES),
        "sets": {name: sources.count(name) for name in dict.fromkeys(sources)},
        "rows": rows,
        "labels": labels,
    }
    Path(path).write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} labelled pairs ({sum(labels)} the same work) to {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT / "data" / "duplication-real" / "corpus.json"))
    parser.add_argument("--dev", default=str(ROOT / "tests" / "reports" / "data" / "duplication-dev.json"))
    parser.add_argument(
        "--regions",
        nargs="?",
        const=str(ROOT / "data" / "duplication-real" / "regions.json"),
        help="compare the corpus's texts only when their regions (bench/corpus_regions.py) overlap",
    )
    parser.add_argument("--write-labelled-pairs", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="list the false and missed pairs")
    parser.add_argument(
        "--features", help="the evidence the model weighs, comma-separated (reports.duplication.evidence's names)"
    )
    parser.add_argument(
        "--learner",
        default="logistic",
        choices=["logistic", "forest", "forest-isotonic", "boosted", "boosted-isotonic", "boosted-platt"],
    )
    args = parser.parse_args()
    global FIT
    if args.learner != "logistic":
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        FIT = sklearn_learner(args.learner)
    import django

    django.setup()
    from django.conf import settings

    from reports.duplication import FEATURES

    features = tuple(args.features.split(",")) if args.features else None
    sets = [Measured(development_set(args.dev), features), Measured(demonstration_set(), features)]
    if Path(args.corpus).exists():
        sets.insert(0, Measured(corpus_set(args.corpus, args.regions), features))
    else:
        print(f"no corpus at {args.corpus}: the development set only")
    print(
        f"DUPLICATE_WORK_POSSIBLE {settings.DUPLICATE_WORK_POSSIBLE}, DUPLICATE_WORK_LIKELY "
        f"{settings.DUPLICATE_WORK_LIKELY}, DUPLICATE_WORK_NEIGHBOURS {settings.DUPLICATE_WORK_NEIGHBOURS}"
    )
    for measured in sets:
        labelled = measured.set
        print(
            f"{labelled.name}: {len(labelled.texts)} texts, {len(labelled.truth)} true pairs, "
            f"{len(measured.pairs)} candidate pairs, true pairs never offered as candidates: {len(measured.missing)}"
        )
        others = [m for m in sets if m is not measured]
        print(f"  features: {', '.join(features or FEATURES)}; learner: {args.learner}")
        methods = [("closest-match rule (before)", closest_match_rule(measured))]
        methods.append(("other sets", other_sets(measured, others)))
        if len(labelled.truth) >= FOLDS:
            methods.append(("grouped 5-fold", grouped_folds(measured, others)))
        methods.append(("shipped (in sample)", shipped(measured, sets)))
        for name, probabilities in methods:
            result = score(measured, probabilities)
            show(name, result)
            if args.verbose:
                print(f"    false: {result['false']}\n    missed: {result['missed']}")
    if args.write_labelled_pairs:
        from reports.duplication import LABELLED_PAIRS

        if features and features != FEATURES:
            raise SystemExit("the labelled pairs the portal ships are measured on reports.duplication.FEATURES")
        write_labelled_pairs(sets, LABELLED_PAIRS)


if __name__ == "__main__":
    main()
