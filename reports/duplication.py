"""The duplication engine: records that describe the same work, with a calibrated probability that they do.

1. Wording made comparable (reports/wording.py): British spelling, stems,
   numbers and units written one way, NHS abbreviations and their full forms
   as one concept, ordinary synonyms as one concept. Each record is a unit row
   of TF-IDF weights over the store (build_index).
2. Exact candidate search (nearest): within each group of records that may be
   compared (workstreams sharing an audience), the sparse rows of a block of
   records are multiplied by the rows of their group (exact cosines, no
   projection) and each record keeps its DUPLICATE_WORK_NEIGHBOURS closest
   records of other programmes (taken exactly from each row's best chunks).
3. Evidence (FEATURES, measured by evidence): the cosine; its lift, how far
   it stands above each record's chance neighbours (those beyond its two
   closest: in a store of common words every record has close neighbours by
   chance); and what the two share weighted by how rare each shared term is in
   the store (rarity 0 for a term every record uses, 1 for one only these two
   use), in all and for the rare terms alone; the margin of the cosine over
   the better of the two records' best other neighbours; and, against, what
   the two texts name (reports/markers.py): different places or NHS bodies,
   different years, different phases. Other measures (the named initiatives
   both name, the cosine of rare terms, containment, length, ranks) are
   measured too and were no help on the labelled sets (docs/duplication.md).
4. A match probability (MatchModel): logistic regression over that evidence,
   fitted on the labelled pairs shipped in data/duplication/labelled_pairs.json
   and, at each run, refitted with the judgements reviewers have given ("same
   work", "not the same work"). Pairs from DUPLICATE_WORK_POSSIBLE are
   reported; from DUPLICATE_WORK_LIKELY they are "likely".
5. Blocking in one PostgreSQL query (different programmes, a shared audience,
   overlapping regions and dates), then groups: records whose every pair
   reaches DUPLICATE_WORK_POSSIBLE (complete linkage) are one finding naming
   them all.

All of this runs in the Celery worker, inside the report's task. No page or
API request builds the index: each record's closest records are kept with the
run (reports.models.SimilarRecord) for the "Similar work elsewhere" panels.
"""

import hashlib
import json
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection
from scipy import sparse

from . import markers as where_when
from .wording import STOP_WORDS, label, stem, terms

KIND_WEIGHTS = {"w": 1.0, "nhs": 0.7, "syn": 1.0, "n": 0.5}  # words, NHS concepts, synonym concepts, numbers
TOP_CHUNK = 64  # columns per chunk when each row's best are taken (_top_columns)
BLOCK_ROWS = 1000  # rows multiplied at a time: bounds the memory of the neighbour search (1000 x records)
CLOSEST_KEPT = 2  # a record's closest neighbours that may be the same work (a group of three); the rest are chance
CANDIDATE_FLOOR = 0.05
# Fewer distinct terms than this (a programme with a title and no description) cannot tell the same work
# from the same topic: such a record is not reported, nor shown as similar.
MIN_TERMS = 5
DENSE_COLUMNS = 1024  # a group whose records use at most this many distinct terms is multiplied as dense rows  # below this cosine two records share nothing worth scoring
LABELLED_PAIRS = Path(__file__).resolve().parents[1] / "data" / "duplication" / "labelled_pairs.json"
# The evidence the match model weighs (measured and compared in docs/duplication.md).
FEATURES = (
    "cosine",
    "lift",
    "shared_rarity",
    "rare_terms",
    "margin",
    "where_differs",
    "years_differ",
    "phases_differ",
    "title_cosine",
    "evaluation_differs",
)
# Measured and not used (docs/duplication.md): the phrases both texts use, which cost an index of phrases.
PHRASE_FEATURES = ("shared_phrases", "rare_phrases")


def neighbours_per_record():
    return int(settings.DUPLICATE_WORK_NEIGHBOURS)


def possible_threshold():
    return float(settings.DUPLICATE_WORK_POSSIBLE)


def likely_threshold():
    return float(settings.DUPLICATE_WORK_LIKELY)


# Named initiatives and services: an acronym with two capitals or more ("LeDeR", "ARRS", "STOMP"), or two or
# more capitalised words in a row ("Discharge Medicines Service", "Getting It Right First Time").
ACRONYM = re.compile(r"\b[A-Za-z]*[A-Z][A-Za-z]*[A-Z][A-Za-z]*\b")
CAPITALISED_RUN = re.compile(r"\b[A-Z][a-z]+(?:[ -](?:(?:of|and|for|the|to|in|on|at|a|an|with)[ -])*[A-Z][A-Za-z]+)+")


def names_in(text):
    """{key: as written} of the named initiatives and services a text names ("leder": "LeDeR",
    "discharg medicin servic": "Discharge Medicines Service")."""
    found = {}
    for match in ACRONYM.findall(text):
        found.setdefault(match.lower(), match)
    for match in CAPITALISED_RUN.findall(text):
        words = [w for w in re.split(r"[ -]", match) if w.lower() not in STOP_WORDS]
        if len(words) >= 2:
            found.setdefault(" ".join(stem(w.lower()) for w in words), " ".join(words))
    return found


@dataclass
class Index:
    ids: list
    matrix: object  # scipy CSR, one unit row per record
    vocabulary: dict  # term -> column
    terms: list  # Terms per record (for explaining a finding)
    name_text: list = field(default_factory=list)  # {name: as written} of the named initiatives, per record
    document_frequency: object = None  # records that use each column's term
    fingerprints: list = field(default_factory=list)  # text_fingerprint of each record's wording
    markers: list = field(default_factory=list)  # where_when.Markers of each record: places, years, phases
    phrases: object = None  # scipy CSR (records x phrases), 1 where a record uses a phrase (two content words)
    phrase_frequency: object = None  # records that use each phrase
    titles: object = None  # scipy CSR, one unit row of TF-IDF weights of each record's title alone

    def row(self, record_id):
        return self._rows[record_id]

    def __contains__(self, record_id):
        return record_id in self._rows

    def __post_init__(self):
        self._rows = {record_id: i for i, record_id in enumerate(self.ids)}
        self.term_of = [None] * len(self.vocabulary)
        for term, column in self.vocabulary.items():
            self.term_of[column] = term
        self.names = [set(named) for named in self.name_text]
        self.name_frequency = Counter(name for names in self.names for name in names)


def build_index(records, phrases=False):
    """An Index of [(id, title, text)]: TF-IDF of each record's terms, rows of unit length (and, with
    ``phrases``, which phrases each record uses, for the PHRASE_FEATURES)."""
    ids, bags, all_terms, names, fingerprints, found = [], [], [], [], [], []
    title_bags, phrase_sets = [], []
    for record_id, title, text in records:
        fingerprints.append(text_fingerprint(title, text))
        title_terms = terms(title, sequence=phrases)
        body_terms = terms(text, sequence=phrases)
        counts = defaultdict(float, body_terms.counts)
        for term, count in title_terms.counts.items():
            counts[term] += count
        ids.append(record_id)
        bags.append(counts)
        title_bags.append(title_terms.counts)
        if phrases:
            phrase_sets.append(_phrases(title_terms.sequence) | _phrases(body_terms.sequence))
        all_terms.append({**title_terms.surface, **body_terms.surface})
        names.append(names_in(f"{title}. {text}"))
        found.append(where_when.markers_of(f"{title}. {text}"))
    vocabulary = {}
    rows, cols, values = [], [], []
    for i, bag in enumerate(bags):
        # In the order of the terms, not of their finding (which follows Python's set order, a different one
        # in each process): the columns, and so every sum over them, are the same from run to run.
        for term, count in sorted(bag.items()):
            rows.append(i)
            cols.append(vocabulary.setdefault(term, len(vocabulary)))
            # sublinear: saying a thing twice is not twice as much
            values.append((1.0 + math.log(count)) * KIND_WEIGHTS[term.split(":", 1)[0]])
    shape = (len(ids), max(len(vocabulary), 1))
    matrix = sparse.csr_matrix((np.array(values, dtype=np.float32), (rows, cols)), shape=shape)
    document_frequency = np.bincount(np.array(cols, dtype=np.int64), minlength=shape[1])
    idf = (np.log((1 + len(ids)) / (1 + document_frequency)) + 1).astype(np.float32)
    matrix = matrix @ sparse.diags(idf)
    norms = np.sqrt(matrix.multiply(matrix).sum(axis=1)).A1
    norms[norms == 0] = 1
    matrix = sparse.diags(1 / norms).astype(np.float32) @ matrix
    phrase_matrix, phrase_frequency = _phrase_matrix(phrase_sets) if phrases else (None, None)
    return Index(
        ids,
        matrix.tocsr(),
        vocabulary,
        all_terms,
        names,
        document_frequency,
        fingerprints,
        found,
        phrase_matrix,
        phrase_frequency,
        _title_matrix(title_bags, vocabulary, idf),
    )


def _phrases(sequence):
    """The phrases of a run of content stems: each two words in a row ("fall servic", "discharg medicin")."""
    return {f"{a} {b}" for a, b in zip(sequence, sequence[1:])}


def _phrase_matrix(phrase_sets):
    """(records x phrases) CSR of 1s, and how many records use each phrase."""
    vocabulary, rows, cols = {}, [], []
    for row, phrases in enumerate(phrase_sets):
        for phrase in sorted(phrases):
            rows.append(row)
            cols.append(vocabulary.setdefault(phrase, len(vocabulary)))
    shape = (len(phrase_sets), max(len(vocabulary), 1))
    matrix = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=shape)
    return matrix, np.bincount(np.array(cols, dtype=np.int64), minlength=shape[1])


def _title_matrix(title_bags, vocabulary, idf):
    """Unit rows of each title's own terms, weighted as the whole text's are."""
    rows, cols, values = [], [], []
    for row, bag in enumerate(title_bags):
        for term, count in sorted(bag.items()):
            rows.append(row)
            cols.append(vocabulary[term])
            values.append((1.0 + math.log(count)) * KIND_WEIGHTS[term.split(":", 1)[0]] * idf[vocabulary[term]])
    matrix = sparse.csr_matrix(
        (np.array(values, dtype=np.float32), (rows, cols)), shape=(len(title_bags), max(len(vocabulary), 1))
    )
    norms = np.sqrt(matrix.multiply(matrix).sum(axis=1)).A1
    norms[norms == 0] = 1
    return (sparse.diags(1 / norms).astype(np.float32) @ matrix).tocsr()


@dataclass
class Neighbours:
    """Each record's closest records that it may be compared with, best first (row numbers, -1 for none)."""

    rows: np.ndarray  # (records, k)
    scores: np.ndarray  # (records, k) exact cosines, 0 where there is no neighbour

    def chance_level(self):
        """Per record, the mean cosine of its neighbours beyond the closest CLOSEST_KEPT: what chance gives it."""
        beyond = self.scores[:, CLOSEST_KEPT:]
        return beyond.mean(axis=1) if beyond.shape[1] else np.zeros(len(self.scores), dtype=np.float32)


def _best_of_each(n, k, rows, columns, scores):
    """Neighbours from candidate (row, column, score) arrays: each row's k best, best first (ties: the lower
    column), each column once (a record in two audiences meets some records twice)."""
    pairs, first = np.unique(np.stack([rows, columns], axis=1), axis=0, return_index=True)
    rows, columns, scores = pairs[:, 0], pairs[:, 1], scores[first]
    order = np.lexsort((columns, -scores, rows))
    rows, columns, scores = rows[order], columns[order], scores[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows)
    keep = rank < k
    out_rows = np.full((n, k), -1, dtype=np.int64)
    out_scores = np.zeros((n, k), dtype=np.float32)
    out_rows[rows[keep], rank[keep]] = columns[keep]
    out_scores[rows[keep], rank[keep]] = scores[keep]
    return Neighbours(out_rows, out_scores)


def _rows_to_multiply(members):
    """(rows, their transpose) of a group: dense when the group uses few distinct terms (every product is
    then non-zero, and BLAS multiplies dense rows many times faster), sparse otherwise. Exact either way."""
    used = np.unique(members.indices)
    if len(used) <= DENSE_COLUMNS:
        dense = np.ascontiguousarray(members[:, used].toarray(), dtype=np.float32)
        return dense, np.ascontiguousarray(dense.T)
    return members, members.T.tocsr()


def _dense(block):
    return block.toarray() if sparse.issparse(block) else block


def _top_columns(block, k):
    """The column positions of each row's k largest values (in no order). Exact, and cheaper than a partial
    sort of whole rows: each row is cut into chunks of TOP_CHUNK columns, the k chunks with the largest
    maxima are kept, and the k largest of their values are taken. Every one of a row's k largest values lies
    in those chunks (a value in another chunk is at most the k-th largest chunk maximum, so at least k kept
    values are as large), give or take values exactly equal to the k-th largest."""
    rows, columns = block.shape
    if columns <= 4 * k * TOP_CHUNK:
        return np.argpartition(block, columns - k, axis=1)[:, columns - k :]
    chunks = -(-columns // TOP_CHUNK)
    padded = np.full((rows, chunks * TOP_CHUNK), -np.inf, dtype=block.dtype)
    padded[:, :columns] = block
    maxima = padded.reshape(rows, chunks, TOP_CHUNK).max(axis=2)
    best = np.argpartition(maxima, chunks - k, axis=1)[:, chunks - k :]  # (rows, k) chunk numbers
    candidates = (best[:, :, None] * TOP_CHUNK + np.arange(TOP_CHUNK)).reshape(rows, -1)
    values = np.take_along_axis(padded, candidates, axis=1)
    top = np.argpartition(values, values.shape[1] - k, axis=1)[:, values.shape[1] - k :]
    return np.take_along_axis(candidates, top, axis=1)


def _same_owner(owners):
    """A function giving, for the rows start:stop of a group, (row, column) positions of the records of the
    same owner, without comparing every pair (a programme has few records in a group)."""
    order = np.argsort(owners, kind="stable")
    ordered = owners[order]

    def positions(start, stop):
        mine = owners[start:stop]
        low, high = np.searchsorted(ordered, mine, "left"), np.searchsorted(ordered, mine, "right")
        counts = high - low
        rows = np.repeat(np.arange(len(mine)), counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        return rows, order[np.repeat(low, counts) + offsets]

    return positions


def search_blocks(n, groups=None, block_rows=BLOCK_ROWS):
    """The neighbour search's units of work: (group number, start, stop), at most ``block_rows`` rows of one
    group each. Each is independent of the others (GroupSearch.block), so they may run in one process, as
    nearest does, or be spread over Celery workers (services.spread_nearest)."""
    return [
        (number, start, min(start + block_rows, len(group)))
        for number, group in enumerate(_all_or(groups, n))
        if len(group) >= 2
        for start in range(0, len(group), block_rows)
    ]


def _all_or(groups, n):
    return groups if groups is not None else [np.arange(n)]


class GroupSearch:
    """The rows of one group of records, prepared once for multiplying blocks of them by the whole group."""

    def __init__(self, matrix, group, owners=None):
        self.group = np.asarray(group, dtype=np.int64)
        self.members, self.members_t = _rows_to_multiply(matrix[self.group])
        self.same_owner = _same_owner(owners[self.group]) if owners is not None else None

    def block(self, k, start, stop):
        """(rows, columns, scores) arrays: each of the group's rows start:stop with its k best columns by exact
        cosine (row numbers of the whole index), leaving out itself, its owner's records and nothing shared."""
        # Unit rows: the products are the cosines (kept at most 1 against float rounding).
        block = _dense(self.members[start:stop] @ self.members_t)
        np.minimum(block, 1.0, out=block)
        local = np.arange(block.shape[0])
        block[local, start + local] = -1  # not its own neighbour
        if self.same_owner is not None:
            block[self.same_owner(start, stop)] = -1
        wanted = min(k, block.shape[1] - 1)
        top = _top_columns(block, wanted) if wanted > 0 else np.zeros((block.shape[0], 0), dtype=np.int64)
        scores = np.take_along_axis(block, top, axis=1)
        keep = scores > 0
        rows = np.repeat(self.group[start + local], top.shape[1]).reshape(top.shape)[keep]
        return rows, self.group[top[keep]], scores[keep]


def merge_blocks(n, k, blocks):
    """The Neighbours of n records from the (rows, columns, scores) of every block of the search."""
    blocks = list(blocks)
    if not blocks:
        return Neighbours(np.full((n, k), -1, dtype=np.int64), np.zeros((n, k), dtype=np.float32))
    rows, columns, scores = (np.concatenate(parts) for parts in zip(*blocks, strict=True))
    return _best_of_each(n, k, rows.astype(np.int64), columns.astype(np.int64), scores.astype(np.float32))


def nearest(index, k, groups=None, owners=None):
    """The Neighbours of every record: its k closest records by exact cosine, within its groups.

    ``groups`` (lists of row numbers) limit the search to records that may be compared at all (those that
    share an audience); without it every record is compared with every other. ``owners`` (one value per
    row: the programme) leave out records of the same owner, which may repeat its own words. The sparse
    rows of a block of records are multiplied by the rows of their group at once (dense rows where the
    group uses few terms), and each row's k best are taken exactly (_top_columns): nothing is projected or
    sampled.
    """
    n = len(index.ids)
    groups = _all_or(groups, n)
    searches = {}
    blocks = []
    for number, start, stop in search_blocks(n, groups):
        if number not in searches:
            searches.clear()  # one group's prepared rows in memory at a time
            searches[number] = GroupSearch(index.matrix, groups[number], owners)
        blocks.append(searches[number].block(k, start, stop))
    return merge_blocks(n, k, blocks)


def save_search(path, matrix, groups, owners=None):
    """Write what the neighbour search needs (the unit rows, the groups, the owners) to one file that workers
    on other machines can read (numpy's .npz). Returns the path."""
    matrix = matrix.tocsr()
    members = [np.asarray(group, dtype=np.int64) for group in groups]
    np.savez(
        path,
        data=matrix.data,
        indices=matrix.indices,
        indptr=matrix.indptr,
        shape=np.array(matrix.shape, dtype=np.int64),
        members=np.concatenate(members) if members else np.zeros(0, dtype=np.int64),
        ends=np.cumsum([len(group) for group in members], dtype=np.int64),
        owners=np.asarray(owners if owners is not None else []),
        has_owners=np.array(owners is not None),
    )
    return str(path)


def load_search(path):
    """(matrix, groups, owners) as save_search wrote them."""
    with np.load(path) as saved:
        matrix = sparse.csr_matrix(
            (saved["data"], saved["indices"], saved["indptr"]), shape=tuple(int(x) for x in saved["shape"])
        )
        groups = np.split(saved["members"], saved["ends"][:-1]) if len(saved["ends"]) else []
        owners = saved["owners"] if bool(saved["has_owners"]) else None
    return matrix, groups, owners


def candidate_pairs(neighbours, minimum=CANDIDATE_FLOOR):
    """(left, right, cosine) arrays of the distinct row pairs in anyone's list, left < right, cosine >= minimum."""
    n, k = neighbours.rows.shape
    left = np.repeat(np.arange(n), k)
    right = neighbours.rows.ravel()
    scores = neighbours.scores.ravel()
    keep = (right >= 0) & (scores >= minimum)
    left, right, scores = left[keep], right[keep], scores[keep]
    low, high = np.minimum(left, right), np.maximum(left, right)
    pairs, first = np.unique(np.stack([low, high], axis=1), axis=0, return_index=True)
    return pairs[:, 0], pairs[:, 1], scores[first]


def cosines(index, left, right):
    """The exact cosine of each pair of rows (arrays of row numbers)."""
    if not len(left):
        return np.zeros(0, dtype=np.float32)
    products = index.matrix[left].multiply(index.matrix[right]).sum(axis=1)
    return np.minimum(np.asarray(products, dtype=np.float32).ravel(), 1.0)


def rarity(frequency, records):
    """How rare a term or name used by ``frequency`` of ``records`` records is: 0 (every record) to 1 (two).

    Works on numbers or arrays. A rarity of 0.5 or more means fewer than about the square root of the
    records use it, at any size of store.
    """
    frequency = np.maximum(np.asarray(frequency, dtype=np.float64), 2)
    return np.maximum(0.0, 1.0 - np.log(frequency / 2) / math.log(max(records, 3) / 2))


RARE = 0.5  # the rarity from which a shared term is telling


def shared_names(index, a_row, b_row):
    """The named initiatives both records name, rarest first."""
    shared = index.names[a_row] & index.names[b_row]
    n = len(index.ids)
    return sorted(shared, key=lambda name: (-float(rarity(index.name_frequency[name], n)), name))


def _name_matrix(index):
    """(records x names) sparse matrix whose entries are each name's rarity."""
    columns = {name: c for c, name in enumerate(sorted(index.name_frequency))}
    rows, cols = [], []
    for row, names in enumerate(index.names):
        for name in names:
            rows.append(row)
            cols.append(columns[name])
    weights = rarity([index.name_frequency[name] for name in sorted(columns)], len(index.ids))
    shape = (len(index.ids), max(len(columns), 1))
    return sparse.csr_matrix((weights[cols] if cols else np.zeros(0), (rows, cols)), shape=shape)


def _rowwise(matrix_a, matrix_b):
    """The dot product of each row of one sparse matrix with the same row of another."""
    return np.asarray(matrix_a.multiply(matrix_b).sum(axis=1), dtype=np.float64).ravel()


def evidence(index, neighbours, left, right, scores=None):
    """{name: array} of every measure of evidence on each pair of rows (see the module's docstring)."""
    scores = cosines(index, left, right) if scores is None else np.asarray(scores, dtype=np.float64)
    term_rarity = rarity(index.document_frequency, len(index.ids))
    used = (index.matrix != 0).astype(np.float64) @ sparse.diags(term_rarity)  # each term's rarity, where used
    rare = index.matrix @ sparse.diags((term_rarity >= RARE).astype(np.float32))  # the rare terms' weights
    names = _name_matrix(index)
    level = neighbours.chance_level()
    sizes = np.diff(index.matrix.indptr)
    shared_rarities = used[left].multiply(used[right] != 0)  # the rarity of each term both use
    total = np.asarray(used.sum(axis=1)).ravel()
    shared_total = np.asarray(shared_rarities.sum(axis=1)).ravel()
    return {
        "cosine": scores,
        "lift": scores - np.maximum(level[left], level[right]),
        "shared_rarity": shared_total,
        "rare_terms": np.minimum(6.0, _rowwise(shared_rarities, shared_rarities >= RARE)),
        # Measured and not used by the model (docs/duplication.md): no gain on the labelled sets.
        "rare_cosine": _rowwise(rare[left], rare[right]),
        "names": np.minimum(3.0, _rowwise(names[left], names[right] != 0)),
        "containment": shared_total / np.maximum(np.minimum(total[left], total[right]), 1e-9),
        "overlap": shared_total / np.maximum(np.maximum(total[left], total[right]), 1e-9),
        "length": np.log1p(np.minimum(sizes[left], sizes[right])),
        **_where_and_when(index, left, right),
        **_standing(neighbours, left, right, scores),
        **_phrases_shared(index, left, right),
        **_scope(index, left, right),
        "title_cosine": np.minimum(1.0, _rowwise(index.titles[left], index.titles[right]))
        if index.titles is not None
        else np.zeros(len(left)),
    }


def _phrases_shared(index, left, right):
    """The phrases (two content words in a row) both texts use, weighted by their rarity in the store: a
    named service or programme is a phrase; two areas' services of one kind share words but fewer rare
    phrases. "shared_phrases" sums the rarities (at most 6), "rare_phrases" counts the rare ones (at most 6)."""
    if index.phrases is None or not len(left):
        return {"shared_phrases": np.zeros(len(left)), "rare_phrases": np.zeros(len(left))}
    weights = rarity(index.phrase_frequency, len(index.ids))
    weighted = index.phrases @ sparse.diags(weights)
    shared = weighted[left].multiply(index.phrases[right])
    rare = shared >= RARE
    return {
        "shared_phrases": np.minimum(6.0, np.asarray(shared.sum(axis=1)).ravel()),
        "rare_phrases": np.minimum(6.0, np.asarray(rare.sum(axis=1), dtype=np.float64).ravel()),
    }


def _scope(index, left, right):
    """Whose work each text describes (reports/markers.py): "both_local", both speak as one body or of one
    area (or name a place or body) and name no place or body in common (two areas' own schemes of one kind);
    "scope_differs", one speaks of the nation only and the other of one body or area only (a national
    programme and one place's delivery of it); "both_national", both speak of the nation only."""
    if not index.markers or not len(left):
        return {
            name: np.zeros(len(left))
            for name in ("both_local", "scope_differs", "both_national", "evaluation_differs", "extension_differs")
        }
    local = np.array([m.local for m in index.markers])
    national = np.array([m.national for m in index.markers])
    where = [m.where for m in index.markers]
    shared_where = np.array([bool(where[a] & where[b]) for a, b in zip(left.tolist(), right.tolist())], dtype=bool)
    national_only, local_only = national & ~local, local & ~national
    evaluation = np.array([m.evaluation for m in index.markers])
    extension = np.array([m.extension for m in index.markers])
    return {
        "both_local": (local[left] & local[right] & ~shared_where).astype(np.float64),
        "scope_differs": ((national_only[left] & local_only[right]) | (local_only[left] & national_only[right])).astype(
            np.float64
        ),
        "both_national": (national_only[left] & national_only[right]).astype(np.float64),
        # One text speaks of a study or evaluation and the other does not; one of a pilot or an extension.
        "evaluation_differs": (evaluation[left] != evaluation[right]).astype(np.float64),
        "extension_differs": (extension[left] != extension[right]).astype(np.float64),
    }


def _standing(neighbours, left, right, scores):
    """How a pair stands among each record's neighbours: the margin of its cosine over the better of the two
    records' best other neighbours ("margin": one of the two has nothing closer; a group of three leaves the
    others a margin), over both ("margin_to_both"), and the worse of the two ranks (0: each is the other's
    closest)."""
    k = neighbours.rows.shape[1]
    rows_left, rows_right = neighbours.rows[left], neighbours.rows[right]
    other_left = np.where(rows_left == right[:, None], 0, neighbours.scores[left]).max(axis=1) if k else 0
    other_right = np.where(rows_right == left[:, None], 0, neighbours.scores[right]).max(axis=1) if k else 0
    rank_left = np.where((rows_left == right[:, None]).any(axis=1), (rows_left == right[:, None]).argmax(axis=1), k)
    rank_right = np.where((rows_right == left[:, None]).any(axis=1), (rows_right == left[:, None]).argmax(axis=1), k)
    return {
        "margin": scores - np.minimum(other_left, other_right),
        "margin_to_both": scores - np.maximum(other_left, other_right),
        "rank": np.log1p(np.maximum(rank_left, rank_right)),
    }


def _where_and_when(index, left, right):
    """Evidence against from what two texts name (reports/markers.py): different places or organisations
    (two trusts' own schemes of one kind), different years (successive frameworks), different phases (phase 1
    and phase 2). Each is 1 when both texts name some and none in common, else 0."""
    out = {name: np.zeros(len(left)) for name in ("where_differs", "years_differ", "phases_differ")}
    if not index.markers or not len(left):
        return out
    for name, sets in (
        ("where_differs", [m.where for m in index.markers]),
        ("years_differ", [m.years for m in index.markers]),
        ("phases_differ", [m.phases for m in index.markers]),
    ):
        named = np.array([bool(found) for found in sets])
        both = np.flatnonzero(named[left] & named[right])  # most pairs name nothing: only these are compared
        compare = where_when.phases_differ if name == "phases_differ" else where_when.differ
        for i, a, b in zip(both.tolist(), left[both].tolist(), right[both].tolist()):
            out[name][i] = compare(sets[a], sets[b])
    return out


def pair_features(index, neighbours, left, right, scores=None, features=None):
    """The FEATURES (or ``features``) of each pair of rows, one row each: the evidence the model weighs."""
    features = features or FEATURES
    if not len(left):
        return np.zeros((0, len(features)))
    measured = evidence(index, neighbours, left, right, scores)
    return np.column_stack([measured[name] for name in features])


@dataclass
class MatchModel:
    """Logistic regression over standardised evidence: the probability that two records are the same work."""

    mean: np.ndarray
    scale: np.ndarray
    coefficients: np.ndarray
    intercept: float

    def probability(self, features):
        z = (np.asarray(features, dtype=np.float64) - self.mean) / self.scale
        return 1 / (1 + np.exp(-(z @ self.coefficients + self.intercept)))

    @classmethod
    def fit(cls, features, labels, weights=None, penalty=1.0, steps=50):
        """Fitted by Newton's method with an L2 penalty (deterministic: the same data gives the same model)."""
        x = np.asarray(features, dtype=np.float64)
        y = np.asarray(labels, dtype=np.float64)
        w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
        mean, scale = x.mean(axis=0), x.std(axis=0)
        scale[scale == 0] = 1
        z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
        beta = np.zeros(z.shape[1])
        ridge = penalty * np.eye(z.shape[1])
        ridge[-1, -1] = 0  # the intercept is not penalised
        for _ in range(steps):
            p = 1 / (1 + np.exp(-(z @ beta)))
            gradient = z.T @ (w * (p - y)) + ridge @ beta
            hessian = (z * (w * p * (1 - p))[:, None]).T @ z + ridge
            step = np.linalg.solve(hessian, gradient)
            beta -= step
            if np.abs(step).max() < 1e-8:
                break
        return cls(mean, scale, beta[:-1], float(beta[-1]))


def labelled_pairs():
    """(features, labels) shipped with the portal: pairs of real and hand-written texts, labelled by people."""
    data = json.loads(LABELLED_PAIRS.read_text(encoding="utf-8"))
    assert data["features"] == list(FEATURES), "labelled pairs were measured on other features"
    return np.array(data["rows"], dtype=np.float64), np.array(data["labels"], dtype=np.float64)


JUDGEMENT_WEIGHT = 3.0  # a reviewer's judgement on this store counts for three shipped examples


def match_model(judged_features=None, judged_labels=None):
    """The model fitted on the shipped labelled pairs and any judgements reviewers gave on this store."""
    features, labels = labelled_pairs()
    weights = np.ones(len(labels))
    if judged_features is not None and len(judged_labels):
        features = np.vstack([features, judged_features])
        labels = np.concatenate([labels, judged_labels])
        weights = np.concatenate([weights, np.full(len(judged_labels), JUDGEMENT_WEIGHT)])
    return MatchModel.fit(features, labels, weights)


LEAVE_ONE_OUT_LIMIT = 200  # the latest judgements whose agreement is measured one left out at a time


def _agreement(probabilities, labels):
    """The share of judgements the model agrees with (reported or not, against same work or not)."""
    return round(float(np.mean((np.asarray(probabilities) >= possible_threshold()) == (np.asarray(labels) == 1))), 3)


def model_for(index, neighbours, judged):
    """(MatchModel, figures): the model fitted on the shipped pairs and this store's judgements, and how far
    the model agrees with those judgements before (shipped pairs only) and after learning from them (each
    judgement predicted by a model fitted without it, for the latest LEAVE_ONE_OUT_LIMIT)."""
    shipped = match_model()
    known = [(a, b, verdict == "same") for (a, b), verdict in judged.items() if verdict in ("same", "not_same")]
    known = [(a, b, same) for a, b, same in known if a in index and b in index]
    if not known:
        return shipped, {"judgements": 0}
    left = np.array([index.row(a) for a, _, _ in known])
    right = np.array([index.row(b) for _, b, _ in known])
    features = pair_features(index, neighbours, left, right)
    labels = np.array([float(same) for _, _, same in known])
    held_out = []
    for i in range(max(0, len(labels) - LEAVE_ONE_OUT_LIMIT), len(labels)):
        others = np.arange(len(labels)) != i
        held_out.append(match_model(features[others], labels[others]).probability(features[i : i + 1])[0])
    return match_model(features, labels), {
        "judgements": len(labels),
        "agreement_before": _agreement(shipped.probability(features), labels),
        "agreement_after": _agreement(held_out, labels[len(labels) - len(held_out) :]),
    }


@dataclass
class Pair:
    """Two records (ids, the lower first) with their cosine, probability and evidence."""

    a: int
    b: int
    cosine: float
    probability: float
    features: np.ndarray

    @property
    def band(self):
        return "likely" if self.probability >= likely_threshold() else "possible"


def scored_candidates(index, neighbours, model):
    """[Pair] of every candidate pair of records that each have MIN_TERMS distinct terms, with its probability."""
    left, right, scores = candidate_pairs(neighbours)
    sizes = np.diff(index.matrix.indptr)
    enough = (sizes[left] >= MIN_TERMS) & (sizes[right] >= MIN_TERMS)
    left, right, scores = left[enough], right[enough], scores[enough]
    features = pair_features(index, neighbours, left, right, scores)
    probabilities = model.probability(features) if len(left) else np.zeros(0)
    ids = index.ids
    return [
        Pair(*sorted((ids[a], ids[b])), float(s), float(p), f)
        for a, b, s, p, f in zip(left.tolist(), right.tolist(), scores.tolist(), probabilities.tolist(), features)
    ]


def probabilities_of(index, neighbours, model, scored, judged=None):
    """A function giving the probability of any two records (ids) being the same work: as scored, as judged
    (1 or 0), or measured on demand for a pair that was not a candidate."""
    known = {(pair.a, pair.b): pair.probability for pair in scored}
    for pair, verdict in (judged or {}).items():
        if verdict in ("same", "not_same"):
            known[pair] = 1.0 if verdict == "same" else 0.0

    def probability(a, b):
        key = (min(a, b), max(a, b))
        if key not in known:
            rows = np.array([index.row(key[0])]), np.array([index.row(key[1])])
            known[key] = float(model.probability(pair_features(index, neighbours, *rows))[0])
        return known[key]

    return probability


def groups_of(pairs, probability):
    """The groups of records that describe one piece of work, each a sorted list of ids, largest first.

    Complete linkage, strongest pair first: two groups become one when every pair across them reaches
    DUPLICATE_WORK_POSSIBLE (``probability`` of two ids), so that A like B and B like C does not make A like
    C. A reported pair whose groups cannot join is a group of its own.
    """
    possible = possible_threshold()
    group_of = {}
    apart = []
    for pair in sorted(pairs, key=lambda p: (-p.probability, p.a, p.b)):
        first, second = group_of.get(pair.a, frozenset([pair.a])), group_of.get(pair.b, frozenset([pair.b]))
        if first == second:
            continue
        if all(probability(x, y) >= possible for x in first for y in second):
            merged = first | second
            for record_id in merged:
                group_of[record_id] = merged
        else:
            apart.append(frozenset([pair.a, pair.b]))
    groups = set(group_of.values()) | {pair for pair in apart if not any(pair <= g for g in group_of.values())}
    return sorted((sorted(group) for group in groups), key=lambda group: (-len(group), group))


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


def reported_pairs(sql, scored, judged=None):
    """[Pair] of the scored pairs that are reported, most probable first: those that pass the blocking rules
    and reach DUPLICATE_WORK_POSSIBLE, or that a reviewer judged the same work; never one judged not the same
    work while both texts are as they were judged (``judged``: {(id, id): verdict}, already limited to
    judgements on the texts as they are)."""
    judged = judged or {}
    possible = possible_threshold()
    pairs = [
        pair
        for pair in scored
        if judged.get((pair.a, pair.b)) != "not_same"
        and (pair.probability >= possible or judged.get((pair.a, pair.b)) == "same")
    ]
    kept = blocked(sql, [(pair.a, pair.b) for pair in pairs])
    return sorted((p for p in pairs if (p.a, p.b) in kept), key=lambda p: (-p.probability, p.a, p.b))


def closest_elsewhere(index, neighbours, scored, shown):
    """{id: [(other id, cosine, probability)]} of each record's ``shown`` closest records it may be compared
    with (other programmes, a shared audience), closest first."""
    by_pair = {(pair.a, pair.b): pair for pair in scored}
    out = {}
    for row, record_id in enumerate(index.ids):
        closest = []
        for other, score in zip(neighbours.rows[row].tolist(), neighbours.scores[row].tolist()):
            if other < 0 or len(closest) >= shown:
                break
            other_id = index.ids[other]
            pair = by_pair.get((min(record_id, other_id), max(record_id, other_id)))
            if pair is not None:
                closest.append((other_id, score, pair.probability))
        out[record_id] = closest
    return out


def text_fingerprint(title, text):
    """A digest of the wording that was compared: a judgement holds while both texts keep theirs."""
    return hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()


def workstream_texts():
    """[(id, title, text)] of every workstream, with each row's audiences and programme."""
    from programmes.models import Workstream

    rows = Workstream.objects.values_list("pk", "title", "description", "audiences", "programme_id").order_by("pk")
    return list(rows.iterator(chunk_size=5000))


def workstream_index():
    """(Index, groups, programmes): the workstreams' index, the rows of each audience (only those may be
    compared) and each row's programme (two workstreams of one programme are never duplicates)."""
    audiences = defaultdict(list)
    texts, programmes = [], []
    for row, (pk, title, description, audience_list, programme) in enumerate(workstream_texts()):
        texts.append((pk, title, description))
        programmes.append(programme)
        for audience in audience_list:
            audiences[audience].append(row)
    return build_index(texts), [audiences[a] for a in sorted(audiences)], np.array(programmes, dtype=np.int64)


def programme_text(title, summary, description):
    return title, f"{summary}. {description}"


def current_fingerprints(record_type, ids):
    """{id: text_fingerprint} of the wording of workstreams or programmes as it is now, in one query."""
    from programmes.models import Programme, Workstream

    if record_type == "workstream":
        rows = Workstream.objects.filter(pk__in=ids).values_list("pk", "title", "description")
        return {pk: text_fingerprint(title, description) for pk, title, description in rows}
    rows = Programme.objects.filter(pk__in=ids).values_list("pk", "title", "summary", "description")
    return {pk: text_fingerprint(*programme_text(*rest)) for pk, *rest in rows}


def programme_index():
    from programmes.models import Programme

    texts = Programme.objects.exclude(status="closed").values_list("pk", "title", "summary", "description")
    return build_index((pk, *programme_text(*rest)) for pk, *rest in texts.order_by("pk"))
