"""Two workstreams of different programmes, or two programmes, that describe the same work, in whatever words.

Removing unnecessary duplication: pieces of work that mean the same, for a
shared audience, in overlapping regions (no region = all England) and at
overlapping times, are scored 0 to 1 on what their wording is about (NHS
abbreviations and their full forms, synonyms, British spelling, stems and
numbers made comparable) and listed with the concepts they share, and both
texts side by side on the finding's page. Candidates are each record's nearest
neighbours in a TF-IDF index of those terms (reports/duplication.py), never
every pair.
"""

from programmes.models import Programme, Workstream
from reports.duplication import shared_concepts, similar_programmes, similar_workstreams

from . import FindingData, ref, rule


def _why(score, closest):
    if closest:
        return f"each is the other's closest match in the store, similarity {score:.2f}"
    return f"similarity {score:.2f}"


def _with_text(record, text):
    """A record as the finding names it, with the wording that was compared (shown side by side)."""
    return {**record, "text": text}


@rule("duplicate-work", kind="duplication", severity="medium", name="Duplicate work")
def check(context):
    index, pairs = similar_workstreams()
    ids = {i for a, b, *_ in pairs for i in (a, b)}
    workstreams = {w.pk: w for w in Workstream.objects.filter(pk__in=ids).select_related("programme")}
    for a_id, b_id, score, closest in pairs:
        a, b = workstreams[a_id], workstreams[b_id]
        concepts = shared_concepts(index, a_id, b_id)
        yield FindingData(
            f"“{a.title}” ({a.programme}) and “{b.title}” ({b.programme}) describe the same work "
            f"({_why(score, closest)}): in common {'; '.join(concepts) or 'nothing named'}.",
            [
                _with_text(ref(a, "workstream"), a.description),
                _with_text(ref(b, "workstream"), b.description),
                ref(a.programme),
                ref(b.programme),
            ],
            score=round(min(score, 1.0), 3),
            shared_terms=concepts,
        )
    index, pairs = similar_programmes()
    ids = {i for a, b, *_ in pairs for i in (a, b)}
    programmes = {p.pk: p for p in Programme.objects.filter(pk__in=ids)}
    for a_id, b_id, score, closest in pairs:
        a, b = programmes[a_id], programmes[b_id]
        concepts = shared_concepts(index, a_id, b_id)
        yield FindingData(
            f"The programmes {a} and {b} describe overlapping scope ({_why(score, closest)}): "
            f"in common {'; '.join(concepts) or 'nothing named'}.",
            [
                _with_text(ref(a), f"{a.summary}\n\n{a.description}".strip()),
                _with_text(ref(b), f"{b.summary}\n\n{b.description}".strip()),
            ],
            score=round(min(score, 1.0), 3),
            shared_terms=concepts,
        )
