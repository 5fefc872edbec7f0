"""The JSON API's history: a silence's audit rows across the ids it has had
(/api/v1/silences/<id>/history/) and the audit itself (/api/v1/audit/), filtered and paged.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alertui.audit.models import AuditEvent
from tests.api_client import (
    SILENCES,
    UNKNOWN_ID,
    alice_api,
    create,
)

# Every test here reads the alert snapshot: never one cached by an earlier test.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]


@pytest.fixture
def api(silencer):
    """alice's client, with a token named "deploy-pipeline"; `api.token` is its row."""
    return alice_api(silencer)


def test_it_follows_a_silences_history_across_a_replacing_edit(am, api, tag):
    created = create(api, tag)
    sid = created["id"]
    api.patch(f"{SILENCES}{sid}/", {"comment": "longer deploy"}, format="json")
    matchers = [{"name": "test", "value": tag}, {"name": "job", "value": "checkout"}]
    new = api.patch(f"{SILENCES}{sid}/", {"matchers": matchers}, format="json").json()
    api.post(f"{SILENCES}{new['id']}/extend/", {"by": "30m"}, format="json")
    api.post(f"{SILENCES}{new['id']}/expire/")

    expected = [
        ("created", sid, ""),
        ("edited", sid, ""),
        ("replaced", new["id"], sid),
        ("extended", new["id"], ""),
        ("expired", new["id"], ""),
    ]
    for start in (sid, new["id"]):
        response = api.get(f"{SILENCES}{start}/history/")
        assert response.status_code == 200
        history = response.json()["results"]
        assert [(e["action"], e["silence_id"], e["previous_silence_id"]) for e in history] == (
            expected
        )
        assert {(e["source"], e["actor_name"], e["outcome"]) for e in history} == {
            ("api", "alice", "succeeded")
        }
    assert api.get(f"{SILENCES}{UNKNOWN_ID}/history/").json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


def test_it_pages_a_long_silence_history(api, db):
    # A silence a script extended 130 times, replaced once on the way (id1 -> id2): more rows
    # than one page (100), so the answer is paged, oldest first, across both ids.
    for n in range(130):
        event(
            n / 60,
            action="replaced" if n == 60 else "extended",
            silence_id="id1" if n < 60 else "id2",
            previous_silence_id="id1" if n == 60 else "",
            comment=f"change {n}",
        )
    event(1, silence_id="unrelated", comment="another silence")

    first = api.get(f"{SILENCES}id2/history/").json()
    assert first["count"] == 130
    assert [e["comment"] for e in first["results"]] == [f"change {n}" for n in range(100)]
    assert first["previous"] is None
    second = api.get(first["next"]).json()
    assert [e["comment"] for e in second["results"]] == [f"change {n}" for n in range(100, 130)]
    assert second["next"] is None

    small = api.get(f"{SILENCES}id1/history/", {"page_size": 7, "page": 3}).json()
    assert [e["comment"] for e in small["results"]] == [f"change {n}" for n in range(14, 21)]
    huge = api.get(f"{SILENCES}id1/history/", {"page_size": 100_000}).json()
    assert len(huge["results"]) == 130  # a page holds at most 1000: all of these
    past_the_end = api.get(f"{SILENCES}id1/history/", {"page": 3})
    assert past_the_end.status_code == 404


# -- audit -------------------------------------------------------------------------------------

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def event(hours, **fields) -> AuditEvent:
    values = {
        "at": T0 + timedelta(hours=hours),
        "action": "created",
        "source": "browser",
        "actor_name": "alice",
        "silence_id": f"s-{hours}",
        "matchers": [["alertname", "=", "DiskFull"]],
        "matchers_text": 'alertname="DiskFull"',
        "starts_at": T0,
        "ends_at": T0 + timedelta(hours=2),
        "comment": "disk swap",
    }
    values.update(fields)
    return AuditEvent.objects.create(**values)


@pytest.fixture
def history(db):
    """Five events over five hours, by three people and a token, oldest first."""
    return [
        event(0, comment="swap one"),
        event(1, actor_name="bob", action="edited", matchers_text='job=~"node.*"'),
        event(2, action="expired", source="api", api_token="ci (abc12345…)"),
        event(3, actor_name="carol", action="extended", outcome="failed", error="refused"),
        event(4, actor_name="amtool-bot", source="sync", comment="made with amtool INC-4711"),
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, [4, 3, 2, 1, 0]),
        ({"person": "ALI"}, [2, 0]),
        ({"action": "created"}, [4, 0]),
        ({"action": ["created", "expired"]}, [4, 2, 0]),
        ({"source": "api"}, [2]),
        ({"outcome": "failed"}, [3]),
        ({"since": "2025-03-01T13:00:00Z"}, [4, 3, 2, 1]),
        ({"until": "2025-03-01T13:00:00Z"}, [0]),
        ({"since": "2025-03-01T14:00:00+01:00", "until": "2025-03-01T15:00:00Z"}, [2, 1]),
        # Offsets beyond PostgreSQL's ±15:59 (found by schemathesis: a 500 on PostgreSQL).
        ({"since": "2025-03-02T04:00:00+16:30", "until": "2025-02-28T21:30:00-16:00"}, [1, 0]),
        ({"text": "inc-4711"}, [4]),
        ({"text": "job node"}, [1]),
        ({"person": "alice", "action": "expired", "source": "api"}, [2]),
    ],
)
def test_it_filters_the_audit(api, history, params, expected):
    response = api.get("/api/v1/audit/", params)

    assert response.status_code == 200
    ids = [history[i].id for i in expected]
    assert [e["id"] for e in response.json()["results"]] == ids


def test_it_pages_through_the_audit(api, history):
    first = api.get("/api/v1/audit/", {"page_size": 2}).json()
    assert first["count"] == 5
    assert [e["silence_id"] for e in first["results"]] == ["s-4", "s-3"]
    assert first["previous"] is None

    second = api.get(first["next"]).json()
    assert [e["silence_id"] for e in second["results"]] == ["s-2", "s-1"]
    assert second["results"][0]["api_token"] == "ci (abc12345…)"
    last = api.get(second["next"]).json()
    assert [e["silence_id"] for e in last["results"]] == ["s-0"]
    assert last["next"] is None

    assert api.get("/api/v1/audit/", {"page": 9}).status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"since": "last tuesday"},
        {"action": "deleted"},
        {"source": "fax"},
        {"outcome": "maybe"},
        {"since": "0001-01-01T00:00:00+05:00"},  # before the first day of the calendar in UTC
        {"until": "9999-12-31T23:00:00-02:00"},  # after the last
    ],
)
def test_it_refuses_a_broken_audit_filter(api, history, params):
    response = api.get("/api/v1/audit/", params)
    assert response.status_code == 400
    assert list(response.json()) == list(params)


def test_it_lists_api_changes_in_the_audit(am, api, tag):
    created = create(api, tag)
    response = api.get("/api/v1/audit/", {"source": "api", "text": tag})

    [row] = response.json()["results"]
    assert row["silence_id"] == created["id"]
    assert row["api_token"] == api.token.label
    assert row["matchers"] == created["matchers"]
    assert row["after"]["createdBy"] == "alice"
