"""The duplication engine: candidate pairs from a trigram index in PostgreSQL, blocked and scored in SQL.

No pair of records is compared in Python. For workstreams the database joins
each workstream only to those whose text is trigram-similar (the ``%``
operator, answered from a GIN index on the same expression), and keeps the
pairs from different programmes that share an audience, overlap in regions
(either covers all England, or they share a region) and overlap in time. The
score is the trigram similarity (0 to 1) of title and description together.
Programmes are compared the same way on title, summary and description.
Python only reads the surviving pairs and lists the words they share.
"""

import re

from django.conf import settings
from django.db import connection, transaction

WORKSTREAM_TEXT = "lower(w.title || ' ' || w.description)"
PROGRAMME_TEXT = "lower(p.title || ' ' || p.summary || ' ' || p.description)"

STOP_WORDS = set(
    """a an and are as at be by for from in into is it of on or that the their them they this to with within
    who will each every all any our its than then there these those was were which while""".split()
)

WORKSTREAM_PAIRS = f"""
SELECT a.id, b.id, similarity(lower(a.title || ' ' || a.description), lower(b.title || ' ' || b.description))
FROM programmes_workstream a
JOIN programmes_workstream b
  ON lower(a.title || ' ' || a.description) % lower(b.title || ' ' || b.description)
 AND a.id < b.id
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
ORDER BY 3 DESC, a.id, b.id
"""

PROGRAMME_PAIRS = """
SELECT a.id, b.id,
       similarity(lower(a.title || ' ' || a.summary || ' ' || a.description),
                  lower(b.title || ' ' || b.summary || ' ' || b.description))
FROM programmes_programme a
JOIN programmes_programme b
  ON lower(a.title || ' ' || a.summary || ' ' || a.description)
     % lower(b.title || ' ' || b.summary || ' ' || b.description)
 AND a.id < b.id
WHERE a.status <> 'closed' AND b.status <> 'closed'
  AND a.start_date <= COALESCE(b.end_date, 'infinity'::date)
  AND b.start_date <= COALESCE(a.end_date, 'infinity'::date)
ORDER BY 3 DESC, a.id, b.id
"""


def threshold():
    return float(settings.DUPLICATE_WORK_THRESHOLD)


def similar_pairs(sql, limit=None):
    """(id, id, score) for pairs at or above the threshold, from the index."""
    with transaction.atomic(), connection.cursor() as cursor:
        # The threshold of the % operator, for this transaction only.
        cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true)", [str(threshold())])
        cursor.execute(sql + (f" LIMIT {int(limit)}" if limit else ""))
        return [(a, b, float(score)) for a, b, score in cursor.fetchall() if score >= threshold()]


def words(text):
    return {w for w in re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", text.lower()) if len(w) > 2 and w not in STOP_WORDS}


def shared_words(text_a, text_b):
    """The words two texts share, stop words left out, in the order of the first."""
    common = words(text_a) & words(text_b)
    seen, ordered = set(), []
    for word in re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", text_a.lower()):
        if word in common and word not in seen:
            seen.add(word)
            ordered.append(word)
    return ordered
