"""Measure, ProgrammeMeasure and Measurement, moved from programmes/ with their tables.

State only: each model (and its history, and its many-to-many tables) keeps the table it had in programmes
(``db_table``), which programmes' migrations made; programmes/0009 gave the models up."""

import django.db.models.deletion
import nhs_joint.records
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0002_duty_slug_unique"),
        ("programmes", "0009_asks_and_measures_moved_out"),
        ("regions", "0002_local_office"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="HistoricalMeasure",
                    fields=[
                        ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                        (
                            "archived_at",
                            models.DateTimeField(blank=True, editable=False, null=True, verbose_name="archived"),
                        ),
                        ("code", models.SlugField()),
                        ("name", models.CharField(max_length=200)),
                        (
                            "unit",
                            models.CharField(
                                choices=[("percent", "Percent"), ("minutes", "Minutes"), ("count", "Count")],
                                max_length=20,
                            ),
                        ),
                        (
                            "direction",
                            models.CharField(
                                choices=[("higher", "Higher is better"), ("lower", "Lower is better")], max_length=10
                            ),
                        ),
                        ("standard", models.DecimalField(blank=True, decimal_places=2, max_digits=10, null=True)),
                        (
                            "comparator",
                            models.CharField(blank=True, choices=[(">=", "at least"), ("<=", "at most")], max_length=2),
                        ),
                        ("history_id", models.AutoField(primary_key=True, serialize=False)),
                        ("history_date", models.DateTimeField(db_index=True)),
                        ("history_change_reason", models.CharField(max_length=100, null=True)),
                        (
                            "history_type",
                            models.CharField(
                                choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                            ),
                        ),
                        (
                            "history_user",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "historical measure",
                        "verbose_name_plural": "historical measures",
                        "db_table": "programmes_historicalmeasure",
                        "ordering": ("-history_date", "-history_id"),
                        "get_latest_by": ("history_date", "history_id"),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name="Measure",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "archived_at",
                            models.DateTimeField(blank=True, editable=False, null=True, verbose_name="archived"),
                        ),
                        ("code", models.SlugField(unique=True)),
                        ("name", models.CharField(max_length=200)),
                        (
                            "unit",
                            models.CharField(
                                choices=[("percent", "Percent"), ("minutes", "Minutes"), ("count", "Count")],
                                max_length=20,
                            ),
                        ),
                        (
                            "direction",
                            models.CharField(
                                choices=[("higher", "Higher is better"), ("lower", "Lower is better")], max_length=10
                            ),
                        ),
                        ("standard", models.DecimalField(blank=True, decimal_places=2, max_digits=10, null=True)),
                        (
                            "comparator",
                            models.CharField(blank=True, choices=[(">=", "at least"), ("<=", "at most")], max_length=2),
                        ),
                    ],
                    options={
                        "db_table": "programmes_measure",
                        "ordering": ["code"],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(("unit", "percent"), _negated=True),
                                    ("standard__isnull", True),
                                    models.Q(("standard__gte", 0), ("standard__lte", 100)),
                                    _connector="OR",
                                ),
                                name="measure_percent_standard_between_0_and_100",
                                violation_error_message="A percentage standard must lie between 0 and 100.",
                            )
                        ],
                    },
                    bases=(nhs_joint.records.PortalRecord, models.Model),
                ),
                migrations.CreateModel(
                    name="HistoricalProgrammeMeasure",
                    fields=[
                        ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                        ("target", models.DecimalField(decimal_places=2, max_digits=10)),
                        ("agreed_on", models.DateField()),
                        ("history_id", models.AutoField(primary_key=True, serialize=False)),
                        ("history_date", models.DateTimeField(db_index=True)),
                        ("history_change_reason", models.CharField(max_length=100, null=True)),
                        (
                            "history_type",
                            models.CharField(
                                choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                            ),
                        ),
                        (
                            "history_user",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "programme",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="programmes.programme",
                            ),
                        ),
                        (
                            "measure",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="measures.measure",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "historical programme measure",
                        "verbose_name_plural": "historical programme measures",
                        "db_table": "programmes_historicalprogrammemeasure",
                        "ordering": ("-history_date", "-history_id"),
                        "get_latest_by": ("history_date", "history_id"),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name="HistoricalMeasurement",
                    fields=[
                        ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                        ("month", models.DateField(help_text="The first day of the month.")),
                        ("value", models.DecimalField(decimal_places=3, max_digits=12)),
                        (
                            "source",
                            models.CharField(
                                choices=[
                                    ("published", "Published statistics"),
                                    ("entered", "Entered in the portal"),
                                    ("imported", "Imported from a file"),
                                    ("generated", "Generated for demonstration"),
                                ],
                                default="entered",
                                max_length=20,
                            ),
                        ),
                        ("history_id", models.AutoField(primary_key=True, serialize=False)),
                        ("history_date", models.DateTimeField(db_index=True)),
                        ("history_change_reason", models.CharField(max_length=100, null=True)),
                        (
                            "history_type",
                            models.CharField(
                                choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                            ),
                        ),
                        (
                            "history_user",
                            models.ForeignKey(
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "region",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="regions.region",
                            ),
                        ),
                        (
                            "measure",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="measures.measure",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "historical measurement",
                        "verbose_name_plural": "historical measurements",
                        "db_table": "programmes_historicalmeasurement",
                        "ordering": ("-history_date", "-history_id"),
                        "get_latest_by": ("history_date", "history_id"),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name="ProgrammeMeasure",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("target", models.DecimalField(decimal_places=2, max_digits=10)),
                        ("agreed_on", models.DateField()),
                        (
                            "agreed_by",
                            models.ManyToManyField(
                                db_table="programmes_programmemeasure_agreed_by",
                                related_name="agreed_measures",
                                to="organisations.nationalbody",
                            ),
                        ),
                        (
                            "measure",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="programme_measures",
                                to="measures.measure",
                            ),
                        ),
                        (
                            "programme",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="programme_measures",
                                to="programmes.programme",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "programmes_programmemeasure",
                        "ordering": ["programme__title", "measure__code"],
                    },
                    bases=(nhs_joint.records.PortalRecord, models.Model),
                ),
                migrations.CreateModel(
                    name="HistoricalProgrammeMeasure_agreed_by",
                    fields=[
                        ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                        ("m2m_history_id", models.AutoField(primary_key=True, serialize=False)),
                        (
                            "history",
                            models.ForeignKey(
                                db_constraint=False,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                to="measures.historicalprogrammemeasure",
                            ),
                        ),
                        (
                            "nationalbody",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                db_tablespace="",
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="organisations.nationalbody",
                            ),
                        ),
                        (
                            "programmemeasure",
                            models.ForeignKey(
                                blank=True,
                                db_constraint=False,
                                db_tablespace="",
                                null=True,
                                on_delete=django.db.models.deletion.DO_NOTHING,
                                related_name="+",
                                to="measures.programmemeasure",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "HistoricalProgrammeMeasure_agreed_by",
                        "db_table": "programmes_historicalprogrammemeasure_agreed_by",
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name="Measurement",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("month", models.DateField(help_text="The first day of the month.")),
                        ("value", models.DecimalField(decimal_places=3, max_digits=12)),
                        (
                            "source",
                            models.CharField(
                                choices=[
                                    ("published", "Published statistics"),
                                    ("entered", "Entered in the portal"),
                                    ("imported", "Imported from a file"),
                                    ("generated", "Generated for demonstration"),
                                ],
                                default="entered",
                                max_length=20,
                            ),
                        ),
                        (
                            "measure",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="measurements",
                                to="measures.measure",
                            ),
                        ),
                        (
                            "region",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="measurements",
                                to="regions.region",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "programmes_measurement",
                        "ordering": ["measure__code", "region__name", "month"],
                        "indexes": [models.Index(fields=["region", "month"], name="measurement_region_month")],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("measure", "region", "month"),
                                name="measurement_one_per_measure_region_month",
                                nulls_distinct=False,
                                violation_error_message="There is already a measurement of this measure for this region and month.",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("month__day", 1)),
                                name="measurement_month_is_first_day",
                                violation_error_message="The month must be given as its first day.",
                            ),
                        ],
                    },
                    bases=(nhs_joint.records.PortalRecord, models.Model),
                ),
                migrations.AddConstraint(
                    model_name="programmemeasure",
                    constraint=models.UniqueConstraint(
                        fields=("programme", "measure"), name="programme_measure_unique"
                    ),
                ),
            ],
            database_operations=[],  # the tables stay where they are
        ),
    ]
