"""An API edit sends only what changes: every field it leaves out keeps the value Alertmanager
holds now, not the value of alertui's mirror, which lags a change made elsewhere (amtool,
another alertui) until the next sync, or for as long as the sync fails.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from alertui.audit.models import AuditEvent
from alertui.integrations.alertmanager import AlertmanagerClient, SilenceRequest
from alertui.matchers import Matcher
from alertui.silences import services
from alertui.silences.services import Actor, SilenceValues
from alertui.silences.sync import sync_silences

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(silencer):
    client = APIClient()
    client.force_login(silencer)
    return client


def am_times(am, silence_id) -> tuple[str, str]:
    [found] = [s for s in am.raw_silences() if s["id"] == silence_id]
    return found["endsAt"], found["comment"]


def test_a_patch_of_the_comment_keeps_an_extension_made_elsewhere_since_the_last_sync(
    am, api, silencer, tag
):
    now = timezone.now()
    values = SilenceValues((Matcher("test", "=", tag),), now, now + timedelta(hours=2), "drill")
    silence = services.create_silence(Actor(silencer), values)
    assert not sync_silences().skipped
    # bob extends it with amtool; no sync has run since.
    amtool = AlertmanagerClient([am.url])
    current = amtool.get_silence(silence.id)
    amtool.post_silence(
        SilenceRequest(
            current.matchers,
            current.starts_at,
            current.ends_at + timedelta(hours=6),
            "alice",
            current.comment,
            id=silence.id,
        )
    )
    extended_end, _ = am_times(am, silence.id)

    response = api.patch(
        f"/api/v1/silences/{silence.id}/", {"comment": "drill, ticket OPS-7"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert am_times(am, silence.id) == (extended_end, "drill, ticket OPS-7")
    edited = AuditEvent.objects.get(silence_id=silence.id, action="edited")
    assert edited.before["endsAt"] == edited.after["endsAt"]
