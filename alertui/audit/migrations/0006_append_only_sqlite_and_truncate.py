"""The database refuses to change or remove audit events on SQLite too, and PostgreSQL also
refuses TRUNCATE (what `manage.py flush` runs there). See alertui/audit/append_only.py."""

from django.db import migrations

from alertui.audit.append_only import install_sqlite_triggers

# Statement-level, and fired for a TRUNCATE ... CASCADE from another table too. It reuses 0002's
# function, which names the refused operation.
PG_CREATE = """
CREATE TRIGGER audit_auditevent_no_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_auditevent_append_only();
"""
PG_DROP = "DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON audit_auditevent;"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        install_sqlite_triggers(schema_editor.connection)
    elif vendor == "postgresql":
        schema_editor.execute(PG_CREATE, params=None)


def backwards(apps, schema_editor):
    # On SQLite the triggers stay: post_migrate installs them after every migrate anyway.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_intent_created_by_and_unknown_outcome")]
    operations = [migrations.RunPython(forwards, backwards)]
