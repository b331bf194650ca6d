"""The search's documents and the titles' words, with a GIN index on the documents' vector (and statistics
enough that a rare word reads it) and a trigram index on the words (pg_trgm, made by accounts' first
migration) for near spellings."""

import django.contrib.postgres.search
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.CreateModel(
            name="SearchDocument",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("source", models.CharField(max_length=60)),
                ("record_id", models.BigIntegerField()),
                ("kind", models.CharField(max_length=30)),
                ("key", models.CharField(max_length=200)),
                ("title", models.CharField(max_length=500)),
                ("code", models.CharField(blank=True, max_length=100)),
                ("belongs_to", models.TextField(blank=True)),
                ("text", models.TextField(blank=True)),
                ("archived", models.BooleanField(default=False)),
                ("vector", django.contrib.postgres.search.SearchVectorField()),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("source", "record_id"), name="search_document_one_per_record")
                ]
            },
        ),
        migrations.CreateModel(
            name="SearchWord",
            fields=[("word", models.CharField(max_length=60, primary_key=True, serialize=False))],
        ),
        migrations.RunSQL(
            [
                "CREATE INDEX search_document_vector ON search_searchdocument USING gin (vector)",
                "ALTER TABLE search_searchdocument ALTER COLUMN vector SET STATISTICS 1000",
                "CREATE INDEX search_word_trgm ON search_searchword USING gin (word gin_trgm_ops)",
            ],
            [
                "DROP INDEX search_document_vector",
                "DROP INDEX search_word_trgm",
            ],
        ),
    ]
