"""A change whose outcome was unknown, tried again: recorded once, and credited only to the try
that made it.

When a proxy answers 502 without passing the change on, the person is told the outcome is
unknown and tries again; the second try makes the change and records it. The first try's intent
then agrees with what Alertmanager holds (the second try sent the same thing), but it made
nothing: the sync must not credit it too (the same change twice, or to someone who did not make
it).
"""

import pytest
import time_machine
from django.utils import timezone

from alertui.audit.models import AuditEvent, PendingChange
from alertui.silences.intents import grace
from alertui.silences.sync import sync_silences
from tests.standins import FaultyProxy
from tests.test_expire_outcome import make_silence

pytestmark = pytest.mark.django_db


def through_refusing_proxy(settings, am, method, call):
    """`call()` while a proxy answers every `method` request with 502 without passing it on
    (stand-in: a real Alertmanager cannot be made to answer 502)."""
    proxy = FaultyProxy(am.url, lambda m, path, headers: "502" if m == method else None)
    try:
        settings.ALERTMANAGER_URLS = [proxy.url]
        return call()
    finally:
        settings.ALERTMANAGER_URLS = [am.url]
        proxy.stop()


def settle():
    """Run the sync once the intents are older than any request could take."""
    with time_machine.travel(timezone.now() + grace() * 2):
        result = sync_silences()
    assert not result.skipped and result.error == ""
    assert not PendingChange.objects.exists()


@pytest.mark.parametrize("who", ["the same person", "someone else"])
def test_an_extension_tried_again_is_recorded_once(
    who, am, settings, client, silencer, viewer, tag
):
    from django.contrib.auth.models import Group

    silence = make_silence(silencer, tag)
    other = silencer
    if who == "someone else":
        viewer.groups.set([Group.objects.get(name="silencers")])
        other = viewer
    client.force_login(silencer)
    first = through_refusing_proxy(
        settings,
        am,
        "POST",
        lambda: client.post(f"/silences/{silence.id}/extend/", {"by": "1h"}, follow=True),
    )
    assert "no clear answer" in first.content.decode()
    client.force_login(other)
    client.post(f"/silences/{silence.id}/extend/", {"by": "1h"})

    settle()

    extended = AuditEvent.objects.filter(silence_id=silence.id, action="extended")
    assert sorted((e.outcome, e.actor_name) for e in extended) == sorted(
        [("succeeded", other.username), ("unknown", "alice")]
    )


def test_an_expiry_tried_again_is_recorded_once(am, settings, silencer, silencer_client, tag):
    silence = make_silence(silencer, tag)
    through_refusing_proxy(
        settings, am, "DELETE", lambda: silencer_client.post(f"/silences/{silence.id}/expire/")
    )
    silencer_client.post(f"/silences/{silence.id}/expire/")

    settle()

    expired = AuditEvent.objects.filter(silence_id=silence.id, action="expired")
    assert sorted(e.outcome for e in expired) == ["succeeded", "unknown"]
    assert [r for r in sync_silences().recorded if silence.id in r] == []


def test_an_edit_tried_again_is_recorded_once(am, settings, silencer, silencer_client, tag):
    silence = make_silence(silencer, tag)
    form = {
        "matcher_name": ["test"],
        "matcher_op": ["="],
        "matcher_value": [tag],
        "comment": "drill, now with a ticket",
        "tz": "UTC",
    }
    url = f"/silences/{silence.id}/edit/"
    through_refusing_proxy(settings, am, "POST", lambda: silencer_client.post(url, form))
    silencer_client.post(url, form)

    settle()

    edited = AuditEvent.objects.filter(silence_id=silence.id, action="edited")
    assert sorted(e.outcome for e in edited) == ["succeeded", "unknown"]
