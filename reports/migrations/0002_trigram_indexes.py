"""GIN trigram indexes on the text the duplication engine compares, so that its % joins use an index."""

from django.db import migrations

WORKSTREAM = "lower(((title)::text || ' '::text) || description)"
PROGRAMME = "lower(((((title)::text || ' '::text) || (summary)::text) || ' '::text) || description)"


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_reports"),
        ("programmes", "0002_duty_label"),
        ("accounts", "0001_initial"),  # creates the pg_trgm extension
    ]

    operations = [
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS workstream_text_trgm ON programmes_workstream USING gin (({WORKSTREAM}) gin_trgm_ops)",
            "DROP INDEX IF EXISTS workstream_text_trgm",
        ),
        migrations.RunSQL(
            f"CREATE INDEX IF NOT EXISTS programme_text_trgm ON programmes_programme USING gin (({PROGRAMME}) gin_trgm_ops)",
            "DROP INDEX IF EXISTS programme_text_trgm",
        ),
    ]
