"""The maintenance job against a real Alertmanager: each occurrence becomes exactly one real
silence ahead of time, whatever runs at once, and follows the window's edits, pause and
deletion; an unreachable Alertmanager is retried, then the silence is made late or the miss
recorded."""

import threading
import time
from datetime import timedelta

import pytest

from alertui.audit.models import AuditEvent
from alertui.integrations.alertmanager import AlertmanagerClient
from alertui.maintenance import materialize as job
from alertui.maintenance import services
from alertui.maintenance.materialize import materialize
from alertui.maintenance.models import Materialization, WindowChange
from alertui.maintenance.occurrence_silence import actor_for, values_for
from alertui.maintenance.windows import upcoming
from alertui.silences import services as silence_services
from alertui.silences.recorder import Actor
from tests.maintenance_helpers import make_window, once_fields, silences_of, soon
from tests.servers import free_port, make_alert

pytestmark = pytest.mark.django_db


def wait_until(predicate, what, timeout=30.0):
    """Poll a real server for a condition, within a bound (Alertmanager's own clock moves)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout}s: {what}")


def test_a_window_for_the_near_future_mutes_a_firing_alert_when_it_opens(am, silencer, tag):
    am.push_alerts([make_alert({"alertname": "Backup", "test_id": tag})])
    window = make_window(silencer, tag, soon(4), length=timedelta(minutes=10))

    [pending] = silences_of(am, tag)
    assert pending["status"]["state"] == "pending"
    assert pending["createdBy"] == "alice"
    assert f"Maintenance window \u201cwindow {tag}\u201d" in pending["comment"]
    client = AlertmanagerClient([am.url])
    [alert] = client.list_alerts(filters=[f'test_id="{tag}"'])
    assert alert.silenced_by == ()

    wait_until(
        lambda: client.list_alerts(filters=[f'test_id="{tag}"'])[0].silenced_by == (pending["id"],),
        "the window's silence mutes the alert",
    )
    event = AuditEvent.objects.get(silence_id=pending["id"])
    assert (event.action, event.source) == ("created", "maintenance")
    assert event.actor == silencer
    assert event.actor_name == f"maintenance window window {tag}, owner alice"
    assert Materialization.objects.get(window=window).silence_id == pending["id"]


def test_running_the_job_again_makes_nothing_twice(am, silencer, tag):
    make_window(silencer, tag, soon(3600))
    materialize()
    materialize()
    assert len(silences_of(am, tag)) == 1
    assert AuditEvent.objects.filter(action="created").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_lock", [True, False])
def test_two_runs_at_once_make_one_silence(am, silencer, tag, with_lock):
    # The window is saved with Alertmanager unreachable, so only the two runs below make it.
    live = am.url
    am_urls = [f"http://127.0.0.1:{free_port()}"]
    from django.conf import settings

    settings.ALERTMANAGER_URLS = am_urls
    window = make_window(silencer, tag, soon(3600))
    settings.ALERTMANAGER_URLS = [live]
    start = threading.Barrier(2)
    errors = []

    def run():
        from django.db import connection
        from django.utils import timezone

        try:
            start.wait(10)
            if with_lock:
                materialize()
            else:  # as if the Redis lock had expired under a slow run: the claim alone
                job.sync_window(window, timezone.now())
        except Exception as e:  # reported below
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(silences_of(am, tag)) == 1
    made = AuditEvent.objects.filter(action="created", source="maintenance", outcome="succeeded")
    assert made.count() == 1


def test_a_run_that_died_after_making_the_silence_is_not_repeated(am, silencer, tag, settings):
    settings.ALERTMANAGER_URLS = [f"http://127.0.0.1:{free_port()}"]
    window = make_window(silencer, tag, soon(3600))
    settings.ALERTMANAGER_URLS = [am.url]
    [occurrence] = upcoming(window, 1)
    # The dead run: its claim, and the silence it made before it could record it.
    row = Materialization.objects.get(window=window)
    Materialization.objects.filter(pk=row.pk).update(
        state="claimed", claimed_at=row.claimed_at - timedelta(hours=1)
    )
    from django.utils import timezone

    made = silence_services.create_silence(
        actor_for(window), values_for(window, occurrence, timezone.now())
    )

    materialize()
    assert [s["id"] for s in silences_of(am, tag)] == [made.id]
    assert Materialization.objects.get(window=window).silence_id == made.id


def test_a_fresh_claim_is_left_to_its_run(am, silencer, tag, settings):
    settings.ALERTMANAGER_URLS = [f"http://127.0.0.1:{free_port()}"]
    window = make_window(silencer, tag, soon(3600))
    settings.ALERTMANAGER_URLS = [am.url]
    Materialization.objects.filter(window=window).update(state="claimed")
    materialize()
    assert silences_of(am, tag) == []


def test_editing_the_window_edits_its_pending_silence(am, silencer, tag):
    window = make_window(silencer, tag, soon(3600))
    [before] = silences_of(am, tag)
    fields = once_fields(tag, soon(7200), comment="patch, longer")
    services.edit_window(Actor(silencer), window, fields)

    [after] = silences_of(am, tag)
    assert after["comment"].startswith(f"patch, longer {tag}")
    assert after["status"]["state"] == "pending"
    assert after["startsAt"][:16] == fields.schedule.start_date.isoformat() + "T" + (
        f"{fields.schedule.start_time:%H:%M}"
    )
    assert (
        before["id"] not in [s["id"] for s in silences_of(am, tag)] or before["id"] == after["id"]
    )
    assert WindowChange.objects.filter(window=window, action="edited").exists()


def test_pausing_expires_the_pending_silence_and_resuming_makes_it_again(am, silencer, tag):
    window = make_window(silencer, tag, soon(3600))
    [pending] = silences_of(am, tag)
    services.pause_window(Actor(silencer), window)
    assert silences_of(am, tag) == []
    expiry = AuditEvent.objects.get(silence_id=pending["id"], action="expired")
    assert expiry.actor_name == "alice" and expiry.source == "browser"

    services.resume_window(Actor(silencer), window)
    [again] = silences_of(am, tag)
    assert again["id"] != pending["id"] and again["status"]["state"] == "pending"
    actions = list(WindowChange.objects.filter(window=window).values_list("action", flat=True))
    assert actions == ["resumed", "paused", "created"]


def test_deleting_expires_the_silence_and_the_job_makes_no_more(am, silencer, tag):
    window = make_window(silencer, tag, soon(3600))
    services.delete_window(Actor(silencer), window)
    materialize()
    assert silences_of(am, tag) == []
    assert len(silences_of(am, tag, live=False)) == 1


def test_a_running_occurrence_can_be_ended_early(am, silencer, tag):
    window = make_window(silencer, tag, soon(-60))
    [running] = silences_of(am, tag)
    assert running["status"]["state"] == "active"
    row = Materialization.objects.get(window=window)
    services.end_occurrence_early(Actor(silencer), window, row.occurrence_start)
    materialize()
    assert silences_of(am, tag) == []


def test_alertmanager_down_then_back_makes_the_silence_late_and_says_so(
    am, silencer, tag, settings
):
    settings.ALERTMANAGER_URLS = [f"http://127.0.0.1:{free_port()}"]
    window = make_window(silencer, tag, soon(-300), length=timedelta(hours=1))
    materialize()
    row = Materialization.objects.get(window=window)
    assert (row.state, row.attempts) == ("retry", 2)
    assert "unreachable" in row.error.lower() or "connect" in row.error.lower()

    settings.ALERTMANAGER_URLS = [am.url]
    materialize()
    [late] = silences_of(am, tag)
    assert late["status"]["state"] == "active"
    event = AuditEvent.objects.get(silence_id=late["id"], action="created")
    assert event.note.startswith("Created late")
    assert Materialization.objects.get(window=window).late


def test_an_occurrence_over_before_alertmanager_came_back_is_recorded_as_missed(
    am, silencer, tag, settings
):
    settings.ALERTMANAGER_URLS = [f"http://127.0.0.1:{free_port()}"]
    window = make_window(silencer, tag, soon(3600), length=timedelta(hours=1))
    settings.ALERTMANAGER_URLS = [am.url]
    from django.utils import timezone

    materialize(now=timezone.now() + timedelta(hours=3))
    assert silences_of(am, tag) == []
    assert Materialization.objects.get(window=window).state == "missed"
    missed = WindowChange.objects.get(window=window, action="missed")
    assert "never silenced" in missed.note
