"""The test run's `flush`: Django's, allowed to empty the append-only tables (the audit and
maintenance windows' history).

Django empties the test database with `flush` after every transactional test (pytest-django's
transactional_db, live_server). The audit's triggers refuse that, as they must refuse it in a
deployment (tests/test_audit_append_only.py runs Django's own command to check). This command,
installed only by tests/settings.py, lifts the triggers inside the flush's own transaction and
puts them back before it commits, so the test database ends as migrations left it.
"""

from django.core.management.commands import flush
from django.db import connections, transaction

from alertui.audit.append_only import TABLES


class Command(flush.Command):
    def handle(self, **options):
        connection = connections[options["database"]]
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for table in TABLES:
                    cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
                super().handle(**options)
                for table in TABLES:
                    cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            else:
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
                    f"({', '.join(['%s'] * len(TABLES))})",
                    list(TABLES),
                )
                triggers = cursor.fetchall()
                for name, _ in triggers:
                    cursor.execute(f'DROP TRIGGER "{name}"')
                super().handle(**options)
                # The flush's post_migrate may have put them back already (AuditConfig).
                cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                present = {name for (name,) in cursor.fetchall()}
                for name, sql in triggers:
                    if name not in present:
                        cursor.execute(sql)
