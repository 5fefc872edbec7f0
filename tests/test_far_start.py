"""A start or an end too far ahead is refused before anything is sent.

Alertmanager keeps a silence until its end plus its data retention, and that moment must fit
its timestamps (before the year 10000). A silence ending later is refused by Alertmanager, and
0.25-0.27 expire the original first when the refused change is a replacing edit (an active
silence whose start moves): an edit with a mistyped year would end the silence it meant to
change, and the alerts it muted would fire. alertui checks first.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from alertui.audit.models import AuditEvent, PendingChange
from alertui.matchers import Matcher
from alertui.silences import services
from alertui.silences.services import Actor, SilenceValues

pytestmark = pytest.mark.django_db


@pytest.fixture
def active_silence(am, silencer, tag):
    now = timezone.now()
    values = SilenceValues((Matcher("test", "=", tag),), now, now + timedelta(hours=2), "drill")
    return services.create_silence(Actor(silencer), values)


def far_ahead(tag) -> dict:
    """The silence form, starting late on the last day Alertmanager's timestamps can hold."""
    return {
        "matcher_name": ["test"],
        "matcher_op": ["="],
        "matcher_value": [tag],
        "starts_at": "9999-12-31T20:00",
        "duration": "2h",
        "comment": "drill",
        "tz": "UTC",
    }


def state_in(am, silence_id) -> str:
    [found] = [s for s in am.raw_silences() if s["id"] == silence_id]
    return found["status"]["state"]


@pytest.mark.parametrize("start", ["9999-12-31T22:00:00Z", "3026-01-01T00:00:00Z"])
def test_an_api_edit_moving_the_start_far_ahead_is_refused_and_the_silence_stays(
    start, am, silencer, active_silence
):
    api = APIClient()
    api.force_login(silencer)
    response = api.patch(
        f"/api/v1/silences/{active_silence.id}/",
        {"starts_at": start, "duration": "1h"},
        format="json",
    )

    assert response.status_code == 400, response.content
    assert "ten years" in response.json()["starts_at"][0]
    assert state_in(am, active_silence.id) == "active"
    assert not AuditEvent.objects.filter(action="edited").exists()
    assert not PendingChange.objects.exists()


def test_an_edit_form_moving_the_start_far_ahead_is_refused_and_the_silence_stays(
    am, silencer_client, active_silence, tag
):
    response = silencer_client.post(
        f"/silences/{active_silence.id}/edit/",
        far_ahead(tag),
    )

    assert response.status_code == 400
    assert "ten years" in response.content.decode()
    assert state_in(am, active_silence.id) == "active"


def test_a_new_silence_starting_far_ahead_is_refused(am, silencer_client, tag):
    response = silencer_client.post(
        "/silences/new/",
        far_ahead(tag),
    )

    assert response.status_code == 400
    assert "ten years" in response.content.decode()
    assert not [s for s in am.raw_silences() if tag in str(s)]
