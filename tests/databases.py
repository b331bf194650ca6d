"""The test databases: one migrated template per run, cloned for each pytest process; quick clean-up after
transactional tests.

Migrating an empty database takes most of a minute. A run migrates one template database
(`<DATABASE_TEST_NAME>_template`) and each pytest process (one, or one per pytest-xdist worker) gets a copy of it
with PostgreSQL's `CREATE DATABASE … TEMPLATE …`, which takes a second or two. The template is rebuilt when
`--create-db` is given (each run, under xdist: the workers share the run's id) or when anything a migration could
read has changed (the migrations, the apps' code, data/ and the pinned requirements); otherwise an earlier run's
template is cloned again. Building it is serialised by a PostgreSQL advisory lock, so two workers never build it
at once, and nobody is connected to it while it is cloned.

After a transactional test Django empties every table and sends `post_migrate` again (which re-creates the
content types and permissions): close to a second each time, and the data migrations' rows (the role groups) are
lost. Instead, `restore_migrated_state` empties only the tables whose rows differ from the freshly migrated
database, and puts back the migrated rows of any such table that had some. Every test so starts from the
migrated database; sequences are not reset (as with Django's own flush). Which tables differ is read cheaply: a
table that was empty when migrated differs when it has any row (only whether it has one is asked, not a digest
of all its rows), and only the few tables with migrated rows are compared row by row.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What a migration may read: the project's files, except these folders and hidden ones (.git, .venv, .local).
NOT_READ_BY_MIGRATIONS = {
    "node_modules",
    "tests",
    "bench",
    "docs",
    "scripts",
    "static",
    "templates",
    "__pycache__",
    "staticfiles",
}
BASELINE_SCHEMA = "test_migrated_rows"


def migrations_fingerprint() -> str:
    """A digest of what migrating reads: the project's Python and data files and the pinned requirements."""
    digest = hashlib.sha256()
    paths = []
    for directory, folders, files in os.walk(ROOT):
        folders[:] = sorted(
            folder for folder in folders if folder not in NOT_READ_BY_MIGRATIONS and not folder.startswith(".")
        )
        paths.extend(Path(directory, name) for name in files if not name.endswith((".pyc", ".md")))
    for path in sorted(paths):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def _comment_of(cursor, name):
    cursor.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        [name],
    )
    row = cursor.fetchone()
    return None if row is None else (row[0] or "")


def set_up_from_template(run_id: str | None, rebuild: bool, verbosity: int = 0):
    """Create this process's test database as a copy of the run's migrated template; return Django's old_config
    (for django.test.utils.teardown_databases)."""
    from django.conf import settings
    from django.db import connections

    connection = connections["default"]
    creation = connection.creation
    old_name = connection.settings_dict["NAME"]
    test_name = creation._get_test_db_name()
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    base_name = test_name.removesuffix(f"_{worker}") if worker else test_name
    template = f"{base_name}_template"[:63]
    wanted = f"{migrations_fingerprint()} {run_id or uuid.uuid4().hex}" if rebuild else migrations_fingerprint()
    lock = int.from_bytes(hashlib.sha256(template.encode()).digest()[:7], "big")

    with creation._nodb_cursor() as locker:
        # Waiting for another process to build the template, and copying it, may take longer than a request may.
        locker.execute("SET statement_timeout = 0; SET lock_timeout = 0")
        locker.execute("SELECT pg_advisory_lock(%s)", [lock])
        try:
            comment = _comment_of(locker, template)
            if comment is None or not (comment == wanted or (not rebuild and comment.startswith(wanted))):
                _build_template(connection, template, old_name, verbosity)
                locker.execute(f"COMMENT ON DATABASE {connection.ops.quote_name(template)} IS %s", [wanted])
            locker.execute(f"DROP DATABASE IF EXISTS {connection.ops.quote_name(test_name)} WITH (FORCE)")
            locker.execute(
                f"CREATE DATABASE {connection.ops.quote_name(test_name)} TEMPLATE {connection.ops.quote_name(template)}"
            )
        finally:
            locker.execute("SELECT pg_advisory_unlock(%s)", [lock])

    connection.close()
    settings.DATABASES["default"]["NAME"] = test_name
    connection.settings_dict["NAME"] = test_name
    connection.ensure_connection()
    return [(connection, old_name, True)]


def _build_template(connection, template, old_name, verbosity):
    from django.conf import settings

    test_settings = connection.settings_dict.setdefault("TEST", {})
    test_name = test_settings.get("NAME")
    test_settings["NAME"] = template
    try:
        connection.creation.create_test_db(verbosity=verbosity, autoclobber=True, serialize=False, keepdb=False)
    finally:
        test_settings["NAME"] = test_name
        connection.close()
        connection.close_pool()
        settings.DATABASES["default"]["NAME"] = old_name
        connection.settings_dict["NAME"] = old_name


# ---------------------------------------------------------------------------------------------------------------
# After a transactional test: back to the migrated rows.

_digests_of_migrated: dict[str, dict[str, str]] = {}


def _digests(cursor, tables):
    """Each table's row count and a digest of its rows, in one query."""
    if not tables:
        return {}
    quote = '"{}"'.format
    cursor.execute(
        " UNION ALL ".join(
            f"SELECT %s, count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') "
            f"FROM {quote(table)} t"
            for table in tables
        ),
        list(tables),
    )
    return dict(cursor.fetchall())


# A table emptied by a test's clean-up with DELETE, unless it holds at least this many rows (then TRUNCATE).
MANY_ROWS = 10_000


def _states(cursor, tables, migrated):
    """What the clean-up compares with the migrated database, in two queries: for a table with migrated rows, its
    row count and digest (`_digests`); for one that was empty, "0:" while it still is, else how many rows it has,
    counted up to MANY_ROWS (reading all of a table's rows to digest them is not needed to know it changed)."""
    with_rows = [table for table in tables if not migrated.get(table, "0:").startswith("0:")]
    empty = [table for table in tables if table not in with_rows]
    states = _digests(cursor, with_rows)
    if empty:
        cursor.execute(
            " UNION ALL ".join(
                f"SELECT %s, (SELECT count(*) FROM (SELECT FROM \"{table}\" LIMIT {MANY_ROWS}) AS head)::text || ':'"
                for table in empty
            ),
            empty,
        )
        states.update(cursor.fetchall())
    return states


def _tables(connection):
    with connection.cursor() as cursor:
        return sorted(
            name
            for name in connection.introspection.table_names(cursor)
            if name != "django_migrations" and not name.startswith("pg_")
        )


def remember_migrated_state(connection):
    """Called once per process, on the freshly migrated database: keep a copy of every table that has rows."""
    tables = _tables(connection)
    with connection.cursor() as cursor:
        digests = _digests(cursor, tables)
        cursor.execute(f"DROP SCHEMA IF EXISTS {BASELINE_SCHEMA} CASCADE")
        cursor.execute(f"CREATE SCHEMA {BASELINE_SCHEMA}")
        for table, digest in digests.items():
            if not digest.startswith("0:"):
                cursor.execute(f'CREATE TABLE {BASELINE_SCHEMA}."{table}" AS TABLE "{table}"')
    _digests_of_migrated[connection.alias] = digests


def restore_migrated_state(connection):
    """Empty the tables a test wrote; give back their migrated rows to those that had some."""
    migrated = _digests_of_migrated[connection.alias]
    tables = _tables(connection)
    with connection.cursor() as cursor:
        now = _states(cursor, tables, migrated)
        changed = [table for table in tables if now[table] != migrated.get(table, "0:")]
        if not changed:
            return
        many = [table for table in changed if now[table] == f"{MANY_ROWS}:"]
        # As a replica: the portal's triggers (data versions) do not count the clean-up as a change, and neither
        # the rows deleted nor the migrated rows put back have their foreign keys checked one row at a time (what
        # is left is the migrated database, which was consistent; the check below proves it is what is left).
        cursor.execute("SET session_replication_role = replica")
        try:
            # DELETE for the few rows a test writes: TRUNCATE makes new files for each table and its indexes, some
            # seconds for the 40-odd tables a test seeding the demonstration writes, where DELETE takes a few
            # hundredths. TRUNCATE for a table of many rows; CASCADE: a table that refers to it is emptied too,
            # and refilled below if it had rows.
            if many:
                cursor.execute("TRUNCATE {} CASCADE".format(", ".join(f'"{table}"' for table in many)))
            few = [table for table in changed if table not in many]
            if few:
                cursor.execute("; ".join(f'DELETE FROM "{table}"' for table in few))
            had_rows = [table for table in tables if not migrated.get(table, "0:").startswith("0:")]
            after = _digests(cursor, had_rows)
            for table in had_rows:
                if after[table] != migrated[table]:
                    cursor.execute(f'DELETE FROM "{table}"')
                    cursor.execute(f'INSERT INTO "{table}" SELECT * FROM {BASELINE_SCHEMA}."{table}"')
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
        final = _states(cursor, tables, migrated)
        wrong = [table for table in tables if final[table] != migrated.get(table, "0:")]
        assert not wrong, f"the tables {wrong} could not be put back as migrated"
