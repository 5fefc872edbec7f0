"""A maintenance window's history (who planned, edited, paused, resumed, deleted it; what the job
missed) is append-only below the model too: the database refuses UPDATE, DELETE, REPLACE and
TRUNCATE of its rows, as it does for the silence audit (tests/test_audit_append_only.py).

Runs on the database the test run uses: SQLite by default, PostgreSQL with DATABASE_URL.
"""

from datetime import date, time, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import DatabaseError, connection, transaction

from alertui.maintenance.models import Window, WindowChange

ON_POSTGRESQL = connection.vendor == "postgresql"


def paused_by_alice() -> WindowChange:
    alice = User.objects.create_user("alice")
    window = Window.objects.create(
        name="patch night",
        comment="OPS-1",
        owner=alice,
        start_date=date(2026, 12, 6),
        start_time=time(2),
        time_zone="Europe/Berlin",
        duration=timedelta(hours=2),
        frequency="weekly",
    )
    return WindowChange.objects.create(
        window=window, action="paused", actor=alice, actor_name="alice", source="browser"
    )


def kept(change: WindowChange) -> tuple:
    row = WindowChange.objects.get(pk=change.pk)
    return row.action, row.actor_name


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE maintenance_windowchange SET actor_name = 'mallory' WHERE id = %s",
        "DELETE FROM maintenance_windowchange WHERE id = %s",
    ],
    ids=["update", "delete"],
)
def test_it_has_the_database_refuse_raw_changes(db, statement):
    change = paused_by_alice()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(statement, [change.pk])
    assert kept(change) == ("paused", "alice")


def test_it_refuses_bulk_updates_through_the_orm(db):
    change = paused_by_alice()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        WindowChange.objects.filter(pk=change.pk).update(action="resumed")
    assert kept(change) == ("paused", "alice")


@pytest.mark.skipif(ON_POSTGRESQL, reason="INSERT OR REPLACE is SQLite's")
def test_it_has_sqlite_refuse_a_replace_of_a_row(db):
    change = paused_by_alice()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT OR REPLACE INTO maintenance_windowchange "
                "(id, window_id, at, action, actor_name, source, note) "
                "VALUES (%s, %s, CURRENT_TIMESTAMP, 'resumed', 'mallory', 'browser', '')",
                [change.pk, change.window_id],
            )
    assert kept(change) == ("paused", "alice")


@pytest.mark.skipif(not ON_POSTGRESQL, reason="TRUNCATE is PostgreSQL's (SQLite has none)")
@pytest.mark.django_db(transaction=True)
def test_it_has_postgresql_refuse_truncate():
    change = paused_by_alice()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE maintenance_windowchange CASCADE")
    assert kept(change) == ("paused", "alice")
