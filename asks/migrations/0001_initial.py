"""Expectation, ExpectationResponse and MeasureAgreement, moved from programmes/ with their tables.

State only: each model (and its history, and its many-to-many tables) keeps the table it had in programmes
(``db_table``), which programmes' migrations made; programmes/0009 gave the models up."""

import django.db.models.deletion
import nhs_joint.records
import simple_history.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("measures", "0001_initial"),
        ("organisations", "0002_duty_slug_unique"),
        ("programmes", "0009_asks_and_measures_moved_out"),
        ("regions", "0002_local_office"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="ExpectationResponse",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "position",
                            models.CharField(
                                choices=[("agree", "We agree"), ("concerns", "We have concerns")], max_length=20
                            ),
                        ),
                        ("comment", models.TextField(blank=True, max_length=5000)),
                        ("responded_at", models.DateTimeField()),
                        ("answer", models.TextField(blank=True, max_length=5000)),
                        ("answered_at", models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        "db_table": "programmes_expectationresponse",
                        "ordering": ["expectation_id", "responded_at", "pk"],
                    },
                    bases=(nhs_joint.records.PortalRecord, models.Model),
                ),
                migrations.CreateModel(
                    name="HistoricalExpectation",
                    fields=[
                        ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                        (
                            "archived_at",
                            models.DateTimeField(blank=True, editable=False, null=True, verbose_name="archived"),
                        ),
                        (
                            "audience",
                            models.CharField(
                                choices=[
                                    ("providers", "Providers"),
                                    ("commissioners", "Commissioners"),
                                    ("local_systems", "Local health systems"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("comparator", models.CharField(choices=[(">=", "at least"), ("<=", "at most")], max_length=2)),
                        ("target", models.DecimalField(decimal_places=2, max_digits=10)),
                        ("start_date", models.DateField()),
                        ("due_date", models.DateField()),
                        ("wording", models.TextField()),
                        (
                            "stage",
                            models.CharField(
                                choices=[
                                    ("draft", "Draft"),
                                    ("consultation", "In consultation"),
                                    ("agreed", "Agreed"),
                                    ("withdrawn", "Withdrawn"),
                                ],
                                default="draft",
                                max_length=20,
                            ),
                        ),
                        (
                            "consultation_closes",
                            models.DateField(
                                blank=True,
                                help_text="The last day organisations can respond.",
                                null=True,
                                verbose_name="consultation closes",
                            ),
                        ),
                        ("agreed_on", models.DateField(blank=True, null=True)),
                        (
                            "responses_summary",
                            models.TextField(
                                blank=True,
                                help_text="What the organisations said in the consultation, and what changed because of it.",
                            ),
                        ),
                        (
                            "no_consultation_reason",
                            models.TextField(
                                blank=True,
                                db_default="",
                                default="",
                                help_text="Given when it is agreed without going out to consultation (a correction of wording, say).",
                                verbose_name="why no consultation was needed",
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
                    ],
                    options={
                        "verbose_name": "historical expectation",
                        "verbose_name_plural": "historical expectations",
                        "db_table": "programmes_historicalexpectation",
                        "ordering": ("-history_date", "-history_id"),
                        "get_latest_by": ("history_date", "history_id"),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name="HistoricalExpectation_agreed_by",
                    fields=[
                        ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                        ("m2m_history_id", models.AutoField(primary_key=True, serialize=False)),
                    ],
                    options={
                        "verbose_name": "HistoricalExpectation_agreed_by",
                        "db_table": "programmes_historicalexpectation_agreed_by",
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name="HistoricalExpectationResponse",
                    fields=[
                        ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
                        (
                            "position",
                            models.CharField(
                                choices=[("agree", "We agree"), ("concerns", "We have concerns")], max_length=20
                            ),
                        ),
                        ("comment", models.TextField(blank=True, max_length=5000)),
                        ("responded_at", models.DateTimeField()),
                        ("answer", models.TextField(blank=True, max_length=5000)),
                        ("answered_at", models.DateTimeField(blank=True, null=True)),
                        ("history_id", models.AutoField(primary_key=True, serialize=False)),
                        ("history_date", models.DateTimeField(db_index=True)),
                        ("history_change_reason", models.CharField(max_length=100, null=True)),
                        (
                            "history_type",
                            models.CharField(
                                choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "historical expectation response",
                        "verbose_name_plural": "historical expectation responses",
                        "db_table": "programmes_historicalexpectationresponse",
                        "ordering": ("-history_date", "-history_id"),
                        "get_latest_by": ("history_date", "history_id"),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name="HistoricalMeasureAgreement",
                    fields=[
                        ("id", models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID")),
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
                    ],
                    options={
                        "verbose_name": "historical measure agreement",
                        "verbose_name_plural": "historical measure agreements",
                        "db_table": "programmes_historicalmeasureagreement",
                        "ordering": ("-history_date", "-history_id"),
                        "get_latest_by": ("history_date", "history_id"),
                    },
                    bases=(simple_history.models.HistoricalChanges, models.Model),
                ),
                migrations.CreateModel(
                    name="MeasureAgreement",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("agreed_on", models.DateField()),
                    ],
                    options={
                        "db_table": "programmes_measureagreement",
                        "ordering": ["programme_measure_id", "agreed_on", "pk"],
                    },
                    bases=(nhs_joint.records.PortalRecord, models.Model),
                ),
                migrations.CreateModel(
                    name="Expectation",
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
                        (
                            "audience",
                            models.CharField(
                                choices=[
                                    ("providers", "Providers"),
                                    ("commissioners", "Commissioners"),
                                    ("local_systems", "Local health systems"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("comparator", models.CharField(choices=[(">=", "at least"), ("<=", "at most")], max_length=2)),
                        ("target", models.DecimalField(decimal_places=2, max_digits=10)),
                        ("start_date", models.DateField()),
                        ("due_date", models.DateField()),
                        ("wording", models.TextField()),
                        (
                            "stage",
                            models.CharField(
                                choices=[
                                    ("draft", "Draft"),
                                    ("consultation", "In consultation"),
                                    ("agreed", "Agreed"),
                                    ("withdrawn", "Withdrawn"),
                                ],
                                default="draft",
                                max_length=20,
                            ),
                        ),
                        (
                            "consultation_closes",
                            models.DateField(
                                blank=True,
                                help_text="The last day organisations can respond.",
                                null=True,
                                verbose_name="consultation closes",
                            ),
                        ),
                        ("agreed_on", models.DateField(blank=True, null=True)),
                        (
                            "responses_summary",
                            models.TextField(
                                blank=True,
                                help_text="What the organisations said in the consultation, and what changed because of it.",
                            ),
                        ),
                        (
                            "no_consultation_reason",
                            models.TextField(
                                blank=True,
                                db_default="",
                                default="",
                                help_text="Given when it is agreed without going out to consultation (a correction of wording, say).",
                                verbose_name="why no consultation was needed",
                            ),
                        ),
                        (
                            "agreed_by",
                            models.ManyToManyField(
                                blank=True,
                                db_table="programmes_expectation_agreed_by",
                                related_name="agreed_expectations",
                                to="organisations.nationalbody",
                                verbose_name="agreed by",
                            ),
                        ),
                        (
                            "issued_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="expectations",
                                to="organisations.nationalbody",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "programmes_expectation",
                        "ordering": ["programme__title", "measure__code", "start_date"],
                    },
                    bases=(nhs_joint.records.PortalRecord, models.Model),
                ),
                migrations.AddField(
                    model_name="expectation",
                    name="measure",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="expectations", to="measures.measure"
                    ),
                ),
                migrations.AddField(
                    model_name="expectation",
                    name="programme",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="expectations",
                        to="programmes.programme",
                    ),
                ),
                migrations.AddField(
                    model_name="expectation",
                    name="region",
                    field=models.ForeignKey(
                        blank=True,
                        help_text="Leave empty for all of England.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="expectations",
                        to="regions.region",
                    ),
                ),
                migrations.AddField(
                    model_name="expectation",
                    name="supersedes",
                    field=models.ForeignKey(
                        blank=True,
                        help_text="The agreed expectation this version replaces once it is agreed.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="superseded_by",
                        to="asks.expectation",
                    ),
                ),
                migrations.AddField(
                    model_name="expectationresponse",
                    name="answered_by",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="answered_responses",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AddField(
                    model_name="expectationresponse",
                    name="expectation",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="responses", to="asks.expectation"
                    ),
                ),
                migrations.AddField(
                    model_name="expectationresponse",
                    name="local_system",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="responses",
                        to="regions.localhealthsystem",
                        verbose_name="local health system",
                    ),
                ),
                migrations.AddField(
                    model_name="expectationresponse",
                    name="organisation",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="responses",
                        to="organisations.organisation",
                    ),
                ),
                migrations.AddField(
                    model_name="expectationresponse",
                    name="responded_by",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="expectation_responses",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AddField(
                    model_name="historicalexpectation",
                    name="history_user",
                    field=models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AddField(
                    model_name="historicalexpectation",
                    name="issued_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="organisations.nationalbody",
                    ),
                ),
                migrations.AddField(
                    model_name="historicalexpectation",
                    name="measure",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="measures.measure",
                    ),
                ),
                migrations.AddField(
                    model_name="historicalexpectation",
                    name="programme",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="programmes.programme",
                    ),
                ),
                migrations.AddField(
                    model_name="historicalexpectation",
                    name="region",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        help_text="Leave empty for all of England.",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="regions.region",
                    ),
                ),
                migrations.AddField(
                    model_name="historicalexpectation",
                    name="supersedes",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        help_text="The agreed expectation this version replaces once it is agreed.",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="asks.expectation",
                    ),
                ),
                migrations.AddField(
                    model_name="historicalexpectation_agreed_by",
                    name="expectation",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_tablespace="",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="asks.expectation",
                    ),
                ),
                migrations.AddField(
                    model_name="historicalexpectation_agreed_by",
                    name="history",
                    field=models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        to="asks.historicalexpectation",
                    ),
                ),
                migrations.AddField(
                    model_name="historicalexpectation_agreed_by",
                    name="nationalbody",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_tablespace="",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="organisations.nationalbody",
                    ),
                ),
                migrations.AddField(
                    model_name="historicalexpectationresponse",
                    name="answered_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AddField(
                    model_name="historicalexpectationresponse",
                    name="expectation",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="asks.expectation",
                    ),
                ),
                migrations.AddField(
                    model_name="historicalexpectationresponse",
                    name="history_user",
                    field=models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AddField(
                    model_name="historicalexpectationresponse",
                    name="local_system",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="regions.localhealthsystem",
                        verbose_name="local health system",
                    ),
                ),
                migrations.AddField(
                    model_name="historicalexpectationresponse",
                    name="organisation",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="organisations.organisation",
                    ),
                ),
                migrations.AddField(
                    model_name="historicalexpectationresponse",
                    name="responded_by",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AddField(
                    model_name="historicalmeasureagreement",
                    name="expectation",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="asks.expectation",
                    ),
                ),
                migrations.AddField(
                    model_name="historicalmeasureagreement",
                    name="history_user",
                    field=models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AddField(
                    model_name="historicalmeasureagreement",
                    name="local_system",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="regions.localhealthsystem",
                        verbose_name="local health system",
                    ),
                ),
                migrations.AddField(
                    model_name="historicalmeasureagreement",
                    name="organisation",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="organisations.organisation",
                    ),
                ),
                migrations.AddField(
                    model_name="historicalmeasureagreement",
                    name="programme_measure",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="measures.programmemeasure",
                    ),
                ),
                migrations.AddField(
                    model_name="measureagreement",
                    name="expectation",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="measure_agreements",
                        to="asks.expectation",
                    ),
                ),
                migrations.AddField(
                    model_name="measureagreement",
                    name="local_system",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="measure_agreements",
                        to="regions.localhealthsystem",
                        verbose_name="local health system",
                    ),
                ),
                migrations.AddField(
                    model_name="measureagreement",
                    name="organisation",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="measure_agreements",
                        to="organisations.organisation",
                    ),
                ),
                migrations.AddField(
                    model_name="measureagreement",
                    name="programme_measure",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="agreements",
                        to="measures.programmemeasure",
                    ),
                ),
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
                migrations.AddConstraint(
                    model_name="expectation",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            ("due_date__isnull", True), ("due_date__gte", models.F("start_date")), _connector="OR"
                        ),
                        name="expectation_due_date_not_before_start_date",
                        violation_error_message="The due date must not be before the start date.",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="expectation",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("stage", "consultation"), _negated=True),
                            ("consultation_closes__isnull", False),
                            _connector="OR",
                        ),
                        name="expectation_consultation_has_closing_date",
                        violation_error_message="A consultation needs a closing date.",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="expectationresponse",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("local_system__isnull", False), ("organisation__isnull", True)),
                            models.Q(("local_system__isnull", True), ("organisation__isnull", False)),
                            _connector="OR",
                        ),
                        name="expectation_response_one_responder",
                        violation_error_message="A response is from one organisation or one local health system.",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="expectationresponse",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("position", "concerns"), _negated=True),
                            models.Q(("comment", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="expectation_response_concern_has_comment",
                        violation_error_message="Say what your concerns are.",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="measureagreement",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("local_system__isnull", False), ("organisation__isnull", True)),
                            models.Q(("local_system__isnull", True), ("organisation__isnull", False)),
                            _connector="OR",
                        ),
                        name="measure_agreement_one_party",
                        violation_error_message="An agreement is with one organisation or one local health system.",
                    ),
                ),
            ],
            database_operations=[],  # the tables stay where they are
        ),
    ]
