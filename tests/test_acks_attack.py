"""Acknowledgements attacked: what a hostile or unlucky user can do to them, against a real
Alertmanager 0.25 and real alerts (fired and resolved through Alertmanager). alertui's clock
is moved with time-machine; Alertmanager keeps its own."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alertui.acks import job
from alertui.acks.models import Acknowledgement
from tests.acks_helpers import ack, am_end, fire, fresh, resolve, run_at

pytestmark = pytest.mark.django_db

MIN = timedelta(minutes=1)


def test_it_tends_every_acknowledgement_not_only_the_oldest_per_run(am, silencer, tag, monkeypatch):
    # PER_RUN bounds one run's work; "the next run takes the rest". With as many older
    # acknowledgements still going as one run takes (500 in production: one person acknowledging
    # an always-firing Watchdog 500 times), a newer one must still be extended in time.
    monkeypatch.setattr(job, "PER_RUN", 1)
    fire(am, tag, "Watchdog")
    fire(am, tag)
    older, _ = ack(silencer, tag, minutes=60, alertname="Watchdog")
    newer, silence = ack(silencer, tag, minutes=30)
    t0 = newer.created_at

    for minute in (24, 25, 26, 27, 28):
        run_at(t0 + minute * MIN)

    assert am_end(am, silence.id) > t0 + 40 * MIN
    assert fresh(newer).ended_at is None and fresh(older).ended_at is None


def test_an_alert_firing_again_within_the_grace_keeps_it_even_near_its_end(
    am, silencer, tag, settings
):
    # The documented promise: "An alert firing again within the grace keeps it." A flapping
    # alert that resolves a few minutes before the silence would end must find it still there
    # when it fires again within the grace.
    settings.ACK_GRACE = 300
    fire(am, tag)
    made, silence = ack(silencer, tag, minutes=30)
    t0 = made.created_at
    resolve(am, tag)
    run_at(t0 + 26 * MIN)  # first seen resolved: the grace runs to t0 + 31m
    assert fresh(made).resolved_at == t0 + 26 * MIN

    fire(am, tag)  # fires again at t0 + 30.5m, within the grace
    run_at(t0 + 30 * MIN + 30 * timedelta(seconds=1))

    assert fresh(made).ended_at is None, fresh(made).ending
    assert am_end(am, silence.id) > t0 + 31 * MIN


@pytest.mark.usefixtures("fresh_snapshot")
def test_acknowledging_twice_from_two_tabs_leaves_one_acknowledgement_to_end(
    am, silencer_client, tag
):
    # Two tabs open on the alerts page, Acknowledge pressed in both: a second silence that the
    # job extends for up to 12h, and "End acknowledgement" then leaves the alert silenced.
    from tests.alerts_page_reading import fire as fire_rows
    from tests.test_acks_page import BOTH, alerts_page, messages_of, post_ack, row_extras
    from tests.test_alerts_rows import fingerprint

    fire_rows(am, tag, ({"alertname": "DiskFull"}, None))
    disk = fingerprint(tag, "DiskFull")
    post_ack(silencer_client, tag, alert=f"{disk}@default")
    second = post_ack(silencer_client, tag, alert=f"{disk}@default")

    first = Acknowledgement.objects.order_by("created_at").first()
    silencer_client.post(f"/acks/{first.silence_id}/end/", {"next": "/alerts/"})

    # "The alerts are active again immediately" (docs/acknowledgements.md, Ending it).
    assert row_extras(alerts_page(silencer_client, tag, state=BOTH), disk) == ""
    assert Acknowledgement.objects.count() == 1
    assert "Already acknowledged by alice" in messages_of(second), messages_of(second)


def test_a_policy_maximum_still_gets_its_last_extension_announced(am, silencer, tag, settings):
    # The issue: extensions "stop at a maximum (policy), with a notice before the last one".
    # With a 40m policy maximum, a 30m acknowledgement of a firing alert used to end at 30m:
    # the extension to 57m was refused, none to 40m tried, and nobody told.
    from alertui.notices.models import Delivery
    from tests.policy_helpers import make_rule
    from tests.servers import free_port

    settings.NOTIFY_WEBHOOK_URLS = [f"http://127.0.0.1:{free_port()}/hook"]
    make_rule("forty-minutes", "max_duration", max_duration="40m")
    fire(am, tag)
    made, silence = ack(silencer, tag, minutes=30)

    run_at(made.created_at + 27 * MIN)

    end = am_end(am, silence.id)
    assert made.created_at + 39 * MIN < end <= made.created_at + 40 * MIN + timedelta(seconds=5)
    (last,) = Delivery.objects.filter(silence_id=silence.id, kind="silence.extended")
    assert "reached the silence policy's maximum" in last.payload["note"]


@pytest.mark.django_db(transaction=True)
def test_two_tabs_acknowledging_at_the_same_moment_make_one_acknowledgement(am, silencer, tag):
    # Both presses arrive together: each checks that nothing is acknowledged yet, then both
    # make a silence (the check and the silence are seconds apart: Alertmanager is asked twice).
    import threading

    from django.core.exceptions import ValidationError

    fire(am, tag)
    start = threading.Barrier(2)
    refused, errors = [], []

    def press():
        from django.db import connection

        try:
            start.wait(10)
            ack(silencer, tag)
        except ValidationError as e:
            refused.append(e)
        except Exception as e:  # reported below
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=press) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert not errors
    assert Acknowledgement.objects.count() == 1
    assert len(refused) == 1


@pytest.fixture(scope="module")
def alertmanager_033(tmp_path_factory):
    from tests.servers import AlertmanagerProcess

    am = AlertmanagerProcess("0.33", tmp_path_factory.mktemp("am033")).start()
    yield am
    am.stop()


def test_an_extension_keeps_every_annotation_another_tool_gave_the_silence(
    settings, alertmanager_033, redis_db, silencer, tag
):
    # The job extends acknowledgements (and people extend silences) by sending the silence
    # back with its annotations: "not ours to drop". A silence made by another tool with more
    # annotations than alertui reads (50) lost the rest at the first extension.
    from datetime import UTC, datetime

    import requests

    from alertui.silences import services as silence_services
    from alertui.silences.recorder import Actor

    settings.ALERTMANAGER_URLS = [alertmanager_033.url]
    now = datetime.now(UTC)
    annotations = {f"ticket.{i:02}": f"https://tickets.example/{i}" for i in range(60)}
    made = requests.post(
        f"{alertmanager_033.url}/api/v2/silences",
        json={
            "matchers": [{"name": "test_id", "value": tag, "isRegex": False, "isEqual": True}],
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(hours=1)).isoformat(),
            "createdBy": "amtool",
            "comment": "made elsewhere",
            "annotations": annotations,
        },
        timeout=10,
    ).json()["silenceID"]

    try:
        silence_services.extend_silence(Actor(silencer), made, now + timedelta(hours=2))
    except silence_services.SilenceActionError:  # refusing is fine: dropping ten is not
        pass

    held = requests.get(f"{alertmanager_033.url}/api/v2/silence/{made}", timeout=10).json()
    assert held["annotations"] == annotations
