"""An expiry whose answer leaves open whether Alertmanager applied it.

An expiry (DELETE) may be sent to each peer in turn, since expiring twice does no harm. But
when the only answers are a 5xx from a proxy or none in time, after the request went out, the
silence may well have been expired: alertui must not record the attempt as failed ("Nothing was
changed") and then let the sync credit the expiry to nobody.
"""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from alertui.audit.models import AuditEvent, PendingChange
from alertui.matchers import Matcher
from alertui.silences import services
from alertui.silences.intents import grace
from alertui.silences.services import Actor, SilenceValues
from alertui.silences.sync import sync_silences
from tests.standins import FaultyProxy

pytestmark = pytest.mark.django_db


def make_silence(silencer, tag):
    now = timezone.now()
    values = SilenceValues((Matcher("test", "=", tag),), now, now + timedelta(hours=2), "drill")
    silence = services.create_silence(Actor(silencer), values)
    assert not sync_silences().skipped
    return silence


def settle(settings, am):
    """Run the sync once the intents are older than any request could take."""
    settings.ALERTMANAGER_URLS = [am.url]
    with time_machine.travel(timezone.now() + grace() * 2):
        result = sync_silences()
    assert not result.skipped and result.error == ""


def test_an_expiry_the_proxy_forwarded_before_answering_502_is_credited_to_its_person(
    am, settings, silencer, silencer_client, tag
):
    silence = make_silence(silencer, tag)
    # Stand-in: a proxy that passes the DELETE on to the real Alertmanager, which expires the
    # silence, and then answers 502 (a real Alertmanager cannot be made to answer 502).
    proxy = FaultyProxy(
        am.url,
        lambda method, path, headers: "502 after forwarding" if method == "DELETE" else None,
    )
    try:
        settings.ALERTMANAGER_URLS = [proxy.url]
        response = silencer_client.post(f"/silences/{silence.id}/expire/", follow=True)
    finally:
        proxy.stop()

    page = response.content.decode()
    assert "Nothing was changed" not in page
    assert "no clear answer" in page
    [in_am] = [s for s in am.raw_silences() if s["id"] == silence.id]
    assert in_am["status"]["state"] == "expired"
    assert not AuditEvent.objects.filter(action="expired", outcome="failed").exists()

    settle(settings, am)

    [expired] = AuditEvent.objects.filter(silence_id=silence.id, action="expired")
    assert (expired.outcome, expired.source, expired.actor) == ("succeeded", "browser", silencer)
    assert not PendingChange.objects.exists()


def test_an_expiry_the_proxy_refused_without_forwarding_is_settled_as_failed(
    am, settings, silencer, silencer_client, tag
):
    silence = make_silence(silencer, tag)
    # Stand-in: the proxy answers 502 and never passes the DELETE on.
    proxy = FaultyProxy(am.url, lambda method, path, headers: "502" if method == "DELETE" else None)
    try:
        settings.ALERTMANAGER_URLS = [proxy.url]
        silencer_client.post(f"/silences/{silence.id}/expire/")
    finally:
        proxy.stop()

    settle(settings, am)

    [attempt] = AuditEvent.objects.filter(silence_id=silence.id, action="expired")
    assert (attempt.outcome, attempt.actor) == ("failed", silencer)
    [in_am] = [s for s in am.raw_silences() if s["id"] == silence.id]
    assert in_am["status"]["state"] == "active"
