"""The database's own refusal to change or remove audit events, below the model's guards.

PostgreSQL: triggers installed by migrations 0002 (UPDATE, DELETE) and 0006 (TRUNCATE, which
`manage.py flush` uses); PostgreSQL alters columns in place and keeps a table's triggers.

SQLite: BEFORE UPDATE and BEFORE DELETE triggers (SQLite has no TRUNCATE; `flush` deletes), and a
BEFORE INSERT trigger refusing an event id that exists: `INSERT OR REPLACE` (or `REPLACE`) would
otherwise delete the old row without firing the DELETE trigger and write another in its place.
SQLite cannot alter most columns in place, so a later migration that changes this table copies its
rows into a new table and drops the old one, and the triggers go with it. They are therefore
installed again after every `migrate` (post_migrate, see AuditConfig), not only by migration 0006
(which is also how an existing database gets a trigger added later).

This guards against every code path and every mistake; not against someone who owns the database
file or the PostgreSQL table and drops the triggers on purpose.
"""

TABLE = "audit_auditevent"
# name: (operation, condition, what the refusal names)
SQLITE_TRIGGERS = {
    f"{TABLE}_no_update": ("UPDATE", "", "UPDATE"),
    f"{TABLE}_no_delete": ("DELETE", "", "DELETE"),
    f"{TABLE}_no_replace": (
        "INSERT",
        f"WHEN EXISTS (SELECT 1 FROM {TABLE} WHERE id = NEW.id)",
        "REPLACE",
    ),
}


def install_sqlite_triggers(connection) -> None:
    with connection.cursor() as cursor:
        for name, (operation, condition, refused) in SQLITE_TRIGGERS.items():
            cursor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE {operation} ON {TABLE} {condition} "
                f"BEGIN SELECT RAISE(ABORT, 'audit events are append-only ({refused} refused)'); "
                "END"
            )


def reinstall_after_migrate(sender, using, **kwargs) -> None:
    """post_migrate: put back SQLite triggers that a table rebuild dropped (a no-op otherwise)."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor == "sqlite" and TABLE in connection.introspection.table_names():
        install_sqlite_triggers(connection)
