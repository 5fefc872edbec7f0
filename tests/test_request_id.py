"""The request id in the audit: a client's X-Request-ID is kept only when it is a short, plain id
(up to 64 of A-Z a-z 0-9 . _ -); anything else is replaced by a generated one, so the header
cannot carry text into audit rows, the API's answers or the logs.

A real Alertmanager 0.25 (`am`), through the API and the browser's form.
"""

import logging
import re

import pytest

from alertui.audit.models import AuditEvent
from tests.api_client import alice_api, body

pytestmark = pytest.mark.django_db

GENERATED = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    "sent",
    ["ci-run-42", "7f9c2ba4-e88f-4a8e-b3d7-2f4a1f9c1e0d", "build_7.step-3", "x" * 64],
    ids=["ci job", "uuid", "dots and underscores", "64 characters"],
)
def test_it_keeps_a_plain_request_id(am, silencer, tag, sent):
    response = alice_api(silencer).post(
        "/api/v1/silences/", body(tag), format="json", HTTP_X_REQUEST_ID=sent
    )
    assert response.status_code == 201
    assert AuditEvent.objects.get().request_id == sent


HOSTILE = {
    "too long": "x" * 65,
    "newline": "ok\nFAKE LOG LINE user=admin action=expired",
    "carriage return": "ok\rFAKE",
    "escape sequence": "\x1b[2J\x1b[31mred",
    "NEL": "ok\x85next",
    "markup": "<script>alert(1)</script>",
    "spaces": "ci run 42",
    "quotes": "a\"b'c",
    "comma list": "a,b",
    "latin-1 letters": "café",
    "empty": "",
}


@pytest.mark.parametrize("sent", HOSTILE.values(), ids=HOSTILE.keys())
def test_it_replaces_any_other_request_id(am, silencer, tag, sent, caplog):
    caplog.set_level(logging.DEBUG)
    api = alice_api(silencer)
    response = api.post("/api/v1/silences/", body(tag), format="json", HTTP_X_REQUEST_ID=sent)

    assert response.status_code == 201
    event = AuditEvent.objects.get()
    assert GENERATED.fullmatch(event.request_id), event.request_id
    # Nowhere else either: not in the API's answer of the row, nor in any log line.
    [row] = api.get("/api/v1/audit/", {"text": tag}).json()["results"]
    assert row["request_id"] == event.request_id
    if sent:
        assert all(sent not in record.getMessage() for record in caplog.records)


def test_the_browser_form_gets_the_same_treatment(am, silencer_client, tag):
    form = {
        "matcher_name": ["test"],
        "matcher_op": ["="],
        "matcher_value": [tag],
        "duration": "1h",
        "comment": "maintenance",
        "tz": "UTC",
    }
    assert (
        silencer_client.post("/silences/new/", form, HTTP_X_REQUEST_ID="req.1").status_code == 302
    )
    bad = "req\n2"
    assert silencer_client.post("/silences/new/", form, HTTP_X_REQUEST_ID=bad).status_code == 302

    first, second = AuditEvent.objects.order_by("id")
    assert first.request_id == "req.1"
    assert GENERATED.fullmatch(second.request_id)
