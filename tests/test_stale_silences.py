"""Stale silences: when each silence last muted an alert (kept by the alerts sync, from real
Alertmanager alerts), the list's "stale" filter, and the policy that expires silences which
muted nothing for SILENCE_STALE_EXPIRE_HOURS."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from alertui.alerts.sync import sync_alerts
from alertui.audit.models import AuditEvent
from alertui.integrations.alertmanager import AlertmanagerClient
from alertui.matchers import Matcher
from alertui.silences import services
from alertui.silences.services import Actor, SilenceValues
from alertui.stale_silences.models import SilenceMatch
from alertui.stale_silences.policy import expire_stale
from tests.servers import make_alert, wait_until

pytestmark = pytest.mark.django_db


def silence_for(user, tag, *, node, hours=48):
    now = timezone.now()
    matchers = (Matcher("test", "=", tag), Matcher("node", "=", node))
    values = SilenceValues(matchers, now, now + timedelta(hours=hours), f"node {node} work")
    return services.create_silence(Actor(user), values)


def match_of(silence):
    return SilenceMatch.objects.filter(pk=silence.id).first()


def row_of(page, silence) -> str:
    html = page.content.decode()
    assert f"/silences/{silence.id}/" in html, "the silence is not listed"
    return html.split(f"/silences/{silence.id}/")[1].split("</tr>")[0]


def mutes(silence) -> bool:
    sync_alerts()
    match = match_of(silence)
    return match is not None and match.muting


def resolve(alertmanager, alert):
    alertmanager.push_alerts([{**alert, "endsAt": alert["startsAt"]}])


def test_it_records_when_a_silence_stops_muting_and_lists_it_as_stale_later(
    am_settings, alertmanager, redis_db, silencer, silencer_client, tag
):
    alert = make_alert({"alertname": "NodeDown", "test": tag, "node": "db-1"})
    alertmanager.push_alerts([alert])
    silence = silence_for(silencer, tag, node="db-1")
    wait_until(lambda: mutes(silence), timeout=10, what="the silence muting the alert")
    assert "matched nothing" not in row_of(silencer_client.get("/silences/", {"q": tag}), silence)

    resolve(alertmanager, alert)
    wait_until(lambda: not mutes(silence), timeout=10, what="the alert resolved")
    match = match_of(silence)
    assert match.quiet_since is not None and match.last_matched_at == match.quiet_since
    page = silencer_client.get("/silences/", {"q": tag})
    assert "matched nothing since" in row_of(page, silence)
    assert match.quiet_since.isoformat() in row_of(page, silence)
    # Quiet for a moment only: not stale yet (SILENCE_STALE_AFTER is 1 h).
    stale_now = silencer_client.get("/silences/", {"q": tag, "show": "stale"})
    assert f"/silences/{silence.id}/" not in stale_now.content.decode()

    with time_machine.travel(match.quiet_since + timedelta(hours=1, minutes=1), tick=False):
        stale_later = silencer_client.get("/silences/", {"q": tag, "show": "stale"})
    assert "matched nothing since" in row_of(stale_later, silence)


def test_it_says_a_silence_that_never_matched_has_matched_nothing_since_its_start(
    am_settings, alertmanager, redis_db, silencer, silencer_client, tag
):
    silence = silence_for(silencer, tag, node="nowhere")
    sync_alerts()
    match = match_of(silence)
    assert (match.muting, match.last_matched_at) == (False, None)
    assert match.quiet_since == silence.starts_at
    row = row_of(silencer_client.get("/silences/", {"q": tag}), silence)
    assert "matched nothing since" in row and "(its start)" in row


def test_it_reads_the_alert_history_for_a_silence_it_had_not_watched(
    am_settings, alertmanager, redis_db, silencer, tag
):
    alert = make_alert({"alertname": "NodeDown", "test": tag, "node": "db-2"})
    alertmanager.push_alerts([alert])
    silence = silence_for(silencer, tag, node="db-2")
    wait_until(lambda: mutes(silence), timeout=10, what="the silence muting the alert")
    # As after an upgrade: the silence muted the alert before alertui kept these rows.
    SilenceMatch.objects.all().delete()
    resolve(alertmanager, alert)
    wait_until(
        lambda: sync_alerts() and match_of(silence) is not None,
        timeout=10,
        what="the silence's row made again",
    )
    match = match_of(silence)
    assert match.muting is False
    # The history row of the alert closed when it resolved: that is when it last muted it.
    assert match.last_matched_at is not None and match.last_matched_at > silence.starts_at
    assert match.quiet_since == match.last_matched_at


def test_it_expires_silences_that_muted_nothing_for_the_set_hours(
    am_settings, alertmanager, redis_db, silencer, tag, settings
):
    settings.SILENCE_STALE_EXPIRE_HOURS = 24
    alert = make_alert(
        {"alertname": "NodeDown", "test": tag, "node": "busy"}, ends_in=timedelta(days=3)
    )
    alertmanager.push_alerts([alert])
    quiet = silence_for(silencer, tag, node="gone")
    busy = silence_for(silencer, tag, node="busy")
    wait_until(lambda: mutes(busy), timeout=10, what="the busy silence muting its alert")

    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=True):
        sync_alerts()  # the policy acts only on a fresh alert sync
        report = expire_stale()
        again = expire_stale()

    assert report.expired == [quiet.id] and report.failed == []
    assert again.expired == [] and again.failed == []
    am = AlertmanagerClient(settings.ALERTMANAGER_URLS)
    assert am.get_silence(quiet.id).state == "expired"
    assert am.get_silence(busy.id).state == "active"
    (event,) = AuditEvent.objects.filter(silence_id=quiet.id, action="expired")
    assert (event.outcome, event.source, event.actor) == ("succeeded", "policy", None)
    assert event.actor_name == "stale-silence policy (muted no alert for 24 h)"
    assert not AuditEvent.objects.filter(silence_id=busy.id, action="expired").exists()


def test_it_expires_nothing_when_the_policy_is_off(
    am_settings, alertmanager, redis_db, silencer, tag
):
    quiet = silence_for(silencer, tag, node="gone")
    sync_alerts()
    with time_machine.travel(timezone.now() + timedelta(hours=47), tick=True):
        sync_alerts()
        assert expire_stale().enabled is False
        call_command("expire_stale_silences")
    am = AlertmanagerClient(am_settings.ALERTMANAGER_URLS)
    assert am.get_silence(quiet.id).state == "active"
    assert not AuditEvent.objects.filter(action="expired").exists()


def test_it_trusts_no_stale_alert_snapshot(
    am_settings, alertmanager, redis_db, silencer, tag, settings
):
    settings.SILENCE_STALE_EXPIRE_HOURS = 1
    quiet = silence_for(silencer, tag, node="gone")
    sync_alerts()
    # The alerts sync has not run for 5 hours (Alertmanager unreachable, workers down): that
    # the silence mutes nothing is not known, so nothing is expired.
    with time_machine.travel(timezone.now() + timedelta(hours=5), tick=True):
        report = expire_stale()
    assert report.expired == [] and report.skipped_clusters == ["default"]
    am = AlertmanagerClient(settings.ALERTMANAGER_URLS)
    assert am.get_silence(quiet.id).state == "active"


def test_the_command_runs_the_policy(
    am_settings, alertmanager, redis_db, silencer, tag, settings, capsys
):
    settings.SILENCE_STALE_EXPIRE_HOURS = 2
    quiet = silence_for(silencer, tag, node="gone")
    sync_alerts()
    with time_machine.travel(timezone.now() + timedelta(hours=3), tick=True):
        sync_alerts()
        call_command("expire_stale_silences")
    assert "1 expired, 0 failed." in capsys.readouterr().out
    am = AlertmanagerClient(settings.ALERTMANAGER_URLS)
    assert am.get_silence(quiet.id).state == "expired"


@pytest.mark.django_db(transaction=True)
def test_it_tells_the_owner_when_the_policy_expires_their_silence(
    am_settings, alertmanager, redis_db, silencer, tag, settings
):
    from tests.notice_receiver import Receiver, slack_text

    receiver = Receiver()
    try:
        settings.NOTIFY_WEBHOOK_URLS = [receiver.url + "/hook"]
        settings.NOTIFY_SLACK_WEBHOOK_URL = receiver.url + "/slack"
        settings.SILENCE_STALE_EXPIRE_HOURS = 24
        quiet = silence_for(silencer, tag, node="gone")
        sync_alerts()
        with time_machine.travel(timezone.now() + timedelta(hours=25), tick=True):
            sync_alerts()
            assert expire_stale().expired == [quiet.id]
        wait_until(lambda: len(receiver.hook()) == 2, timeout=10, what="two webhook notices")
        expired = [h for h in receiver.hook() if h["kind"] == "silence.expired"]
        (notice,) = expired
        assert notice["silence_id"] == quiet.id and notice["source"] == "policy"
        assert notice["created_by"] == "alice"
        assert notice["actor"] == "stale-silence policy (muted no alert for 24 h)"
        slack = [b for b in receiver.bodies("/slack") if "expired" in b["text"]]
        assert "made by *alice*" in slack_text(slack[0])
    finally:
        receiver.stop()


def test_the_beat_runs_the_policy_which_does_nothing_while_it_is_off(settings):
    from alertui.stale_silences.tasks import expire_stale_silences

    job = settings.CELERY_BEAT_SCHEDULE["expire-stale-silences"]
    assert job["task"] == expire_stale_silences.name and job["schedule"] == 300
    assert expire_stale_silences() == {"expired": 0, "failed": 0, "busy": False}
