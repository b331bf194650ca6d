"""What lets a common word be answered without reading every document it matches (search/query.py):

- ``title_vector``: the title and code's words alone (the vector's weight A, as ts_filter keeps them), a
  generated column with its own GIN index, from which the candidates ranked first are read;
- a GIN index on the vector per kind (partial), from which each kind's count is read up to its cap;
- indexes on the lower-case title and code, from which an exact title or code is read whatever else matches.

A kind added later is found through the vector's own index until it gets an index of its own here.
"""

from django.db import migrations

KINDS = [
    "programme",
    "workstream",
    "expectation",
    "consultation",
    "measure",
    "person",
    "appointment",
    "organisation",
    "local-system",
    "region",
    "finding",
]


def index_name(kind):
    return "search_document_vector_" + kind.replace("-", "_")


class Migration(migrations.Migration):
    dependencies = [("search", "0002_moved_sources")]

    operations = [
        migrations.RunSQL(
            [
                "ALTER TABLE search_searchdocument ADD COLUMN title_vector tsvector"
                " GENERATED ALWAYS AS (ts_filter(vector, '{a}')) STORED",
                "CREATE INDEX search_document_title_vector ON search_searchdocument USING gin (title_vector)",
                "ALTER TABLE search_searchdocument ALTER COLUMN title_vector SET STATISTICS 1000",
                "CREATE INDEX search_document_title ON search_searchdocument (lower(title))",
                "CREATE INDEX search_document_code ON search_searchdocument (lower(code))",
                *[
                    f"CREATE INDEX {index_name(kind)} ON search_searchdocument USING gin (vector) WHERE kind = '{kind}'"
                    for kind in KINDS
                ],
            ],
            [
                *[f"DROP INDEX {index_name(kind)}" for kind in KINDS],
                "DROP INDEX search_document_code",
                "DROP INDEX search_document_title",
                "ALTER TABLE search_searchdocument DROP COLUMN title_vector",
            ],
        ),
    ]
