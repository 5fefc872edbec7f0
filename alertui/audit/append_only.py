"""The database's own refusal to change or remove audit events, below the model's guards.

PostgreSQL: triggers installed by migrations 0002 (UPDATE, DELETE) and 0006 (TRUNCATE, which
`manage.py flush` uses); PostgreSQL alters columns in place and keeps a table's triggers.

SQLite: BEFORE UPDATE and BEFORE DELETE triggers (SQLite has no TRUNCATE; `flush` deletes). SQLite
cannot alter most columns in place, so a later migration that changes this table copies its rows
into a new table and drops the old one, and the triggers go with it. They are therefore installed
again after every `migrate` (post_migrate, see AuditConfig), not only by migration 0006.

This guards against every code path and every mistake; not against someone who owns the database
file or the PostgreSQL table and drops the triggers on purpose.
"""

TABLE = "audit_auditevent"
SQLITE_TRIGGERS = {f"{TABLE}_no_update": "UPDATE", f"{TABLE}_no_delete": "DELETE"}


def install_sqlite_triggers(connection) -> None:
    with connection.cursor() as cursor:
        for name, operation in SQLITE_TRIGGERS.items():
            cursor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE {operation} ON {TABLE} "
                f"BEGIN SELECT RAISE(ABORT, 'audit events are append-only ({operation} refused)'); "
                "END"
            )


def reinstall_after_migrate(sender, using, **kwargs) -> None:
    """post_migrate: put back SQLite triggers that a table rebuild dropped (a no-op otherwise)."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor == "sqlite" and TABLE in connection.introspection.table_names():
        install_sqlite_triggers(connection)
