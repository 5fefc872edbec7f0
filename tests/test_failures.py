"""What a user sees when things break: Alertmanager down, hanging or failing, Redis down,
two people acting on one silence at once, an Alertmanager restart and Prometheus down.

Every check is on what the pages say (status, banner, error message) and on the audit history,
never only on internals.
"""

import functools
import re
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from alertui.alerts.sync import sync_alerts
from alertui.audit.models import AuditEvent, PendingChange
from alertui.integrations.alertmanager import AlertmanagerClient, SilenceRequest
from alertui.locks import LockUnavailable
from alertui.matchers import Matcher
from alertui.silences import services
from alertui.silences.intents import grace
from alertui.silences.models import Silence
from alertui.silences.services import Actor, SilenceActionError, SilenceValues
from alertui.silences.sync import sync_silences
from alertui.targets.sync import sync_targets
from tests.servers import AlertmanagerProcess, free_port, make_alert
from tests.standins import FailingServer, FaultyProxy, HangingServer

# Every test here reads the alert snapshot: never one cached by an earlier test.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]

ROLE_ALERT = re.compile(r'<(\w+)[^>]*\brole="alert"[^>]*>(.*?)</\1>', re.S)
MESSAGES = re.compile(r'<ul class="messages">(.*?)</ul>', re.S)
# A message's own text, without the Undo button some messages carry.
MESSAGE_TEXT = re.compile(r'<span class="message-text">(.*?)</span>', re.S)
STAND_IN_ERROR = "failed to persist silences: no space left on device"


def synced(sync):
    """Run a sync and check that it ran rather than skipped (its lock held by another run)."""
    result = sync()
    assert not result.skipped, f"{sync.__name__} was skipped: its lock is held"
    return result


def alerts_in(html: str) -> list[str]:
    """The text of every element with role="alert" (banners and error messages)."""
    return [re.sub(r"<[^>]+>", "", body) for _, body in ROLE_ALERT.findall(html)]


def messages_in(html: str) -> str:
    found = MESSAGES.search(html)
    if not found:
        return ""
    texts = MESSAGE_TEXT.findall(found[1])
    return re.sub(r"<[^>]+>", "", " ".join(texts) if texts else found[1])


# -- stand-ins for a broken Alertmanager ----------------------------------------------------
# A real Alertmanager cannot be made to hang or to answer 500 on demand, so these two small
# servers stand in for it. Everything else in this file talks to real Alertmanager processes.


class ClosedPort:
    def __init__(self):
        self.url = f"http://127.0.0.1:{free_port()}"

    def stop(self):
        pass


BROKEN = {
    "down": ClosedPort,
    "hanging": HangingServer,
    "error500": functools.partial(FailingServer, STAND_IN_ERROR),
}
# What the banner says about each, from the last failed sync.
REASON = {
    "down": "cannot connect (connection refused)",
    "hanging": "no answer within 1s",
    "error500": STAND_IN_ERROR,
}


# -- a known good state -----------------------------------------------------------------------


def silence_values(tag, alertname="DrillSilenced", comment=None) -> SilenceValues:
    now = timezone.now()
    matchers = (Matcher("test", "=", tag), Matcher("alertname", "=", alertname))
    return SilenceValues(matchers, now, now + timedelta(hours=2), comment or f"drill {tag}")


def good_sync(am, silencer, tag) -> Silence:
    """Two alerts (one firing, one silenced by a silence made in alertui), synced."""
    am.push_alerts(
        [
            make_alert(
                {"alertname": "DrillFiring", "test": tag, "severity": "critical"},
                {"summary": f"firing {tag}"},
            ),
            make_alert({"alertname": "DrillSilenced", "test": tag, "severity": "warning"}),
        ]
    )
    silence = services.create_silence(Actor(silencer), silence_values(tag))
    assert synced(sync_silences).error == ""
    assert synced(sync_alerts).error == ""
    return silence


def form(tag, **fields) -> dict:
    data = {
        "matcher_name": ["test", "alertname"],
        "matcher_op": ["=", "="],
        "matcher_value": [tag, "DrillNew"],
        "duration": "2h",
        "comment": f"new during the outage {tag}",
        "tz": "UTC",
    }
    data.update(fields)
    return data


def pages(tag, silence_id) -> dict[str, tuple[str, list[str]]]:
    """Every page, and what of the last known data each must still show."""
    return {
        "alerts": (
            f'/alerts/?q=test="{tag}"&state=active&state=silenced',
            ["DrillFiring", "DrillSilenced", f"firing {tag}"],
        ),
        "silences": (f"/silences/?q={tag}", [f"/silences/{silence_id}/"]),
        "detail": (f"/silences/{silence_id}/", [f"drill {tag}", 'class="state active"']),
        "new": (
            f'/silences/new/?filter=test="{tag}"',
            ["<strong>2</strong> current alerts would be silenced"],
        ),
        "audit": ("/audit/", [f"drill {tag}"]),
        "targets": ("/targets/", ["failing scrape target"]),
    }


@pytest.mark.parametrize("kind", list(BROKEN))
def test_every_page_shows_the_last_known_state_and_a_banner(
    kind, am, settings, silencer, silencer_client, tag
):
    silence = good_sync(am, silencer, tag)
    broken = BROKEN[kind]()
    try:
        settings.ALERTMANAGER_URLS = [broken.url]
        settings.ALERTMANAGER_TIMEOUT = 1
        assert "unreachable" in synced(sync_silences).error
        assert "unreachable" in synced(sync_alerts).error

        for name, (path, expected) in pages(tag, silence.id).items():
            response = silencer_client.get(path)
            assert response.status_code == 200, (name, response.status_code)
            html = response.content.decode()
            for text in expected:
                assert text in html, (name, text)
            banners = [a for a in alerts_in(html) if "Cannot reach Alertmanager" in a]
            assert len(banners) == 2, (name, alerts_in(html))  # alerts and silences
            assert all("Showing the last known state" in b for b in banners)
            assert all(broken.url in b and REASON[kind] in b for b in banners), banners
    finally:
        broken.stop()


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("down", ["Alertmanager is unreachable", "cannot connect (connection refused)"]),
        ("hanging", ["Alertmanager is unreachable", "no answer within 1s"]),
        ("error500", ["Alertmanager is unreachable", STAND_IN_ERROR]),
    ],
)
def test_creating_a_silence_says_why_it_failed_and_records_the_attempt(
    kind, expected, am, settings, silencer, silencer_client, tag
):
    good_sync(am, silencer, tag)
    broken = BROKEN[kind]()
    try:
        settings.ALERTMANAGER_URLS = [broken.url]
        settings.ALERTMANAGER_TIMEOUT = 1
        response = silencer_client.post("/silences/new/", form(tag))
    finally:
        broken.stop()

    assert response.status_code == 400
    html = response.content.decode()
    errors = [a for a in alerts_in(html) if "Alertmanager" in a and "Cannot reach" not in a]
    assert len(errors) == 1, alerts_in(html)
    for text in expected:
        assert text in errors[0]
    assert f"new during the outage {tag}" in html  # what was typed is kept
    failed = AuditEvent.objects.get(action="created", outcome="failed")
    assert failed.actor_name == "alice" and failed.comment == f"new during the outage {tag}"
    assert expected[-1] in failed.error
    assert not PendingChange.objects.exists()
    assert not [s for s in am.raw_silences() if "DrillNew" in str(s) and tag in str(s)]


# Forwarded, the create is credited to alice, or recorded as of unknown outcome where
# Alertmanager's copy differs from what she sent (it starts when it arrived): either way once.
@pytest.mark.parametrize(
    "fault, made, recorded",
    [("502", 0, {"failed"}), ("502 after forwarding", 1, {"succeeded", "unknown"})],
)
def test_creating_a_silence_through_a_failing_proxy_says_the_outcome_is_unknown(
    fault, made, recorded, am, settings, silencer, silencer_client, tag
):
    good_sync(am, silencer, tag)
    # Stand-in: a proxy in front of the real Alertmanager answering the create with 502, after
    # passing it on or not; a real Alertmanager cannot be made to answer 502.
    proxy = FaultyProxy(am.url, lambda method, path, headers: fault if method == "POST" else None)
    try:
        settings.ALERTMANAGER_URLS = [proxy.url]
        response = silencer_client.post("/silences/new/", form(tag))
    finally:
        proxy.stop()

    assert response.status_code == 400
    errors = [a for a in alerts_in(response.content.decode()) if "no clear answer" in a]
    assert len(errors) == 1
    assert f"{proxy.url}: answered 502" in errors[0]
    assert "may or may not have been applied" in errors[0]
    assert "alertui will record the outcome at its next sync" in errors[0]
    # Nothing recorded yet: the intent stays for the sync to settle.
    assert not AuditEvent.objects.filter(comment__contains="new during the outage").exists()
    intent = PendingChange.objects.get()
    assert (intent.action, intent.actor_name) == ("created", "alice")

    # The sync finds whether the create arrived and records alice's attempt either way (once
    # the intent is older than any request could take).
    settings.ALERTMANAGER_URLS = [am.url]
    PendingChange.objects.filter(pk=intent.pk).update(
        created_at=timezone.now() - grace() - timedelta(seconds=1)
    )
    assert synced(sync_silences).error == ""
    [attempt] = AuditEvent.objects.filter(actor=silencer, comment__contains="new during the")
    assert attempt.action == "created" and attempt.outcome in recorded
    assert not PendingChange.objects.exists()
    assert len([s for s in am.raw_silences() if "DrillNew" in str(s) and tag in str(s)]) == made
    rows = AuditEvent.objects.count()
    synced(sync_silences)
    assert AuditEvent.objects.count() == rows


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("down", "cannot connect (connection refused)"),
        ("hanging", "no answer within 1s"),
        ("error500", STAND_IN_ERROR),
    ],
)
def test_expiring_a_silence_says_why_it_failed_and_records_the_attempt(
    kind, expected, am, settings, silencer, silencer_client, tag
):
    silence = good_sync(am, silencer, tag)
    broken = BROKEN[kind]()
    try:
        settings.ALERTMANAGER_URLS = [broken.url]
        settings.ALERTMANAGER_TIMEOUT = 1
        response = silencer_client.post(f"/silences/{silence.id}/expire/", follow=True)
    finally:
        broken.stop()

    assert response.redirect_chain == [(f"/silences/{silence.id}/", 302)]
    assert response.status_code == 200
    message = messages_in(response.content.decode())
    assert "Not expired" in message and "Alertmanager is unreachable" in message, message
    assert expected in message
    failed = AuditEvent.objects.get(action="expired")
    assert failed.outcome == "failed" and failed.actor_name == "alice"
    assert expected in failed.error
    assert not PendingChange.objects.exists()
    # It was not expired: Alertmanager and the page still have it active.
    (in_am,) = [s for s in am.raw_silences() if s["id"] == silence.id]
    assert in_am["status"]["state"] == "active"


# -- Redis down --------------------------------------------------------------------------------


def outside(tag, by="bob via amtool") -> SilenceRequest:
    now = timezone.now()
    return SilenceRequest(
        (Matcher("test", "=", tag), Matcher("alertname", "=", "Outside")),
        now,
        now + timedelta(hours=1),
        by,
        f"outside {tag}",
    )


def test_without_redis_pages_and_changes_work_but_the_sync_refuses_to_run(
    am, settings, redis_db, client, silencer, silencer_client, tag
):
    amtool = AlertmanagerClient([am.url])
    kept = good_sync(am, silencer, tag)
    early = amtool.post_silence(outside(f"{tag}-early"))
    assert synced(sync_silences).recorded == [f"created {early}"]
    redis_url = settings.REDIS_URL

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    for path, _ in pages(tag, kept.id).values():
        assert silencer_client.get(path).status_code == 200, path
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["redis"] == "failing"  # what failed goes to the log, not to anonymous callers

    # Changes go straight to Alertmanager and are recorded as usual.
    created = silencer_client.post("/silences/new/", form(tag))
    assert created.status_code == 302, created.content.decode()[:3000]
    new_id = created["Location"].split("/")[2]
    expired = silencer_client.post(f"/silences/{kept.id}/expire/", follow=True)
    assert "Silence expired." in messages_in(expired.content.decode())
    assert {s["id"]: s["status"]["state"] for s in am.raw_silences()}[kept.id] == "expired"
    # Meanwhile, changes made outside alertui.
    made_outside = amtool.post_silence(outside(tag))
    amtool.expire_silence(early)

    with pytest.raises(LockUnavailable, match="Redis is unreachable"):
        sync_silences()
    with pytest.raises(CommandError, match="Redis"):
        call_command("sync", stdout=StringIO())

    settings.REDIS_URL = redis_url
    first = synced(sync_silences)
    assert first.error == ""
    assert sorted(first.recorded) == sorted([f"created {made_outside}", f"expired {early}"])
    assert synced(sync_silences).recorded == []
    call_command("sync", stdout=StringIO())

    def history(silence_id):
        events = AuditEvent.objects.filter(silence_id=silence_id).order_by("id")
        return [(e.action, e.outcome, e.source, e.actor_name) for e in events]

    assert history(new_id) == [("created", "succeeded", "browser", "alice")]
    assert history(kept.id) == [
        ("created", "succeeded", "browser", "alice"),
        ("expired", "succeeded", "browser", "alice"),
    ]
    assert history(made_outside) == [("created", "succeeded", "sync", "bob via amtool")]
    assert history(early) == [
        ("created", "succeeded", "sync", "bob via amtool"),
        ("expired", "succeeded", "sync", ""),
    ]
    assert not PendingChange.objects.exists()


# -- two people at once ------------------------------------------------------------------------


def at_once(*calls):
    """Run each call in its own thread, released together; returns each result or exception."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except Exception as e:  # noqa: BLE001 - handed back to the test
            results[i] = e
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return results


@pytest.mark.django_db(transaction=True)
def test_two_people_expiring_one_silence_at_once(am, silencer, viewer, tag):
    silence = services.create_silence(Actor(silencer), silence_values(tag))
    results = at_once(
        lambda: services.expire_silence(Actor(silencer), silence.id),
        lambda: services.expire_silence(Actor(viewer), silence.id),
    )

    succeeded = [r for r in results if not isinstance(r, Exception)]
    failed = [r for r in results if isinstance(r, Exception)]
    assert len(succeeded) == 1 and len(failed) == 1, results
    assert isinstance(failed[0], SilenceActionError), repr(failed[0])
    assert "already expired" in failed[0].message
    events = AuditEvent.objects.filter(action="expired")
    assert sorted(e.outcome for e in events) == ["failed", "succeeded"]
    assert {e.actor_name for e in events} == {"alice", "victor"}
    assert "already expired" in events.get(outcome="failed").error
    assert not PendingChange.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_people_editing_one_silence_at_once(am, silencer, viewer, tag):
    silence = services.create_silence(Actor(silencer), silence_values(tag))
    loaded = Silence.objects.get(pk=silence.id)  # what both opened
    results = at_once(
        lambda: services.edit_silence(
            Actor(silencer),
            silence.id,
            silence_values(tag, comment="alice's reason"),
            based_on=loaded.updated_at,
        ),
        lambda: services.edit_silence(
            Actor(viewer),
            silence.id,
            silence_values(tag, comment="victor's reason"),
            based_on=loaded.updated_at,
        ),
    )

    succeeded = [r for r in results if not isinstance(r, Exception)]
    failed = [r for r in results if isinstance(r, Exception)]
    assert len(succeeded) == 1 and len(failed) == 1, results
    assert isinstance(failed[0], SilenceActionError), repr(failed[0])
    assert "changed this silence after you opened it" in failed[0].message
    winner = AuditEvent.objects.get(action="edited", outcome="succeeded")
    loser = AuditEvent.objects.get(action="edited", outcome="failed")
    assert {winner.actor_name, loser.actor_name} == {"alice", "victor"}
    # Alertmanager holds the winner's version, kept under the same id.
    (in_am,) = [s for s in am.raw_silences() if s["id"] == silence.id]
    assert in_am["comment"] == winner.comment == f"{winner.actor_name}'s reason"
    assert succeeded[0].id == silence.id


# -- Alertmanager restarted ----------------------------------------------------------------


def test_after_an_alertmanager_restart_alerts_come_back_and_nothing_is_recorded(
    settings, redis_db, silencer, silencer_client, tmp_path, tag
):
    # Silences surviving a restart are covered in test_silence_sync.py; here: the alert pages.
    with AlertmanagerProcess("0.25", tmp_path) as am:
        settings.ALERTMANAGER_URLS = [am.url]
        alerts = [
            make_alert({"alertname": "DrillFiring", "test": tag}),
            make_alert({"alertname": "DrillSilenced", "test": tag}),
        ]
        am.push_alerts(alerts)
        silence = services.create_silence(Actor(silencer), silence_values(tag))
        AlertmanagerClient([am.url]).post_silence(outside(tag))
        synced(sync_silences)
        synced(sync_alerts)
        audit_before = list(AuditEvent.objects.values_list("id", flat=True))
        mirror_before = list(Silence.objects.order_by("id").values())

        am.restart()  # SIGTERM: silences are written to disk; alerts are not kept
        assert synced(sync_silences).recorded == []
        synced(sync_alerts)
        gone = silencer_client.get(f'/alerts/?q=test="{tag}"&state=active&state=silenced')
        assert gone.status_code == 200
        assert "DrillFiring" not in gone.content.decode()  # honest: Alertmanager has none now

        am.push_alerts(alerts)  # Prometheus sends its firing alerts again
        synced(sync_alerts)
        assert synced(sync_silences).recorded == []

    page = silencer_client.get(f'/alerts/?q=test="{tag}"&state=active&state=silenced')
    assert page.status_code == 200
    html = page.content.decode()
    assert "DrillFiring" in html and "DrillSilenced" in html
    assert f'href="/silences/{silence.id}/"' in html  # "Silenced by", from the kept silence
    assert list(AuditEvent.objects.values_list("id", flat=True)) == audit_before
    assert list(Silence.objects.order_by("id").values("id", "state", "comment")) == [
        {k: row[k] for k in ("id", "state", "comment")} for row in mirror_before
    ]


# -- Prometheus down ---------------------------------------------------------------------------


def test_without_prometheus_the_targets_page_says_so_and_the_rest_works(
    am, settings, silencer, silencer_client, tag
):
    good_sync(am, silencer, tag)
    prometheus_url = f"http://127.0.0.1:{free_port()}"
    settings.PROMETHEUS_URLS = [prometheus_url]
    result = synced(sync_targets)
    assert len(result.errors) == 1

    targets = silencer_client.get("/targets/")
    assert targets.status_code == 200
    banners = [a for a in alerts_in(targets.content.decode()) if prometheus_url in a]
    assert banners and all("Cannot reach" in b for b in banners), alerts_in(
        targets.content.decode()
    )
    assert any("Prometheus" in b for b in banners)
    for path in (f'/alerts/?q=test="{tag}"', f"/silences/?q={tag}"):
        response = silencer_client.get(path)
        assert response.status_code == 200, path
        assert not [a for a in alerts_in(response.content.decode()) if "Alertmanager" in a]
