"""The JSON API as a script or pipeline uses it, shared by tests/test_api_*.py: a real token in
the Authorization header, a real Alertmanager 0.25 (`alertmanager_025`, shared by the session:
every silence and alert a test makes carries its own `test="<tag>"` label).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from rest_framework.test import APIClient

from alertui.alerts.sync import sync_alerts
from alertui.api.models import ApiToken
from alertui.audit.models import AuditEvent, PendingChange
from tests.servers import wait_until

SILENCES = "/api/v1/silences/"
UNKNOWN_ID = "8d0b6a3c-1111-4222-8333-944455556666"
OMIT = object()  # body(tag, duration=OMIT): leave the field out


def token_client(user, name="deploy-pipeline", expiry=timedelta(days=30)):
    """(an APIClient sending a fresh token of `user`, the token's row)."""
    row, token = ApiToken.objects.create(user, expiry=expiry, name=name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client, row


def alice_api(silencer):
    """The silencer's client, with a token named "deploy-pipeline"; `.token` is its row."""
    client, row = token_client(silencer)
    client.token = row
    return client


def body(tag, **fields) -> dict:
    data = {
        "matchers": [
            {"name": "alertname", "value": "HighErrorRate"},
            {"name": "test", "value": tag},
        ],
        "duration": "2h",
        "comment": "deploying checkout",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not OMIT}


def create(api, tag, **fields) -> dict:
    response = api.post(SILENCES, body(tag, **fields), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def silences_in_am(am, tag) -> list[dict]:
    """What Alertmanager itself holds for this test's tag."""
    return [s for s in am.raw_silences() if tag in json.dumps(s)]


def am_silence(am, silence_id) -> dict:
    [found] = [s for s in am.raw_silences() if s["id"] == silence_id]
    return found


def am_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def nothing_recorded():
    assert not AuditEvent.objects.exists()
    assert not PendingChange.objects.exists()


def sync(timeout: float = 20):
    """sync_alerts(), retried while another test session on the same Redis holds its lock."""
    return wait_until(
        lambda: (result := sync_alerts()) and not result.skipped and result,
        timeout,
        "sync_alerts to get its lock",
    )
