"""The clean-up after a transactional test (tests/databases.py) puts back the freshly migrated database."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from tests import databases
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


def every_table_as_migrated():
    """Every table's rows, digested in full (not the clean-up's quicker reading), against the migrated ones."""
    with connection.cursor() as cursor:
        now = databases._digests(cursor, databases._tables(connection))
    migrated = databases._digests_of_migrated[connection.alias]
    return {table: digest for table, digest in now.items() if digest != migrated.get(table, "0:")}


def test_rows_written_and_migrated_rows_changed_are_put_back():
    assert every_table_as_migrated() == {}
    f.ProgrammeFactory(bodies=[f.NationalBodyFactory()])  # tables that were empty
    Group.objects.filter(name="Staff").update(name="Staff (renamed)")  # a migrated row changed
    ContentType.objects.create(app_label="elsewhere", model="thing")  # a row added beside migrated ones
    with connection.cursor() as cursor:  # a table past MANY_ROWS, emptied by TRUNCATE
        cursor.execute(
            "INSERT INTO django_session SELECT 'key' || i, 'data', now() FROM generate_series(1, %s) AS i",
            [databases.MANY_ROWS + 1],
        )
    changed = every_table_as_migrated()
    assert {"programmes_programme", "organisations_nationalbody", "auth_group", "django_content_type"} <= set(changed)
    assert "django_session" in changed
    databases.restore_migrated_state(connection)
    assert every_table_as_migrated() == {}
    assert Group.objects.filter(name="Staff").exists()
