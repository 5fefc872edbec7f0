"""After a silence change, back where the person came from, with a message and an undo.

`next` is checked (a path on this site only); the message gives the end in the person's zone;
its undo is a POST form rendered by templates/silences/_message.html from the message's tags,
so alert names in the text (attacker-controlled label values) stay text. A real Alertmanager
0.25 and Redis, as in tests/test_silence_shows_at_once.py.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from alertui.alerts.models import Alert
from alertui.audit.models import AuditEvent
from alertui.silences.models import Silence
from alertui.silences.navigation import safe_next
from tests.servers import make_alert
from tests.test_browser_alerts import my_alerts, sync_until
from tests.test_silence_shows_at_once import form, muted_by

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]

HOSTILE_NAME = 'Disk<img src=x onerror=alert(1)>"Full'
ALERTS_PAGE = "/alerts/?q=test%3D%22x%22&state=active&state=silenced"


@pytest.fixture
def hostile_alert(am, tag) -> str:
    """One alert named with markup, synced; its fingerprint."""
    am.push_alerts([make_alert({"alertname": HOSTILE_NAME, "test": tag})])
    sync_until(lambda: len(my_alerts(tag)) == 1, f"the alert labelled test={tag}")
    return my_alerts(tag)[0].fingerprint


def shown_messages(response) -> list[str]:
    """Each message of a followed response, as templates/silences/_message.html renders it."""
    request = response.wsgi_request
    return [
        render_to_string("silences/_message.html", {"message": m}, request=request)
        for m in response.context["messages"]
    ]


def undo_form(message_html: str) -> tuple[str, dict[str, str]]:
    """(action, fields) of the undo form in a rendered message."""
    found = re.search(
        r'<form method="post" action="([^"]+)" class="undo">(.*?)</form>', message_html
    )
    assert found, message_html
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', found[2]))
    return html.unescape(found[1]), {k: html.unescape(v) for k, v in fields.items()}


def text_of(message_html: str) -> str:
    return html.unescape(re.search(r'<span class="message-text">(.*?)</span>', message_html)[1])


# -- next ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "https://evil.test/",
        "//evil.test/alerts/",
        "///evil.test/",
        "/\\evil.test/",
        "\\\\evil.test",
        "/\t/evil.test/",
        "/\n/evil.test/",
        " /alerts/",
        "/alerts/ x",
        "javascript:alert(1)",
        "http:/evil.test",
        "evil.test/alerts/",
        "alerts/",
        "/\u3000/evil.test",
        "/\x00/alerts/",
        "/" + "a" * 3000,
        "",
    ],
)
def test_a_next_that_is_not_a_path_on_this_site_is_refused(value):
    assert safe_next(value) == ""


@pytest.mark.parametrize("value", ["/alerts/", ALERTS_PAGE, "/silences/?state=all&q=disk%20full"])
def test_a_path_on_this_site_is_kept(value):
    assert safe_next(value) == value


def test_create_goes_back_to_next_with_the_end_in_the_persons_zone(
    silencer_client, hostile_alert, tag
):
    zone = ZoneInfo("Pacific/Chatham")  # +12:45 or +13:45: no UTC clock reads the same
    response = silencer_client.post(
        "/silences/new/", form(tag, duration="3h", tz="Pacific/Chatham", next=ALERTS_PAGE)
    )

    assert response.status_code == 302 and response["Location"] == ALERTS_PAGE
    silence = Silence.objects.get(comment=f"shows at once {tag}")
    end = silence.ends_at.astimezone(zone)
    today = timezone.now().astimezone(zone).date()
    until = f"{end:%H:%M}" if end.date() == today else f"{end:%Y-%m-%d %H:%M}"
    (message,) = shown_messages(silencer_client.get(response["Location"]))
    assert text_of(message) == f"Silenced 1 alert until {until} ({HOSTILE_NAME})."
    # The alert's name is text: escaped in the message, and no markup from it anywhere.
    assert "<img" not in message and "&lt;img src=x onerror=alert(1)&gt;" in message


@pytest.mark.parametrize("hostile", ["//evil.test/", "https://evil.test/", "/\\evil.test"])
def test_create_with_a_foreign_next_goes_to_the_silence(
    silencer_client, hostile_alert, tag, hostile
):
    response = silencer_client.post("/silences/new/", form(tag, next=hostile))
    silence = Silence.objects.get(comment=f"shows at once {tag}")
    assert response.status_code == 302 and response["Location"] == f"/silences/{silence.id}/"


def test_a_foreign_next_is_never_put_in_a_page(silencer_client, hostile_alert, tag):
    new = silencer_client.get("/silences/new/", {"alert": hostile_alert, "next": "//evil.test/"})
    assert "evil.test" not in new.content.decode()
    silence_id = _create(silencer_client, tag)
    for path in (f"/silences/{silence_id}/", f"/silences/{silence_id}/expire/"):
        page = silencer_client.get(path, {"next": "javascript:alert(1)"}).content.decode()
        assert "javascript:" not in page, path


def _create(client, tag, **fields) -> str:
    response = client.post("/silences/new/", form(tag, **fields))
    assert response.status_code == 302, response.content.decode()[:3000]
    client.get(response["Location"])  # shows (and so uses up) its message
    return AuditEvent.objects.latest("id").silence_id


# -- undo ----------------------------------------------------------------------------------


def test_the_undo_of_a_new_silence_expires_it_and_comes_back(silencer_client, hostile_alert, tag):
    response = silencer_client.post("/silences/new/", form(tag, next=ALERTS_PAGE), follow=True)
    silence_id = AuditEvent.objects.latest("id").silence_id
    (message,) = shown_messages(response)
    action, fields = undo_form(message)
    assert action == f"/silences/{silence_id}/expire/"
    assert fields["next"] == ALERTS_PAGE and fields["csrfmiddlewaretoken"]
    assert muted_by(hostile_alert) == [silence_id]

    undone = silencer_client.post(action, fields, follow=True)

    assert undone.redirect_chain[-1][0] == ALERTS_PAGE
    (message,) = shown_messages(undone)
    assert text_of(message) == "Silence expired. 1 alert notifies again."
    assert undo_form(message)[0] == f"/silences/{silence_id}/restore/"
    assert muted_by(hostile_alert) == []
    assert Silence.objects.get(pk=silence_id).current_state == "expired"
    expired = AuditEvent.objects.get(silence_id=silence_id, action="expired")
    assert (expired.actor_name, expired.source, expired.outcome) == (
        "alice",
        "browser",
        "succeeded",
    )


def test_the_undo_of_an_expire_recreates_the_silence_as_it_was(silencer_client, hostile_alert, tag):
    old_id = _create(silencer_client, tag, duration="3h")
    old = Silence.objects.get(pk=old_id)
    expired = silencer_client.post(
        f"/silences/{old_id}/expire/", {"next": ALERTS_PAGE, "tz": "UTC"}, follow=True
    )
    action, fields = undo_form(shown_messages(expired)[0])
    assert action == f"/silences/{old_id}/restore/"

    restored = silencer_client.post(action, fields, follow=True)

    assert restored.redirect_chain[-1][0] == ALERTS_PAGE
    event = AuditEvent.objects.get(previous_silence_id=old_id, action="recreated")
    assert (event.actor_name, event.source, event.outcome) == ("alice", "browser", "succeeded")
    new = Silence.objects.get(pk=event.silence_id)
    assert new.id != old_id and new.current_state == "active"
    assert (new.matchers, new.comment, new.created_by) == (old.matchers, old.comment, "alice")
    assert abs(new.ends_at - old.ends_at) < timedelta(seconds=1)
    assert muted_by(hostile_alert) == [new.id]
    (message,) = shown_messages(restored)
    assert text_of(message).startswith("Silenced 1 alert until ")
    assert undo_form(message)[0] == f"/silences/{new.id}/expire/"

    # A second click on the same undo makes no second silence.
    again = silencer_client.post(action, fields, follow=True)
    (message,) = shown_messages(again)
    assert text_of(message) == (f"Not restored: This silence was already recreated, as {new.id}.")
    assert AuditEvent.objects.filter(previous_silence_id=old_id).count() == 1


def test_undoing_an_expire_on_the_silences_own_page_shows_the_new_one(
    silencer_client, hostile_alert, tag
):
    old_id = _create(silencer_client, tag)
    silencer_client.post(f"/silences/{old_id}/expire/", {"tz": "UTC"})
    response = silencer_client.post(
        f"/silences/{old_id}/restore/", {"next": f"/silences/{old_id}/"}
    )
    new_id = AuditEvent.objects.get(previous_silence_id=old_id, action="recreated").silence_id
    assert response["Location"] == f"/silences/{new_id}/"


def test_an_expire_whose_end_has_passed_is_not_undone(silencer_client, hostile_alert, tag):
    old_id = _create(silencer_client, tag, duration="1h")
    silencer_client.post(f"/silences/{old_id}/expire/", {"tz": "UTC"}, follow=True)
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        response = silencer_client.post(f"/silences/{old_id}/restore/", follow=True)
    assert AuditEvent.objects.filter(previous_silence_id=old_id).count() == 0
    (message,) = shown_messages(response)
    assert "would have ended by now anyway" in text_of(message)


def test_undo_needs_a_silencer_and_the_csrf_token(
    silencer, viewer, hostile_alert, tag, silencer_client
):
    old_id = _create(silencer_client, tag)
    silencer_client.post(f"/silences/{old_id}/expire/", {"tz": "UTC"})
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(silencer)
    assert strict.post(f"/silences/{old_id}/restore/").status_code == 403
    reader = Client()
    reader.force_login(viewer)
    assert reader.post(f"/silences/{old_id}/restore/").status_code == 403
    assert reader.get(f"/silences/{old_id}/restore/").status_code in (403, 405)
    assert AuditEvent.objects.filter(previous_silence_id=old_id).count() == 0


# -- edit, extend, expire carry next -------------------------------------------------------


def test_edit_and_extend_go_back_with_a_message(silencer_client, hostile_alert, tag):
    silence_id = _create(silencer_client, tag)
    edit_page = silencer_client.get(f"/silences/{silence_id}/edit/", {"next": ALERTS_PAGE})
    assert f'name="next" value="{html.escape(ALERTS_PAGE)}"' in edit_page.content.decode()

    edited = silencer_client.post(
        f"/silences/{silence_id}/edit/",
        form(tag, duration="", comment="longer than planned", next=ALERTS_PAGE),
        follow=True,
    )
    assert edited.redirect_chain[-1][0] == ALERTS_PAGE
    assert [text_of(m) for m in shown_messages(edited)] == ["Silence updated."]

    extended = silencer_client.post(
        f"/silences/{silence_id}/extend/",
        {"by": "1d", "tz": "Europe/Berlin", "next": ALERTS_PAGE},
        follow=True,
    )
    end = Silence.objects.get(pk=silence_id).ends_at.astimezone(ZoneInfo("Europe/Berlin"))
    assert extended.redirect_chain[-1][0] == ALERTS_PAGE
    assert [text_of(m) for m in shown_messages(extended)] == [
        f"Silence extended by 1d until {end:%Y-%m-%d %H:%M}."
    ]


def test_the_expire_confirmation_carries_next_and_the_zone(silencer_client, hostile_alert, tag):
    silence_id = _create(silencer_client, tag)
    page = silencer_client.get(f"/silences/{silence_id}/expire/", {"next": ALERTS_PAGE})
    text = page.content.decode()
    assert f'name="next" value="{html.escape(ALERTS_PAGE)}"' in text
    assert '<input type="hidden" name="tz" value="">' in text  # filled in by the page's script
    assert f'class="button" href="{html.escape(ALERTS_PAGE)}">Cancel</a>' in text
    assert "1 alert will notify again" in text

    response = silencer_client.post(
        f"/silences/{silence_id}/expire/", {"next": ALERTS_PAGE, "tz": "UTC"}
    )
    assert response["Location"] == ALERTS_PAGE
    assert Alert.objects.get(fingerprint=hostile_alert).silenced_by == []


def test_the_detail_page_passes_next_on(silencer_client, hostile_alert, tag):
    silence_id = _create(silencer_client, tag)
    page = silencer_client.get(f"/silences/{silence_id}/", {"next": ALERTS_PAGE}).content.decode()
    carried = "?" + urlencode({"next": ALERTS_PAGE})
    assert f'href="/silences/{silence_id}/edit/{html.escape(carried)}"' in page
    assert f'href="/silences/{silence_id}/expire/{html.escape(carried)}"' in page
    assert page.count(f'name="next" value="{html.escape(ALERTS_PAGE)}"') == 3  # the extend forms
    assert f'href="{html.escape(ALERTS_PAGE)}">Back</a>' in page


def test_a_message_without_an_undo_has_no_form(silencer_client, hostile_alert, tag):
    silence_id = _create(silencer_client, tag)
    response = silencer_client.post(
        f"/silences/{silence_id}/extend/", {"by": "1h", "tz": "UTC"}, follow=True
    )
    (message,) = shown_messages(response)
    assert "<form" not in message


def test_the_end_is_said_in_utc_when_the_page_sent_no_zone(silencer_client, hostile_alert, tag):
    response = silencer_client.post("/silences/new/", form(tag, tz=""), follow=True)
    silence = Silence.objects.get(comment=f"shows at once {tag}")
    end = silence.ends_at.astimezone(UTC)
    today = timezone.now().astimezone(UTC).date()
    until = f"{end:%H:%M}" if end.date() == today else f"{end:%Y-%m-%d %H:%M}"
    (message,) = shown_messages(response)
    assert text_of(message).startswith(f"Silenced 1 alert until {until} UTC (")
