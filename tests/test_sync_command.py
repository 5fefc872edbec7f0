"""`manage.py sync` and the Celery tasks run the same sync code."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from alertui.audit.models import AuditEvent
from alertui.integrations.alertmanager import AlertmanagerClient
from alertui.locks import sync_lock_timeout
from alertui.sync.tasks import sync_source
from tests.servers import free_port, make_alert
from tests.test_silence_sync import outside

pytestmark = pytest.mark.django_db


def test_it_syncs_from_the_command_line(am_settings, alertmanager, redis_db, tag):
    silence_id = AlertmanagerClient(am_settings.ALERTMANAGER_URLS).post_silence(outside(tag))
    alertmanager.push_alerts([make_alert({"alertname": "FromCommand", "test": tag})])
    out = StringIO()
    call_command("sync", stdout=out)

    assert f"created {silence_id}" in out.getvalue()
    assert AuditEvent.objects.filter(silence_id=silence_id, action="created").exists()
    out = StringIO()
    call_command("sync", stdout=out)
    assert silence_id not in out.getvalue()  # the second run records nothing


def test_it_fails_loudly_when_alertmanager_is_unreachable(settings, redis_db):
    settings.ALERTMANAGER_URLS = [f"http://127.0.0.1:{free_port()}"]
    with pytest.raises(CommandError, match="unreachable"):
        call_command("sync", stdout=StringIO())


def test_it_runs_the_same_sync_as_a_celery_task(am_settings, redis_db, tag):
    silence_id = AlertmanagerClient(am_settings.ALERTMANAGER_URLS).post_silence(outside(tag))
    result = sync_source.delay("silences", "default").get(timeout=30)

    assert result["failures"] == [] and f"created {silence_id}" in result["summary"]
    assert AuditEvent.objects.filter(silence_id=silence_id).exists()


def test_it_schedules_the_sync_jobs_with_beat(settings):
    from alertui.celery import app

    schedule = app.conf.beat_schedule
    silences = schedule["sync-silences-default"]
    assert silences["task"] == "alertui.sync.tasks.sync_source"
    assert silences["args"] == ("silences", "default")
    assert schedule["sync-alerts-default"]["args"] == ("alerts", "default")
    assert schedule["sync-targets-default"]["args"] == ("targets", "default")
    assert silences["options"]["expires"] < silences["schedule"]
    # A run ends when its lock would: never two runs of one cluster's sync at once.
    assert silences["options"]["time_limit"] == sync_lock_timeout("default")
    assert schedule["prune-history"]["task"] == "alertui.sync.tasks.prune_history"
