# Indexes for the lists' default orders and common filters (issue #15).

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0003_archive"),
        ("organisations", "0002_duty_slug_unique"),
        ("programmes", "0004_search_vectors"),
        ("regions", "0002_local_office"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="expectation",
            index=models.Index(
                condition=models.Q(("archived_at__isnull", True)),
                fields=["programme", "measure", "start_date"],
                name="expectation_order_live",
            ),
        ),
        migrations.AddIndex(
            model_name="expectation",
            index=models.Index(
                condition=models.Q(("archived_at__isnull", True)),
                fields=["region", "start_date", "due_date"],
                name="expectation_region_live",
            ),
        ),
        migrations.AddIndex(
            model_name="measurement",
            index=models.Index(fields=["region", "month"], name="measurement_region_month"),
        ),
        migrations.AddIndex(
            model_name="programme",
            index=models.Index(
                condition=models.Q(("archived_at__isnull", True)), fields=["title"], name="programme_title_live"
            ),
        ),
        migrations.AddIndex(
            model_name="workstream",
            index=models.Index(
                condition=models.Q(("archived_at__isnull", True)), fields=["start_date"], name="workstream_start_live"
            ),
        ),
        migrations.AddIndex(
            model_name="workstream",
            index=models.Index(
                condition=models.Q(("archived_at__isnull", True)),
                fields=["body", "start_date"],
                name="workstream_body_start_live",
            ),
        ),
    ]
