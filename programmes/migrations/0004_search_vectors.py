"""Stored search vectors for the big tables, with GIN indexes, so that a search reads an index
instead of computing every row's vector on every request.

Generated columns (PostgreSQL computes them on every write), not model fields: the ORM never
writes them, the history tables do not copy them, and nhs_joint.filters reads them by name.
Each holds exactly the vector of its filterset's ``search_fields`` (programmes/filters.py),
weighted so that a match in a title ranks above one in a description.
"""

from django.db import migrations


def vector(*weighted):
    return " || ".join(
        f"setweight(to_tsvector('english'::regconfig, coalesce({column}, '')), '{weight}')"
        for column, weight in weighted
    )


VECTORS = {
    "programmes_programme": vector(("title", "A"), ("summary", "B"), ("theme", "B"), ("description", "C")),
    "programmes_workstream": vector(("title", "A"), ("description", "B")),
    "programmes_expectation": vector(("wording", "A")),
}


def forwards():
    statements = []
    for table, expression in VECTORS.items():
        statements += [
            f"ALTER TABLE {table} ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ({expression}) STORED",
            f"CREATE INDEX {table}_search_vector ON {table} USING gin (search_vector) WHERE archived_at IS NULL",
            # A longer list of the most common words, so that the planner knows a rare word is rare
            # (and reads the index for it) rather than guessing from the default list's least common word.
            f"ALTER TABLE {table} ALTER COLUMN search_vector SET STATISTICS 1000",
        ]
    return statements


def backwards():
    return [f"ALTER TABLE {table} DROP COLUMN search_vector" for table in VECTORS]


class Migration(migrations.Migration):
    dependencies = [("programmes", "0003_archive")]

    operations = [migrations.RunSQL(forwards(), backwards())]
