"""Two or more workstreams of different programmes, or programmes, that describe the same work, in whatever words.

Removing unnecessary duplication: pieces of work that mean the same, for a
shared audience, in overlapping regions (no region = all England) and at
overlapping times, are given a probability of being the same work from the
evidence in their wording (what they share, weighted by how rare it is in the
store; the named initiatives both name; how far they stand above each record's
chance neighbours), by a model fitted on labelled pairs and on reviewers'
judgements (reports/duplication.py). Records joined by such pairs are one
finding naming them all, "likely" or "possible", with the evidence in words
and the texts side by side. A pair judged "not the same work" is not reported
again while both texts are unchanged.
"""

from programmes.models import Programme, Workstream
from reports import duplication
from reports.models import PairJudgement

from . import FindingData, ref, rule

SIMILAR_SHOWN = 5  # the closest records elsewhere kept for each record's "Similar work elsewhere" panel


def current_judgements(record_type, index):
    """{(id, id): verdict} of the latest judgement of each pair, where both texts are as they were judged."""
    latest = {}
    for judgement in PairJudgement.objects.filter(record_type=record_type).order_by("decided_at", "pk"):
        latest[(judgement.first_id, judgement.second_id)] = judgement
    current = {}
    for (a, b), judgement in latest.items():
        if a not in index or b not in index:
            continue
        texts = (index.fingerprints[index.row(a)], index.fingerprints[index.row(b)])
        if texts == (judgement.first_text, judgement.second_text):
            current[(a, b)] = judgement.verdict
    return current


def evidence_in_words(index, pair):
    """What made a pair's probability, as an analyst reads it."""
    measured = dict(zip(duplication.FEATURES, pair.features.tolist()))
    parts = [f"similarity {pair.cosine:.2f}"]
    if "lift" in measured:
        parts.append(f"{measured['lift']:+.2f} against each one's chance neighbours")
    names = duplication.shared_names(index, index.row(pair.a), index.row(pair.b))
    if names:
        parts.append("both name " + ", ".join(_name_as_written(index, pair.a, name) for name in names[:4]))
    if measured.get("shared_rarity"):
        parts.append(f"what they share weighs {measured['shared_rarity']:.1f} by its rarity in the store")
    if measured.get("title_cosine", 0) >= 0.5:
        parts.append(f"titles alike ({measured['title_cosine']:.2f})")
    first, second = (index.markers[index.row(record_id)] for record_id in (pair.a, pair.b))
    if measured.get("where_differs"):
        parts.append(f"they name different places or bodies ({_listed(first.where)}; {_listed(second.where)})")
    if measured.get("years_differ"):
        parts.append(f"different years ({_years(first.years)}; {_years(second.years)})")
    if measured.get("phases_differ"):
        parts.append(f"different phases ({_phases(first.phases)}; {_phases(second.phases)})")
    if measured.get("evaluation_differs"):
        parts.append("one speaks of a study or evaluation, the other does not")
    return "; ".join(parts)


def _listed(names, limit=3):
    return ", ".join(name.title() for name in sorted(names)[:limit])


def _years(years):
    years = sorted(years)
    return str(years[0]) if len(years) == 1 else f"{years[0]}–{years[-1]}"


def _phases(phases):
    return ", ".join(f"{word} {number}" for word, number in sorted(phases))


def _name_as_written(index, record_id, name):
    return index.name_text[index.row(record_id)].get(name, name)


def _pair_data(index, record_type, pair, judged):
    return {
        "type": record_type,
        "a": pair.a,
        "b": pair.b,
        "probability": round(pair.probability, 3),
        "band": pair.band,
        "cosine": round(pair.cosine, 3),
        "evidence": evidence_in_words(index, pair),
        "judged": judged.get((pair.a, pair.b), ""),
    }


def _concepts(index, pairs):
    """The concepts the group's pairs share, most probable pair first, each once."""
    out = []
    for pair in pairs:
        for concept in duplication.shared_concepts(index, pair.a, pair.b):
            if concept not in out:
                out.append(concept)
    return out[:12]


def _how_sure(pairs):
    low = min(pair.probability for pair in pairs)
    band = "likely" if low >= duplication.likely_threshold() else "possibly"
    high = max(pair.probability for pair in pairs)
    spread = f"{low:.2f}" if round(low, 2) == round(high, 2) else f"{low:.2f} to {high:.2f}"
    return band, low, spread


def _finding(index, record_type, group, pairs, records, judged, describe):
    """One finding naming every record of a group, with each of its pairs."""
    mine = [pair for pair in pairs if pair.a in group and pair.b in group]
    band, low, spread = _how_sure(mine)
    concepts = _concepts(index, mine)
    named = [records[i] for i in group]
    return FindingData(
        f"{describe(named)} {'are' if len(named) > 1 else 'is'} {band} the same work (probability {spread}): "
        f"in common {'; '.join(concepts) or 'nothing named'}.",
        [ref_ for record in named for ref_ in refs_of(record_type, record)],
        score=round(min(low, 1.0), 3),
        shared_terms=concepts,
        pairs=[_pair_data(index, record_type, pair, judged) for pair in mine],
    )


def refs_of(record_type, record):
    """A record as a finding names it, with the wording compared (and a workstream's programme)."""
    if record_type == "workstream":
        return [{**ref(record, "workstream"), "text": record.description}]
    return [{**ref(record), "text": f"{record.summary}\n\n{record.description}".strip()}]


def _unique(refs):
    seen, out = set(), []
    for item in refs:
        key = (item["type"], item["id"])
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def _similar_rows(record_type, closest):
    """(record_type, record_id, other_id, rank, cosine, probability) of each record's closest records."""
    return [
        (record_type, record_id, other, rank, round(min(cosine, 1.0), 3), round(probability, 3))
        for record_id, found in closest.items()
        for rank, (other, cosine, probability) in enumerate(found)
    ]


def findings_of(context, record_type, index, neighbours, sql, load, describe):
    """The findings of one kind of record, with its closest records elsewhere and the model's figures."""
    judged = current_judgements(record_type, index)
    model, figures = duplication.model_for(index, neighbours, judged)
    context.figures.setdefault("duplicate_work_model", {})[record_type] = figures
    scored = duplication.scored_candidates(index, neighbours, model)
    context.similar_records += _similar_rows(
        record_type, duplication.closest_elsewhere(index, neighbours, scored, SIMILAR_SHOWN)
    )
    pairs = duplication.reported_pairs(sql, scored, judged)
    groups = duplication.groups_of(pairs, duplication.probabilities_of(index, neighbours, model, scored, judged))
    records = load({i for group in groups for i in group})
    for group in groups:
        finding = _finding(index, record_type, group, pairs, records, judged, describe)
        if record_type == "workstream":
            finding.records = _unique(finding.records + [ref(records[i].programme) for i in group])
        yield finding


def _workstreams_named(named):
    return " and ".join(
        [", ".join(f"“{w.title}” ({w.programme})" for w in named[:-1]), f"“{named[-1].title}” ({named[-1].programme})"]
    )


def _programmes_named(named):
    return "The programmes " + " and ".join([", ".join(str(p) for p in named[:-1]), str(named[-1])])


@rule("duplicate-work", kind="duplication", severity="medium", name="Duplicate work")
def check(context):
    index, audiences, programmes = duplication.workstream_index()
    neighbours = duplication.nearest(index, duplication.neighbours_per_record(), audiences, programmes)
    yield from findings_of(
        context,
        "workstream",
        index,
        neighbours,
        duplication.WORKSTREAM_BLOCKING,
        lambda ids: Workstream.objects.select_related("programme").in_bulk(ids),
        _workstreams_named,
    )
    index = duplication.programme_index()
    neighbours = duplication.nearest(index, duplication.neighbours_per_record())
    yield from findings_of(
        context,
        "programme",
        index,
        neighbours,
        duplication.PROGRAMME_BLOCKING,
        lambda ids: Programme.objects.in_bulk(ids),
        _programmes_named,
    )
