"""The database refuses to change or remove a window's history, as it does audit events (see
alertui/audit/append_only.py): UPDATE, DELETE and TRUNCATE on PostgreSQL; UPDATE, DELETE and
REPLACE on SQLite (put back after every migrate, as a table rebuild drops them)."""

from django.db import migrations

from alertui.audit.append_only import (
    install_sqlite_triggers,
    postgresql_create,
    postgresql_drop,
    sqlite_triggers,
)

TABLE = "maintenance_windowchange"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        install_sqlite_triggers(schema_editor.connection, TABLE)
    elif vendor == "postgresql":
        schema_editor.execute(postgresql_create(TABLE), params=None)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(postgresql_drop(TABLE), params=None)
    elif vendor == "sqlite":
        for name in sqlite_triggers(TABLE):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}", params=None)


class Migration(migrations.Migration):
    dependencies = [("maintenance", "0002_calendar_token")]
    operations = [migrations.RunPython(forwards, backwards)]
