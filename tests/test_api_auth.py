"""Who may use the JSON API: a token in the Authorization header (missing, wrong, revoked,
expired), a viewer's token that only reads, CSRF for a browser session, and throttling.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from alertui.api.models import ApiToken
from alertui.audit.models import AuditEvent
from tests.api_client import (
    SILENCES,
    alice_api,
    body,
    create,
    nothing_recorded,
    silences_in_am,
    token_client,
)

# Every test here reads the alert snapshot: never one cached by an earlier test.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]


@pytest.fixture
def api(silencer):
    """alice's client, with a token named "deploy-pipeline"; `api.token` is its row."""
    return alice_api(silencer)


# -- roles -------------------------------------------------------------------------------------


def test_it_lets_a_viewers_token_read_but_not_change(am, api, viewer, tag):
    created = create(api, tag)
    reader, _ = token_client(viewer, name="dashboard")

    for path in (
        SILENCES,
        f"{SILENCES}{created['id']}/",
        f"{SILENCES}{created['id']}/history/",
        "/api/v1/alerts/",
        "/api/v1/targets/",
        "/api/v1/audit/",
    ):
        assert reader.get(path).status_code == 200, path

    before = silences_in_am(am, tag)
    attempts = [
        reader.post(SILENCES, body(tag, comment="viewer's"), format="json"),
        reader.patch(f"{SILENCES}{created['id']}/", {"comment": "viewer's"}, format="json"),
        reader.post(f"{SILENCES}{created['id']}/extend/", {"by": "1h"}, format="json"),
        reader.post(f"{SILENCES}{created['id']}/expire/"),
    ]
    for response in attempts:
        assert response.status_code == 403
        assert response.json() == {"detail": "Only silencers can change silences."}
    assert silences_in_am(am, tag) == before
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["created"]


# -- authentication ----------------------------------------------------------------------------


def test_it_refuses_requests_without_a_valid_token(am, silencer, tag):
    client, row = token_client(silencer, name="soon-revoked")
    assert client.get(SILENCES).status_code == 200
    row.delete()  # revoked

    cases = {
        "no token": APIClient(),
        "wrong token": APIClient(HTTP_AUTHORIZATION="Token " + "0" * 64),
        "garbled header": APIClient(HTTP_AUTHORIZATION="Token a b c"),
        "another scheme": APIClient(HTTP_AUTHORIZATION="Bearer abc"),
        "revoked token": client,
    }
    for what, anonymous in cases.items():
        for response in (
            anonymous.get(SILENCES),
            anonymous.post(SILENCES, body(tag), format="json"),
        ):
            assert response.status_code == 401, what
            assert response["WWW-Authenticate"] == "Token", what
            assert "detail" in response.json(), what
    assert silences_in_am(am, tag) == []
    nothing_recorded()


def test_it_refuses_an_expired_token(am, silencer, tag):
    client, row = token_client(silencer, name="short", expiry=timedelta(hours=1))
    assert client.get(SILENCES).status_code == 200

    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        response = client.post(SILENCES, body(tag), format="json")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert silences_in_am(am, tag) == []
    assert not ApiToken.objects.filter(pk=row.pk).exists()  # knox removes expired tokens


def test_it_enforces_csrf_for_a_browser_session(am, silencer, tag):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(silencer)
    assert client.get(SILENCES).status_code == 200  # reading needs no CSRF token

    refused = client.post(SILENCES, body(tag), format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert silences_in_am(am, tag) == []
    nothing_recorded()

    client.get("/account/tokens/")  # any page with a form sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    response = client.post(SILENCES, body(tag), format="json", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 201
    event = AuditEvent.objects.get()
    assert (event.source, event.actor_name, event.api_token) == ("api", "alice", "")


def test_it_throttles_a_runaway_script(am, api, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import UserRateThrottle

    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": "3/minute"})
    cache.clear()
    codes = [api.get(SILENCES).status_code for _ in range(4)]
    cache.clear()

    assert codes == [200, 200, 200, 429]
