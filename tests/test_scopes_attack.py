"""Review tests (hostile input, scopes, stale silences, templates, bulk actions): each pins a
bug found by attacking the features, against a real Alertmanager 0.25."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from alertui.audit.models import AuditEvent
from alertui.integrations.alertmanager import AlertmanagerClient
from alertui.matchers import Matcher
from alertui.silences import services
from alertui.silences.services import Actor, SilenceValues
from alertui.stale_silences.models import SilenceMatch
from alertui.stale_silences.policy import expire_stale
from tests.api_client import sync

pytestmark = pytest.mark.django_db


# -- silence templates ---------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["\u00b2", "1\u00b9", "\u2460"])
def test_it_answers_a_template_link_with_a_digit_that_is_no_number_without_a_500(
    silencer_client, raw
):
    # str.isdigit() is true for superscripts and circled digits, which int() refuses.
    page = silencer_client.get("/silences/new/", {"template": raw})
    assert page.status_code == 200
    assert "That silence template no longer exists" in page.content.decode()


# -- the stale-silence policy --------------------------------------------------------------------


def test_it_does_not_expire_a_silence_that_started_minutes_ago_after_its_start_was_moved(
    am, silencer, tag, settings
):
    """A pending silence keeps its id when its start is moved (Alertmanager edits it in place,
    as a maintenance window's moved occurrence does): its "quiet since" was its first start,
    so once it starts it must not count as quiet since long before it was on."""
    settings.SILENCE_STALE_EXPIRE_HOURS = 24
    now = timezone.now()
    matchers = (Matcher("test", "=", tag), Matcher("node", "=", "db-1"))
    planned = SilenceValues(matchers, now + timedelta(hours=1), now + timedelta(hours=3), "work")
    silence = services.create_silence(Actor(silencer), planned)
    sync()  # the sync sees it (pending, muting nothing)
    assert SilenceMatch.objects.filter(pk=silence.id).exists()
    moved = SilenceValues(matchers, now + timedelta(hours=30), now + timedelta(hours=34), "work")
    edited = services.edit_silence(Actor(silencer), silence.id, moved)
    assert edited.id == silence.id  # a pending silence is edited in place

    # 31 hours on, the silence has been on for one hour (the maintenance not started yet).
    with time_machine.travel(now + timedelta(hours=31), tick=True):
        sync()
        report = expire_stale()

    assert report.expired == []
    am_client = AlertmanagerClient(settings.ALERTMANAGER_URLS)
    assert am_client.get_silence(silence.id).state != "expired"
    assert not AuditEvent.objects.filter(silence_id=silence.id, action="expired").exists()


# -- bulk actions --------------------------------------------------------------------------------


def test_the_bulk_confirmation_of_an_extension_past_the_last_date_says_so_without_a_500(
    am, silencer_client, tag
):
    """A silence made outside alertui (amtool) may end in December 9999: extending it by 30 days
    is out of range, which the confirmation must say rather than fail on."""
    import requests

    from alertui.silences.sync import sync_silences

    body = {
        "matchers": [{"name": "test", "value": tag, "isRegex": False, "isEqual": True}],
        "startsAt": timezone.now().isoformat(),
        "endsAt": "9999-12-20T00:00:00Z",
        "createdBy": "amtool",
        "comment": "forever",
    }
    answer = requests.post(f"{am.url}/api/v2/silences", json=body, timeout=10)
    assert answer.status_code == 200, answer.text
    silence_id = answer.json()["silenceID"]
    sync_silences()

    page = silencer_client.get(
        "/silences/bulk/", {"action": "extend", "by": "30d", "silence": silence_id}
    )

    assert page.status_code == 200
    assert "out of range: not extended" in page.content.decode()
    assert not AuditEvent.objects.filter(action="extended").exists()
