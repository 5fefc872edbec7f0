"""The JSON API reads what the pages show (silences, alerts, targets, the schema), with the same
filters, and returns untrusted text as plain JSON.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from alertui.targets.sync import sync_targets
from tests.api_client import (
    OMIT,
    SILENCES,
    alice_api,
    am_silence,
    body,
    create,
    iso,
    nothing_recorded,
    silences_in_am,
    sync,
)
from tests.servers import make_alert, wait_until

# Every test here reads the alert snapshot: never one cached by an earlier test.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]


@pytest.fixture
def api(silencer):
    """alice's client, with a token named "deploy-pipeline"; `api.token` is its row."""
    return alice_api(silencer)


# -- untrusted text ----------------------------------------------------------------------------


def test_it_returns_markup_in_labels_and_comments_as_plain_json(am, api, tag):
    script = "<script>alert(1)</script>"
    created = create(
        api,
        tag,
        matchers=[{"name": "test", "value": tag}, {"name": "job", "value": f"{script}&amp;"}],
        comment=f"{script} \"quoted\" 'single' é ✓",
    )

    response = api.get(f"{SILENCES}{created['id']}/")
    assert response["Content-Type"] == "application/json"
    assert response["X-Content-Type-Options"] == "nosniff"
    shown = response.json()
    assert shown["comment"] == f"{script} \"quoted\" 'single' é ✓"
    assert shown["matchers"][1]["value"] == f"{script}&amp;"
    assert am_silence(am, created["id"])["comment"] == shown["comment"]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('"comment": "nul \\u0000 here"', "comment"),
        ('"comment": "lone \\ud800 surrogate"', "comment"),
        ('"matchers": [{"name": "test", "value": "nul\\u0000"}]', "matchers"),
        ('"matchers": [{"name": "te\\udfffst", "value": "x"}]', "matchers"),
    ],
    ids=["NUL in comment", "surrogate in comment", "NUL in label value", "surrogate in name"],
)
def test_it_refuses_text_that_cannot_travel(am, api, tag, raw, field):
    data = body(tag)
    data.pop(field)
    text = json.dumps(data)[:-1] + ", " + raw + "}"
    response = api.post(SILENCES, text, content_type="application/json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert silences_in_am(am, tag) == []
    nothing_recorded()


def test_it_searches_silences_with_unusual_text(am, api, tag):
    create(api, tag)
    # Words that would be wildcards or quotes in SQL match only themselves.
    for q in ("％", "' OR 1=1 --", "%", "_", "\\"):
        response = api.get(SILENCES, {"q": q, "state": "all"})
        assert response.status_code == 200, q
        assert response.json()["results"] == [], q
    found = api.get(SILENCES, {"q": tag}).json()
    assert [s["matchers_text"] for s in found["results"]] == [
        f'alertname="HighErrorRate", test="{tag}"'
    ]


@pytest.mark.parametrize(
    "path", [SILENCES, "/api/v1/alerts/", "/api/v1/audit/", "/api/v1/targets/"]
)
def test_it_refuses_a_nul_in_a_query(api, path):
    # PostgreSQL cannot hold NUL in text: refused up front (alertui.middleware), never a 500.
    response = api.get(path, {"q": "a\x00b", "person": "a\x00b", "job": "a\x00b"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "NUL character" in response.json()["detail"]


# -- silences list and history -----------------------------------------------------------------


def test_it_lists_silences_by_state_and_words(am, api, tag):
    now = timezone.now()
    active = create(api, tag, comment=f"active one {tag}")
    pending = create(
        api,
        tag,
        duration=OMIT,
        starts_at=iso(now + timedelta(hours=1)),
        ends_at=iso(now + timedelta(hours=2)),
        comment=f"pending one {tag}",
    )
    expired = create(api, tag, comment=f"expired one {tag}")
    api.post(f"{SILENCES}{expired['id']}/expire/")

    def ids(**params):
        response = api.get(SILENCES, {"q": tag, **params})
        assert response.status_code == 200
        return sorted(s["id"] for s in response.json()["results"])

    assert ids() == [active["id"]]
    assert ids(state="pending") == [pending["id"]]
    assert ids(state="expired") == [expired["id"]]
    assert ids(state="all") == sorted([active["id"], pending["id"], expired["id"]])
    assert api.get(SILENCES, {"q": f"{tag} pending", "state": "all"}).json()["count"] == 1
    bad = api.get(SILENCES, {"state": "sleeping"})
    assert bad.status_code == 400 and list(bad.json()) == ["state"]


# -- alerts ------------------------------------------------------------------------------------


def test_it_lists_alerts_with_the_pages_filters(am, api, tag):
    am.push_alerts(
        [
            make_alert({"alertname": "Muted", "severity": "critical", "test": tag}),
            make_alert(
                {"alertname": "Loud", "severity": "warning", "test": tag},
                {"summary": "Disk full on db1"},
            ),
        ]
    )
    assert sync().error == ""

    def names(**params):
        response = api.get("/api/v1/alerts/", params)
        assert response.status_code == 200, response.content
        return sorted(a["alertname"] for a in response.json()["results"])

    assert names(q=f'test="{tag}"') == ["Loud", "Muted"]
    assert names(q=f'test="{tag}" severity="critical"') == ["Muted"]
    assert names(q=f'test="{tag}" disk') == ["Loud"]
    assert names(q=f'test="{tag}" severity=~"crit.*|warn.*" DB1') == ["Loud"]
    [loud] = api.get("/api/v1/alerts/", {"q": f'test="{tag}" alertname="Loud"'}).json()["results"]
    assert loud["labels"] == {"alertname": "Loud", "severity": "warning", "test": tag}
    assert loud["annotations"] == {"summary": "Disk full on db1"}
    assert loud["state"] == "active" and loud["silenced_by"] == []

    silence = create(
        api, tag, matchers=[{"name": "test", "value": tag}, {"name": "alertname", "value": "Muted"}]
    )
    wait_until(
        lambda: sync() and names(q=f'test="{tag}"', state="silenced") == ["Muted"],
        20,
        "the silenced alert to show up",
    )
    assert names(q=f'test="{tag}"') == ["Loud"]
    response = api.get("/api/v1/alerts/", {"q": f'test="{tag}"', "state": ["active", "silenced"]})
    by_name = {a["alertname"]: a for a in response.json()["results"]}
    assert by_name["Muted"]["state"] == "silenced"
    assert by_name["Muted"]["silenced_by"] == [silence["id"]]
    assert by_name["Loud"]["state"] == "active"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": 'test="unclosed'}, "q"),
        ({"q": 'job=~"(api"'}, "q"),
        ({"state": "sleeping"}, "state"),
    ],
)
def test_it_refuses_a_broken_alert_filter(am, api, params, field):
    response = api.get("/api/v1/alerts/", params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


# -- targets -----------------------------------------------------------------------------------


def test_it_lists_failing_targets(prometheus_242, settings, redis_db, api):
    settings.PROMETHEUS_URLS = [prometheus_242.url]
    wait_until(
        lambda: (result := sync_targets()) and not result.skipped and result,
        20,
        "sync_targets to get its lock",
    )

    response = api.get("/api/v1/targets/", {"source": prometheus_242.url})
    assert response.status_code == 200
    targets = {t["job"]: t for t in response.json()["results"]}
    assert set(targets) == {"broken", "hanging"}
    broken = targets["broken"]
    assert broken["health"] == "down"
    assert broken["scrape_url"] == f"http://{prometheus_242.broken_target}/metrics"
    assert "connection refused" in broken["last_error"]
    assert targets["hanging"]["health"] == "unknown"

    only = api.get("/api/v1/targets/", {"source": prometheus_242.url, "job": "broken"}).json()
    assert [t["job"] for t in only["results"]] == ["broken"]
    assert api.get("/api/v1/targets/", {"job": "no-such-job"}).json()["count"] == 0


# -- the schema --------------------------------------------------------------------------------


def test_it_serves_a_schema_that_documents_the_answers(api):
    schema = APIClient().get("/api/v1/schema/", {"format": "json"}).json()  # no login needed
    paths = schema["paths"]

    for path in ("/api/v1/alerts/", "/api/v1/audit/", "/api/v1/targets/", "/api/v1/silences/"):
        # A page past the last one is a 404 (found by schemathesis: it was undocumented).
        assert "404" in paths[path]["get"]["responses"], path
    create_op = paths["/api/v1/silences/"]["post"]
    assert {"201", "400", "401", "403", "409", "422", "503", "504"} <= set(create_op["responses"])
    # The list's filters belong to GET only.
    assert [p["name"] for p in create_op.get("parameters", [])] == []
    assert schema["components"]["securitySchemes"]["apiToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": 'Token-based authentication with required prefix "Token"',
    }
    matcher = schema["components"]["schemas"]["MatcherRequest"]["properties"]
    assert matcher["name"]["pattern"] == "^[a-zA-Z_][a-zA-Z0-9_]*$"
