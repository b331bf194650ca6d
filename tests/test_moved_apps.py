"""The expectations and measures moved from programmes/ to asks/ and measures/ without changing a table.

Every model of the two apps (their histories and many-to-many tables too) reads the table it had in
programmes, which programmes' migrations made; the migrations of the move hold no SQL; and the models'
content types and search documents carry the new app's label.
"""

import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db

MOVES = {
    "asks": ["0001_initial", "0002_content_types"],
    "measures": ["0001_initial", "0002_content_types"],
    "programmes": ["0009_asks_and_measures_moved_out"],
    "search": ["0002_moved_sources"],
}


def moved_models():
    for label in ("asks", "measures"):
        yield from apps.get_app_config(label).get_models(include_auto_created=True)


def test_every_moved_model_keeps_its_programmes_table():
    tables = set(connection.introspection.table_names())
    names = {model._meta.label: model._meta.db_table for model in moved_models()}
    assert len(names) == 16  # 6 models, their 6 histories, 2 many-to-many tables and their 2 histories
    for label, table in names.items():
        assert table.startswith("programmes_"), f"{label} reads {table}"
        assert table in tables, f"{label}: no table {table}"
    assert not [t for t in tables if t.startswith(("asks_", "measures_"))]


def test_moved_models_read_their_rows():
    """Each model, history and relation is queried: a column or table the models expect but the database
    lacks fails here."""
    for model in moved_models():
        manager = getattr(model, "all_objects", model._default_manager)
        assert manager.count() == 0, model._meta.label


@pytest.mark.parametrize(("app", "name"), [(app, name) for app, names in MOVES.items() for name in names])
def test_the_move_migrations_change_no_table(app, name):
    out = io.StringIO()
    call_command("sqlmigrate", app, name, stdout=out)
    statements = [
        line
        for line in out.getvalue().splitlines()
        if line.strip() and not line.startswith("--") and line not in ("BEGIN;", "COMMIT;")
    ]
    assert statements == []


def test_content_types_carry_the_new_labels():
    from django.contrib.contenttypes.models import ContentType

    from asks.models import Expectation
    from measures.models import Measurement

    assert ContentType.objects.get_for_model(Expectation).app_label == "asks"
    assert ContentType.objects.get_for_model(Measurement).app_label == "measures"
    assert not ContentType.objects.filter(
        app_label="programmes", model__in=["expectation", "measure", "measurement", "programmemeasure"]
    ).exists()
