"""Acknowledgements against a real Alertmanager with a real firing alert: the silence is the
person's, marked so other tools see what it is, extended by the job while the alert fires,
ended once it resolved (through Alertmanager) plus the grace, never past the maximum, and
extended once however many runs go at once. alertui's clock is moved with time-machine;
Alertmanager keeps its own, so the silences it holds stay active meanwhile."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command

from alertui.acks import job
from alertui.acks.marker import COMMENT_PREFIX
from alertui.acks.models import Acknowledgement
from alertui.audit.models import AuditEvent
from alertui.notices.models import Delivery
from alertui.silences import services as silence_services
from tests.acks_helpers import (
    ack,
    am_end,
    am_silence,
    fire,
    fresh,
    resolve,
    run_at,
    same_moment,
)
from tests.servers import free_port

pytestmark = pytest.mark.django_db

MIN = timedelta(minutes=1)


def extensions(silence_id: str):
    return AuditEvent.objects.filter(
        silence_id=silence_id, action="extended", outcome="succeeded"
    ).order_by("at")


def test_it_marks_the_silence_with_annotations_where_kept_and_in_the_comment_elsewhere(
    am_settings, alertmanager, redis_db, silencer, tag
):
    fire(alertmanager, tag)
    made, silence = ack(silencer, tag)

    held = am_silence(alertmanager, silence.id)
    assert held["createdBy"] == "alice"
    if alertmanager.version == "0.33":
        assert held["annotations"] == {
            "alertui.acknowledged_by": "alice",
            "alertui.kind": "acknowledgement",
        }
        assert not held["comment"].startswith(COMMENT_PREFIX)
    else:  # 0.25 and 0.28 drop annotations: the comment carries the mark
        assert held["comment"] == f"{COMMENT_PREFIX}Acknowledged by alice on the alerts page"
        assert not held.get("annotations")
    created = AuditEvent.objects.get(silence_id=silence.id, action="created")
    assert (created.actor, created.actor_name, created.source) == (silencer, "alice", "browser")

    # An extension (any edit) keeps the mark: it is sent back with the silence.
    with time_machine.travel(made.created_at + 28 * MIN, tick=False):
        result = job.tend("default")
    assert result.extended == [silence.id]
    again = am_silence(alertmanager, silence.id)
    assert again.get("annotations") == held.get("annotations")
    assert again["comment"] == held["comment"]


def test_it_extends_the_acknowledgement_while_its_alert_fires(am, silencer, tag):
    fire(am, tag)
    made, silence = ack(silencer, tag, minutes=30)
    t0 = made.created_at

    # Not yet within 5 minutes of its end: left alone.
    assert run_at(t0 + 20 * MIN).extended == []
    result = run_at(t0 + 27 * MIN)

    assert result.extended == [silence.id] and result.failures() == []
    assert same_moment(am_end(am, silence.id), t0 + 57 * MIN)  # now + the 30m chosen
    assert am_silence(am, silence.id)["status"]["state"] == "active"
    [extension] = extensions(silence.id)
    assert extension.actor == silencer
    assert extension.actor_name == "the acknowledgement of alice"
    assert extension.source == "acknowledgement"
    assert am_silence(am, silence.id)["createdBy"] == "alice"
    # The next run, long before the new end, does nothing more.
    assert run_at(t0 + 30 * MIN).extended == []
    assert extensions(silence.id).count() == 1


def test_it_ends_the_acknowledgement_once_the_alert_resolved_plus_the_grace(
    am, silencer, tag, settings
):
    settings.ACK_GRACE = 300
    fire(am, tag)
    made, silence = ack(silencer, tag)
    t0 = made.created_at
    run_at(t0 + 27 * MIN)

    resolve(am, tag)
    run_at(t0 + 40 * MIN)  # first seen resolved: the grace starts
    assert fresh(made).resolved_at == t0 + 40 * MIN
    assert run_at(t0 + 44 * MIN).ended == []
    assert am_silence(am, silence.id)["status"]["state"] == "active"

    result = run_at(t0 + 45 * MIN)

    assert result.ended == [silence.id]
    assert am_silence(am, silence.id)["status"]["state"] == "expired"
    ended = fresh(made)
    assert ended.ending == "resolved" and ended.ended_at == t0 + 45 * MIN
    expired = AuditEvent.objects.get(silence_id=silence.id, action="expired")
    assert (expired.actor_name, expired.source) == (
        "the acknowledgement of alice",
        "acknowledgement",
    )
    assert extensions(silence.id).count() == 1
    assert run_at(t0 + 50 * MIN).ended == []  # once


def test_an_alert_firing_again_within_the_grace_keeps_the_acknowledgement(am, silencer, tag):
    fire(am, tag)
    made, silence = ack(silencer, tag)
    t0 = made.created_at
    resolve(am, tag)
    run_at(t0 + 10 * MIN)
    assert fresh(made).resolved_at is not None

    fire(am, tag)
    run_at(t0 + 12 * MIN)
    assert fresh(made).resolved_at is None
    assert run_at(t0 + 26 * MIN).extended == [silence.id]
    assert fresh(made).ended_at is None


def test_it_stops_at_the_maximum_and_announces_the_last_extension(am, silencer, tag, settings):
    settings.ACK_MAX_DURATION = 3600
    settings.NOTIFY_WEBHOOK_URLS = [f"http://127.0.0.1:{free_port()}/hook"]
    fire(am, tag)
    made, silence = ack(silencer, tag, minutes=30)
    t0 = made.created_at
    assert made.max_until == t0 + 60 * MIN

    run_at(t0 + 27 * MIN)  # to t0 + 57m
    run_at(t0 + 54 * MIN)  # to t0 + 60m, its maximum: the last one
    assert run_at(t0 + 58 * MIN).extended == []  # the alert still fires, but no further

    assert same_moment(am_end(am, silence.id), t0 + 60 * MIN)
    first, last = extensions(silence.id)
    assert first.note == ""
    assert last.note.startswith("Last extension: the acknowledgement of alice reached its maximum")
    # Routine extensions are not news; the last one is.
    [notice] = Delivery.objects.filter(silence_id=silence.id, kind="silence.extended")
    assert notice.event == last
    assert notice.payload["actor"] == "the acknowledgement of alice"
    assert notice.payload["note"] == last.note


def test_it_marks_the_acknowledgement_ended_when_its_silence_ends_or_is_expired_elsewhere(
    am, silencer, tag
):
    fire(am, tag)
    made, silence = ack(silencer, tag)
    am_client = silence_services.alertmanager_client("default")
    am_client.expire_silence(silence.id)  # amtool, another UI

    result = run_at(made.created_at + MIN)

    assert result.ended == [silence.id]
    assert fresh(made).ending == "reached_end"
    assert extensions(silence.id).count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_lock", [True, False])
def test_two_runs_at_once_extend_once(am, silencer, tag, with_lock):
    fire(am, tag)
    made, silence = ack(silencer, tag)
    start = threading.Barrier(2)
    errors = []

    def run():
        from django.db import connection

        try:
            start.wait(10)
            if with_lock:
                job.tend_acknowledgements(cluster="default")
            else:  # as if the lock had expired under a slow run: the compare-and-swap alone
                job.tend("default")
        except Exception as e:  # reported below
            errors.append(e)
        finally:
            connection.close()

    with time_machine.travel(made.created_at + 27 * MIN, tick=False):
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert not errors
    assert extensions(silence.id).count() == 1
    assert same_moment(am_end(am, silence.id), made.created_at + 57 * MIN)


def test_the_sync_command_runs_the_job(am, silencer, tag):
    fire(am, tag)
    made, silence = ack(silencer, tag)
    with time_machine.travel(made.created_at + 27 * MIN, tick=False):
        call_command("sync", "--kind", "acknowledgements")
    assert extensions(silence.id).count() == 1


def test_a_person_who_may_no_longer_silence_is_not_extended(am, silencer, tag):
    fire(am, tag)
    made, silence = ack(silencer, tag)
    silencer.groups.clear()

    result = run_at(made.created_at + 27 * MIN)

    assert result.extended == []
    assert "alice can no longer make silences" in result.failures()[0]
    assert Acknowledgement.objects.get(pk=made.pk).ended_at is None


def test_an_unreachable_alertmanager_extends_and_ends_nothing(am, silencer, tag, settings):
    fire(am, tag)
    made, silence = ack(silencer, tag)
    settings.ALERTMANAGER_URLS = [f"http://127.0.0.1:{free_port()}"]

    result = run_at(made.created_at + 27 * MIN)

    assert result.extended == [] and result.ended == []
    assert result.failures()[0].startswith("cannot read the alerts: ")
    assert fresh(made).ended_at is None and fresh(made).revision == 0


def test_a_policy_maximum_ends_the_extensions_with_one_refusal(am, silencer, tag):
    from tests.policy_helpers import make_rule

    make_rule("forty-minutes", "max_duration", max_duration="40m")
    fire(am, tag)
    made, silence = ack(silencer, tag)
    t0 = made.created_at

    # To t0 + 57m is more than the policy allows: refused once, then extended to its maximum.
    result = run_at(t0 + 27 * MIN)
    assert result.failures() == [] and len(result.extended) == 1
    maximum = fresh(made).max_until
    assert t0 + 39 * MIN < maximum <= t0 + 40 * MIN + timedelta(seconds=5)
    for later in (28, 36, 38):  # not tried again: its maximum now
        assert run_at(t0 + later * MIN).failures() == []
        assert run_at(t0 + later * MIN).extended == []

    [refused] = AuditEvent.objects.filter(outcome="failed")
    assert (refused.action, refused.actor_name) == ("extended", "the acknowledgement of alice")
    assert "refused by policy: forty-minutes" in refused.error
    assert same_moment(am_end(am, result.extended[0]), maximum)
