"""The alert snapshot: read from every peer, deduplicated, and what the silence pages show."""

import pytest

from alertui.alerts.models import Alert
from alertui.alerts.sync import sync_alerts
from alertui.matchers import Matcher
from alertui.silences import services
from alertui.silences.models import Silence
from alertui.silences.services import Actor, SilenceValues
from alertui.silences.sync import sync_silences
from alertui.sync.models import SourceStatus
from tests.servers import free_port, make_alert, start_cluster, wait_until

pytestmark = pytest.mark.django_db


def ours(tag):
    return [a for a in Alert.objects.all() if a.labels.get("test") == tag]


def test_it_mirrors_current_alerts_and_drops_resolved_ones(
    am_settings, alertmanager, redis_db, tag
):
    alertmanager.push_alerts(
        [
            make_alert({"alertname": "DiskFull", "test": tag, "severity": "warning"}),
            make_alert({"alertname": "HighErrorRate", "test": tag, "severity": "critical"}),
        ]
    )
    sync_alerts()
    assert sorted(a.alertname for a in ours(tag)) == ["DiskFull", "HighErrorRate"]
    disk = next(a for a in ours(tag) if a.alertname == "DiskFull")
    assert disk.labels["severity"] == "warning" and disk.state == "active"

    resolved = make_alert({"alertname": "DiskFull", "test": tag, "severity": "warning"})
    resolved["endsAt"] = resolved["startsAt"]  # Prometheus resolves by sending endsAt <= now
    alertmanager.push_alerts([resolved])
    sync_alerts()
    assert [a.alertname for a in ours(tag)] == ["HighErrorRate"]
    assert SourceStatus.objects.get(name="alertmanager-alerts default").failing_since is None


def test_it_counts_the_alerts_a_silence_mutes_on_the_list(
    am_settings, alertmanager, redis_db, silencer, silencer_client, tag
):
    alertmanager.push_alerts(
        [
            make_alert({"alertname": "HighErrorRate", "test": tag, "pod": f"api-{i}"})
            for i in range(3)
        ]
    )
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    values = SilenceValues((Matcher("test", "=", tag),), now, now + timedelta(hours=1), "deploy")
    silence = services.create_silence(Actor(silencer), values)
    # Alertmanager takes in pushed alerts and marks them silenced asynchronously: sync until
    # it reports all three muted (bounded).
    wait_until(
        lambda: sync_alerts() and [silence.id in a.silenced_by for a in ours(tag)] == [True] * 3,
        timeout=10,
        what="three alerts muted by the silence",
    )
    page = silencer_client.get("/silences/", {"q": tag})
    assert page.status_code == 200
    row = page.content.decode().split(f"/silences/{silence.id}/")[1].split("</tr>")[0]
    assert '<td data-label="Alerts" class="num">3</td>' in row


def test_it_reads_every_peer_and_shows_each_alert_once(settings, redis_db, tmp_path, tag):
    peers = start_cluster("0.25", tmp_path)
    try:
        settings.ALERTMANAGER_URLS = [p.url for p in peers]
        # Prometheus sends every alert to every peer; one alert reached only the second peer.
        for peer in peers:
            peer.push_alerts([make_alert({"alertname": "Shared", "test": tag})])
        peers[1].push_alerts([make_alert({"alertname": "OnlyOnB", "test": tag})])
        sync_alerts()
        assert sorted(a.alertname for a in ours(tag)) == ["OnlyOnB", "Shared"]

        peers[0].stop()  # one peer down is not an outage
        result = sync_alerts()
        assert result.error == ""
        assert sorted(a.alertname for a in ours(tag)) == ["OnlyOnB", "Shared"]
    finally:
        for peer in peers:
            peer.stop()


def test_it_writes_to_the_other_peer_when_one_is_down(settings, redis_db, tmp_path, silencer, tag):
    from datetime import timedelta

    from django.utils import timezone

    peers = start_cluster("0.25", tmp_path)
    try:
        settings.ALERTMANAGER_URLS = [p.url for p in peers]
        peers[0].stop()
        now = timezone.now()
        values = SilenceValues((Matcher("test", "=", tag),), now, now + timedelta(hours=1), "x")
        created = services.create_silence(Actor(silencer), values)

        on_b = [s for s in peers[1].raw_silences() if s["id"] == created.id]
        assert len(on_b) == 1 and on_b[0]["createdBy"] == "alice"
        assert [s for s in peers[1].raw_silences() if s["comment"] == "x"] == on_b  # no copy
        sync_silences()
        assert Silence.objects.get(pk=created.id).in_alertmanager
    finally:
        for peer in peers:
            peer.stop()


def test_it_keeps_the_last_snapshot_when_no_peer_answers(settings, redis_db, tag):
    Alert.objects.create(fingerprint="abc", alertname="Kept", labels={"alertname": "Kept"})
    settings.ALERTMANAGER_URLS = [f"http://127.0.0.1:{free_port()}"]
    result = sync_alerts()
    assert "unreachable" in result.error
    assert Alert.objects.filter(alertname="Kept").exists()
    assert SourceStatus.objects.get(name="alertmanager-alerts default").failing_since is not None
