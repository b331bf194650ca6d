"""Two workstreams of different programmes, or two programmes, whose scope overlaps: the same work twice?

Removing unnecessary duplication: pieces of work that read alike, for a shared
audience, in overlapping regions and at overlapping times, are scored 0 to 1
on their wording and listed with the words they share. Candidates come from a
MinHash index of their words (reports/duplication.py), never from comparing every pair.
"""

from programmes.models import Programme, Workstream
from reports.duplication import shared_words, similar_programmes, similar_workstreams

from . import FindingData, ref, rule


@rule("duplicate-work", kind="duplication", severity="medium")
def check(context):
    pairs = similar_workstreams()
    ids = {i for a, b, _ in pairs for i in (a, b)}
    workstreams = {w.pk: w for w in Workstream.objects.filter(pk__in=ids).select_related("programme")}
    for a_id, b_id, score in pairs:
        a, b = workstreams[a_id], workstreams[b_id]
        terms = shared_words(f"{a.title} {a.description}", f"{b.title} {b.description}")
        yield FindingData(
            f"“{a.title}” ({a.programme}) and “{b.title}” ({b.programme}) describe overlapping work "
            f"(similarity {score:.2f}): shared words {', '.join(terms[:12]) or 'none'}.",
            [ref(a, "workstream"), ref(b, "workstream"), ref(a.programme), ref(b.programme)],
            score=round(score, 3),
            shared_terms=terms,
        )
    pairs = similar_programmes()
    ids = {i for a, b, _ in pairs for i in (a, b)}
    programmes = {p.pk: p for p in Programme.objects.filter(pk__in=ids)}
    for a_id, b_id, score in pairs:
        a, b = programmes[a_id], programmes[b_id]
        terms = shared_words(f"{a.title} {a.summary} {a.description}", f"{b.title} {b.summary} {b.description}")
        yield FindingData(
            f"The programmes {a} and {b} describe overlapping scope (similarity {score:.2f}): "
            f"shared words {', '.join(terms[:12]) or 'none'}.",
            [ref(a), ref(b)],
            score=round(score, 3),
            shared_terms=terms,
        )
