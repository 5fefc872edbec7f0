"""Silence changes through the service layer against real Alertmanagers, and their audit rows."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from alertui.audit.models import AuditEvent, PendingChange
from alertui.integrations.alertmanager import AlertmanagerClient
from alertui.matchers import Matcher
from alertui.silences import services
from alertui.silences.models import Silence
from alertui.silences.services import Actor, SilenceActionError, SilenceValues

pytestmark = pytest.mark.django_db


def values(tag, *, hours=2, comment="deploying the api", extra=()):
    now = timezone.now()
    matchers = (Matcher("alertname", "=", "HighErrorRate"), Matcher("test", "=", tag), *extra)
    return SilenceValues(matchers, now, now + timedelta(hours=hours), comment)


def am_silence(settings, silence_id):
    return AlertmanagerClient(settings.ALERTMANAGER_URLS).get_silence(silence_id)


def test_it_creates_a_silence_with_the_user_as_creator(am_settings, silencer, tag):
    actor = Actor(silencer, remote_addr="192.0.2.7", request_id="req-1")
    silence = services.create_silence(actor, values(tag))

    in_am = am_silence(am_settings, silence.id)
    assert in_am.created_by == "alice"
    assert in_am.comment == "deploying the api"
    assert [str(m) for m in in_am.matchers] == ['alertname="HighErrorRate"', f'test="{tag}"']
    assert in_am.state == "active"

    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.source) == ("created", "succeeded", "browser")
    assert event.actor == silencer and event.actor_name == "alice"
    assert event.silence_id == silence.id
    assert event.remote_addr == "192.0.2.7" and event.request_id == "req-1"
    assert event.matchers_text == f'alertname="HighErrorRate", test="{tag}"'
    assert event.after["createdBy"] == "alice" and event.before is None
    assert not PendingChange.objects.exists()
    assert Silence.objects.get(pk=silence.id).created_by == "alice"


def test_it_edits_a_comment_in_place(am_settings, silencer, tag):
    created = services.create_silence(Actor(silencer), values(tag))
    edited = values(tag, comment="deploy takes longer")
    changed = services.edit_silence(Actor(silencer), created.id, edited)

    assert changed.id == created.id
    assert am_silence(am_settings, created.id).comment == "deploy takes longer"
    event = AuditEvent.objects.get(action="edited")
    assert event.before["comment"] == "deploying the api"
    assert event.after["comment"] == "deploy takes longer"
    assert event.previous_silence_id == ""


@pytest.mark.regression
@pytest.mark.parametrize("drift", [timedelta(seconds=-3), timedelta(seconds=-90)])
def test_an_edit_that_leaves_the_start_never_replaces_the_silence(
    am_settings, silencer, tag, drift
):
    # The edit's start is a past time in another second than the server's (a clock that moved
    # on between create and edit, or an API client sending its own "now"): not a move.
    created = services.create_silence(Actor(silencer), values(tag))
    server_start = am_silence(am_settings, created.id).starts_at
    stale = values(tag, comment="still deploying")
    stale = SilenceValues(stale.matchers, server_start + drift, stale.ends_at, stale.comment)
    changed = services.edit_silence(Actor(silencer), created.id, stale)

    assert changed.id == created.id
    in_am = am_silence(am_settings, created.id)
    assert (in_am.state, in_am.comment) == ("active", "still deploying")
    assert in_am.starts_at == server_start
    assert not AuditEvent.objects.filter(action="replaced").exists()


def test_an_edit_that_moves_the_start_into_the_future_replaces_the_silence(
    am_settings, silencer, tag
):
    created = services.create_silence(Actor(silencer), values(tag))
    later = values(tag)
    later = SilenceValues(
        later.matchers, later.starts_at + timedelta(hours=1), later.ends_at, later.comment
    )
    moved = services.edit_silence(Actor(silencer), created.id, later)

    assert moved.id != created.id
    assert am_silence(am_settings, moved.id).state == "pending"
    assert AuditEvent.objects.get(action="replaced").previous_silence_id == created.id


def test_it_links_old_and_new_ids_when_alertmanager_replaces_a_silence(am_settings, silencer, tag):
    created = services.create_silence(Actor(silencer), values(tag))
    wider = values(tag, extra=(Matcher("job", "=~", "api|web"),))
    replaced = services.edit_silence(Actor(silencer), created.id, wider)

    assert replaced.id != created.id
    assert am_silence(am_settings, created.id).state == "expired"
    assert am_silence(am_settings, replaced.id).state == "active"
    event = AuditEvent.objects.get(action="replaced")
    assert event.silence_id == replaced.id
    assert event.previous_silence_id == created.id
    assert Silence.objects.get(pk=created.id).replaced_by == replaced.id


def test_it_extends_a_silence_keeping_its_id(am_settings, silencer, tag):
    created = services.create_silence(Actor(silencer), values(tag))
    new_end = created.ends_at + timedelta(days=1)
    extended = services.extend_silence(Actor(silencer), created.id, new_end)

    assert extended.id == created.id
    in_am = am_silence(am_settings, created.id)
    assert abs((in_am.ends_at - new_end).total_seconds()) < 1
    assert in_am.starts_at == created.starts_at  # the start went back unchanged
    event = AuditEvent.objects.get(action="extended")
    assert event.before["endsAt"] == created.ends_at.isoformat()


def test_it_refuses_an_extension_that_shortens(am_settings, silencer, tag):
    created = services.create_silence(Actor(silencer), values(tag))
    with pytest.raises(ValidationError, match="later than the current end"):
        services.extend_silence(Actor(silencer), created.id, created.ends_at - timedelta(hours=1))
    assert am_silence(am_settings, created.id).ends_at == created.ends_at


def test_it_expires_and_records_who(am_settings, silencer, tag):
    created = services.create_silence(Actor(silencer), values(tag))
    services.expire_silence(Actor(silencer), created.id)

    assert am_silence(am_settings, created.id).state == "expired"
    assert Silence.objects.get(pk=created.id).current_state == "expired"
    event = AuditEvent.objects.get(action="expired")
    assert event.actor_name == "alice" and event.outcome == "succeeded"


def test_it_records_a_second_expire_as_a_failed_attempt(am_settings, silencer, viewer, tag):
    created = services.create_silence(Actor(silencer), values(tag))
    services.expire_silence(Actor(silencer), created.id)
    with pytest.raises(SilenceActionError, match="already expired"):
        services.expire_silence(Actor(viewer), created.id)

    attempts = AuditEvent.objects.filter(action="expired").order_by("id")
    assert [(e.actor_name, e.outcome) for e in attempts] == [
        ("alice", "succeeded"),
        ("victor", "failed"),
    ]
    assert "already expired" in attempts[1].error


def test_it_recreates_an_expired_silence(am_settings, silencer, tag):
    created = services.create_silence(Actor(silencer), values(tag))
    services.expire_silence(Actor(silencer), created.id)
    again = services.create_silence(Actor(silencer), values(tag), recreated_from=created.id)

    assert again.id != created.id
    assert am_silence(am_settings, again.id).state == "active"
    event = AuditEvent.objects.get(action="recreated")
    assert event.previous_silence_id == created.id


def test_it_refuses_to_edit_an_expired_silence(am_settings, silencer, tag):
    created = services.create_silence(Actor(silencer), values(tag))
    services.expire_silence(Actor(silencer), created.id)
    with pytest.raises(SilenceActionError, match="recreate it instead"):
        services.edit_silence(Actor(silencer), created.id, values(tag, comment="again"))
    assert AuditEvent.objects.filter(action="edited", outcome="failed").count() == 1


def test_it_refuses_an_edit_based_on_an_outdated_version(am_settings, silencer, tag):
    created = services.create_silence(Actor(silencer), values(tag))
    loaded_at = Silence.objects.get(pk=created.id).updated_at
    services.edit_silence(Actor(silencer), created.id, values(tag, comment="first edit"))

    with pytest.raises(SilenceActionError, match="changed this silence after you opened it"):
        services.edit_silence(
            Actor(silencer), created.id, values(tag, comment="second edit"), based_on=loaded_at
        )
    assert am_silence(am_settings, created.id).comment == "first edit"


def test_it_shows_alertmanagers_own_message_when_it_refuses(settings, silencer, tag, tmp_path):
    # A refusal our own checks cannot foresee: the silence limit of Alertmanager 0.28+.
    from tests.servers import AlertmanagerProcess

    with AlertmanagerProcess("0.28", tmp_path, extra_args=("--silences.max-silences=1",)) as am:
        settings.ALERTMANAGER_URLS = [am.url]
        services.create_silence(Actor(silencer), values(tag))
        with pytest.raises(SilenceActionError) as caught:
            services.create_silence(Actor(silencer), values(tag, comment="a second one"))
    assert "exceeded maximum number of silences: 1 (limit: 1)" in caught.value.message
    failed = AuditEvent.objects.get(outcome="failed")
    assert failed.action == "created"
    assert "exceeded maximum number of silences" in failed.error
    assert failed.comment == "a second one"
    assert not PendingChange.objects.exists()


def test_it_refuses_to_change_a_silence_alertmanager_does_not_know(am_settings, silencer, tag):
    with pytest.raises(SilenceActionError, match="no such silence"):
        services.edit_silence(Actor(silencer), "8d0b6a3c-1111-4222-8333-944455556666", values(tag))
    event = AuditEvent.objects.get()
    assert event.outcome == "failed" and event.action == "edited"


def test_it_validates_before_sending(am_settings, silencer, tag):
    bad = SilenceValues((Matcher("job", "=~", ".*"),), timezone.now(), timezone.now(), "")
    with pytest.raises(ValidationError) as caught:
        services.create_silence(Actor(silencer), bad)
    assert set(caught.value.message_dict) == {"matchers", "comment", "ends_at"}
    assert not AuditEvent.objects.exists() and not PendingChange.objects.exists()


def test_it_reports_an_unreachable_alertmanager_and_records_the_attempt(settings, silencer, tag):
    from tests.servers import free_port

    settings.ALERTMANAGER_URLS = [f"http://127.0.0.1:{free_port()}"]
    with pytest.raises(SilenceActionError, match="unreachable"):
        services.create_silence(Actor(silencer), values(tag))
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome) == ("created", "failed")
    assert "cannot connect" in event.error
    assert not Silence.objects.exists() and not PendingChange.objects.exists()
