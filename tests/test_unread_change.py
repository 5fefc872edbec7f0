"""A change Alertmanager took but alertui could not read back.

After a create or an edit succeeds, alertui reads the silence back from the same peer; when that
read fails (the peer went away, a proxy answered 502), it records the change from what it sent.
Alertmanager's copy differs from that only in what the server sets itself: a start put at the
moment the request arrived, times kept to the millisecond. The next sync must take its copy
quietly, not record those differences as an edit made outside alertui.
"""

import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from alertui.audit.models import AuditEvent
from alertui.matchers import Matcher
from alertui.silences import services
from alertui.silences.models import Silence
from alertui.silences.services import Actor, SilenceValues
from alertui.silences.sync import sync_silences
from tests.standins import FaultyProxy
from tests.test_expire_outcome import make_silence

pytestmark = pytest.mark.django_db


def unreadable_back(am):
    """Stand-in: a proxy in front of the real Alertmanager that passes everything on but, once
    a change (POST or DELETE) went through it, answers 502 to reading a silence (a real
    Alertmanager cannot be made to answer 502)."""
    posted = threading.Event()

    def fault(method, path, headers):
        if method in ("POST", "DELETE"):
            posted.set()
        elif posted.is_set() and path.startswith("/api/v2/silence/"):
            return "502"
        return None

    return FaultyProxy(am.url, fault)


def synced():
    result = sync_silences()
    assert not result.skipped and result.error == ""
    return result


def recorded_for(silence_id) -> list[str]:
    """What a sync records for this test's silence (the shared Alertmanager holds others')."""
    return [r for r in synced().recorded if silence_id in r]


def test_a_create_not_read_back_is_not_recorded_again_by_the_sync(am, settings, silencer, tag):
    proxy = unreadable_back(am)
    now = timezone.now()
    values = SilenceValues(
        (Matcher("test", "=", tag),), now, now + timedelta(hours=2, microseconds=123), "drill"
    )
    try:
        settings.ALERTMANAGER_URLS = [proxy.url]
        silence = services.create_silence(Actor(silencer), values)
    finally:
        settings.ALERTMANAGER_URLS = [am.url]
        proxy.stop()

    assert recorded_for(silence.id) == []

    assert [(e.action, e.source) for e in AuditEvent.objects.filter(silence_id=silence.id)] == [
        ("created", "browser")
    ]
    mirrored = Silence.objects.get(pk=silence.id)
    [in_am] = [s for s in am.raw_silences() if s["id"] == silence.id]
    assert mirrored.updated_at is not None and mirrored.state == in_am["status"]["state"]


def test_an_extension_not_read_back_is_not_recorded_again_by_the_sync(am, settings, silencer, tag):
    silence = make_silence(silencer, tag)
    proxy = unreadable_back(am)
    try:
        settings.ALERTMANAGER_URLS = [proxy.url]
        later = silence.ends_at + timedelta(hours=1, microseconds=456)
        services.edit_silence(
            Actor(silencer),
            silence.id,
            SilenceValues(silence.matcher_list, silence.starts_at, later, "drill"),
        )
    except services.SilenceActionError:
        pytest.fail("the edit should go through; only its read-back fails")
    finally:
        settings.ALERTMANAGER_URLS = [am.url]
        proxy.stop()

    assert recorded_for(silence.id) == []


def test_an_expiry_not_read_back_is_not_recorded_again_by_the_sync(am, settings, silencer, tag):
    silence = make_silence(silencer, tag)
    proxy = unreadable_back(am)
    try:
        settings.ALERTMANAGER_URLS = [proxy.url]
        services.expire_silence(Actor(silencer), silence.id)
    finally:
        settings.ALERTMANAGER_URLS = [am.url]
        proxy.stop()
    assert Silence.objects.get(pk=silence.id).current_state == "expired"

    assert recorded_for(silence.id) == []

    [expired] = AuditEvent.objects.filter(silence_id=silence.id, action="expired")
    assert (expired.source, expired.actor) == ("browser", silencer)


def test_a_replacing_edit_not_read_back_is_not_recorded_again_by_the_sync(
    am, settings, silencer, tag
):
    silence = make_silence(silencer, tag)
    wider = (Matcher("test", "=", tag), Matcher("job", "=~", "api|web"))
    proxy = unreadable_back(am)
    try:
        settings.ALERTMANAGER_URLS = [proxy.url]
        new = services.edit_silence(
            Actor(silencer),
            silence.id,
            SilenceValues(wider, silence.starts_at, silence.ends_at, "drill, api and web"),
        )
    finally:
        settings.ALERTMANAGER_URLS = [am.url]
        proxy.stop()
    assert new.id != silence.id
    old = Silence.objects.get(pk=silence.id)
    assert (old.current_state, old.replaced_by) == ("expired", new.id)

    assert recorded_for(silence.id) == []

    assert [e.action for e in AuditEvent.objects.filter(silence_id=silence.id)] == ["created"]
