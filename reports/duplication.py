"""The duplication engine: work that means the same, found through the terms it is about, never by comparing every pair.

Each record's wording becomes a bag of terms (reports/wording.py: British
spelling, stems, numbers and units written one way, NHS abbreviations and
their full forms as one concept, ordinary synonyms as one concept). Every term
is weighted by TF-IDF over the whole store (a term most records use, such as
"care", counts for little; "thrombectomy" counts for much; NHS concepts and
numbers count a little less than words, as they repeat what the words say),
and each record becomes a unit vector of those weights (a sparse row of a
matrix). The cosine of two rows, 0 to 1, is the score: the
share of what the two texts are about that they have in common.

Candidates are each record's nearest neighbours among the records that share
an audience with it and belong to another programme: the rows, made dense and
short (a random projection of the terms when there are many), are multiplied
by the rows of their audience a block at a time (BLAS), each record's best
candidates are kept and scored exactly, and each record keeps its
DUPLICATE_WORK_NEIGHBOURS closest records that reach the lower of the two
thresholds below. No pair is
compared in Python; the one part that grows with the square of the records
is that multiplication, a few seconds for 20,000 workstreams.

The candidates then go to PostgreSQL in one query, which keeps the pairs from
different programmes that share an audience, overlap in regions (a record
with no region covers all England; otherwise they must share a region) and
overlap in time. A pair is a finding when its score reaches
DUPLICATE_WORK_THRESHOLD, or when the two are each other's closest match
among the records they may be compared with, each has
DUPLICATE_WORK_MUTUAL_MIN_TERMS distinct terms and the score reaches
DUPLICATE_WORK_MUTUAL_THRESHOLD (see scored_pairs). Findings list the
concepts the two texts share. Programmes are compared the same way on title,
summary and description, on DUPLICATE_WORK_THRESHOLD alone.

All of this runs in the Celery worker, inside the report's task: no page or
API request builds the index.
"""

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection
from scipy import sparse

from .wording import label, stem, terms

TITLE_WEIGHT = (
    1  # the title is read with the description, once (counted twice, same-theme titles pulled near misses up)
)
KIND_WEIGHTS = {"w": 1.0, "nhs": 0.7, "syn": 1.0, "n": 0.5}  # words, NHS concepts, synonym concepts, numbers
BLOCK_ROWS = 1000  # rows multiplied at a time: bounds the memory of the neighbour search (1000 x records)
PROJECTED_DIMENSIONS = 256  # dense rows of the neighbour search (see _dense)
EXACT_DIMENSIONS = 512  # up to this many distinct terms the dense rows are exact
SAMPLE_COLUMNS = 1024  # columns sampled to find each row's cut-off (see _top_columns)


def threshold():
    return float(settings.DUPLICATE_WORK_THRESHOLD)


def mutual_threshold():
    return float(settings.DUPLICATE_WORK_MUTUAL_THRESHOLD)


def mutual_min_terms():
    return int(settings.DUPLICATE_WORK_MUTUAL_MIN_TERMS)


def neighbours_per_record():
    return int(settings.DUPLICATE_WORK_NEIGHBOURS)


@dataclass
class Index:
    ids: list
    matrix: object  # scipy CSR, one unit row per record
    vocabulary: dict  # term -> column
    terms: list  # Terms per record (for explaining a finding)

    def row(self, record_id):
        return self._rows[record_id]

    def __post_init__(self):
        self._rows = {record_id: i for i, record_id in enumerate(self.ids)}
        self.term_of = [None] * len(self.vocabulary)
        for term, column in self.vocabulary.items():
            self.term_of[column] = term


def build_index(records):
    """An Index of [(id, title, text)]: TF-IDF of each record's terms, rows of unit length."""
    ids, bags, all_terms = [], [], []
    for record_id, title, text in records:
        title_terms = terms(title)
        body_terms = terms(text)
        counts = defaultdict(float, body_terms.counts)
        for term, count in title_terms.counts.items():
            counts[term] += TITLE_WEIGHT * count
        surface = {**title_terms.surface, **body_terms.surface}
        ids.append(record_id)
        bags.append(counts)
        all_terms.append(surface)
    vocabulary = {}
    rows, cols, values = [], [], []
    for i, bag in enumerate(bags):
        for term, count in bag.items():
            rows.append(i)
            cols.append(vocabulary.setdefault(term, len(vocabulary)))
            # sublinear: saying a thing twice is not twice as much
            values.append((1.0 + math.log(count)) * KIND_WEIGHTS[term.split(":", 1)[0]])
    shape = (len(ids), max(len(vocabulary), 1))
    matrix = sparse.csr_matrix((np.array(values, dtype=np.float32), (rows, cols)), shape=shape)
    document_frequency = np.bincount(np.array(cols, dtype=np.int64), minlength=shape[1]) if cols else np.zeros(1)
    idf = (np.log((1 + len(ids)) / (1 + document_frequency)) + 1).astype(np.float32)
    matrix = matrix @ sparse.diags(idf)
    norms = np.sqrt(matrix.multiply(matrix).sum(axis=1)).A1
    norms[norms == 0] = 1
    matrix = sparse.diags(1 / norms).astype(np.float32) @ matrix
    return Index(ids, matrix.tocsr(), vocabulary, all_terms)


def _dense(matrix):
    """Each record as a short dense row whose dot products are the cosines (exactly, or within a few hundredths).

    With few distinct terms the rows are used as they are. With more, they are projected onto
    PROJECTED_DIMENSIONS random directions (a fixed seed: the same store gives the same candidates), which
    keeps every cosine within about 1/sqrt(PROJECTED_DIMENSIONS) of the true one; candidates are then
    scored exactly.
    """
    if matrix.shape[1] <= EXACT_DIMENSIONS:
        return np.ascontiguousarray(matrix.toarray(), dtype=np.float32)
    rng = np.random.default_rng(2018)
    signs = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=(matrix.shape[1], PROJECTED_DIMENSIONS))
    return np.ascontiguousarray(matrix @ (signs / np.sqrt(PROJECTED_DIMENSIONS)), dtype=np.float32)


def exact_scores(index, left, right):
    """The exact cosine of each pair of rows (arrays of row numbers)."""
    if not len(left):
        return np.zeros(0, dtype=np.float32)
    return np.asarray(index.matrix[left].multiply(index.matrix[right]).sum(axis=1), dtype=np.float32).ravel()


def _top_columns(block, wanted, rng):
    """(rows, columns) of at least each row's ``wanted`` largest values (all of them where fewer stand out).

    Sorting every row of a wide block costs more than the multiplication that made it, so each row's
    cut-off is read from a sample of its columns (with a margin of four), and the columns at or above it
    are taken in one vectorised comparison.
    """
    width = block.shape[1]
    if width <= 2 * SAMPLE_COLUMNS:
        top = np.argpartition(-block, wanted - 1, axis=1)[:, :wanted]
        return np.repeat(np.arange(block.shape[0]), wanted), top.ravel()
    sample = block[:, rng.choice(width, SAMPLE_COLUMNS, replace=False)]
    rank = min(SAMPLE_COLUMNS - 1, int(np.ceil(4 * wanted * SAMPLE_COLUMNS / width)))
    cut = np.partition(sample, SAMPLE_COLUMNS - 1 - rank, axis=1)[:, SAMPLE_COLUMNS - 1 - rank]
    return np.nonzero(block >= cut[:, None])


def nearest_pairs(index, minimum, k, groups=None, owners=None):
    """{(id, id): score} of each record's k nearest records whose score reaches minimum (id order within a pair).

    ``groups`` (lists of row numbers) limit the search to records that may be compared at all (those that
    share an audience); without it every record is compared with every other. ``owners`` (one value per
    row: the programme) leave out pairs of one owner, which may repeat its own words. The dense rows of a block
    of records are multiplied by the rows of their group at once (BLAS), each record's best candidates are
    kept and scored exactly from the sparse rows.
    """
    ids = np.array(index.ids)
    if len(ids) < 2:
        return {}  # nothing to compare
    dense = _dense(index.matrix)
    exact = index.matrix.shape[1] <= EXACT_DIMENSIONS  # the dense products are the scores themselves
    rng = np.random.default_rng(2018)
    found = {}
    for group in groups if groups is not None else [np.arange(len(ids))]:
        group = np.asarray(group, dtype=np.int64)
        n = len(group)
        if n < 2:
            continue
        wanted = min(2 * k, n - 1)
        members = dense[group]
        for start in range(0, n, BLOCK_ROWS):
            block = members[start : start + BLOCK_ROWS] @ members.T
            rows = np.arange(block.shape[0])
            block[rows, start + rows] = -np.inf  # not its own neighbour
            if owners is not None:
                mine = owners[group]
                block[mine[start : start + BLOCK_ROWS, None] == mine[None, :]] = -np.inf
            local_rows, local_columns = _top_columns(block, wanted, rng)
            left, right = group[start + local_rows], group[local_columns]
            near = block[local_rows, local_columns]
            scores = near if exact else exact_scores(index, left, right)
            keep = np.isfinite(near) & (scores >= minimum)
            left, right, scores = left[keep], right[keep], scores[keep]
            # Of each record's candidates, its k best by the exact score.
            order = np.lexsort((-scores, left))
            left, right, scores = left[order], right[order], scores[order]
            rank = np.arange(len(left)) - np.searchsorted(left, left)
            keep = rank < k
            for i, j, score in zip(ids[left[keep]].tolist(), ids[right[keep]].tolist(), scores[keep].tolist()):
                pair = (i, j) if i < j else (j, i)
                found[pair] = min(1.0, max(found.get(pair, 0.0), score))
    return found


def shared_concepts(index, a, b, limit=12):
    """What two records have in common, most telling first: "CHC ≈ NHS continuing healthcare", "dementia"."""
    row_a, row_b = index.matrix[index.row(a)], index.matrix[index.row(b)]
    weights_a = dict(zip(row_a.indices.tolist(), row_a.data.tolist()))
    contributions = []
    for column, weight in zip(row_b.indices.tolist(), row_b.data.tolist()):
        if column in weights_a:
            contributions.append((weights_a[column] * weight, column))
    columns = index.term_of
    surface_a, surface_b = index.terms[index.row(a)], index.terms[index.row(b)]
    said, out = set(), []
    shared_units = {f"w:{stem(columns[c].rsplit(' ', 1)[1])}" for _, c in contributions if columns[c].startswith("n:")}
    for _, column in sorted(contributions, reverse=True):
        term = columns[column]
        if term[2:].isdigit() or term in shared_units:
            continue  # a bare number, or a unit also shared with its number ("28 days"), says little on its own
        left, right = surface_a.get(term, label(term)), surface_b.get(term, label(term))
        if term.startswith(("nhs:", "syn:", "n:")) and _stems(left) != _stems(right):
            text = f"{left} ≈ {right}"  # said differently: "CHC ≈ NHS continuing healthcare"
        else:
            text = left  # said the same way, give or take a word ending: "trusts", "trust"
        words = set(text.lower().replace("≈", " ").split())
        if text.lower() in said or (words and words <= said):
            continue
        said |= words | {text.lower()}
        out.append(text)
        if len(out) >= limit:
            break
    return out


def _stems(words):
    return tuple(stem(w) for w in words.lower().split())


WORKSTREAM_BLOCKING = """
SELECT a.id, b.id
FROM unnest(%s::bigint[], %s::bigint[]) AS c(a_id, b_id)
JOIN programmes_workstream a ON a.id = c.a_id
JOIN programmes_workstream b ON b.id = c.b_id
WHERE a.programme_id <> b.programme_id
  AND a.audiences && b.audiences
  AND a.start_date <= COALESCE(b.end_date, 'infinity'::date)
  AND b.start_date <= COALESCE(a.end_date, 'infinity'::date)
  AND (
    NOT EXISTS (SELECT 1 FROM programmes_workstream_regions r WHERE r.workstream_id = a.id)
    OR NOT EXISTS (SELECT 1 FROM programmes_workstream_regions r WHERE r.workstream_id = b.id)
    OR EXISTS (
      SELECT 1 FROM programmes_workstream_regions ra
      JOIN programmes_workstream_regions rb ON ra.region_id = rb.region_id
      WHERE ra.workstream_id = a.id AND rb.workstream_id = b.id
    )
  )
"""

PROGRAMME_BLOCKING = """
SELECT a.id, b.id
FROM unnest(%s::bigint[], %s::bigint[]) AS c(a_id, b_id)
JOIN programmes_programme a ON a.id = c.a_id
JOIN programmes_programme b ON b.id = c.b_id
WHERE a.status <> 'closed' AND b.status <> 'closed'
  AND a.start_date <= COALESCE(b.end_date, 'infinity'::date)
  AND b.start_date <= COALESCE(a.end_date, 'infinity'::date)
"""


def blocked(sql, pairs):
    """The pairs that pass the blocking rules, in one query (run even for no pairs: a run's queries do not
    depend on the data)."""
    left, right = zip(*sorted(pairs)) if pairs else ((), ())
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(left), list(right)])
        return {(a, b) for a, b in cursor.fetchall()}


def scored_pairs(sql, index, mutual=True, groups=None, owners=None):
    """[(id, id, score, closest)] of the pairs that pass the blocking rules and are reported, best first.

    A pair is reported when its score reaches DUPLICATE_WORK_THRESHOLD, or, with mutual, when each record
    is the other's closest match among the records it may be compared with (another programme, a shared
    audience, regions and dates) and the score reaches DUPLICATE_WORK_MUTUAL_THRESHOLD. Two teams who
    write up one piece of work in their own words share fewer words than two copies do, but each write-up
    is still nearer the other than anything else in the store; work on the same theme that differs is
    usually nearer to something else. The second reason needs both records to say enough
    (DUPLICATE_WORK_MUTUAL_MIN_TERMS distinct terms each): a one-line description is somebody's closest
    match by chance as often as not. ``closest`` says which of the two reasons applies.
    """
    high = threshold()
    low = min(high, mutual_threshold()) if mutual else high
    enough = mutual_min_terms()
    sizes = np.diff(index.matrix.indptr)  # distinct terms of each record
    scores = nearest_pairs(index, low, neighbours_per_record(), groups, owners)
    kept = blocked(sql, scores)
    best = {}
    for a, b in kept:
        score = scores[(a, b)]
        for one, other in ((a, b), (b, a)):
            if one not in best or (score, -other) > (best[one][0], -best[one][1]):
                best[one] = (score, other)
    reported = []
    for a, b in kept:
        score = scores[(a, b)]
        closest = (
            mutual and best[a][1] == b and best[b][1] == a and min(sizes[index.row(a)], sizes[index.row(b)]) >= enough
        )
        if score >= high or (closest and score >= low):
            reported.append((a, b, score, closest))
    return sorted(reported, key=lambda p: (-p[2], p[0], p[1]))


def workstream_index():
    """(Index, groups, programmes): the workstreams' index, the rows of each audience (only those may be
    compared) and each row's programme (two workstreams of one programme are never duplicates)."""
    from programmes.models import Workstream

    rows = Workstream.objects.values_list("pk", "title", "description", "audiences", "programme_id").order_by("pk")
    audiences = defaultdict(list)
    texts, programmes = [], []
    for row, (pk, title, description, audience_list, programme) in enumerate(rows.iterator(chunk_size=5000)):
        texts.append((pk, title, description))
        programmes.append(programme)
        for audience in audience_list:
            audiences[audience].append(row)
    return build_index(texts), [audiences[a] for a in sorted(audiences)], np.array(programmes, dtype=np.int64)


def programme_index():
    from programmes.models import Programme

    texts = Programme.objects.exclude(status="closed").values_list("pk", "title", "summary", "description")
    return build_index(
        (pk, title, f"{summary}. {description}") for pk, title, summary, description in texts.order_by("pk")
    )


def similar_workstreams():
    """(index, [(id, id, score)]) of workstream pairs that describe the same work."""
    index, groups, programmes = workstream_index()
    return index, scored_pairs(WORKSTREAM_BLOCKING, index, groups=groups, owners=programmes)


def similar_programmes():
    index = programme_index()
    return index, scored_pairs(PROGRAMME_BLOCKING, index, mutual=False)
