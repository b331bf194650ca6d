"""What lets a list search of live workstreams be read from the search documents alone (search/query.py,
DocumentsPage):

- each workstream's document is archived when the workstream or its programme is (as rebuild_search and every save
  write it; a programme archived or restored now writes its workstreams' documents again in the same transaction):
  the documents written before are set so here;
- a GIN index on the workstreams' titles' words (``title_vector``, partial), from which the likeliest matches of a
  common word are read without reading the other kinds' titles.
"""

from django.db import migrations

LIVE = """
UPDATE search_searchdocument d SET archived = w.archived_at IS NOT NULL OR p.archived_at IS NOT NULL
FROM programmes_workstream w JOIN programmes_programme p ON p.id = w.programme_id
WHERE d.source = 'programmes.workstream' AND d.record_id = w.id
  AND d.archived IS DISTINCT FROM (w.archived_at IS NOT NULL OR p.archived_at IS NOT NULL)
"""


class Migration(migrations.Migration):
    dependencies = [("search", "0003_ranked_candidates"), ("programmes", "0009_asks_and_measures_moved_out")]

    operations = [
        migrations.RunSQL(LIVE, migrations.RunSQL.noop),
        migrations.RunSQL(
            "CREATE INDEX search_document_title_vector_workstream ON search_searchdocument USING gin (title_vector)"
            " WHERE kind = 'workstream'",
            "DROP INDEX search_document_title_vector_workstream",
        ),
    ]
