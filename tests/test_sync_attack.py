"""Attacks on the steady-sync skip (#13): changes a skipped sync must not hide."""

from __future__ import annotations

import pytest

from alertui.alerts.models import Alert
from alertui.alerts.sync import sync_alerts
from alertui.targets.models import FailingTarget
from alertui.targets.sync import sync_targets
from tests.standins import ChangingAnswersServer, FixedAlertsServer
from tests.test_alerts_bad_data import served

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]


def _sync_from(settings, alerts):
    stand_in = FixedAlertsServer(alerts)
    settings.ALERTMANAGER_URLS = [stand_in.url]
    try:
        return sync_alerts()
    finally:
        stand_in.stop()


@pytest.mark.parametrize("field", ["updatedAt", "endsAt"])
def test_a_bad_time_that_appears_later_is_named_in_the_note(settings, redis_db, field):
    """A stand-in: a real Alertmanager never sends a time that does not parse. The digest
    leaves updatedAt/endsAt out, but from_api names their problems: a steady sync must not
    hide the problem that the same alert now has (before #13 the note named it)."""
    good = served("0123456789abcdef", "Good")
    assert _sync_from(settings, [good]).note == ""
    assert _sync_from(settings, [good]).note == ""  # steady

    bad = dict(good, **{field: "not a time"})
    note = _sync_from(settings, [bad]).note
    assert f"{field} 'not a time' is not a time" in note


@pytest.mark.parametrize("field", ["updatedAt", "endsAt"])
def test_a_bad_time_that_was_put_right_leaves_the_note(settings, redis_db, field):
    """The other way round: the alert's time was bad, now it is good; the note must go, and
    the row must not keep ends_at/updated_at None."""
    good = served("0123456789abcdef", "Good")
    bad = dict(good, **{field: "not a time"})
    assert "is not a time" in _sync_from(settings, [bad]).note

    note = _sync_from(settings, [good]).note
    row = Alert.objects.get(fingerprint="0123456789abcdef")
    assert note == ""
    assert row.problems == ""


def test_a_status_that_turns_into_garbage_is_named_in_the_note(settings, redis_db):
    """AlertItem digests a non-object status as {}: None and "garbage" digest alike, though
    only one of them is a problem alertui reports."""
    good = served("0123456789abcdef", "Good")
    good["status"] = None
    assert _sync_from(settings, [good]).note == ""
    bad = dict(good, status="garbage")
    assert "status is not an object" in _sync_from(settings, [bad]).note


def _never_scraped(duration: float) -> dict:
    target = {
        "scrapePool": "never",
        "scrapeUrl": "http://never.test:9100/metrics",
        "globalUrl": "http://never.test:9100/metrics",
        "labels": {"job": "never", "instance": "never.test:9100"},
        "discoveredLabels": {},
        "health": "unknown",
        "lastError": "",
        "lastScrape": "0001-01-01T00:00:00Z",  # Go's zero time: never scraped (None)
        "lastScrapeDuration": duration,
        "scrapeInterval": "1m",
    }
    ok = {"status": "success"}
    return {
        "/api/v1/targets": dict(ok, data={"activeTargets": [target], "droppedTargets": []}),
        "/api/v1/scrape_pools": dict(ok, data={"scrapePools": ["never"]}),
        "/api/v1/rules": dict(ok, data={"groups": []}),
    }


def test_scrape_times_written_when_the_last_scrape_is_none(settings, redis_db):
    """A stand-in: a target never scraped (lastScrape is Go's zero time, read as None) whose
    duration moves. _write_scrape_times writes `CASE id WHEN %s THEN NULL END` into a
    timestamptz column: PostgreSQL types a CASE of NULLs only as text and refuses it
    (Django's bulk_update, used before #13, casts each CASE for this reason)."""
    stand_in = ChangingAnswersServer(_never_scraped(0.0))
    settings.PROMETHEUS_URLS = [stand_in.url]
    try:
        assert sync_targets().errors == []
        stand_in.answers = _never_scraped(0.25)
        sync_targets()
    finally:
        stand_in.stop()
    row = FailingTarget.objects.get(source=stand_in.url, job="never")
    assert (row.last_scrape, row.last_scrape_duration) == (None, 0.25)


def test_an_annotation_that_turns_from_null_to_nan_shows(settings, redis_db):
    """A stand-in: a real Alertmanager sends annotation values as strings only. orjson refuses
    NaN, json reads it as a float; AlertItem digests it with orjson.dumps, which writes NaN
    (and Infinity) as null: the change is hidden and the page keeps showing "null"."""
    before = served("0123456789abcdef", "Odd")
    before["annotations"]["value"] = None
    _sync_from(settings, [before])
    assert Alert.objects.get(fingerprint="0123456789abcdef").annotations["value"] == "null"

    after = dict(before, annotations=dict(before["annotations"], value=float("nan")))
    _sync_from(settings, [after])
    assert Alert.objects.get(fingerprint="0123456789abcdef").annotations["value"] == "NaN"
