from django.db import migrations

# The tables, sequence and functions of nhs_joint/versions (its docstring says how they work together).
# The trigger on each table is added after every migrate (triggers.install), so later tables have one too.
CREATE = r"""
CREATE SEQUENCE portal_data_version_seq;
CREATE TABLE portal_data_version (
    table_name text PRIMARY KEY,
    version bigint NOT NULL
);
CREATE UNLOGGED TABLE portal_data_change (
    noted boolean NOT NULL DEFAULT true
);

-- The tables a transaction changed, in a setting of its own (undone with it, or with a savepoint rolled back).
CREATE FUNCTION portal_note_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    noted text := coalesce(current_setting('portal_versions.tables', true), '');
BEGIN
    IF noted = '' THEN
        -- The transaction's first change: one row, whose deferred trigger numbers the tables at commit.
        PERFORM set_config('portal_versions.tables', TG_TABLE_NAME, true);
        INSERT INTO portal_data_change DEFAULT VALUES;
    ELSIF position(',' || TG_TABLE_NAME || ',' IN ',' || noted || ',') = 0 THEN
        PERFORM set_config('portal_versions.tables', noted || ',' || TG_TABLE_NAME, true);
    END IF;
    RETURN NULL;
END
$$;

-- At commit: a new version for each table the transaction changed, taken in the tables' order so that two
-- transactions committing at once wait for each other at most once and never deadlock.
CREATE FUNCTION portal_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    noted text := coalesce(current_setting('portal_versions.tables', true), '');
BEGIN
    IF noted <> '' THEN
        INSERT INTO portal_data_version AS v (table_name, version)
        SELECT changed, nextval('portal_data_version_seq')
        FROM unnest(string_to_array(noted, ',')) AS changed
        ORDER BY changed
        ON CONFLICT (table_name) DO UPDATE SET version = EXCLUDED.version;
        -- Numbered before the commit (SET CONSTRAINTS ... IMMEDIATE): later changes are noted anew.
        PERFORM set_config('portal_versions.tables', '', true);
    END IF;
    DELETE FROM portal_data_change;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER portal_version_bump
    AFTER INSERT ON portal_data_change
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION portal_bump_version();
"""

DROP = r"""
DROP TABLE IF EXISTS portal_data_change;
DROP TABLE IF EXISTS portal_data_version;
DROP FUNCTION IF EXISTS portal_bump_version() CASCADE;
DROP FUNCTION IF EXISTS portal_note_change() CASCADE;
DROP SEQUENCE IF EXISTS portal_data_version_seq;
"""


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [migrations.RunSQL(CREATE, DROP)]
