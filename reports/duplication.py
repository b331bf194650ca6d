"""The duplication engine: candidate pairs from MinHash locality-sensitive hashing, then blocked and scored in SQL.

No pair of records is compared in Python, and no query compares every pair.
Each record's wording becomes a set of words (stop words left out); a MinHash
signature of 64 values summarises the set, and the signature is cut into 16
bands of 4. Records that agree on a whole band land in the same bucket: that
is the sparse index, built in one pass, whose buckets hold the candidate
pairs. Two records whose word sets overlap by two thirds share a bucket with a
probability of about 98%; unrelated records almost never do.

The candidates then go to PostgreSQL in one query, which keeps the pairs from
different programmes that share an audience, overlap in regions (either
covers all England, or they share a region) and overlap in time, and scores
each with pg_trgm's trigram similarity (0 to 1) of their whole wording. Pairs
at or above DUPLICATE_WORK_THRESHOLD are findings, listed with the words they
share. Programmes are compared the same way on title, summary and description.
"""

import hashlib
import re
from collections import defaultdict
from functools import lru_cache
from itertools import combinations

from django.conf import settings
from django.db import connection

BANDS, ROWS = 16, 4
PRIME = (1 << 61) - 1
MAX_BUCKET = 200  # a bucket this full holds boilerplate shared by many records, not a duplicate
# Wording that reaches a trigram similarity of 0.6 shares far more than a third of its words.
MIN_WORD_OVERLAP = 0.3

STOP_WORDS = set(
    """a an and are as at be by for from in into is it of on or that the their them they this to with within
    who will each every all any our its than then there these those was were which while""".split()
)
WORD = re.compile(r"[a-z0-9]+")


def _coefficients():
    values = []
    for k in range(BANDS * ROWS):
        digest = hashlib.blake2b(f"minhash-{k}".encode(), digest_size=16).digest()
        values.append((int.from_bytes(digest[:8], "big") % PRIME or 1, int.from_bytes(digest[8:], "big") % PRIME))
    return values


COEFFICIENTS = _coefficients()


def words(text):
    return {w for w in WORD.findall(text.lower()) if len(w) > 2 and w not in STOP_WORDS}


@lru_cache(maxsize=200_000)
def _word_hashes(word):
    base = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
    return tuple((a * base + b) % PRIME for a, b in COEFFICIENTS)


def signature(word_set):
    if not word_set:
        return None
    return tuple(map(min, zip(*(_word_hashes(w) for w in word_set))))


def candidate_pairs(texts):
    """{(id, id)} of records that share a MinHash band and a third of their words.

    One pass over the records builds the buckets; only records that share a
    bucket are ever looked at together, and of those only the pairs whose word
    sets overlap by at least MIN_WORD_OVERLAP (Jaccard) go on to be scored.
    """
    buckets = defaultdict(list)
    word_sets = {}
    for record_id, text in texts:
        word_set = words(text)
        sig = signature(word_set)
        if sig is None:
            continue
        word_sets[record_id] = word_set
        for band in range(BANDS):
            buckets[(band, sig[band * ROWS:(band + 1) * ROWS])].append(record_id)
    pairs, seen = set(), set()
    for members in buckets.values():
        if 1 < len(members) <= MAX_BUCKET:
            for a, b in combinations(sorted(members), 2):
                if (a, b) in seen:
                    continue
                seen.add((a, b))
                left, right = word_sets[a], word_sets[b]
                if len(left & right) >= MIN_WORD_OVERLAP * len(left | right):
                    pairs.add((a, b))
    return pairs


def threshold():
    return float(settings.DUPLICATE_WORK_THRESHOLD)


WORKSTREAM_SCORES = """
SELECT a.id, b.id, similarity(lower(a.title || ' ' || a.description), lower(b.title || ' ' || b.description)) AS score
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
  AND similarity(lower(a.title || ' ' || a.description), lower(b.title || ' ' || b.description)) >= %s
ORDER BY score DESC, a.id, b.id
"""

PROGRAMME_SCORES = """
SELECT a.id, b.id,
       similarity(lower(a.title || ' ' || a.summary || ' ' || a.description),
                  lower(b.title || ' ' || b.summary || ' ' || b.description)) AS score
FROM unnest(%s::bigint[], %s::bigint[]) AS c(a_id, b_id)
JOIN programmes_programme a ON a.id = c.a_id
JOIN programmes_programme b ON b.id = c.b_id
WHERE a.status <> 'closed' AND b.status <> 'closed'
  AND a.start_date <= COALESCE(b.end_date, 'infinity'::date)
  AND b.start_date <= COALESCE(a.end_date, 'infinity'::date)
  AND similarity(lower(a.title || ' ' || a.summary || ' ' || a.description),
                 lower(b.title || ' ' || b.summary || ' ' || b.description)) >= %s
ORDER BY score DESC, a.id, b.id
"""


def scored_pairs(sql, pairs):
    """(id, id, score) of the candidates that pass the blocking rules and reach the threshold."""
    if not pairs:
        return []
    left, right = zip(*sorted(pairs))
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(left), list(right), threshold()])
        return [(a, b, float(score)) for a, b, score in cursor.fetchall()]


def similar_workstreams():
    from programmes.models import Workstream

    texts = Workstream.objects.values_list("pk", "title", "description").iterator(chunk_size=5000)
    return scored_pairs(WORKSTREAM_SCORES, candidate_pairs((pk, f"{t} {d}") for pk, t, d in texts))


def similar_programmes():
    from programmes.models import Programme

    texts = Programme.objects.exclude(status="closed").values_list("pk", "title", "summary", "description")
    return scored_pairs(PROGRAMME_SCORES, candidate_pairs((pk, f"{t} {s} {d}") for pk, t, s, d in texts))


def shared_words(text_a, text_b):
    """The words two texts share, stop words left out, in the order of the first."""
    common = words(text_a) & words(text_b)
    seen, ordered = set(), []
    for word in WORD.findall(text_a.lower()):
        if word in common and word not in seen:
            seen.add(word)
            ordered.append(word)
    return ordered
