"""The audit history is append-only, whatever path tries to change it: the model and its
queryset refuse, and below them the database itself (triggers on SQLite and PostgreSQL), so
Django's plain base manager, raw SQL, `manage.py flush`, TRUNCATE and a later migration that
rebuilds the table cannot change or remove a row either.

Runs on the database the test run uses: SQLite by default, PostgreSQL with DATABASE_URL.
"""

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.core.management.commands.flush import Command as DjangoFlush
from django.db import DatabaseError, connection, models, transaction
from django.db.models import ProtectedError

from alertui.audit.models import AppendOnlyError, AuditEvent
from tests.test_audit_pages import event

ON_POSTGRESQL = connection.vendor == "postgresql"


def kept(saved: AuditEvent) -> tuple:
    row = AuditEvent.objects.get(pk=saved.pk)
    return row.comment, row.actor_name, row.action


# -- through the model ------------------------------------------------------------------------


def test_it_refuses_to_change_a_saved_event(db):
    saved = event(comment="original")
    saved.comment = "rewritten"
    with pytest.raises(AppendOnlyError):
        saved.save()
    assert AuditEvent.objects.get(pk=saved.pk).comment == "original"


def test_it_refuses_to_overwrite_an_event_through_a_new_instance_with_its_id(db):
    saved = event(comment="original", actor_name="alice")
    forged = AuditEvent(pk=saved.pk, action="created", source="browser", actor_name="mallory")
    with pytest.raises((AppendOnlyError, DatabaseError)), transaction.atomic():
        forged.save()
    assert kept(saved) == ("original", "alice", "created")


def test_it_refuses_to_delete_an_event(db):
    saved = event()
    with pytest.raises(AppendOnlyError):
        saved.delete()
    assert AuditEvent.objects.filter(pk=saved.pk).exists()


def test_it_refuses_bulk_updates_and_deletes(db):
    saved = event(comment="original")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update(comment="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=saved.pk).update(comment="rewritten")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=saved.pk).delete()
    saved.comment = "rewritten"
    # These two run in Django's own atomic blocks: a savepoint keeps the test's transaction.
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEvent.objects.bulk_update([saved], ["comment"])
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEvent.objects.update_or_create(pk=saved.pk, defaults={"comment": "rewritten"})
    assert list(AuditEvent.objects.values_list("comment", flat=True)) == ["original"]


# -- below the model: the database refuses ---------------------------------------------------


def test_it_has_the_database_refuse_an_update_through_the_base_manager(db):
    # _base_manager is a plain Manager: none of the queryset's guards apply.
    saved = event(comment="original", actor_name="alice")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent._base_manager.filter(pk=saved.pk).update(comment="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent._base_manager.update(actor_name="mallory")
    assert kept(saved) == ("original", "alice", "created")


def test_it_has_the_database_refuse_a_delete_through_the_base_manager(db):
    saved = event(comment="original")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent._base_manager.filter(pk=saved.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent._base_manager.all().delete()
    assert kept(saved) == ("original", "alice", "created")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET comment = 'rewritten' WHERE id = %s",
        "UPDATE audit_auditevent SET actor_name = 'mallory'",
        "DELETE FROM audit_auditevent WHERE id = %s",
        "DELETE FROM audit_auditevent",
    ],
    ids=["update-one", "update-all", "delete-one", "delete-all"],
)
def test_it_has_the_database_refuse_raw_sql_changes(db, statement):
    saved = event(comment="original")
    params = [saved.pk] if "%s" in statement else None
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
    assert kept(saved) == ("original", "alice", "created")


def _rewriting_insert(verb: str, conflict: str = "") -> str:
    """An INSERT of the event with id %s again, its comment rewritten: `verb` is how it may
    overwrite the row (SQLite's INSERT OR REPLACE deletes the old row without a DELETE trigger
    firing, unless recursive triggers are on), `conflict` an ON CONFLICT clause."""
    columns = [f.column for f in AuditEvent._meta.concrete_fields]
    values = ["'rewritten'" if c == "comment" else c for c in columns]
    return (
        f"{verb} INTO audit_auditevent ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM audit_auditevent WHERE id = %s {conflict}"
    )


REWRITING_INSERTS = {
    "insert-on-conflict-update": _rewriting_insert(
        "INSERT", "ON CONFLICT (id) DO UPDATE SET comment = excluded.comment"
    ),
}
if not ON_POSTGRESQL:
    REWRITING_INSERTS["insert-or-replace"] = _rewriting_insert("INSERT OR REPLACE")
    REWRITING_INSERTS["replace"] = _rewriting_insert("REPLACE")


@pytest.mark.parametrize("statement", REWRITING_INSERTS.values(), ids=REWRITING_INSERTS.keys())
def test_it_has_the_database_refuse_an_insert_that_overwrites_an_event(db, statement):
    saved = event(comment="original")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            # SQLite needs a WHERE in an upsert's SELECT to parse ON CONFLICT: it has one.
            cursor.execute(statement, [saved.pk])
    assert kept(saved) == ("original", "alice", "created")


@pytest.mark.django_db(transaction=True)
def test_it_refuses_manage_py_flush_while_the_audit_has_rows():
    """`manage.py flush` (Django's own command: the test run's database teardown uses another,
    see tests/testdb) empties every table, with TRUNCATE on PostgreSQL and DELETE on SQLite.
    It fails as a whole, so nothing else is emptied either."""
    person = User.objects.create_user("bob")
    saved = event(comment="original", actor=person, actor_name="bob")
    with pytest.raises(CommandError, match="couldn't be flushed") as refused:
        call_command(DjangoFlush(), interactive=False, verbosity=0)
    assert "append-only" in str(refused.value.__cause__)
    assert kept(saved) == ("original", "bob", "created")
    assert User.objects.filter(pk=person.pk).exists()


@pytest.mark.skipif(not ON_POSTGRESQL, reason="TRUNCATE is PostgreSQL's (SQLite has none)")
@pytest.mark.parametrize(
    "statement",
    # CASCADE: deliveries refer to audit events, and audit events to users.
    ["TRUNCATE audit_auditevent CASCADE", "TRUNCATE auth_user CASCADE"],
    ids=["audit", "cascade-from-users"],
)
@pytest.mark.django_db(transaction=True)
def test_it_has_postgresql_refuse_truncate(statement):
    # Committed rows: TRUNCATE refuses tables with pending foreign key checks for another reason.
    saved = event(comment="original", actor=User.objects.create_user("bob"), actor_name="bob")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement)
    assert kept(saved) == ("original", "bob", "created")


# -- the people in it --------------------------------------------------------------------------


def test_it_keeps_a_user_with_history(db, silencer):
    event(actor=silencer, actor_name=silencer.username)
    with pytest.raises(ProtectedError):
        silencer.delete()
    assert AuditEvent.objects.get().actor_id == silencer.pk


def test_it_keeps_a_user_with_history_in_the_admin(client, admin_user, silencer):
    event(actor=silencer, actor_name=silencer.username)
    client.force_login(admin_user)
    page = client.post(f"/admin/auth/user/{silencer.pk}/delete/", {"post": "yes"})
    assert page.status_code == 200
    assert "<title>Cannot delete user |" in page.content.decode()
    assert User.objects.filter(pk=silencer.pk).exists()
    assert AuditEvent.objects.get().actor_id == silencer.pk


@pytest.mark.django_db(transaction=True)
def test_it_has_the_database_keep_a_user_with_history_from_raw_sql():
    # Committed statement by statement (no test transaction), so the foreign key, checked at
    # commit, is checked here.
    person = User.objects.create_user("bob")
    saved = event(actor=person, actor_name="bob")
    with pytest.raises(DatabaseError):
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM auth_user WHERE id = %s", [person.pk])
    assert User.objects.filter(pk=person.pk).exists()
    assert AuditEvent.objects.get(pk=saved.pk).actor_id == person.pk


# -- a later migration -------------------------------------------------------------------------


@pytest.mark.skipif(
    ON_POSTGRESQL,
    reason="only SQLite rebuilds a table to change a column; PostgreSQL alters it in place "
    "and keeps its triggers",
)
@pytest.mark.django_db(transaction=True)
def test_it_stays_append_only_after_a_migration_rebuilds_the_table_on_sqlite():
    """SQLite cannot alter most columns: Django's migration copies the rows into a new table
    and drops the old one, and its triggers with it. `migrate` puts them back."""
    saved = event(comment="original")
    note = AuditEvent._meta.get_field("note")
    changed = models.CharField(max_length=2000, blank=True)
    changed.set_attributes_from_name("note")
    changed.model = AuditEvent
    with connection.schema_editor() as editor:
        editor.alter_field(AuditEvent, note, changed)
    try:
        call_command("migrate", verbosity=0)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM audit_auditevent")
        assert kept(saved) == ("original", "alice", "created")
    finally:
        with connection.schema_editor() as editor:
            editor.alter_field(AuditEvent, changed, note)
        call_command("migrate", verbosity=0)
