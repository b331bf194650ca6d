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
    table_name text NOT NULL,
    noted text NOT NULL
);

CREATE FUNCTION portal_note_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    noted text := 'portal_versions.t' || TG_RELID::text;
BEGIN
    -- Once per table and transaction (the setting is the transaction's own, undone with it).
    IF current_setting(noted, true) IS DISTINCT FROM 'y' THEN
        PERFORM set_config(noted, 'y', true);
        INSERT INTO portal_data_change (table_name, noted) VALUES (TG_TABLE_NAME, noted);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION portal_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO portal_data_version AS v (table_name, version)
    VALUES (NEW.table_name, nextval('portal_data_version_seq'))
    ON CONFLICT (table_name) DO UPDATE SET version = EXCLUDED.version;
    DELETE FROM portal_data_change WHERE table_name = NEW.table_name;
    -- Given before the commit (SET CONSTRAINTS ... IMMEDIATE), later changes of the same transaction count too.
    PERFORM set_config(NEW.noted, '', true);
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
