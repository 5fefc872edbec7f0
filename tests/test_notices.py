"""Slack and webhook notices of silence changes, and reminders before a muting silence expires.

Notices go to a local HTTP receiver (a real HTTP server in a thread) that records every request;
silences are made on a real Alertmanager. Celery runs eagerly in tests (tests/settings.py), so a
queued task, and each of its retries, runs inline when its transaction commits: the tests use
django_db(transaction=True) so commits, and on_commit queueing, happen as in production.
"""

import base64
import json
import logging
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.utils import timezone

from alertui.alerts.models import Alert
from alertui.alerts.sync import sync_alerts
from alertui.audit.models import AuditEvent
from alertui.integrations.alertmanager import AlertmanagerClient, SilenceRequest
from alertui.matchers import Matcher
from alertui.notices.models import Delivery, SilenceReminder
from alertui.notices.reminders import remind_expiring_silences
from alertui.notices.tasks import deliver, send_notice
from alertui.silences import services
from alertui.silences.services import Actor, SilenceActionError, SilenceValues
from alertui.silences.sync import sync_silences
from tests.notice_receiver import SITE, SLACK_PATH, Receiver, slack_text
from tests.servers import free_port, make_alert, wait_until
from tests.standins import HangingServer

pytestmark = pytest.mark.django_db(transaction=True)


def values(tag, *, minutes=120, comment="deploying the api", extra=(), starts_at=None):
    now = timezone.now()
    matchers = (Matcher("alertname", "=", "HighErrorRate"), Matcher("test", "=", tag), *extra)
    return SilenceValues(matchers, starts_at or now, now + timedelta(minutes=minutes), comment)


# -- what a notice says ---------------------------------------------------------------------


def test_it_announces_a_new_silence_to_slack_and_the_webhook(
    am_settings, notify, receiver, silencer, tag
):
    silence = services.create_silence(Actor(silencer), values(tag))

    (hook,) = receiver.hook()
    assert hook["kind"] == "silence.created"
    assert hook["silence_id"] == silence.id and hook["previous_silence_id"] == ""
    assert hook["actor"] == "alice" and hook["source"] == "browser"
    assert hook["matchers"] == ['alertname="HighErrorRate"', f'test="{tag}"']
    assert hook["comment"] == "deploying the api"
    assert hook["ends_at"] == silence.ends_at.isoformat().replace("+00:00", "Z")
    assert hook["url"] == f"{SITE}/silences/{silence.id}/"
    assert hook["audit_url"] == f"{SITE}/audit/silence/{silence.id}/"

    (slack,) = receiver.slack()
    text = slack_text(slack)
    assert "*alice* created" in text
    assert f'`test="{tag}"`' in text
    assert "deploying the api" in text
    assert f"{silence.ends_at:%Y-%m-%d %H:%M} UTC" in slack["text"]  # the fallback, in UTC
    assert f"<{SITE}/silences/{silence.id}/|" in text
    assert receiver.requests[0]["headers"]["Content-Type"] == "application/json"

    sent = Delivery.objects.filter(silence_id=silence.id)
    assert sorted(sent.values_list("destination", "status", "attempts")) == [
        ("127.0.0.1:" + receiver.url.rsplit(":", 1)[1], "sent", 1),
        ("slack", "sent", 1),
    ]


def test_it_sends_one_notice_of_the_right_kind_per_change(am, notify, receiver, silencer, tag):
    actor = Actor(silencer)
    created = services.create_silence(actor, values(tag))
    services.extend_silence(actor, created.id, created.ends_at + timedelta(hours=1))
    # The same start: an active silence whose start moves is replaced, not edited in place.
    start = created.starts_at
    services.edit_silence(
        actor, created.id, values(tag, minutes=240, comment="takes longer", starts_at=start)
    )
    replaced = services.edit_silence(
        actor,
        created.id,
        values(tag, minutes=240, extra=(Matcher("job", "=", "api"),), starts_at=start),
    )
    services.expire_silence(actor, replaced.id)

    kinds = [(h["kind"], h["silence_id"]) for h in receiver.hook()]
    assert kinds == [
        ("silence.created", created.id),
        ("silence.extended", created.id),
        ("silence.edited", created.id),
        ("silence.replaced", replaced.id),
        ("silence.expired", replaced.id),
    ]
    assert len(receiver.slack()) == 5
    extended, edited, swapped, expired = receiver.hook()[1:]
    assert extended["ends_at"] > receiver.hook()[0]["ends_at"]
    assert edited["comment"] == "takes longer"
    assert swapped["previous_silence_id"] == created.id
    assert 'job="api"' in swapped["matchers"]
    assert "*alice* expired" in slack_text(receiver.slack()[4])
    assert "*Ended:*" in slack_text(receiver.slack()[4])
    ended = expired["ends_at"].replace("T", " ")[:16]
    assert receiver.slack()[4]["text"].startswith("alice expired silence ")
    assert f" at {ended} UTC: " in receiver.slack()[4]["text"]
    assert f" until {edited['ends_at'].replace('T', ' ')[:16]} UTC: " in receiver.slack()[2]["text"]


def test_it_escapes_slack_markup_typed_into_labels_and_comments(
    am, notify, receiver, silencer, tag
):
    comment = "see <http://evil.example|the runbook> & ping <!channel> <@U123>"
    matchers = (Matcher("test", "=", tag), Matcher("team", "=", "<!here>"))
    now = timezone.now()
    services.create_silence(
        Actor(silencer), SilenceValues(matchers, now, now + timedelta(hours=1), comment)
    )

    (slack,) = receiver.slack()
    text = slack_text(slack)
    for injected in ("<!channel>", "<!here>", "<http://evil.example", "<@U123>"):
        assert injected not in text
    assert "&lt;http://evil.example|the runbook&gt; &amp; ping &lt;!channel&gt;" in text
    assert 'team="&lt;!here&gt;"' in text
    # The webhook gets the values as typed: JSON consumers escape for their own output.
    (hook,) = receiver.hook()
    assert hook["comment"] == comment and 'team="<!here>"' in hook["matchers"]


def test_it_clips_a_long_comment_in_slack_but_not_in_the_webhook(
    am, notify, receiver, silencer, tag
):
    long = "x" * 3000
    services.create_silence(Actor(silencer), values(tag, comment=long))

    assert receiver.hook()[0]["comment"] == long
    text = slack_text(receiver.slack()[0])
    assert "x" * 499 + "…" in text and "x" * 501 not in text


def test_it_says_a_change_made_outside_alertui_was_seen_in_alertmanager(am, notify, receiver, tag):
    now = timezone.now()
    request = SilenceRequest(
        (Matcher("test", "=", tag),), now, now + timedelta(hours=1), "bob via amtool", "disk swap"
    )
    silence_id = AlertmanagerClient([am.url]).post_silence(request)
    sync_silences()

    (hook,) = [h for h in receiver.hook() if h["silence_id"] == silence_id]
    assert (hook["kind"], hook["source"], hook["actor"]) == (
        "silence.created",
        "sync",
        "bob via amtool",
    )
    (slack,) = [s for s in receiver.slack() if silence_id[:8] in slack_text(s)]
    assert "outside alertui (seen in Alertmanager; createdBy *bob via amtool*)" in slack_text(slack)


def test_it_names_nobody_as_the_actor_of_a_change_seen_in_alertmanager(
    am, notify, receiver, silencer, tag
):
    # alice made the silence in alertui; carol expired it with amtool, which names nobody.
    silence = services.create_silence(Actor(silencer), values(tag))
    AlertmanagerClient([am.url]).expire_silence(silence.id)
    sync_silences()

    (hook,) = [h for h in receiver.hook() if h["kind"] == "silence.expired"]
    assert (hook["silence_id"], hook["source"], hook["actor"]) == (silence.id, "sync", "")
    assert hook["created_by"] == "alice"
    (slack,) = [s for s in receiver.slack() if "expired" in slack_text(s)]
    text = slack_text(slack)
    assert "was expired outside alertui (seen in Alertmanager; createdBy *alice*)" in text
    assert "alice expired" not in text


# -- what is not announced ---------------------------------------------------------------------


def test_it_does_not_announce_old_silences_found_by_a_first_sync(am, notify, receiver, tag):
    """alertui deployed next to an Alertmanager that already holds silences: no flood."""
    now = timezone.now()
    request = SilenceRequest(
        (Matcher("test", "=", tag),), now, now + timedelta(hours=6), "bob via amtool", "old"
    )
    silence_id = AlertmanagerClient([am.url]).post_silence(request)
    with time_machine.travel(now + timedelta(hours=2), tick=True):
        sync_silences()

    assert AuditEvent.objects.filter(silence_id=silence_id, action="created").exists()
    assert [h for h in receiver.hook() if h["silence_id"] == silence_id] == []


def test_it_sends_nothing_when_no_url_is_configured(am, settings, receiver, silencer, tag):
    settings.NOTIFY_SLACK_WEBHOOK_URL = ""
    settings.NOTIFY_WEBHOOK_URLS = []
    created = services.create_silence(Actor(silencer), values(tag))
    services.expire_silence(Actor(silencer), created.id)

    assert AuditEvent.objects.filter(silence_id=created.id).count() == 2
    assert receiver.requests == [] and not Delivery.objects.exists()


def test_it_does_not_announce_failed_attempts_or_a_natural_end(am, notify, receiver, silencer, tag):
    created = services.create_silence(Actor(silencer), values(tag))
    services.expire_silence(Actor(silencer), created.id)
    with pytest.raises(SilenceActionError):
        services.expire_silence(Actor(silencer), created.id)  # already expired: a failed attempt

    now = timezone.now()
    short = SilenceRequest(
        (Matcher("test", "=", tag),), now, now + timedelta(seconds=2), "bob", "x"
    )
    short_id = AlertmanagerClient([am.url]).post_silence(short)
    sync_silences()
    time.sleep(2.5)  # Alertmanager's clock is real: let the silence run out
    sync_silences()

    assert AuditEvent.objects.filter(outcome="failed", silence_id=created.id).exists()
    assert AuditEvent.objects.filter(action="ended", silence_id=short_id).exists()
    mine = [(h["kind"], h["silence_id"]) for h in receiver.hook()]
    assert [k for k in mine if k[1] == created.id] == [
        ("silence.created", created.id),
        ("silence.expired", created.id),
    ]
    assert [k for k in mine if k[1] == short_id] == [("silence.created", short_id)]


# -- failing webhooks -------------------------------------------------------------------------


def test_it_retries_a_webhook_that_fails_until_it_answers(am, notify, receiver, silencer, tag):
    """The receiver answers 500 twice, then 200: three attempts, recorded as sent."""
    receiver.statuses = [500, 500]
    notify.NOTIFY_WEBHOOK_URLS = []
    silence = services.create_silence(Actor(silencer), values(tag))

    assert len(receiver.slack()) == 3
    assert receiver.slack()[0] == receiver.slack()[2]  # the same message each time
    delivery = Delivery.objects.get(silence_id=silence.id)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 3, "")
    assert delivery.sent_at is not None


def test_it_retries_only_the_failing_destination(am, notify, receiver, silencer, tag):
    broken = Receiver(statuses=[503, 503])
    notify.NOTIFY_WEBHOOK_URLS = [broken.url + "/hook"]
    try:
        silence = services.create_silence(Actor(silencer), values(tag))
    finally:
        broken.stop()

    assert len(broken.hook()) == 3 and broken.hook()[0] == broken.hook()[2]
    assert len(receiver.slack()) == 1  # not re-sent because the webhook failed
    hook = Delivery.objects.get(silence_id=silence.id, channel="webhook")
    assert (hook.status, hook.attempts, hook.last_error) == ("sent", 3, "")


def test_it_gives_up_after_the_configured_retries_and_the_silence_stays(
    am, notify, receiver, silencer, tag, caplog
):
    receiver.statuses = [500] * 20
    notify.NOTIFY_WEBHOOK_URLS = []
    notify.NOTIFY_MAX_RETRIES = 2
    with caplog.at_level(logging.WARNING):
        silence = services.create_silence(Actor(silencer), values(tag))

    assert len(receiver.slack()) == 3  # the first try and two retries
    delivery = Delivery.objects.get(silence_id=silence.id)
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert delivery.last_error == "HTTP 500: no_service"
    assert AuditEvent.objects.get(silence_id=silence.id).outcome == "succeeded"
    assert AlertmanagerClient([am.url]).get_silence(silence.id).state == "active"
    # The Slack URL is a secret: it appears neither in the log nor in what operators see.
    assert "slack-secret-token" not in caplog.text
    assert "giving up" in caplog.text and "slack" in caplog.text


def test_the_slack_url_stays_out_of_a_debug_log(am, notify, receiver, silencer, tag, caplog):
    # LOG_LEVEL=DEBUG, as an operator sets it to chase a problem: the HTTP library logs each
    # request's path at DEBUG, and Slack's path is the webhook's secret.
    receiver.statuses = [500]
    with caplog.at_level(logging.DEBUG):
        services.create_silence(Actor(silencer), values(tag))

    assert len(receiver.slack()) == 2  # a failure and its retry, both logged at length
    assert "slack-secret-token" not in caplog.text
    assert "/hook" not in caplog.text  # another webhook's path may hold a token too


def test_the_slack_url_stays_out_of_the_log_when_slack_answers_garbled_headers(
    am, notify, silencer, tag, caplog
):
    # The HTTP library warns "Failed to parse headers (url=...)" with the whole URL, at the
    # default log level. Garbled headers are what a real receiver cannot be made to send: a
    # stand-in writes them.
    class Garbled(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nnot a header\r\n\r\nok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Garbled)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        notify.NOTIFY_SLACK_WEBHOOK_URL = f"http://127.0.0.1:{server.server_address[1]}{SLACK_PATH}"
        notify.NOTIFY_WEBHOOK_URLS = []
        with caplog.at_level(logging.INFO):
            silence = services.create_silence(Actor(silencer), values(tag))
    finally:
        server.shutdown()
        server.server_close()

    assert Delivery.objects.get(silence_id=silence.id).attempts >= 1
    assert "slack-secret-token" not in caplog.text


def test_it_does_not_retry_a_webhook_that_refuses_the_request(am, notify, receiver, silencer, tag):
    receiver.statuses = [404, 404]  # what Slack answers for a deleted webhook
    notify.NOTIFY_WEBHOOK_URLS = []
    silence = services.create_silence(Actor(silencer), values(tag))

    assert len(receiver.requests) == 1
    delivery = Delivery.objects.get(silence_id=silence.id)
    assert (delivery.status, delivery.attempts) == ("failed", 1)


def test_it_keeps_working_when_a_webhook_port_is_closed(am, notify, receiver, silencer, tag):
    notify.NOTIFY_WEBHOOK_URLS = [f"http://127.0.0.1:{free_port()}/hook"]
    silence = services.create_silence(Actor(silencer), values(tag))
    services.expire_silence(Actor(silencer), silence.id)

    assert [s["blocks"][0]["text"]["text"].split()[1] for s in receiver.slack()] == [
        "created",
        "expired",
    ]
    failed = Delivery.objects.filter(channel="webhook")
    assert [(d.status, d.attempts, d.last_error) for d in failed] == [
        ("failed", 4, "could not connect")
    ] * 2
    assert AuditEvent.objects.filter(silence_id=silence.id, outcome="succeeded").count() == 2


def test_it_times_out_a_hanging_webhook_and_the_action_succeeds(
    am, notify, receiver, silencer, tag
):
    """A stand-in, because no real receiver can be made to hang on demand: it accepts the
    connection and never answers."""
    hanging = HangingServer()
    notify.NOTIFY_WEBHOOK_URLS = [hanging.url + "/hook"]
    notify.NOTIFY_TIMEOUT = 1
    notify.NOTIFY_MAX_RETRIES = 0
    try:
        silence = services.create_silence(Actor(silencer), values(tag))
    finally:
        hanging.stop()

    assert b"POST /hook" in hanging.received
    delivery = Delivery.objects.get(silence_id=silence.id, channel="webhook")
    assert (delivery.status, delivery.last_error) == ("failed", "no answer within 1s")
    assert len(receiver.slack()) == 1
    assert AuditEvent.objects.get(silence_id=silence.id).outcome == "succeeded"


# -- reminders --------------------------------------------------------------------------------


def firing_and_muted(am, tag, silence_id, count=1):
    """Sync alerts until the snapshot shows `count` alerts of this test muted by the silence."""
    wait_until(
        lambda: (
            sync_alerts()
            and sum(
                silence_id in a.silenced_by
                for a in Alert.objects.all()
                if a.labels.get("test") == tag
            )
            == count
        ),
        timeout=10,
        what=f"{count} alert(s) muted by {silence_id}",
    )


def reminders(receiver):
    return [h for h in receiver.hook() if h["kind"] == "silence.reminder"]


def test_it_reminds_once_before_a_silence_that_mutes_a_firing_alert_expires(
    am, notify, receiver, silencer, tag
):
    am.push_alerts([make_alert({"alertname": "HighErrorRate", "test": tag, "pod": "api-1"})])
    silence = services.create_silence(Actor(silencer), values(tag, minutes=10))
    firing_and_muted(am, tag, silence.id)

    assert remind_expiring_silences() == 1
    assert remind_expiring_silences() == 0  # a second run sends nothing

    (hook,) = reminders(receiver)
    assert hook["silence_id"] == silence.id and hook["actor"] == "alice"
    assert hook["muted_alerts"] == 1 and hook["alertnames"] == ["HighErrorRate"]
    assert hook["url"] == f"{SITE}/silences/{silence.id}/"
    (slack,) = [s for s in receiver.slack() if ":hourglass:" in slack_text(s)]
    text = slack_text(slack)
    assert "by *alice*" in text and "still mutes 1 firing alert" in text
    assert f"<{SITE}/silences/{silence.id}/|Extend the silence>" in text
    assert SilenceReminder.objects.get().silence_id == silence.id

    # Extended, but still ending within the reminder window: a new end, a new reminder.
    services.extend_silence(Actor(silencer), silence.id, silence.ends_at + timedelta(minutes=2))
    assert remind_expiring_silences() == 1
    assert remind_expiring_silences() == 0
    assert [r["ends_at"] > hook["ends_at"] for r in reminders(receiver)] == [False, True]


def test_it_does_not_remind_about_a_silence_muting_nothing_or_ending_later(
    am, notify, receiver, silencer, tag
):
    am.push_alerts([make_alert({"alertname": "DiskFull", "test": tag})])
    idle = services.create_silence(Actor(silencer), values(tag, minutes=10))  # HighErrorRate
    later = services.create_silence(
        Actor(silencer),
        SilenceValues(
            (Matcher("test", "=", tag),),
            timezone.now(),
            timezone.now() + timedelta(hours=2),
            "long maintenance",
        ),
    )
    firing_and_muted(am, tag, later.id)

    assert remind_expiring_silences() == 0
    assert reminders(receiver) == [] and not SilenceReminder.objects.exists()
    assert idle.current_state == "active"


def test_it_runs_reminders_as_a_celery_task(am, notify, receiver, silencer, tag):
    from alertui.celery import app
    from alertui.notices.tasks import remind_expiring_silences as task

    am.push_alerts([make_alert({"alertname": "HighErrorRate", "test": tag})])
    silence = services.create_silence(Actor(silencer), values(tag, minutes=5))
    firing_and_muted(am, tag, silence.id)

    assert task.delay().get(timeout=30) == 1
    assert app.conf.beat_schedule["remind-expiring-silences"]["task"] == task.name
    assert [r["silence_id"] for r in reminders(receiver)] == [silence.id]


def test_it_queues_the_notice_after_commit_without_waiting_for_the_webhook(
    am, notify, receiver, redis_db, celery_broker, celery_queue, silencer, tag
):
    """With a real broker (Redis) and no worker: the action completes without touching the
    (hanging) webhook; its deliveries are committed with the audit row, and each queued task is
    JSON holding only a delivery's id. The hanging webhook is a stand-in: no real receiver can
    be made to hang on demand."""
    hanging = HangingServer()
    notify.NOTIFY_WEBHOOK_URLS = [hanging.url + "/hook"]
    notify.NOTIFY_TIMEOUT = 1
    notify.NOTIFY_MAX_RETRIES = 0
    with celery_broker(notify.CELERY_BROKER_URL):
        silence = services.create_silence(Actor(silencer), values(tag))
        messages = [json.loads(m) for m in reversed(redis_db.lrange(celery_queue, 0, -1))]

    # The change is done and nothing was attempted yet: the action did not wait for a webhook.
    assert receiver.requests == []
    event = AuditEvent.objects.get(silence_id=silence.id)
    deliveries = Delivery.objects.filter(event=event).order_by("pk")
    assert [d.status for d in deliveries] == ["pending", "pending"]
    assert [m["headers"]["task"] for m in messages] == ["alertui.notices.tasks.deliver"] * 2
    assert {m["content-type"] for m in messages} == {"application/json"}
    queued = [json.loads(base64.b64decode(m["body"]))[:2] for m in messages]
    assert queued == [[[d.pk], {}] for d in deliveries]

    try:
        for args, _ in queued:
            deliver(*args)  # what the worker runs
    finally:
        hanging.stop()
    (slack,) = receiver.slack()
    assert "*alice* created" in slack_text(slack)
    assert sorted(Delivery.objects.values_list("destination", "status")) == [
        (hanging.url.removeprefix("http://"), "failed"),
        ("slack", "sent"),
    ]


def test_it_still_sends_a_notice_queued_by_an_earlier_version(am, notify, receiver, silencer, tag):
    """Earlier versions queued send_notice(event id) after the commit; such a message still in
    the broker at an upgrade fans out once, and not again for a change already fanned out."""
    silence = services.create_silence(Actor(silencer), values(tag))
    event = AuditEvent.objects.get(silence_id=silence.id)
    assert send_notice(event.pk) == 0
    assert len(receiver.slack()) == 1 and len(receiver.hook()) == 1

    Delivery.objects.all().delete()  # as if made by an earlier version: no deliveries yet
    assert send_notice(event.pk) == 2
    assert len(receiver.slack()) == 2 and len(receiver.hook()) == 2


# -- housekeeping -----------------------------------------------------------------------------


def test_it_sends_deliveries_the_broker_lost(am, notify, receiver, silencer, tag, monkeypatch):
    """A delivery queued while the broker was down stays pending; the sweep sends it later."""
    from alertui.notices import services as notices

    with monkeypatch.context() as patched:
        patched.setattr(notices, "queue_delivery", lambda delivery_id: None)  # lost on the way
        silence = services.create_silence(Actor(silencer), values(tag))
    assert receiver.requests == []
    assert set(Delivery.objects.values_list("status", flat=True)) == {"pending"}

    assert notices.requeue_stalled() == 0  # just queued: a worker may still pick it up
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert notices.requeue_stalled() == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    assert [h["silence_id"] for h in receiver.hook()] == [silence.id]
    assert len(receiver.slack()) == 1


def test_it_prunes_old_finished_deliveries_but_keeps_the_audit(am, notify, receiver, silencer, tag):
    from alertui.sync.retention import prune_history

    notify.HISTORY_RETENTION = 3600
    silence = services.create_silence(Actor(silencer), values(tag))
    assert Delivery.objects.count() == 2
    assert prune_history()["notice_deliveries"] == 0  # recent
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert prune_history()["notice_deliveries"] == 2
    assert not Delivery.objects.exists()
    assert AuditEvent.objects.filter(silence_id=silence.id).exists()
