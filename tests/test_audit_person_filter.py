"""The audit page's person filter (a case-insensitive substring of the name) with the action
filter: the same answers on SQLite and on PostgreSQL, where a trigram index serves it
(migration audit 0009). Run on PostgreSQL with
`DATABASE_URL=postgres://postgres@127.0.0.1:5432/test pytest tests/test_audit_person_filter.py`.

Events are made directly with AuditEvent.objects.create (inserting is the one thing allowed),
as in test_audit_pages.py.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from alertui.audit.filters import AuditFilter
from alertui.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
INDEX = "audit_actor_name_trgm"
NAMES = ["alice", "Natalie", "ALIBABA", "bob", "mali_ka", "50%-bot", "amtool@host", ""]


@pytest.fixture
def history():
    """Each name with a created and an expired event, an hour apart per name."""
    for i, name in enumerate(NAMES):
        for action in ("created", "expired"):
            AuditEvent.objects.create(
                at=T0 + timedelta(hours=i, minutes=1 if action == "expired" else 0),
                action=action,
                source="browser" if name else "sync",
                actor_name=name,
                silence_id=f"s-{i}",
                comment=f"{action} by {name or 'nobody'}",
            )


def people(client, **params) -> list[tuple[str, str]]:
    """(person, action) of the page's events, newest first."""
    response = client.get("/audit/", params)
    assert response.status_code == 200
    return [(e.actor_name, e.action) for e in response.context["page"]]


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ("ali", ["mali_ka", "ALIBABA", "Natalie", "alice"]),  # anywhere in the name, any case
        ("ALI", ["mali_ka", "ALIBABA", "Natalie", "alice"]),
        ("al", ["mali_ka", "ALIBABA", "Natalie", "alice"]),  # shorter than a trigram
        ("i_k", ["mali_ka"]),  # _ and % are letters here, not LIKE's wildcards
        ("i%", []),
        ("50%", ["50%-bot"]),
        ("@HOST", ["amtool@host"]),
        ("nobody-has-this", []),
    ],
)
def test_it_finds_a_person_by_part_of_the_name_with_the_action(
    viewer_client, history, person, expected
):
    found = people(viewer_client, person=person, action="expired")

    assert found == [(name, "expired") for name in expected]


def test_without_a_person_every_action_of_the_kind_is_listed(viewer_client, history):
    assert len(people(viewer_client, action="created")) == len(NAMES)
    assert people(viewer_client, person="", action="created")[-1] == ("alice", "created")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL index")
def test_on_postgresql_a_trigram_index_serves_the_person_filter(history):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [INDEX])
        [(definition,)] = cursor.fetchall()
    assert "gin_trgm_ops" in definition and "upper" in definition.lower()

    # The person filter as the page's query writes it (UPPER(actor_name::text) LIKE ...)
    # matches the index's expression, so the planner can use it: on a table this small it
    # would rather walk another index, or scan, so both are made too dear here.
    events = AuditFilter({"person": "alic"}).qs
    sql, params = events.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert INDEX in plan, plan
