"""Requests that died after writing their intent: the sync credits a person with a change only
when what a real Alertmanager holds agrees with what that person's request sent.

Each test plays the dead request by hand: it writes the intent exactly as the service does
(recorder.begin) and, where the request "reached" Alertmanager, sends the same request to a real
Alertmanager; then the clock moves past the grace period and the sync settles it.
"""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from alertui.audit.models import AuditEvent, PendingChange
from alertui.integrations.alertmanager import AlertmanagerClient, SilenceRequest
from alertui.matchers import Matcher
from alertui.silences import recorder
from alertui.silences.intents import grace
from alertui.silences.models import Silence
from alertui.silences.recorder import Actor
from alertui.silences.sync import sync_silences

pytestmark = pytest.mark.django_db


@pytest.fixture
def am(am_settings, redis_db):
    return AlertmanagerClient(am_settings.ALERTMANAGER_URLS)


def request_for(tag, *, by="alice", comment="deploying", hours=1, silence_id=None, start=None):
    now = timezone.now()
    return SilenceRequest(
        (Matcher("test", "=", tag),),
        start or now,
        now + timedelta(hours=hours),
        by,
        comment,
        id=silence_id,
    )


def died(user, action, request, *, silence_id="", before=None):
    """The intent a request wrote before it died."""
    actor = Actor(user, remote_addr="192.0.2.9", request_id="req-dead")
    return recorder.begin(
        actor, action, request, silence_id=silence_id, before=before, cluster="default"
    )


def extension_of(current, *, hours):
    """The request that extends `current` (as Alertmanager holds it) by `hours`."""
    return SilenceRequest(
        current.matchers,
        current.starts_at,
        current.ends_at + timedelta(hours=hours),
        current.created_by,
        current.comment,
        id=current.id,
    )


def settle():
    """Run the sync once the intents are older than any request could take."""
    with time_machine.travel(timezone.now() + grace() * 2):
        return sync_silences()


def rows(silence_id):
    return list(AuditEvent.objects.filter(silence_id=silence_id).order_by("at", "id"))


def test_someone_elses_silence_with_the_same_matchers_is_not_credited_to_the_dead_request(
    am, silencer, tag
):
    # alice's create died before reaching Alertmanager; meanwhile bob made a silence with the
    # same matchers with amtool (30 days, another comment).
    died(silencer, "created", request_for(tag))
    bobs = am.post_silence(request_for(tag, by="bob", comment="db migration", hours=24 * 30))

    settle()

    [created] = rows(bobs)
    assert (created.action, created.source, created.actor) == ("created", "sync", None)
    assert created.actor_name == "bob" and created.remote_addr is None
    [attempt] = AuditEvent.objects.filter(actor=silencer)
    assert (attempt.action, attempt.outcome) == ("created", "failed")
    assert not PendingChange.objects.exists()


def test_the_dead_request_is_credited_only_with_its_own_silence(am, silencer, tag):
    intent = died(silencer, "created", request_for(tag))
    alices = am.post_silence(
        SilenceRequest(
            (Matcher("test", "=", tag),), intent.starts_at, intent.ends_at, "alice", "deploying"
        )
    )
    bobs = am.post_silence(request_for(tag, by="bob", comment="db migration", hours=24 * 30))

    settle()

    [mine] = rows(alices)
    assert (mine.action, mine.source, mine.actor) == ("created", "browser", silencer)
    assert mine.remote_addr == "192.0.2.9" and "interrupted" in mine.note
    [theirs] = rows(bobs)
    assert (theirs.source, theirs.actor_name, theirs.actor) == ("sync", "bob", None)


def test_a_silence_that_looks_like_the_intent_but_changed_since_is_recorded_as_observed(
    am, silencer, tag
):
    intent = died(silencer, "created", request_for(tag))
    silence_id = am.post_silence(
        SilenceRequest(
            (Matcher("test", "=", tag),), intent.starts_at, intent.ends_at, "alice", "deploying"
        )
    )
    am.expire_silence(silence_id)  # somebody ended it before the sync saw it

    settle()

    actions = [(e.action, e.source, e.actor) for e in rows(silence_id)]
    assert actions == [("created", "sync", None), ("ended", "sync", None)]
    [unknown] = AuditEvent.objects.filter(actor=silencer)
    assert (unknown.action, unknown.outcome) == ("created", "unknown")
    assert silence_id in unknown.error


def test_two_silences_that_both_agree_with_the_intent_are_credited_to_nobody(am, silencer, tag):
    intent = died(silencer, "created", request_for(tag))
    same = SilenceRequest(
        (Matcher("test", "=", tag),), intent.starts_at, intent.ends_at, "alice", "deploying"
    )
    first, second = am.post_silence(same), am.post_silence(same)

    settle()

    assert {e.source for e in rows(first) + rows(second)} == {"sync"}
    [unknown] = AuditEvent.objects.filter(actor=silencer)
    assert unknown.outcome == "unknown"


def test_an_extension_whose_silence_someone_else_expired_is_not_recorded_as_an_extension(
    am, silencer, tag
):
    silence_id = am.post_silence(request_for(tag, by="bob", comment="maintenance"))
    sync_silences()
    current = am.get_silence(silence_id)
    longer = extension_of(current, hours=4)
    died(silencer, "extended", longer, silence_id=silence_id, before=recorder.snapshot(current))
    am.expire_silence(silence_id)  # carol expired it with amtool; alice's extend never arrived

    settle()

    later = rows(silence_id)[1:]
    assert [(e.action, e.source, e.actor) for e in later if e.outcome == "succeeded"] == [
        ("expired", "sync", None)
    ]
    assert not AuditEvent.objects.filter(action="extended", outcome="succeeded").exists()
    [attempt] = AuditEvent.objects.filter(actor=silencer)
    assert (attempt.action, attempt.outcome) == ("extended", "unknown")
    assert Silence.objects.get(pk=silence_id).current_state == "expired"


def test_an_extension_that_arrived_is_credited_to_its_person(am, silencer, tag):
    silence_id = am.post_silence(request_for(tag, by="bob", comment="maintenance"))
    sync_silences()
    current = am.get_silence(silence_id)
    longer = extension_of(current, hours=4)
    died(silencer, "extended", longer, silence_id=silence_id, before=recorder.snapshot(current))
    am.post_silence(longer)

    settle()

    extended = AuditEvent.objects.get(silence_id=silence_id, action="extended")
    assert (extended.source, extended.actor, extended.outcome) == ("browser", silencer, "succeeded")
    assert extended.ends_at == am.get_silence(silence_id).ends_at


def test_a_replacing_edit_that_arrived_is_recorded_as_a_replacement(am, silencer, tag):
    silence_id = am.post_silence(request_for(tag, by="bob", comment="maintenance"))
    sync_silences()
    current = am.get_silence(silence_id)
    wider = SilenceRequest(
        (*current.matchers, Matcher("job", "=~", "api|web")),
        current.starts_at,
        current.ends_at,
        current.created_by,
        "maintenance, api and web",
        id=silence_id,
    )
    died(silencer, "edited", wider, silence_id=silence_id, before=recorder.snapshot(current))
    new_id = am.post_silence(wider)
    assert new_id != silence_id

    settle()

    [replaced] = rows(new_id)
    assert (replaced.action, replaced.actor, replaced.previous_silence_id) == (
        "replaced",
        silencer,
        silence_id,
    )
    assert Silence.objects.get(pk=silence_id).replaced_by == new_id
    # The old silence's end is part of the replacement, not a separate outside expiry.
    assert not AuditEvent.objects.filter(silence_id=silence_id, action="expired").exists()


def test_an_expiry_that_arrived_is_credited_and_one_of_an_ended_silence_is_not(am, silencer, tag):
    silence_id = am.post_silence(request_for(tag, by="bob", comment="maintenance"))
    sync_silences()
    current = am.get_silence(silence_id)
    as_it_was = SilenceRequest(
        current.matchers, current.starts_at, current.ends_at, current.created_by, current.comment
    )
    died(silencer, "expired", as_it_was, silence_id=silence_id, before=recorder.snapshot(current))
    am.expire_silence(silence_id)

    settle()

    expired = AuditEvent.objects.get(silence_id=silence_id, action="expired")
    assert (expired.source, expired.actor) == ("browser", silencer)
    assert settle().recorded == []  # nothing twice


def test_one_extension_two_dead_requests_sent_is_credited_to_neither(am, silencer, viewer, tag):
    silence_id = am.post_silence(request_for(tag, by="bob", comment="maintenance"))
    sync_silences()
    current = am.get_silence(silence_id)
    longer = extension_of(current, hours=1)
    before = recorder.snapshot(current)
    died(silencer, "extended", longer, silence_id=silence_id, before=before)
    died(viewer, "extended", longer, silence_id=silence_id, before=before)
    am.post_silence(longer)  # one of them arrived; nobody can tell which

    settle()
    settle()

    extended = AuditEvent.objects.filter(silence_id=silence_id, action="extended")
    assert sorted((e.source, e.actor_name, e.outcome) for e in extended) == [
        ("browser", "alice", "unknown"),
        ("browser", "victor", "unknown"),
        ("sync", "", "succeeded"),
    ]
