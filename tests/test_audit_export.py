"""The audit CSV export read slowly: a download that takes minutes must not block silence
changes (on SQLite a reader used to hold the database until writers failed with "database is
locked"), must not hold a transaction open on PostgreSQL, and stops at AUDIT_EXPORT_MAX_ROWS.

The export is read through Django's test client one piece at a time, the way a slow client
reads a streaming response; writes come from another thread, with its own connection, while the
download is paused. Runs on SQLite (a file, as deployed; see tests/settings.py) by default and on
PostgreSQL with DATABASE_URL.
"""

import csv
import io
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections

from alertui.audit.models import AuditEvent
from tests.test_audit_pages import T0, csv_rows, event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.handmade_rows]

# More than one chunk of the export, and more than Django's iterator fetched at once (2000),
# which kept one query open for the whole download.
MANY = 2500


def many_events(count=MANY) -> list[str]:
    """`count` committed events, seven to a second (so chunks split runs of equal times);
    returns their comments newest first, the order the export must follow."""
    AuditEvent.objects.bulk_create(
        AuditEvent(
            at=T0 + timedelta(seconds=i // 7),
            action="created",
            source="browser",
            actor_name="alice",
            silence_id=f"s-{i}",
            comment=f"event {i}",
        )
        for i in range(count)
    )
    return [f"event {i}" for i in reversed(range(count))]


def in_another_thread(work):
    """Run `work` on another thread (so another database connection) and return what it
    returned, or raise what it raised. The join is bounded: SQLite's busy timeout (20 s) ends a
    blocked write well before it."""
    outcome = {}

    def run():
        try:
            outcome["value"] = work()
        except Exception as e:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = e
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the write from another connection did not finish in 60 s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def record_a_change():
    return AuditEvent.objects.create(
        action="expired", source="browser", actor_name="bob", silence_id="s-during-export"
    ).pk


def test_a_slow_export_download_does_not_block_changes(viewer_client):
    expected = many_events()
    response = viewer_client.get("/audit/export.csv")
    pieces = iter(response.streaming_content)
    try:
        first = next(pieces) + next(pieces)  # the header and the first event: started
        # Paused mid-download: someone records a change meanwhile, from another connection.
        written = in_another_thread(record_a_change)
        text = (first + b"".join(pieces)).decode()
    finally:
        response.close()  # as the server does when a client goes away
    header, *body = csv.reader(io.StringIO(text))
    assert [row[header.index("comment")] for row in body] == expected
    assert AuditEvent.objects.filter(pk=written, silence_id="s-during-export").exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pg_stat_activity is PostgreSQL's view"
)
def test_a_paused_export_download_holds_no_transaction_open_on_postgresql(viewer_client):
    many_events()
    response = viewer_client.get("/audit/export.csv")
    pieces = iter(response.streaming_content)
    next(pieces), next(pieces)

    def idle_in_transaction():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%%'"
            )
            return cursor.fetchone()[0]

    try:
        # Asked from another connection, while the download is paused.
        assert in_another_thread(idle_in_transaction) == 0
        assert len(b"".join(pieces).splitlines()) == MANY - 1
    finally:
        response.close()


def test_it_stops_the_export_at_the_limit_and_says_so_in_the_last_line(viewer_client, settings):
    settings.AUDIT_EXPORT_MAX_ROWS = 1000
    expected = many_events()
    header, *body = csv_rows(viewer_client.get("/audit/export.csv"))
    *events, last = body
    assert [row[header.index("comment")] for row in events] == expected[:1000]
    oldest = events[-1][header.index("time (UTC)")]
    assert last == [
        f"Truncated: this export stops at 1000 events (AUDIT_EXPORT_MAX_ROWS). The oldest one "
        f"above is from {oldest}: narrow the filters (Until) to export older events."
    ]


def test_it_says_nothing_of_a_limit_the_export_did_not_reach(viewer_client, settings):
    settings.AUDIT_EXPORT_MAX_ROWS = 3
    for comment in ("one", "two", "three"):
        event(comment=comment)
    header, *body = csv_rows(viewer_client.get("/audit/export.csv"))
    assert [row[header.index("comment")] for row in body] == ["three", "two", "one"]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL readers never block writers")
def test_a_reader_in_the_middle_of_a_query_does_not_block_changes_on_sqlite():
    """Any long read, not only the export's: SQLite runs in write-ahead-log mode."""
    many_events()
    reading = AuditEvent.objects.order_by("id").iterator(chunk_size=100)
    next(reading)  # the query is open, its rows fetched a hundred at a time
    written = in_another_thread(record_a_change)
    assert sum(1 for _ in reading) == MANY - 1
    assert AuditEvent.objects.filter(pk=written, silence_id="s-during-export").exists()
