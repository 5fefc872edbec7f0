"""A maintenance window's own changes are announced like silence changes (Slack and webhooks, on
a local receiver), and the alerts page shows a silence a window made as such, linked to it.

Silences are made on a real Alertmanager; Celery runs eagerly, and django_db(transaction=True)
lets on_commit queueing happen as in production.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from alertui.alerts.sync import sync_alerts
from alertui.maintenance import services
from alertui.maintenance.materialize import materialize
from alertui.maintenance.models import Materialization
from alertui.notices.models import Delivery
from alertui.silences.recorder import Actor
from tests.maintenance_helpers import make_window, once_fields, silences_of, soon
from tests.notice_receiver import SITE, slack_text
from tests.servers import free_port, make_alert, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def window_notices(receiver, kind=None):
    found = [b for b in receiver.hook() if b["kind"].startswith("maintenance.")]
    return [b for b in found if kind is None or b["kind"] == kind]


def test_it_announces_each_change_of_a_window_in_order(am, notify, receiver, silencer, tag):
    window = make_window(silencer, tag, soon(3 * 3600), name=f"patch night {tag}")
    actor = Actor(silencer)
    window = services.pause_window(actor, window)
    window = services.resume_window(actor, window)
    services.delete_window(actor, window)

    kinds = [b["kind"] for b in window_notices(receiver)]
    assert kinds == [
        "maintenance.created",
        "maintenance.paused",
        "maintenance.resumed",
        "maintenance.deleted",
    ]
    created, paused, resumed, _ = window_notices(receiver)
    assert created["window"] == f"patch night {tag}" and created["actor"] == "alice"
    assert created["matchers"] == [f'test_id="{tag}"']
    assert created["url"] == f"{SITE}/maintenance/{window.pk}/"
    assert created["schedule"].startswith("Once, on ")
    assert created["next_starts_at"] == Materialization.objects.get(
        window=window
    ).starts_at.isoformat().replace("+00:00", "Z")
    # Paused: nothing comes next; resumed: the occurrence is back.
    assert paused["next_starts_at"] is None and resumed["next_starts_at"] is not None
    # Each went to Slack too, with who did what to which window.
    # (The window's silences are announced too, as silence changes: not counted here.)
    texts = [slack_text(p) for p in receiver.slack() if ":construction:" in slack_text(p)]
    assert len(texts) == 4
    assert (
        f"*alice* paused maintenance window <{SITE}/maintenance/{window.pk}/|patch night"
        in (texts[1])
    )
    # Filed once per change and destination, sent.
    deliveries = Delivery.objects.filter(window_change__window=window)
    assert deliveries.count() == 8
    assert set(deliveries.values_list("status", flat=True)) == {"sent"}


def test_an_edit_is_announced_with_the_new_schedule(am, notify, receiver, silencer, tag):
    window = make_window(silencer, tag, soon(3 * 3600))
    later = soon(5 * 3600)
    services.edit_window(Actor(silencer), window, once_fields(tag, later, comment="moved"))

    (edited,) = window_notices(receiver, "maintenance.edited")
    assert edited["comment"] == f"moved {tag}"
    assert edited["next_starts_at"] == later.isoformat().replace("+00:00", "Z")


def test_a_missed_occurrence_is_announced_as_a_warning(
    am, notify, receiver, silencer, settings, tag
):
    settings.ALERTMANAGER_URLS = [f"http://127.0.0.1:{free_port()}"]
    make_window(silencer, tag, soon(3600), length=timedelta(hours=1))
    settings.ALERTMANAGER_URLS = [am.url]

    materialize(now=timezone.now() + timedelta(hours=3))

    (missed,) = window_notices(receiver, "maintenance.missed")
    assert missed["actor"] == "" and missed["source"] == "job"
    assert "never silenced" in missed["note"]
    (slack,) = [p for p in receiver.slack() if "missed an occurrence" in slack_text(p)]
    assert ":warning:" in slack_text(slack)


def test_a_window_name_cannot_ping_the_channel_or_fake_a_link(am, notify, receiver, silencer, tag):
    name = f"<!channel> <https://evil.example|click> {tag}"
    make_window(silencer, tag, soon(3 * 3600), name=name, comment="<@U123> & friends")

    (slack,) = [p for p in receiver.slack() if ":construction:" in slack_text(p)]
    text = slack_text(slack)
    assert "<!channel>" not in text and "<https://evil.example" not in text
    assert "&lt;!channel&gt;" in text and "&lt;@U123&gt; &amp; friends" in text


def test_no_notice_is_filed_when_none_is_configured(am, silencer, tag, settings):
    settings.NOTIFY_SLACK_WEBHOOK_URL = ""
    settings.NOTIFY_WEBHOOK_URLS = []
    window = make_window(silencer, tag, soon(3 * 3600))
    services.pause_window(Actor(silencer), window)
    assert not Delivery.objects.filter(window_change__window=window).exists()


def test_the_alerts_page_links_a_muted_alert_to_the_window(
    am, silencer, silencer_client, tag, fresh_snapshot
):
    am.push_alerts([make_alert({"alertname": "Backup", "test_id": tag})])
    window = make_window(silencer, tag, soon(-60), name=f"backup night {tag}")
    [made] = silences_of(am, tag)

    def muted():
        sync_alerts()
        page = silencer_client.get("/alerts/", {"q": tag, "state": "silenced"}).content.decode()
        return page if made["id"] in page else None

    page = wait_until(muted, 30, "the alerts page shows the alert muted by the window's silence")
    assert f'href="/maintenance/{window.pk}/"' in page
    assert f"maintenance: backup night {tag}" in page
