"""Acknowledging from the alerts page: an alert's row or a group's header, against a real
Alertmanager 0.25 and the real sync. The row then says who acknowledged it and since when
(an absolute time the browser turns into "5m ago", so the cached row stays right); a person
ends it at once. Hostile or stale input changes nothing."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from alertui.acks.models import Acknowledgement
from alertui.audit.models import AuditEvent
from alertui.integrations.values import parse_time
from alertui.silences.models import Silence
from tests.acks_helpers import am_silence, same_moment
from tests.alerts_page_reading import alerts_page, fire, group_named, row, row_extras, sync
from tests.servers import free_port
from tests.test_alerts_rows import fingerprint

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]

BOTH = ["active", "silenced"]


def post_ack(client, tag, **data):
    here = f"/alerts/?q=test%3D%22{tag}%22&state=active&state=silenced"
    return client.post("/acks/new/", {"next": here, **data}, follow=True)


def messages_of(response) -> str:
    found = re.search(r'<ul class="messages">(.*?)</ul>', response.content.decode(), re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found[1])).split()) if found else ""


def test_it_acknowledges_one_alert_from_its_row(am, silencer, silencer_client, tag):
    fire(am, tag, ({"alertname": "DiskFull", "instance": "db1"}, None))
    disk = fingerprint(tag, "DiskFull")
    page = alerts_page(silencer_client, tag)
    # One form on the page holds the duration; the row's button submits it with the alert.
    assert f'form="ack-form" name="alert" value="{disk}@default"' in row(page, disk)
    form = page.split('id="ack-form"', 1)[1].split("</form>", 1)[0]
    assert '<option value="30m" selected>30m</option>' in form  # ACK_DURATION

    before = timezone.now()
    response = post_ack(silencer_client, tag, alert=f"{disk}@default", duration="1h")

    assert response.redirect_chain[-1][0].startswith(f"/alerts/?q=test%3D%22{tag}")
    assert "Acknowledged for 1h, in your name." in messages_of(response)
    ack = Acknowledgement.objects.get()
    held = am_silence(am, ack.silence_id)
    assert held["createdBy"] == "alice"
    assert held["comment"] == "[ack] Acknowledged by alice on the alerts page"
    matchers = {(m["name"], m["value"], m["isRegex"]) for m in held["matchers"]}
    assert matchers == {
        ("alertname", "DiskFull", False),
        ("instance", "db1", False),
        ("test", tag, False),
    }
    assert before + timedelta(hours=1) <= parse_time(held["endsAt"])
    assert parse_time(held["endsAt"]) <= timezone.now() + timedelta(hours=1)
    # The row shows it at once (no sync needed), with the person and the absolute time.
    page = alerts_page(silencer_client, tag, state=BOTH)
    extras = row_extras(page, disk)
    assert extras.startswith("Acknowledged by alice at "), extras
    assert "End acknowledgement" in extras and "Extend +1h" not in extras
    assert f'<time data-ago datetime="{ack.created_at.isoformat()}">' in row(page, disk)


def test_it_acknowledges_a_group_and_the_badge_holds_after_the_sync(
    am, silencer, silencer_client, tag
):
    fire(
        am,
        tag,
        ({"alertname": "Pair", "instance": "a"}, None),
        ({"alertname": "Pair", "instance": "b"}, None),
        ({"alertname": "Other"}, None),
    )
    pair = group_named(alerts_page(silencer_client, tag), "Pair")
    assert 'name="group" value="default alertname=&quot;Pair&quot;, test=&quot;' in pair.html

    post_ack(silencer_client, tag, group=f'default alertname="Pair", test="{tag}"')
    sync()  # Alertmanager's own silencedBy replaces alertui's reading of the change

    ack = Acknowledgement.objects.get()
    assert same_moment(ack.max_until - ack.created_at, timedelta(hours=12))
    page = alerts_page(silencer_client, tag, state=BOTH)
    for instance in ("a", "b"):
        extras = row_extras(page, fingerprint(tag, "Pair", instance=instance))
        assert extras.startswith("Acknowledged by alice at "), extras
    assert row_extras(page, fingerprint(tag, "Other")) == ""


def test_a_person_ends_the_acknowledgement_at_once(am, silencer, silencer_client, tag):
    fire(am, tag, ({"alertname": "DiskFull"}, None))
    disk = fingerprint(tag, "DiskFull")
    post_ack(silencer_client, tag, alert=f"{disk}@default")
    ack = Acknowledgement.objects.get()
    assert "Acknowledged by alice" in row_extras(
        alerts_page(silencer_client, tag, state=BOTH), disk
    )

    response = silencer_client.post(
        f"/acks/{ack.silence_id}/end/", {"next": "/alerts/"}, follow=True
    )

    assert "Acknowledgement of alice ended." in messages_of(response)
    assert am_silence(am, ack.silence_id)["status"]["state"] == "expired"
    ack.refresh_from_db()
    assert ack.ending == "ended" and ack.ended_at is not None
    expired = AuditEvent.objects.get(silence_id=ack.silence_id, action="expired")
    assert (expired.actor_name, expired.source) == ("alice", "browser")
    page = alerts_page(silencer_client, tag, state=BOTH)
    assert row_extras(page, disk) == ""  # active again, no badge
    sync()
    assert row_extras(alerts_page(silencer_client, tag, state=BOTH), disk) == ""


@pytest.mark.parametrize(
    "data, error",
    [
        ({"duration": "forever"}, "'forever' is not a duration"),
        ({"duration": "1w"}, "between 1m and 12h (ACK_MAX_DURATION)"),
        ({"duration": "10s"}, "between 1m and 12h"),
        ({"group": 'default alertname=~"("'}, "Matchers:"),
        ({"group": "default " + "x" * 30_000}, "Say what to acknowledge"),
        ({"group": 'nowhere alertname="DiskFull"'}, "No such cluster: 'nowhere'"),
        ({"group": 'alertname="DiskFull"'}, "Say what to acknowledge"),  # no cluster
        ({"alert": "0123456789abcdef@default"}, "That alert is no longer firing"),
        ({"alert": "0123456789abcdef"}, "That alert is no longer firing"),
        ({"group": ""}, "Say what to acknowledge"),
    ],
)
def test_it_refuses_bad_input_and_changes_nothing(am, silencer_client, tag, data, error):
    fire(am, tag, ({"alertname": "DiskFull"}, None))
    base = {"group": f'default alertname="DiskFull", test="{tag}"'}
    response = post_ack(silencer_client, tag, **{**base, **data})

    assert response.status_code == 200
    assert error in messages_of(response), messages_of(response)
    assert not Acknowledgement.objects.exists()
    assert not Silence.objects.exists() and not AuditEvent.objects.exists()


def test_a_viewer_may_not_acknowledge_and_sees_no_button(am, viewer_client, tag):
    fire(am, tag, ({"alertname": "DiskFull"}, None))
    page = alerts_page(viewer_client, tag)
    assert "Acknowledge" not in page
    response = viewer_client.post("/acks/new/", {"group": f'default test="{tag}"'})
    assert response.status_code == 403
    assert not Acknowledgement.objects.exists()


def test_an_unreachable_alertmanager_acknowledges_nothing_and_says_so(
    am, silencer_client, settings, tag
):
    fire(am, tag, ({"alertname": "DiskFull"}, None))
    disk = fingerprint(tag, "DiskFull")
    settings.ALERTMANAGER_URLS = [f"http://127.0.0.1:{free_port()}"]

    response = post_ack(silencer_client, tag, alert=f"{disk}@default")

    assert "Not acknowledged in default: " in messages_of(response)
    assert "Nothing was changed." in messages_of(response)
    assert not Acknowledgement.objects.exists()
    [failed] = AuditEvent.objects.all()
    assert (failed.action, failed.outcome, failed.actor_name) == ("created", "failed", "alice")
