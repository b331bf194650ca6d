"""The trigger on every table that keeps its data version (nhs_joint/versions)."""

from django.db import DEFAULT_DB_ALIAS, connections

# The versions' own tables, Django's record of migrations, and sessions (written on many requests; no page
# shows them: who asks is part of every page's tag) have no trigger.
UNVERSIONED = frozenset({"portal_data_version", "portal_data_change", "django_migrations", "django_session"})
TRIGGER = "portal_version"
VERSION_BUMP = "portal_version_bump"  # the deferred trigger that gives a changed table its version at commit
TRUNCATE_TRIGGER = "portal_version_truncate"


def install(using=DEFAULT_DB_ALIAS):
    """Adds the trigger to every table of the database that lacks it; returns the tables it was added to."""
    connection = connections[using]
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor)) - UNVERSIONED
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = %s AND c.relnamespace = 'public'::regnamespace",
            [TRIGGER],
        )
        missing = sorted(tables - {row[0] for row in cursor.fetchall()})
        quote = connection.ops.quote_name
        for table in missing:
            # A row trigger (a statement that changes no row changes no version) and, for TRUNCATE, which
            # has no rows, a statement trigger.
            cursor.execute(
                f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON {quote(table)} "
                "FOR EACH ROW EXECUTE FUNCTION portal_note_change()"
            )
            cursor.execute(
                f"CREATE TRIGGER {TRUNCATE_TRIGGER} AFTER TRUNCATE ON {quote(table)} "
                "FOR EACH STATEMENT EXECUTE FUNCTION portal_note_change()"
            )
    return missing


def install_after_migrate(sender, using=DEFAULT_DB_ALIAS, **kwargs):
    install(using)
