"""The JSON API changes silences (/api/v1/silences/): create, edit, extend, expire, against a
real Alertmanager 0.25, with the same validation and audit rows as the browser.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from alertui.audit.models import AuditEvent, PendingChange
from alertui.silences.models import Silence
from tests.api_client import (
    OMIT,
    SILENCES,
    UNKNOWN_ID,
    alice_api,
    am_silence,
    am_time,
    body,
    create,
    iso,
    nothing_recorded,
    silences_in_am,
)
from tests.servers import free_port

# Every test here reads the alert snapshot: never one cached by an earlier test.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]


@pytest.fixture
def api(silencer):
    """alice's client, with a token named "deploy-pipeline"; `api.token` is its row."""
    return alice_api(silencer)


# -- create ------------------------------------------------------------------------------------


def test_it_creates_a_silence_as_the_tokens_owner(am, api, tag):
    sent_at = timezone.now().replace(microsecond=0)
    response = api.post(SILENCES, body(tag), format="json", HTTP_X_REQUEST_ID="ci-run-42")
    answered_at = timezone.now()

    assert response.status_code == 201
    assert response["Content-Type"] == "application/json"
    created = response.json()
    assert created["state"] == "active"
    assert created["created_by"] == "alice"
    assert created["comment"] == "deploying checkout"
    assert created["matchers"] == [
        {"name": "alertname", "op": "=", "value": "HighErrorRate"},
        {"name": "test", "op": "=", "value": tag},
    ]
    assert created["matchers_text"] == f'alertname="HighErrorRate", test="{tag}"'
    assert created["url"] == f"http://testserver/silences/{created['id']}/"
    # Two hours from the request (Alertmanager sets the start to when it received it).
    ends = am_time(created["ends_at"])
    assert sent_at + timedelta(hours=2) <= ends <= answered_at + timedelta(hours=2)

    [in_am] = silences_in_am(am, tag)
    assert in_am["id"] == created["id"]
    assert in_am["createdBy"] == "alice"
    assert in_am["comment"] == "deploying checkout"
    assert in_am["status"]["state"] == "active"

    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.source) == ("created", "succeeded", "api")
    assert event.actor.username == "alice" and event.actor_name == "alice"
    assert event.api_token == f"deploy-pipeline ({api.token.token_key}…)"
    assert event.silence_id == created["id"]
    assert event.request_id == "ci-run-42"
    assert event.remote_addr == "127.0.0.1"
    assert not PendingChange.objects.exists()


def test_it_records_the_same_audit_row_as_the_browser(am, api, silencer, client, tag):
    client.force_login(silencer)
    form = {
        "matcher_name": ["alertname", "test"],
        "matcher_op": ["=", "="],
        "matcher_value": ["HighErrorRate", tag],
        "duration": "2h",
        "comment": "deploying checkout",
        "tz": "UTC",
    }
    assert client.post("/silences/new/", form).status_code == 302
    create(api, tag)

    browser, through_api = AuditEvent.objects.order_by("id")

    def shape(event):
        after = {k: v for k, v in event.after.items() if k not in ("startsAt", "endsAt")}
        return {
            "action": event.action,
            "outcome": event.outcome,
            "actor": event.actor,
            "actor_name": event.actor_name,
            "matchers": event.matchers,
            "matchers_text": event.matchers_text,
            "comment": event.comment,
            "before": event.before,
            "after": after,
            # Alertmanager starts a silence when it receives it: to the minute, both last 2h.
            "minutes": round((event.ends_at - event.starts_at).total_seconds() / 60),
            "remote_addr": event.remote_addr,
            "error": event.error,
        }

    assert shape(through_api) == shape(browser)
    assert sorted(through_api.after) == sorted(browser.after)
    assert (browser.source, browser.api_token) == ("browser", "")
    assert through_api.source == "api" and through_api.api_token.startswith("deploy-pipeline (")


def test_it_creates_with_an_explicit_start_and_end(am, api, tag):
    starts = (timezone.now() + timedelta(hours=1)).replace(microsecond=0)
    ends = starts + timedelta(hours=3)
    created = create(api, tag, duration=OMIT, starts_at=iso(starts), ends_at=iso(ends))

    assert created["state"] == "pending"
    in_am = am_silence(am, created["id"])
    assert am_time(in_am["startsAt"]) == starts and am_time(in_am["endsAt"]) == ends


def test_it_accepts_every_matcher_operator(am, api, tag):
    matchers = [
        {"name": "test", "value": tag},
        {"name": "job", "op": "=~", "value": "api|web"},
        {"name": "env", "op": "!=", "value": "dev"},
        {"name": "team", "op": "!~", "value": "db.*"},
    ]
    created = create(api, tag, matchers=matchers)

    assert created["matchers_text"] == (f'test="{tag}", job=~"api|web", env!="dev", team!~"db.*"')
    [in_am] = silences_in_am(am, tag)
    assert [(m["name"], m["isRegex"], m.get("isEqual", True)) for m in in_am["matchers"]] == [
        ("test", False, True),
        ("job", True, True),
        ("env", False, False),
        ("team", True, False),
    ]


PAST = iso(datetime(2020, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        pytest.param({"comment": ""}, "comment", "may not be blank", id="empty comment"),
        pytest.param({"comment": "   "}, "comment", "may not be blank", id="blank comment"),
        pytest.param({"comment": None}, "comment", "may not be null", id="null comment"),
        pytest.param({"comment": OMIT}, "comment", "required", id="no comment"),
        pytest.param(
            {"comment": "x" * 10001}, "comment", "no more than 10000", id="comment too long"
        ),
        pytest.param({"matchers": []}, "matchers", "at least one matcher", id="no matchers"),
        pytest.param({"matchers": "job=api"}, "matchers", "list", id="matchers not a list"),
        pytest.param(
            {"matchers": [{"name": "job", "op": "=~", "value": "(api"}]},
            "matchers",
            "regular expression",
            id="bad regex",
        ),
        pytest.param(
            {"matchers": [{"name": "1job", "value": "api"}]},
            "matchers",
            "label name",
            id="bad label name",
        ),
        pytest.param(
            {"matchers": [{"name": "job", "op": "=~", "value": ".*"}]},
            "matchers",
            "mute everything",
            id="matches everything",
        ),
        pytest.param(
            {"matchers": [{"name": "job", "op": "~=", "value": "api"}]},
            "matchers",
            "valid choice",
            id="unknown operator",
        ),
        pytest.param(
            {"matchers": [{"name": "job"}]}, "matchers", "required", id="matcher without value"
        ),
        pytest.param(
            {"duration": OMIT, "starts_at": iso(datetime(2019, 1, 1, tzinfo=UTC)), "ends_at": PAST},
            "ends_at",
            "in the past",
            id="end in the past",
        ),
        pytest.param(
            {"duration": OMIT, "ends_at": PAST}, "ends_at", "after the start", id="end before start"
        ),
        pytest.param({"duration": "100d"}, "ends_at", "at most 30d", id="too long"),
        pytest.param({"duration": "soon"}, "duration", "", id="unreadable duration"),
        pytest.param({"duration": OMIT}, "ends_at", "Give ends_at or duration", id="no end"),
        pytest.param(
            {"ends_at": iso(timezone.now() + timedelta(hours=1))},
            "duration",
            "either",
            id="both end and duration",
        ),
        pytest.param(
            {"starts_at": "tomorrow"}, "starts_at", "Datetime has wrong format", id="bad start"
        ),
    ],
)
def test_it_refuses_an_invalid_silence_naming_the_field(am, api, tag, fields, field, message):
    response = api.post(SILENCES, body(tag, **fields), format="json")

    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field]
    assert message in json.dumps(errors)
    assert silences_in_am(am, tag) == []
    # As in the browser: a refused form is not a change attempt, so the audit has no row.
    nothing_recorded()
    assert not Silence.objects.exists()


def test_it_refuses_a_body_that_is_not_json(am, api, tag):
    response = api.post(SILENCES, "matchers=test", content_type="text/plain")
    assert response.status_code == 415
    response = api.post(SILENCES, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert silences_in_am(am, tag) == []
    nothing_recorded()


# -- edit --------------------------------------------------------------------------------------


def test_it_edits_the_comment_in_place(am, api, tag):
    created = create(api, tag)
    response = api.patch(
        f"{SILENCES}{created['id']}/",
        {"comment": "deploy takes longer", "based_on": created["updated_at"]},
        format="json",
    )

    assert response.status_code == 200
    edited = response.json()
    assert edited["id"] == created["id"]
    assert edited["comment"] == "deploy takes longer"
    assert edited["matchers"] == created["matchers"]
    assert edited["ends_at"] == created["ends_at"]
    assert am_silence(am, created["id"])["comment"] == "deploy takes longer"
    assert len(silences_in_am(am, tag)) == 1

    event = AuditEvent.objects.get(action="edited")
    assert event.source == "api" and event.api_token == api.token.label
    assert event.before["comment"] == "deploying checkout"
    assert event.after["comment"] == "deploy takes longer"
    assert event.previous_silence_id == ""


def test_it_replaces_a_silence_when_its_matchers_change(am, api, tag):
    created = create(api, tag)
    matchers = [{"name": "test", "value": tag}, {"name": "job", "op": "=~", "value": "api|web"}]
    response = api.patch(f"{SILENCES}{created['id']}/", {"matchers": matchers}, format="json")

    assert response.status_code == 200
    new = response.json()
    assert new["id"] != created["id"]
    assert new["matchers_text"] == f'test="{tag}", job=~"api|web"'
    assert new["comment"] == "deploying checkout"  # what was not sent stays
    assert am_silence(am, created["id"])["status"]["state"] == "expired"
    assert am_silence(am, new["id"])["status"]["state"] == "active"

    old = api.get(f"{SILENCES}{created['id']}/").json()
    assert old["replaced_by"] == new["id"]
    assert old["state"] == "expired"
    event = AuditEvent.objects.get(action="replaced")
    assert (event.silence_id, event.previous_silence_id) == (new["id"], created["id"])
    assert event.source == "api"


def test_it_refuses_an_edit_based_on_an_outdated_version(am, api, tag):
    created = create(api, tag)
    first = api.patch(f"{SILENCES}{created['id']}/", {"comment": "first edit"}, format="json")
    assert first.status_code == 200

    stale = api.patch(
        f"{SILENCES}{created['id']}/",
        {"comment": "second edit", "based_on": created["updated_at"]},
        format="json",
    )

    assert stale.status_code == 409
    assert stale.json()["reason"] == "conflict"
    assert "changed this silence after you opened it" in stale.json()["detail"]
    assert am_silence(am, created["id"])["comment"] == "first edit"
    failed = AuditEvent.objects.get(outcome="failed")
    assert (failed.action, failed.source, failed.actor_name) == ("edited", "api", "alice")
    assert failed.api_token == api.token.label
    assert "changed this silence after you opened it" in failed.error


def test_it_refuses_an_invalid_edit_without_sending_it(am, api, tag):
    created = create(api, tag)
    response = api.patch(
        f"{SILENCES}{created['id']}/", {"comment": " ", "matchers": []}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()) == {"comment", "matchers"}
    assert am_silence(am, created["id"])["comment"] == "deploying checkout"
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["created"]


def test_it_refuses_an_incomplete_matcher_in_an_edit(am, api, tag):
    # A PATCH is partial, but not inside a matcher: this was a 500 (KeyError) before.
    created = create(api, tag)
    response = api.patch(
        f"{SILENCES}{created['id']}/",
        {"matchers": [{"name": "test"}, {"value": tag}]},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()) == ["matchers"]
    assert json.dumps(response.json()).count("This field is required.") == 2
    assert am_silence(am, created["id"])["status"]["state"] == "active"
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["created"]


def test_it_refuses_to_edit_an_expired_silence(am, api, tag):
    created = create(api, tag)
    assert api.post(f"{SILENCES}{created['id']}/expire/").status_code == 200
    response = api.patch(f"{SILENCES}{created['id']}/", {"comment": "again"}, format="json")

    assert response.status_code == 409
    assert response.json()["reason"] == "conflict"
    assert "recreate it instead" in response.json()["detail"]
    assert am_silence(am, created["id"])["comment"] == "deploying checkout"
    # As on the edit page, which sends people to "recreate": nothing was attempted.
    assert not AuditEvent.objects.filter(action="edited").exists()


# -- extend ------------------------------------------------------------------------------------


def test_it_extends_by_a_duration(am, api, tag):
    created = create(api, tag)
    response = api.post(f"{SILENCES}{created['id']}/extend/", {"by": "1h"}, format="json")

    assert response.status_code == 200
    extended = response.json()
    assert extended["id"] == created["id"]
    new_end = am_time(extended["ends_at"])
    assert new_end == am_time(created["ends_at"]) + timedelta(hours=1)
    assert am_time(am_silence(am, created["id"])["endsAt"]) == new_end
    assert am_time(am_silence(am, created["id"])["startsAt"]) == am_time(created["starts_at"])
    event = AuditEvent.objects.get(action="extended")
    assert event.source == "api" and event.outcome == "succeeded"
    assert event.before["endsAt"] == am_time(created["ends_at"]).isoformat()


def test_it_extends_to_a_time(am, api, tag):
    created = create(api, tag)
    new_end = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    response = api.post(
        f"{SILENCES}{created['id']}/extend/", {"ends_at": iso(new_end)}, format="json"
    )

    assert response.status_code == 200
    assert am_time(response.json()["ends_at"]) == new_end
    assert am_time(am_silence(am, created["id"])["endsAt"]) == new_end


def test_it_refuses_an_extension_that_shortens(am, api, tag):
    created = create(api, tag)
    earlier = am_time(created["ends_at"]) - timedelta(hours=1)
    response = api.post(
        f"{SILENCES}{created['id']}/extend/", {"ends_at": iso(earlier)}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"ends_at": ["The new end must be later than the current end."]}
    assert am_time(am_silence(am, created["id"])["endsAt"]) == am_time(created["ends_at"])
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["created"]


@pytest.mark.parametrize(
    "data", [{}, {"by": "1h", "ends_at": "2030-01-01T00:00:00Z"}, {"by": "a while"}]
)
def test_it_refuses_an_extension_without_exactly_one_new_end(am, api, tag, data):
    created = create(api, tag)
    response = api.post(f"{SILENCES}{created['id']}/extend/", data, format="json")

    assert response.status_code == 400
    assert am_time(am_silence(am, created["id"])["endsAt"]) == am_time(created["ends_at"])


# -- expire ------------------------------------------------------------------------------------


def test_it_expires_once_and_then_refuses(am, api, tag):
    created = create(api, tag)
    response = api.post(f"{SILENCES}{created['id']}/expire/")

    assert response.status_code == 200
    assert response.json()["state"] == "expired"
    assert am_silence(am, created["id"])["status"]["state"] == "expired"

    again = api.post(f"{SILENCES}{created['id']}/expire/")
    assert again.status_code == 409
    assert again.json()["reason"] == "conflict"
    assert "already expired" in again.json()["detail"]
    attempts = AuditEvent.objects.filter(action="expired").order_by("id")
    assert [(e.outcome, e.source, e.api_token) for e in attempts] == [
        ("succeeded", "api", api.token.label),
        ("failed", "api", api.token.label),
    ]


# -- unknown silences --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix", "data"),
    [
        ("get", "", None),
        ("patch", "", {"comment": "x"}),
        ("post", "extend/", {"by": "1h"}),
        ("post", "expire/", None),
    ],
)
def test_it_answers_404_for_an_unknown_silence(am, api, method, suffix, data):
    response = getattr(api, method)(f"{SILENCES}{UNKNOWN_ID}/{suffix}", data, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "No Silence matches the given query."}
    nothing_recorded()


def test_it_answers_404_when_alertmanager_no_longer_has_the_silence(am, api, tag):
    # alertui's mirror still lists it, but Alertmanager has purged it.
    now = timezone.now()
    Silence.objects.create(
        id=UNKNOWN_ID,
        matchers=[["test", "=", tag]],
        matchers_text=f'test="{tag}"',
        starts_at=now,
        ends_at=now + timedelta(hours=1),
        created_by="bob",
        comment="gone",
        state="active",
    )
    response = api.post(f"{SILENCES}{UNKNOWN_ID}/expire/")

    assert response.status_code == 404
    assert response.json()["reason"] == "not_found"
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.source) == ("expired", "failed", "api")


# -- Alertmanager unreachable ------------------------------------------------------------------


def test_it_answers_503_when_alertmanager_is_unreachable(am, api, settings, tag):
    created = create(api, tag)
    settings.ALERTMANAGER_URLS = [f"http://127.0.0.1:{free_port()}"]

    response = api.post(SILENCES, body(tag, comment="second"), format="json")
    assert response.status_code == 503
    assert response.json()["reason"] == "unavailable"
    assert "Nothing was changed" in response.json()["detail"]
    expire = api.post(f"{SILENCES}{created['id']}/expire/")
    assert expire.status_code == 503

    failed = AuditEvent.objects.filter(outcome="failed").order_by("id")
    assert [(e.action, e.source, e.api_token) for e in failed] == [
        ("created", "api", api.token.label),
        ("expired", "api", api.token.label),
    ]
    assert "cannot connect" in failed[0].error
    assert failed[0].comment == "second"
    assert not PendingChange.objects.exists()
    [still] = silences_in_am(am, tag)
    assert still["status"]["state"] == "active"


def test_it_keeps_time_zones_straight(am, api, tag):
    # A start given with an offset is the same instant in UTC.
    starts = (datetime.now(UTC) + timedelta(hours=3)).replace(microsecond=0)
    local = starts.astimezone(timezone.get_fixed_timezone(120)).isoformat()
    created = create(api, tag, duration="1h", starts_at=local)
    assert am_time(created["starts_at"]) == starts
    assert am_time(created["ends_at"]) == starts + timedelta(hours=1)
