"""A sync that finds what it found last time writes nothing, and never stays blind to a change.

Each sync digests what Alertmanager answered (alerts without their updatedAt and endsAt, the
silences whatever their order) and what the database holds, and skips comparing and writing
when both match its last run. These tests pin the other half: whatever changed since, on
either side, shows after the next sync. Against real Alertmanager and Prometheus processes,
except where noted (a stand-in serves what a real Alertmanager never sends).
"""

from __future__ import annotations

import copy
import math
from datetime import timedelta

import pytest
from django.utils import timezone

from alertui.alerts import local_changes
from alertui.alerts.models import Alert
from alertui.alerts.sync import sync_alerts
from alertui.integrations.alertmanager import AlertmanagerClient, SilenceRequest
from alertui.integrations.values import loads, parse_time
from alertui.matchers import Matcher
from alertui.rules.models import AlertingRule
from alertui.silences import services
from alertui.silences.models import Silence
from alertui.silences.services import Actor, SilenceValues
from alertui.silences.sync import sync_silences
from alertui.sync.models import SourceStatus
from alertui.targets.models import FailingTarget
from alertui.targets.sync import sync_targets
from tests.servers import make_alert, wait_until
from tests.standins import FixedAlertsServer
from tests.test_alerts_bad_data import served

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]


def ours(tag):
    return {a.labels["alertname"]: a for a in Alert.objects.all() if a.labels.get("test") == tag}


def snapshot_version() -> int:
    return SourceStatus.objects.get(name="alertmanager-alerts").version


def test_a_resend_writes_nothing_and_a_real_change_shows_next_sync(am, tag):
    alert = make_alert({"alertname": "DiskFull", "test": tag}, {"summary": "90 % full"})
    am.push_alerts([alert])
    wait_until(lambda: sync_alerts() and "DiskFull" in ours(tag), 10, "the alert synced")
    sync_alerts()
    version = snapshot_version()

    # Prometheus re-sends a firing alert with a later endsAt: Alertmanager moves its
    # updatedAt and endsAt, nothing shown changes, nothing is written.
    resent = copy.deepcopy(alert)
    resent["endsAt"] = (timezone.now() + timedelta(hours=2)).isoformat()
    am.push_alerts([resent])
    for _ in range(2):
        result = sync_alerts()
        assert (result.added, result.changed, result.removed) == (0, 0, 0)
    assert snapshot_version() == version

    changed = copy.deepcopy(resent)
    changed["annotations"] = {"summary": "97 % full"}
    am.push_alerts([changed])
    assert sync_alerts().changed == 1
    assert ours(tag)["DiskFull"].annotations == {"summary": "97 % full"}
    assert snapshot_version() > version


def test_a_silence_applied_at_once_is_put_right_by_the_next_sync(am, silencer, tag):
    """The same answer from Alertmanager, but the table changed under it (a silence applied
    at once marks alerts silenced by alertui's own reading): the next sync compares again."""
    am.push_alerts([make_alert({"alertname": "HighLatency", "test": tag})])
    wait_until(lambda: sync_alerts() and "HighLatency" in ours(tag), 10, "the alert synced")
    sync_alerts()
    assert ours(tag)["HighLatency"].is_silenced is False
    # A silence alertui believes mutes the alert, though Alertmanager was never told of it:
    # only the next sync can say it mutes nothing.
    now = timezone.now()
    phantom = Silence.objects.create(
        id="00000000-0000-4000-8000-00000000beef",
        matchers=[["test", "=", tag]],
        matchers_text=f'test="{tag}"',
        starts_at=now,
        ends_at=now + timedelta(hours=1),
        state="active",
    )
    assert local_changes.silence_created(phantom).applied
    assert ours(tag)["HighLatency"].is_silenced is True

    result = sync_alerts()
    assert result.changed == 1
    assert ours(tag)["HighLatency"].is_silenced is False


def test_a_row_lost_from_the_table_comes_back_with_the_next_sync(am, tag):
    am.push_alerts([make_alert({"alertname": name, "test": tag}) for name in ("A1", "A2")])
    wait_until(lambda: sync_alerts() and len(ours(tag)) == 2, 10, "both alerts synced")
    sync_alerts()
    Alert.objects.filter(pk=ours(tag)["A2"].pk).delete()  # a restore, a hand edit

    assert sync_alerts().added == 1
    assert sorted(ours(tag)) == ["A1", "A2"]


def test_the_note_about_a_bad_alert_stays_while_alertmanager_sends_it(
    settings, redis_db, silencer_client
):
    """A stand-in: a real Alertmanager never lists a label value that is a number."""
    bad = served("fedcba9876543210", "Bad")
    bad["labels"]["count"] = 5
    stand_in = FixedAlertsServer([served("0123456789abcdef", "Good"), bad])
    settings.ALERTMANAGER_URLS = [stand_in.url]
    try:
        notes = [sync_alerts().note for _ in range(3)]
        page = silencer_client.get("/alerts/", {"state": ["active"]}).content.decode()
    finally:
        stand_in.stop()
    assert notes[0] == notes[1] == notes[2] != ""
    assert "label 'count' is not a string" in notes[0]
    assert "had values alertui could not use" in page
    assert Alert.objects.get(fingerprint="fedcba9876543210").labels["count"] == "5"


def test_a_silence_changed_outside_is_recorded_after_steady_syncs(am, silencer, tag):
    client = AlertmanagerClient([am.url])
    now = timezone.now()
    values = SilenceValues((Matcher("test", "=", tag),), now, now + timedelta(hours=1), "one")
    silence_id = services.create_silence(Actor(silencer), values).id
    for _ in range(3):  # Alertmanager lists its silences in a new order each time
        sync_silences()
    held = client.get_silence(silence_id)
    extended = SilenceRequest(
        held.matchers,
        held.starts_at,
        held.ends_at + timedelta(hours=1),
        held.created_by,
        held.comment,
        id=silence_id,
    )
    new_id = client.post_silence(extended)  # as amtool would, past alertui

    result = sync_silences()
    assert any(line.endswith(new_id) for line in result.recorded), result.recorded
    assert Silence.objects.get(pk=new_id).ends_at == held.ends_at + timedelta(hours=1)


def test_a_mirror_row_changed_by_hand_is_put_right_though_alertmanager_says_the_same(
    am, silencer, tag
):
    now = timezone.now()
    values = SilenceValues((Matcher("test", "=", tag),), now, now + timedelta(hours=1), "two")
    silence_id = services.create_silence(Actor(silencer), values).id
    sync_silences()
    sync_silences()
    Silence.objects.filter(pk=silence_id).update(in_alertmanager=False)

    sync_silences()
    assert Silence.objects.get(pk=silence_id).in_alertmanager is True


def test_each_new_scrape_time_is_written(prometheus_242, settings, redis_db):
    """The scrape times, written in one statement per sync, are Prometheus's own."""
    settings.PROMETHEUS_URLS = [prometheus_242.url]
    sync_targets()
    first = FailingTarget.objects.get(source=prometheus_242.url, job="broken").last_scrape

    def scraped_again():
        sync_targets()
        row = FailingTarget.objects.get(source=prometheus_242.url, job="broken")
        return row if row.last_scrape > first else None

    row = wait_until(scraped_again, 15, "a later scrape of the broken target")
    [raw] = [
        t
        for t in prometheus_242.raw_targets()["activeTargets"]
        if t["labels"].get("job") == "broken"
    ]
    # Prometheus scrapes it every second: what it says now is that scrape or a later one.
    assert timedelta(0) <= parse_time(raw["lastScrape"]) - row.last_scrape < timedelta(seconds=5)
    assert 0 < row.last_scrape_duration < 2


def test_rules_that_did_not_change_are_not_written_again(prometheus_242, settings, redis_db):
    """The alerts page caches rules by the table's ids: a steady sync keeps them."""
    settings.PROMETHEUS_URLS = [prometheus_242.url]
    sync_targets()
    ids = sorted(AlertingRule.objects.values_list("pk", flat=True))
    assert ids
    sync_targets()
    assert sorted(AlertingRule.objects.values_list("pk", flat=True)) == ids
    AlertingRule.objects.filter(pk=ids[0]).update(query="up == 2")  # stale, as after a reload

    sync_targets()
    assert "up == 2" not in AlertingRule.objects.values_list("query", flat=True)


def test_values_read_as_the_standard_library_reads_them():
    """orjson reads answers; what it refuses and json takes is read by json."""
    assert loads(b'{"a": [1, "x"]}') == {"a": [1, "x"]}
    assert loads(b'"\\ud800x"') == "\ud800x"  # a lone surrogate, as an escape
    assert math.isnan(loads(b"[NaN]")[0])
    with pytest.raises(ValueError):
        loads(b"{not json")
