"""On PostgreSQL, a trigram index that serves the audit page's person filter: a substring
match (`actor_name__icontains`, which Django writes as UPPER(actor_name::text) LIKE UPPER(..)),
which no B-tree index can. SQLite has no such index; the filter stays correct there, by scan.

pg_trgm ships with PostgreSQL and is a trusted extension (PostgreSQL 13+: a database owner may
create it). Where it cannot be created (no privilege, a build without contrib), the migration
goes on without the index, and says so: the filter gives the same answers, more slowly."""

import logging

from django.db import DatabaseError, migrations, transaction

log = logging.getLogger(__name__)

INDEX = "audit_actor_name_trgm"
CREATE = (
    f"CREATE INDEX IF NOT EXISTS {INDEX} ON audit_auditevent"
    " USING gin ((UPPER(actor_name::text)) gin_trgm_ops)"
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):  # a savepoint
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm", params=None)
    except DatabaseError as e:
        log.warning("No trigram index for the audit's person filter (pg_trgm: %s)", e)
        return
    schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    # The extension stays: other tables of the database may use it.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}", params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0008_merge_clusters_and_maintenance")]
    operations = [migrations.RunPython(forwards, backwards)]
