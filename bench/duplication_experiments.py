"""Learners, succession evidence, publication dates and group coherence on the labelled sets, grouped 5-fold.

    /path/to/python-with-scikit-learn bench/duplication_experiments.py [--regions [PATH]] [--only NAME,...]

The measurements of docs/duplication.md's section "Learners, editions, dates and groups": each row is one way of
scoring the candidate pairs of the real-text corpus and the development set, measured as
bench/duplication_quality.py measures (grouped 5-fold: the records in five folds, each connected group of the
same work in one fold; each fold's pairs scored by a model fitted on the other four folds and the other two
sets). For each row it prints, on the corpus: precision / recall at DUPLICATE_WORK_POSSIBLE (0.5), the "likely"
band's (0.8), the precision at recall 0.70 (the curve of the pooled test-fold scores: a description, no
threshold chosen on them), and precision / recall at a threshold chosen on the training folds only (nested: in
each outer fold, the highest threshold at which the training folds' own grouped 5-fold scores reach recall
0.70); on the development set, precision / recall at 0.5 and at the chosen threshold.

Rows (--only picks some by name; every row weighs the ten FEATURES, and more where it says):
- logistic: the portal's MatchModel (the figure of record); with it, the pairs whose texts both carry a
  publication date in their source address (a year and month, or a full date) not compared when the dates are
  more than 1, 2 or 3 years apart;
- logistic-interactions: products of evidence (cosine x lift, title_cosine x (1 - cosine), lift x shared_rarity,
  cosine x margin);
- boosted-monotone-d2|d3[-isotonic|-sigmoid]: scikit-learn's HistGradientBoostingClassifier, each feature
  constrained to its direction (evidence for +1, against -1), depth 2 or 3, calibrated within the training
  data (CalibratedClassifierCV, 5 folds) or not; -interactions with the products above;
- blend-logistic-boosted[-editions]: the mean of the logistic regression's and the calibrated boosting's
  probabilities;
- succession-title[-x-titles]: words of succession (new, expanded, next, second, successor, replaces, updated,
  refreshed, revised, relaunched...) in one title only, and that times the titles' cosine;
- succession-text: words of succession anywhere in one text only, and in both;
- editions: the titles' years (both name years, none in common; one title names a year, the other none) and
  words of succession in one title only;
- coherence[-support|-conflict], editions-coherence[-conflict]: a second stage over the first stage's
  probabilities (each training pair's first-stage probability itself measured out of fold): the support of
  third records (max over C of min(p(A,C), p(B,C))) and the conflict (max over C of p(A,C) (1 - p(B,C)),
  either way round);
- kind-prior: the two publishers' kinds (both national, a press text in the pair, national and not) as a prior
  learned in the folds (the development and demonstration sets count as national).
--groups adds the precision / recall of the pairs the engine's groups (complete linkage) name, cut at 0.5 to 0.8.
--no-thresholds skips the nested choice of threshold (for a second-stage row it fits the first stage 125 times).
"""

import argparse
import os
import re
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import duplication_quality as quality

ROOT = quality.ROOT
# Each FEATURE's direction: evidence for the same work (+1) or against it (-1).
DIRECTIONS = {
    "cosine": 1,
    "lift": 1,
    "shared_rarity": 1,
    "rare_terms": 1,
    "margin": 1,
    "where_differs": -1,
    "years_differ": -1,
    "phases_differ": -1,
    "title_cosine": 1,
    "evaluation_differs": -1,
}
# General English for a later edition of something: not drawn from any labelled set's words.
SUCCESSION = re.compile(
    r"\b(?:new|newly|expand(?:s|ed|ing)?|expansion|extend(?:s|ed|ing)?|next|second|third|fourth|fifth|"
    r"extension|successor|succeed(?:s|ed|ing)?|replac(?:e|es|ed|ing)|update[ds]?|updating|refresh(?:es|ed)?|"
    r"revis(?:e|ed|es|ion)|relaunch(?:es|ed)?|renew(?:s|ed|al)?|latest|follow-?up|build(?:s|ing)? on)\b",
    re.IGNORECASE,
)
DATE_IN_ADDRESS = re.compile(r"(?<!\d)((?:19|20)\d\d)[/-](0[1-9]|1[0-2])(?:[/-]\d\d)?(?![\d])")
TARGET_RECALL = 0.70


def precision_at_recall(probabilities, labels, total, recall=TARGET_RECALL):
    order = np.argsort(-probabilities, kind="stable")
    hits = np.cumsum(labels[order])
    needed = int(np.ceil(recall * total))
    reach = np.nonzero(hits >= needed)[0]
    return float(hits[reach[0]] / (reach[0] + 1)) if len(reach) else float("nan")


def threshold_for_recall(probabilities, labels, total, recall=TARGET_RECALL):
    """The highest threshold at which ``recall`` of ``total`` true pairs is reported."""
    order = np.argsort(-probabilities, kind="stable")
    hits = np.cumsum(labels[order])
    reach = np.nonzero(hits >= np.ceil(recall * total))[0]
    return float(probabilities[order][reach[0]]) if len(reach) else 0.0


class Experiment:
    """One way of scoring: which columns, which learner, an optional second stage."""

    def __init__(self, name, fit, extra=None, second_stage=False):
        self.name, self.fit, self.extra = name, fit, extra
        # second_stage: False, or the coherence columns to use (True: both; "support"; "conflict")
        self.second_stage = second_stage

    def columns(self, measured):
        if self.extra is None:
            return measured.features
        return np.column_stack([measured.features, self.extra(measured)])


def folds_of_pairs(measured):
    fold_of = measured.folds()
    return [{fold_of[k] for k in pair} for pair in measured.pairs]


def out_of_fold(experiment, measured, others, subset=None):
    """Grouped 5-fold probabilities of ``measured``'s pairs (only those in ``subset``, a boolean mask, taking
    part), each fold's fitted on the other folds' pairs of ``subset`` and all of the other sets."""
    columns = experiment.columns(measured)
    other_columns = [m.features if isinstance(m, _Rows) else experiment.columns(m) for m in others]
    subset = np.ones(len(measured.pairs), dtype=bool) if subset is None else subset
    pair_folds = folds_of_pairs(measured)
    probabilities = np.zeros(len(measured.pairs))
    for fold in range(quality.FOLDS):
        test = np.array([fold in folds for folds in pair_folds]) & subset
        train = ~np.array([fold in folds for folds in pair_folds]) & subset
        if not test.any():
            continue
        model = experiment.fit(
            np.vstack([columns[train], *other_columns]),
            np.concatenate([measured.labels[train], *[m.labels for m in others]]),
        )
        probabilities[test] = model.probability(columns[test])
    return probabilities


def coherence(measured, probabilities):
    """Support and conflict of third records for each pair, from the first stage's probabilities."""
    keys = sorted({k for pair in measured.pairs for k in pair})
    position = {k: n for n, k in enumerate(keys)}
    p = np.zeros((len(keys), len(keys)))
    for pair, value in zip(measured.pairs, probabilities):
        a, b = (position[k] for k in pair)
        p[a, b] = p[b, a] = value
    support, conflict = [], []
    for pair in measured.pairs:
        a, b = (position[k] for k in pair)
        others = np.ones(len(keys), dtype=bool)
        others[[a, b]] = False
        pa, pb = p[a, others], p[b, others]
        support.append(float(np.max(np.minimum(pa, pb), initial=0.0)))
        conflict.append(float(max(np.max(pa * (1 - pb), initial=0.0), np.max(pb * (1 - pa), initial=0.0))))
    return np.column_stack([support, conflict])


def two_stage(experiment, measured, others, subset=None):
    """Grouped 5-fold with a second stage over coherence features (first-stage probabilities out of fold); only
    the pairs in ``subset`` (a boolean mask) take part, as in out_of_fold."""
    pair_folds = folds_of_pairs(measured)
    subset = np.ones(len(measured.pairs), dtype=bool) if subset is None else subset
    result = np.zeros(len(measured.pairs))
    first = Experiment(experiment.name, experiment.fit, experiment.extra)
    columns = first.columns(measured)
    for fold in range(quality.FOLDS):
        in_fold = np.array([fold in folds for folds in pair_folds])
        in_test, train = in_fold & subset, ~in_fold & subset
        if not in_test.any():
            continue
        # first stage on the training folds, measured out of fold within them (nested)
        inner = out_of_fold(first, measured, others, subset=train)
        trained = _Rows(columns[train], measured.labels[train])
        other_first = [_cross_set(first, m, [trained, *[x for x in others if x is not m]]) for m in others]
        # first stage for the test fold: fitted on every training pair
        model = first.fit(
            np.vstack([columns[train], *[first.columns(m) for m in others]]),
            np.concatenate([measured.labels[train], *[m.labels for m in others]]),
        )
        outer = model.probability(columns)
        train_coherence = coherence(measured, np.where(train, inner, 0.0))
        test_coherence = coherence(measured, np.where(in_test | train, outer, 0.0))
        keep = {True: [0, 1], "support": [0], "conflict": [1]}[experiment.second_stage]
        train_coherence, test_coherence = train_coherence[:, keep], test_coherence[:, keep]
        x_train = np.vstack(
            [
                np.column_stack([columns[train], train_coherence[train]]),
                *[np.column_stack([first.columns(m), coherence(m, q)[:, keep]]) for m, q in zip(others, other_first)],
            ]
        )
        y_train = np.concatenate([measured.labels[train], *[m.labels for m in others]])
        second = experiment.fit(x_train, y_train)
        result[in_test] = second.probability(np.column_stack([columns[in_test], test_coherence[in_test]]))
    return result


class _Rows:
    """The training folds' pairs of a set, as another set to fit on (its columns already measured)."""

    def __init__(self, features, labels):
        self.features, self.labels = features, labels


def _cross_set(experiment, measured, others):
    """Another set's first-stage probabilities, out of fold when it has folds (fitted on ``others`` too)."""
    if len(measured.set.truth) >= quality.FOLDS:
        return out_of_fold(experiment, measured, others)
    model = experiment.fit(
        np.vstack([o.features if isinstance(o, _Rows) else experiment.columns(o) for o in others]),
        np.concatenate([o.labels for o in others]),
    )
    return model.probability(experiment.columns(measured))


def scored(experiment, measured, others, subset=None):
    if experiment.second_stage:
        return two_stage(experiment, measured, others, subset)
    return out_of_fold(experiment, measured, others, subset)


def chosen_thresholds(experiment, measured, others):
    """Per outer fold, the threshold chosen on the training folds alone (their own grouped 5-fold scores)."""
    pair_folds = folds_of_pairs(measured)
    fold_of = measured.folds()
    thresholds = np.zeros(len(measured.pairs))
    for fold in range(quality.FOLDS):
        in_test = np.array([fold in folds for folds in pair_folds])
        train = ~in_test
        inner = scored(experiment, measured, others, subset=train)
        truth_in_train = sum(1 for pair in measured.set.truth if all(fold_of[k] != fold for k in pair))
        thresholds[in_test] = threshold_for_recall(inner[train], measured.labels[train], truth_in_train)
    return thresholds


def figures(measured, probabilities, blocked=None, thresholds=None):
    if blocked is not None:
        probabilities = np.where(blocked, 0.0, probabilities)
    labels, total = measured.labels, len(measured.set.truth)

    def at(threshold):
        reported = probabilities >= threshold
        n, hits = int(reported.sum()), float(labels[reported].sum())
        return (hits / n if n else 1.0), hits / total, n

    p5, r5, n5 = at(0.5)
    p8, r8, _ = at(0.8)
    line = f"{p5:.2f} / {r5:.2f} ({n5}; likely {p8:.2f}, {r8:.2f})"
    line += f" | P@R0.70 {precision_at_recall(probabilities, labels, total):.2f}"
    if thresholds is not None:
        pc, rc, nc = at(thresholds)
        line += f" | training-fold threshold {np.round(np.unique(thresholds), 2).tolist()}: {pc:.2f} / {rc:.2f} ({nc})"
    return line


def group_cuts(measured, probabilities, cuts=(0.5, 0.6, 0.7, 0.8)):
    """Precision / recall of the pairs named by the engine's groups (complete linkage) cut at each threshold."""
    from django.conf import settings

    kept = settings.DUPLICATE_WORK_POSSIBLE
    parts = []
    try:
        for cut in cuts:
            settings.DUPLICATE_WORK_POSSIBLE = cut
            result = quality.score(measured, probabilities)
            parts.append(
                f"{cut}: {result['group_precision']:.2f} / {result['group_recall']:.2f} ({result['group_pairs']})"
            )
    finally:
        settings.DUPLICATE_WORK_POSSIBLE = kept
    return "; ".join(parts)


# ---- extra evidence -------------------------------------------------------------------------------------------


def texts_of(measured):
    return {key: (title, description) for key, title, description in measured.set.texts}


def succession_columns(measured, with_title=True):
    texts = texts_of(measured)
    one_only, title_one_only = [], []
    for pair in measured.pairs:
        a, b = sorted(pair)
        body = [bool(SUCCESSION.search(texts[k][0] + " " + texts[k][1])) for k in (a, b)]
        title = [bool(SUCCESSION.search(texts[k][0])) for k in (a, b)]
        one_only.append(float(body[0] != body[1]))
        title_one_only.append(float(title[0] != title[1]))
    columns = [np.array(title_one_only)]
    if with_title:
        title_cos = measured.features[:, list(DIRECTIONS).index("title_cosine")]
        columns.append(np.array(title_one_only) * title_cos)
    return np.column_stack(columns)


def body_succession_columns(measured):
    """Words of succession anywhere in one text only; in both."""
    texts = texts_of(measured)
    rows = []
    for pair in measured.pairs:
        found = [bool(SUCCESSION.search(" ".join(texts[k]))) for k in sorted(pair)]
        rows.append([float(found[0] != found[1]), float(found[0] and found[1])])
    return np.array(rows)


def interaction_columns(measured):
    f = {name: measured.features[:, n] for n, name in enumerate(DIRECTIONS)}
    return np.column_stack(
        [
            f["cosine"] * f["lift"],
            f["title_cosine"] * (1 - f["cosine"]),
            f["lift"] * f["shared_rarity"],
            f["cosine"] * f["margin"],
        ]
    )


YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?:\s*(?:/|-|–|to)\s*((?:19|20)?\d\d))?(?!\d)")


def title_years(title):
    """The years a title names, a range or financial year ("2023 to 2025", "2019/20") as every year in it."""
    years = set()
    for found in YEAR.finditer(title):
        first = int(found.group(1))
        last = found.group(2)
        last = first if not last else int(last) if len(last) == 4 else first // 100 * 100 + int(last)
        years |= set(range(first, max(first, min(last, first + 10)) + 1))
    return years


def edition_columns(measured):
    """Title-level evidence of two editions: years in both titles, none in common; a year in one title only;
    words of succession in one title only."""
    texts = texts_of(measured)
    rows = []
    for pair in measured.pairs:
        a, b = sorted(pair)
        ya, yb = title_years(texts[a][0]), title_years(texts[b][0])
        sa, sb = (bool(SUCCESSION.search(texts[k][0])) for k in (a, b))
        rows.append([float(bool(ya and yb and not ya & yb)), float(bool(ya) != bool(yb)), float(sa != sb)])
    return np.array(rows)


KINDS = ("national", "trust", "ccg", "system", "press", "other")


def kind_columns(measured, corpus_texts):
    rows = []
    for pair in measured.pairs:
        kinds = sorted(corpus_texts.get(k, {}).get("kind", "national") for k in pair)
        rows.append(
            [
                float(kinds == ["national", "national"]),
                float("press" in kinds),
                float("national" in kinds and kinds != ["national", "national"]),
            ]
        )
    return np.array(rows)


def publication_dates(corpus):
    dates = {}
    for text in corpus["texts"]:
        found = DATE_IN_ADDRESS.search(text["source"])
        if found:
            dates[text["key"]] = int(found.group(1)) + (int(found.group(2)) - 1) / 12
    return dates


def dates_blocked(measured, dates, years):
    return np.array(
        [all(k in dates for k in pair) and abs(dates[min(pair)] - dates[max(pair)]) > years for pair in measured.pairs]
    )


# ---- learners -------------------------------------------------------------------------------------------------


def logistic(features, labels):
    from reports.duplication import MatchModel

    return MatchModel.fit(features, labels)


def boosted_monotone(depth, calibration, directions):
    def fit(features, labels):
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.ensemble import HistGradientBoostingClassifier

        classifier = HistGradientBoostingClassifier(
            max_depth=depth,
            learning_rate=0.05,
            max_iter=200,
            min_samples_leaf=20,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=0,
            monotonic_cst=list(directions)[: features.shape[1]] + [0] * max(0, features.shape[1] - len(directions)),
        )
        if calibration:
            classifier = CalibratedClassifierCV(classifier, method=calibration, cv=5)
        return quality._Fitted(classifier.fit(features, labels))

    return fit


class _Blend:
    def __init__(self, models):
        self.models = models

    def probability(self, features):
        return np.mean([model.probability(features) for model in self.models], axis=0)


def blend(*fits):
    """The mean of several learners' probabilities."""

    def fit(features, labels):
        return _Blend([one(features, labels) for one in fits])

    return fit


def experiments(corpus_data):
    base = list(DIRECTIONS.values())
    corpus_texts = {t["key"]: t for t in corpus_data["texts"]}
    rows = [
        Experiment("logistic", logistic),
        Experiment("logistic-interactions", logistic, interaction_columns),
    ]
    for depth in (2, 3):
        for calibration in ("", "isotonic", "sigmoid"):
            name = f"boosted-monotone-d{depth}" + (f"-{calibration}" if calibration else "")
            rows.append(Experiment(name, boosted_monotone(depth, calibration, base)))
    rows += [
        Experiment("succession-title", logistic, lambda m: succession_columns(m, with_title=False)),
        Experiment("succession-title-x-titles", logistic, succession_columns),
        Experiment("succession-text", logistic, body_succession_columns),
        Experiment("coherence", logistic, second_stage=True),
        Experiment("coherence-support", logistic, second_stage="support"),
        Experiment("coherence-conflict", logistic, second_stage="conflict"),
        Experiment("editions", logistic, edition_columns),
        Experiment(
            "blend-logistic-boosted",
            blend(logistic, boosted_monotone(2, "isotonic", base)),
        ),
        Experiment(
            "blend-logistic-boosted-editions",
            blend(logistic, boosted_monotone(2, "isotonic", base + [-1, 0, 0])),
            edition_columns,
        ),
        Experiment("editions-coherence", logistic, edition_columns, second_stage=True),
        Experiment("editions-coherence-conflict", logistic, edition_columns, second_stage="conflict"),
        Experiment("kind-prior", logistic, lambda m: kind_columns(m, corpus_texts)),
        Experiment(
            "boosted-monotone-d2-isotonic-interactions",
            boosted_monotone(2, "isotonic", base + [1, 1, 1, 1]),
            interaction_columns,
        ),
    ]
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT / "data" / "duplication-real" / "corpus.json"))
    parser.add_argument("--dev", default=str(ROOT / "tests" / "reports" / "data" / "duplication-dev.json"))
    parser.add_argument("--regions", nargs="?", const=str(ROOT / "data" / "duplication-real" / "regions.json"))
    parser.add_argument("--only", help="the rows to measure, comma-separated")
    parser.add_argument("--groups", action="store_true", help="the pairs the engine's groups name, at cuts")
    parser.add_argument("--no-thresholds", action="store_true", help="skip the nested choice of threshold")
    args = parser.parse_args()
    import json

    import django

    django.setup()
    corpus_data = json.loads(Path(args.corpus).read_text(encoding="utf-8"))
    corpus = quality.Measured(quality.corpus_set(args.corpus, args.regions))
    dev = quality.Measured(quality.development_set(args.dev))
    demo = quality.Measured(quality.demonstration_set())
    dates = publication_dates(corpus_data)
    print(f"texts with a publication date in their source address: {len(dates)} of {len(corpus_data['texts'])}")
    only = set(args.only.split(",")) if args.only else None
    for experiment in experiments(corpus_data):
        if only and experiment.name not in only:
            continue
        line = [experiment.name]
        for measured, others in ((corpus, [dev, demo]), (dev, [corpus, demo])):
            probabilities = scored(experiment, measured, others)
            thresholds = None
            if not args.no_thresholds:
                thresholds = chosen_thresholds(experiment, measured, others)
            line.append(f"{measured.set.name}: {figures(measured, probabilities, thresholds=thresholds)}")
            if measured is corpus and experiment.name == "logistic":
                for years in (1, 2, 3):
                    blocked = dates_blocked(measured, dates, years)
                    both = sum(all(k in dates for k in pair) for pair in measured.pairs)
                    print(
                        f"dates more than {years} years apart not compared ({int(blocked.sum())} of {both} candidate "
                        f"pairs with both dated; {int(measured.labels[blocked].sum())} of them true): "
                        f"{figures(measured, probabilities, blocked)}",
                        flush=True,
                    )
            if measured is corpus and args.groups:
                line.append("groups (complete linkage) cut at " + group_cuts(measured, probabilities))
        print("\n  ".join(line), flush=True)


if __name__ == "__main__":
    main()
