"""Attacks on the steady-sync skip (#13): changes a skipped sync must not hide."""

from __future__ import annotations

import pytest

from alertui.alerts.models import Alert
from alertui.alerts.sync import sync_alerts
from tests.standins import FixedAlertsServer
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
