"""Two Alertmanager peers that disagree: one has not heard of a change the other made.

Peers share silences by gossip, which lags, and stops during a network partition. When alertui
writes to one peer (the other was down) and the sync then reads the other, that peer shows the
silence as it was before the change. That older version is no change anyone made: recording it
would put a phantom edit in the audit (and, when the peers agree again, the real change a second
time, as if made outside alertui).

The disagreeing peers are two real Alertmanagers started from one saved state with HA off: a
partition that does not heal, so nothing depends on when gossip would arrive.
"""

import shutil
from datetime import timedelta

import pytest
from django.utils import timezone

from alertui.audit.models import AuditEvent
from alertui.matchers import Matcher
from alertui.silences import services
from alertui.silences.models import Silence
from alertui.silences.services import Actor, SilenceValues
from alertui.silences.sync import sync_silences
from tests.servers import AlertmanagerProcess

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_peers(tmp_path, settings, redis_db):
    """Peers A and B holding the same silences; A is the first peer alertui tries."""
    first = AlertmanagerProcess("0.25", tmp_path / "a")
    second = AlertmanagerProcess("0.25", tmp_path / "b")
    yield first, second
    first.stop()
    second.stop()


def synced():
    result = sync_silences()
    assert not result.skipped and result.error == ""
    return result


def test_a_peer_that_missed_a_change_records_nothing(two_peers, settings, silencer, tag):
    peer_a, peer_b = two_peers
    peer_a.start()
    settings.ALERTMANAGER_URLS = [peer_a.url]
    now = timezone.now()
    values = SilenceValues((Matcher("test", "=", tag),), now, now + timedelta(hours=2), "drill")
    silence = services.create_silence(Actor(silencer), values)
    synced()
    # B starts from A's saved state: both peers hold the silence, under the same id.
    peer_a.stop()
    shutil.copytree(peer_a.storage_path, peer_b.storage_path)
    peer_b.start()

    # A is down: the extension goes to B, the peer that answers.
    settings.ALERTMANAGER_URLS = [peer_a.url, peer_b.url]
    extended = services.extend_silence(Actor(silencer), silence.id, now + timedelta(hours=5))
    assert extended.ends_at > now + timedelta(hours=4)
    rows = AuditEvent.objects.count()

    # A comes back without having heard of it; the sync reads A first.
    peer_a.start()
    synced()

    assert AuditEvent.objects.count() == rows, list(
        AuditEvent.objects.values_list("action", "source", "ends_at")
    )
    assert Silence.objects.get(pk=silence.id).ends_at == extended.ends_at

    # The peers agree again (A down, B read): still nothing new.
    peer_a.stop()
    synced()
    assert AuditEvent.objects.count() == rows
