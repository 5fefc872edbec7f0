"""The silence sync against real Alertmanagers: what it records for changes made elsewhere."""

import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from alertui.audit.models import AuditEvent, PendingChange
from alertui.integrations.alertmanager import AlertmanagerClient, SilenceRequest
from alertui.locks import exclusive
from alertui.matchers import Matcher
from alertui.silences import recorder, services
from alertui.silences.intents import grace
from alertui.silences.models import Silence
from alertui.silences.services import Actor, SilenceValues
from alertui.silences.sync import sync_silences
from alertui.sync.runs import lock_name

pytestmark = pytest.mark.django_db


@pytest.fixture
def am(am_settings, redis_db):
    return AlertmanagerClient(am_settings.ALERTMANAGER_URLS)


def outside(tag, *, by="bob via amtool", minutes=60, starts_in=0, comment="maintenance"):
    """A silence as amtool or another UI would send it."""
    now = timezone.now()
    return SilenceRequest(
        (Matcher("test", "=", tag),),
        now + timedelta(minutes=starts_in),
        now + timedelta(minutes=starts_in + minutes),
        by,
        comment,
    )


def events_for(silence_id):
    return list(AuditEvent.objects.filter(silence_id=silence_id).order_by("at", "id"))


def test_it_records_a_silence_created_outside_alertui(am, tag):
    silence_id = am.post_silence(outside(tag))
    result = sync_silences()

    assert f"created {silence_id}" in result.recorded
    [event] = events_for(silence_id)
    assert (event.action, event.source, event.actor) == ("created", "sync", None)
    assert event.actor_name == "bob via amtool"  # Alertmanager's free text, kept as given
    assert event.matchers_text == f'test="{tag}"'
    mirror = Silence.objects.get(pk=silence_id)
    assert mirror.created_by == "bob via amtool" and mirror.comment == "maintenance"


def test_it_records_nothing_twice(am, tag):
    am.post_silence(outside(tag))
    sync_silences()
    count = AuditEvent.objects.count()

    second = sync_silences()
    assert second.recorded == []
    assert AuditEvent.objects.count() == count


def test_it_records_an_outside_edit_with_before_and_after(am, tag):
    silence_id = am.post_silence(outside(tag))
    sync_silences()
    current = am.get_silence(silence_id)
    am.post_silence(
        SilenceRequest(
            current.matchers,
            current.starts_at,
            current.ends_at,
            current.created_by,
            "maintenance, now with a ticket OPS-42",
            id=silence_id,
        )
    )
    sync_silences()

    edited = AuditEvent.objects.get(silence_id=silence_id, action="edited")
    assert edited.before["comment"] == "maintenance"
    assert edited.after["comment"] == "maintenance, now with a ticket OPS-42"
    assert edited.source == "sync" and edited.actor_name == ""


def test_it_records_an_outside_extension(am, tag):
    silence_id = am.post_silence(outside(tag))
    sync_silences()
    current = am.get_silence(silence_id)
    am.post_silence(
        SilenceRequest(
            current.matchers,
            current.starts_at,
            current.ends_at + timedelta(hours=3),
            current.created_by,
            current.comment,
            id=silence_id,
        )
    )
    sync_silences()
    assert [e.action for e in events_for(silence_id)] == ["created", "extended"]


def test_it_records_an_early_expiry_made_outside_alertui(am, tag):
    silence_id = am.post_silence(outside(tag))
    sync_silences()
    am.expire_silence(silence_id)
    sync_silences()

    expired = AuditEvent.objects.get(silence_id=silence_id, action="expired")
    assert expired.source == "sync"
    assert "does not record by whom" in expired.note
    assert Silence.objects.get(pk=silence_id).current_state == "expired"


def test_it_records_a_pending_silence_deleted_outside_alertui_as_expired(am, tag):
    # Alertmanager ends a pending silence by setting both its start and its end to now.
    silence_id = am.post_silence(outside(tag, starts_in=60))
    sync_silences()
    am.expire_silence(silence_id)
    sync_silences()

    assert [e.action for e in events_for(silence_id)] == ["created", "expired"]
    assert Silence.objects.get(pk=silence_id).current_state == "expired"


def test_it_records_a_silence_that_ends_on_schedule(am, tag):
    now = timezone.now()
    request = SilenceRequest(
        (Matcher("test", "=", tag),), now, now + timedelta(seconds=2), "bob", "short"
    )
    silence_id = am.post_silence(request)
    sync_silences()
    time.sleep(2.5)  # Alertmanager's clock is real: let the silence run out
    sync_silences()
    sync_silences()

    assert [e.action for e in events_for(silence_id)] == ["created", "ended"]
    ended = AuditEvent.objects.get(silence_id=silence_id, action="ended")
    assert ended.note == "Reached its end time."


def test_it_records_nothing_for_changes_made_through_alertui(am, silencer, tag):
    now = timezone.now()
    values = SilenceValues((Matcher("test", "=", tag),), now, now + timedelta(hours=1), "why")
    created = services.create_silence(Actor(silencer), values)
    services.extend_silence(Actor(silencer), created.id, created.ends_at + timedelta(hours=1))
    services.expire_silence(Actor(silencer), created.id)

    result = sync_silences()
    assert not any(created.id in line for line in result.recorded)
    assert [e.action for e in events_for(created.id)] == ["created", "extended", "expired"]


def test_it_keeps_history_of_silences_alertmanager_no_longer_holds(am, tag):
    silence_id = am.post_silence(outside(tag))
    sync_silences()
    # A silence purged by Alertmanager (after its retention) is simply absent from the list;
    # make one look purged by forgetting it in a copy of the mirror under another id.
    Silence.objects.filter(pk=silence_id).update(in_alertmanager=True)
    ghost = Silence.objects.get(pk=silence_id)
    ghost.pk = "00000000-0000-4000-8000-" + tag.ljust(12, "0")[:12]
    ghost.save()
    sync_silences()

    ghost.refresh_from_db()
    assert ghost.in_alertmanager is False
    assert Silence.objects.get(pk=silence_id).in_alertmanager is True


def test_it_records_a_change_whose_request_died_under_the_right_person(am, silencer, tag):
    # The web process wrote its intent and Alertmanager applied the change, then the process
    # died before recording it: the sync attributes the change from the intent.
    now = timezone.now()
    request = SilenceRequest(
        (Matcher("test", "=", tag),), now, now + timedelta(hours=1), "alice", "why"
    )
    recorder.begin(
        Actor(silencer, remote_addr="192.0.2.9"),
        "created",
        request,
        silence_id="",
        before=None,
        cluster="default",
    )
    silence_id = am.post_silence(request)

    fresh = sync_silences()
    assert fresh.deferred == 1 and not events_for(silence_id)  # it may still be finishing

    with time_machine.travel(now + grace() * 2):
        sync_silences()
    [event] = events_for(silence_id)
    assert (event.action, event.source, event.actor) == ("created", "browser", silencer)
    assert event.remote_addr == "192.0.2.9"
    assert "interrupted" in event.note
    assert not PendingChange.objects.exists()


def test_it_closes_an_intent_that_never_reached_alertmanager(am, silencer, tag):
    now = timezone.now()
    request = SilenceRequest(
        (Matcher("test", "=", tag),), now, now + timedelta(hours=1), "alice", "why"
    )
    recorder.begin(
        Actor(silencer), "created", request, silence_id="", before=None, cluster="default"
    )

    with time_machine.travel(now + grace() * 2):
        sync_silences()
    event = AuditEvent.objects.get(outcome="failed")
    assert (event.action, event.actor) == ("created", silencer)
    assert "no matching change was found" in event.error
    assert not PendingChange.objects.exists()


def test_it_skips_a_run_while_another_holds_the_lock(am, tag):
    am.post_silence(outside(tag))
    with exclusive(lock_name("silences", "default")) as acquired:
        assert acquired
        result = sync_silences()
    assert result.skipped and not AuditEvent.objects.exists()
    assert sync_silences().recorded  # free again afterwards


def test_it_records_nothing_after_alertmanager_restarts(alertmanager, am, tag):
    am.post_silence(outside(tag))
    am.post_silence(outside(f"{tag}-2", minutes=30))
    sync_silences()
    before = AuditEvent.objects.count()

    alertmanager.restart()  # SIGTERM: silences are written to disk and read back
    result = sync_silences()
    assert result.error == "" and result.recorded == []
    assert AuditEvent.objects.count() == before


def test_it_marks_alertmanager_unreachable_and_keeps_the_mirror(settings, redis_db, tag):
    from alertui.sync.models import SourceStatus
    from tests.servers import free_port

    Silence.objects.create(
        id="kept", starts_at=timezone.now(), ends_at=timezone.now() + timedelta(hours=1)
    )
    settings.ALERTMANAGER_URLS = [f"http://127.0.0.1:{free_port()}"]
    result = sync_silences()

    assert "unreachable" in result.error
    status = SourceStatus.objects.get(name="alertmanager-silences default")
    assert status.failing_since is not None and "cannot connect" in status.last_error
    assert Silence.objects.get(pk="kept").in_alertmanager is True


def test_a_silence_made_while_the_sync_runs_stays_held(am, silencer, tag, monkeypatch):
    """A silence made after the sync read Alertmanager is not in what it read: that is no sign
    that Alertmanager forgot it."""
    from alertui.silences import intents

    real_plan = intents.plan
    made = []

    def plan_then_create(*args, **kwargs):
        # The sync has read Alertmanager; a request creating a silence finishes now.
        now = timezone.now()
        values = SilenceValues((Matcher("test", "=", tag),), now, now + timedelta(hours=1), "x")
        made.append(services.create_silence(Actor(silencer), values))
        return real_plan(*args, **kwargs)

    monkeypatch.setattr(intents, "plan", plan_then_create)
    sync_silences()

    assert Silence.objects.get(pk=made[0].id).in_alertmanager
