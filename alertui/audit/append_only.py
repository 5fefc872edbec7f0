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
# Every append-only table: the silence audit, and maintenance windows' own history.
TABLES = (TABLE, "maintenance_windowchange")


def sqlite_triggers(table: str) -> dict[str, tuple[str, str, str]]:
    """name: (operation, condition, what the refusal names)"""
    return {
        f"{table}_no_update": ("UPDATE", "", "UPDATE"),
        f"{table}_no_delete": ("DELETE", "", "DELETE"),
        f"{table}_no_replace": (
            "INSERT",
            f"WHEN EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id)",
            "REPLACE",
        ),
    }


def install_sqlite_triggers(connection, table: str = TABLE) -> None:
    with connection.cursor() as cursor:
        for name, (operation, condition, refused) in sqlite_triggers(table).items():
            cursor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE {operation} ON {table} {condition} "
                f"BEGIN SELECT RAISE(ABORT, '{_what(table)} are append-only ({refused} refused)'); "
                "END"
            )


def _what(table: str) -> str:
    return "audit events" if table == TABLE else "window changes"


def postgresql_create(table: str) -> str:
    """Row triggers refusing UPDATE and DELETE, a statement trigger refusing TRUNCATE."""
    return f"""
CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '{_what(table)} are append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {table}_append_only
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_append_only();
CREATE TRIGGER {table}_no_truncate
    BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only();
"""


def postgresql_drop(table: str) -> str:
    return f"""
DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};
DROP TRIGGER IF EXISTS {table}_append_only ON {table};
DROP FUNCTION IF EXISTS {table}_append_only();
"""


def reinstall_after_migrate(sender, using, **kwargs) -> None:
    """post_migrate: put back SQLite triggers that a table rebuild dropped (a no-op otherwise)."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    present = connection.introspection.table_names()
    for table in TABLES:
        if table in present:
            install_sqlite_triggers(connection, table)
