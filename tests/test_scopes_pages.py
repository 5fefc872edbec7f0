"""Scoped permissions as a person meets them: the API (with a scoped person's token), the silence
pages and the alerts page, against a real Alertmanager 0.25. The pages offer Edit, Extend,
Expire and Silence only where the person may use them; what gets past a page anyway is refused
by the service and recorded."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone

from alertui.alerts.models import Alert
from alertui.audit.models import AuditEvent
from alertui.matchers import parse_matchers
from alertui.scopes.models import Scope
from alertui.silences import services
from alertui.silences.services import Actor, SilenceValues
from tests.alerts_page_reading import (
    alerts_page,
    fire,
    groups,
    links,
    row,
    row_extras,
    sync,
    text,
)
from tests.api_client import SILENCES, am_silence, body, silences_in_am, token_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]

OUT_OF_SCOPE = (
    'This silence is outside your scopes: payments needs a matcher as narrow as team="payments".'
)


@pytest.fixture
def pat(db):
    """Of the payments team, whose group's scope is team="payments"; no other right."""
    group = Group.objects.create(name="payments")
    Scope.objects.create(name="payments", group=group, matchers='team="payments"')
    user = User.objects.create_user("pat")
    user.groups.add(group)
    return user


@pytest.fixture
def pat_client(client, pat):
    client.force_login(pat)
    return client


def silence_of(user, tag: str, team: str | None, alertname: str = "HighErrorRate"):
    now = timezone.now()
    text = f'test="{tag}", alertname="{alertname}"' + (f', team="{team}"' if team else "")
    matchers = parse_matchers(text)
    return services.create_silence(
        Actor(user), SilenceValues(tuple(matchers), now, now + timedelta(hours=2), "deploy")
    )


def team_body(tag: str, team: str) -> dict:
    return body(
        tag,
        matchers=[
            {"name": "test", "value": tag},
            {"name": "team", "value": team},
        ],
    )


# -- the API ----------------------------------------------------------------------------------


def test_a_scoped_persons_token_creates_inside_the_scope_only(am, pat, tag):
    api, token = token_client(pat, name="payments-ci")

    made = api.post(SILENCES, team_body(tag, "payments"), format="json")
    refused = api.post(SILENCES, team_body(tag, "checkout"), format="json")

    assert made.status_code == 201, made.content
    assert refused.status_code == 403
    assert refused.json() == {"detail": OUT_OF_SCOPE, "reason": "out_of_scope"}
    assert [s["id"] for s in silences_in_am(am, tag)] == [made.json()["id"]]
    event = AuditEvent.objects.get(outcome="failed")
    assert (event.action, event.source, event.actor_name) == ("created", "api", "pat")
    assert event.api_token == f"payments-ci ({token.token_key}…)"
    assert 'team="checkout"' in event.matchers_text


def test_a_scoped_persons_token_cannot_expire_edit_or_extend_another_teams_silence(
    am, silencer, pat, tag
):
    theirs = silence_of(silencer, tag, "checkout")
    api, _ = token_client(pat)

    attempts = {
        "expired": api.post(f"{SILENCES}{theirs.id}/expire/"),
        "edited": api.patch(f"{SILENCES}{theirs.id}/", {"comment": "mine now"}, format="json"),
        "extended": api.post(f"{SILENCES}{theirs.id}/extend/", {"by": "1h"}, format="json"),
    }

    for action, response in attempts.items():
        assert response.status_code == 403, action
        assert response.json()["reason"] == "out_of_scope"
        assert "payments needs a matcher as narrow as team=" in response.json()["detail"]
    in_am = am_silence(am, theirs.id)
    assert (in_am["status"]["state"], in_am["comment"]) == ("active", "deploy")
    failed = AuditEvent.objects.filter(outcome="failed", actor_name="pat")
    assert sorted(failed.values_list("action", flat=True)) == ["edited", "expired", "extended"]


def test_a_scoped_persons_token_expires_its_own_teams_silence(am, silencer, pat, tag):
    ours = silence_of(silencer, tag, "payments")
    api, _ = token_client(pat)
    response = api.post(f"{SILENCES}{ours.id}/expire/")
    assert response.status_code == 200
    assert am_silence(am, ours.id)["status"]["state"] == "expired"


def test_a_silencers_token_is_unchanged_by_other_peoples_scopes(am, silencer, pat, tag):
    api, _ = token_client(silencer)
    response = api.post(SILENCES, team_body(tag, "checkout"), format="json")
    assert response.status_code == 201


# -- the silence pages ------------------------------------------------------------------------


def shown(response) -> str:
    return html.unescape(response.content.decode())


def actions(page: str) -> list[str]:
    block = page.split('<div class="actions silence-actions">', 1)[1].split("</div>", 1)[0]
    return re.findall(r">(Edit|Extend \+1h|Extend \+1d|Extend to|Expire…|Recreate)<", block)


def test_the_silence_page_offers_changes_only_on_the_persons_own_scope(
    am, silencer, pat_client, tag
):
    theirs = silence_of(silencer, tag, "checkout")
    ours = silence_of(silencer, tag, "payments")

    their_page = pat_client.get(f"/silences/{theirs.id}/").content.decode()
    our_page = pat_client.get(f"/silences/{ours.id}/").content.decode()

    assert actions(their_page) == []
    assert actions(our_page) == ["Edit", "Extend +1h", "Extend +1d", "Extend to", "Expire…"]


def test_a_silencer_without_scope_still_sees_every_action(am, silencer, silencer_client, pat, tag):
    theirs = silence_of(silencer, tag, "checkout")
    page = silencer_client.get(f"/silences/{theirs.id}/").content.decode()
    assert actions(page) == ["Edit", "Extend +1h", "Extend +1d", "Extend to", "Expire…"]


def test_expiring_another_teams_silence_in_the_browser_is_refused_and_recorded(
    am, silencer, pat_client, tag
):
    theirs = silence_of(silencer, tag, "checkout")

    confirm = pat_client.get(f"/silences/{theirs.id}/expire/")
    edit = pat_client.get(f"/silences/{theirs.id}/edit/")
    # Posted anyway (a page opened before the scope was given, a crafted form):
    posted = pat_client.post(f"/silences/{theirs.id}/expire/", follow=True)

    assert confirm.status_code == 403 and OUT_OF_SCOPE in shown(confirm)
    assert edit.status_code == 403
    assert f"Not expired: {OUT_OF_SCOPE}" in shown(posted)
    assert am_silence(am, theirs.id)["status"]["state"] == "active"
    event = AuditEvent.objects.get(outcome="failed")
    assert (event.action, event.source, event.actor_name) == ("expired", "browser", "pat")


def test_the_new_silence_form_says_why_a_silence_outside_the_scope_is_refused(am, pat_client, tag):
    response = pat_client.post(
        "/silences/new/",
        {
            "matcher_name": ["test", "team"],
            "matcher_op": ["=", "="],
            "matcher_value": [tag, "checkout"],
            "duration": "2h",
            "comment": "deploy",
            "clusters": ["default"],
        },
    )
    assert response.status_code == 400
    assert OUT_OF_SCOPE in shown(response)
    assert silences_in_am(am, tag) == []


# -- the alerts page --------------------------------------------------------------------------


def test_alert_rows_offer_extend_and_expire_on_the_viewers_own_silences_only(
    am, silencer, pat, client, tag
):
    fire(
        am,
        tag,
        ({"alertname": "HighErrorRate", "team": "payments"}, None),
        ({"alertname": "HighErrorRate", "team": "checkout"}, None),
        ({"alertname": "DiskFull", "team": "payments"}, None),
        ({"alertname": "DiskFull", "team": "checkout"}, None),
    )
    ours = silence_of(silencer, tag, "payments")
    theirs = silence_of(silencer, tag, "checkout")
    # Mutes pat's DiskFull alert too, but also another team's: not pat's to change.
    wide = silence_of(silencer, tag, None, alertname="DiskFull")
    sync()

    def page_as(user):
        client.force_login(user)
        return alerts_page(client, tag, state=["active", "silenced"])

    # Each person in turn, twice: rendered rows are cached and must never cross between them.
    for _ in range(2):
        as_pat, as_alice = page_as(pat), page_as(silencer)
        assert _row_actions(as_pat, theirs.id) == ""
        assert _row_actions(as_pat, ours.id) == "Extend +1h Expire…"
        assert _row_actions(as_alice, theirs.id) == "Extend +1h Expire…"
        assert _row_actions(as_alice, ours.id) == "Extend +1h Expire…"
        for shown_to in (as_pat, as_alice):
            assert _row_actions(shown_to, wide.id, team="payments") == (
                "" if shown_to is as_pat else "Extend +1h Expire…"
            )
        # "Silence" on an alert: offered where its silence would be inside the scope.
        assert _silence_buttons(as_pat) == {
            ("DiskFull", "payments"),
            ("HighErrorRate", "payments"),
        }
        assert len(_silence_buttons(as_alice)) == 4


def _row_actions(page: str, silence_id: str, team: str = "") -> str:
    """The actions offered beside the (first) row this silence mutes (of `team`'s alerts)."""
    fingerprints = re.findall(r'<div class="alert-row" data-row="([^"]+)">', page)
    for fp in fingerprints:
        html = row(page, fp)
        if team and f'team="{team}"' not in html:
            continue
        if f"/silences/{silence_id}/" in html and "muted-by" in html:
            found = []
            if f'action="/silences/{silence_id}/extend/"' in html:
                found.append("Extend +1h")
            if (f"/silences/{silence_id}/expire/", "Expire…") in links(html):
                found.append("Expire…")
            assert row_extras(page, fp).startswith("Silenced by alice")
            return " ".join(found)
    raise AssertionError(f"no row silenced by {silence_id}")


def _silence_buttons(page: str) -> set[tuple[str, str]]:
    """(alertname, team) of each row offering "Silence"."""
    found = set()
    for fp in re.findall(r'<div class="alert-row" data-row="([^"]+)">', page):
        html = row(page, fp)
        if 'class="button primary silence-link"' in html:
            name = re.search(r"<strong>(.*?)</strong>", html)[1]
            team = re.search(r'team="([^"]+)"', html)[1]
            found.add((name, team))
    return found


def test_silence_group_is_offered_on_groups_inside_the_scope_only(am, silencer, pat, client, tag):
    fire(
        am,
        tag,
        ({"alertname": "HighErrorRate", "team": "payments"}, None),
        ({"alertname": "DiskFull", "team": "payments"}, None),
        ({"alertname": "HighErrorRate", "team": "checkout"}, None),
    )

    def offered(user, group_by):
        client.force_login(user)
        page = alerts_page(client, tag, group_by=group_by)
        return {g.heading.split()[0]: bool(g.link("Silence group")) for g in groups(page)}

    # alice first: the page she gets is cached, and pat's must not be served from it.
    assert offered(silencer, "team") == {"checkout": True, "payments": True}
    assert offered(pat, "team") == {"checkout": False, "payments": True}
    # By alert name, what a group shares is wider than the team: not pat's to silence.
    assert offered(pat, "alertname") == {"DiskFull": True, "HighErrorRate": False}


def test_the_new_silence_form_tells_a_scoped_person_where_to_stay(pat, silencer):
    def form_as(user) -> str:
        client = Client()
        client.force_login(user)
        # As read: no space left by a closing tag before punctuation.
        return re.sub(r"\s+([,.:)])", r"\1", text(client.get("/silences/new/").content.decode()))

    hint = 'You may silence only inside your scope: payments (team="payments").'
    assert hint in form_as(pat)
    assert "You may silence only" not in form_as(silencer)


def test_an_alerts_history_offers_silence_only_inside_the_scope(am, pat_client, tag):
    fire(
        am,
        tag,
        ({"alertname": "HighErrorRate", "team": "payments"}, None),
        ({"alertname": "HighErrorRate", "team": "checkout"}, None),
    )
    offered = {}
    for alert in Alert.objects.filter(alertname="HighErrorRate"):
        if alert.labels.get("test") == tag:
            page = shown(pat_client.get(f"/alerts/{alert.fingerprint}/history/"))
            offered[alert.labels["team"]] = "/silences/new/?alert=" in page
    assert offered == {"payments": True, "checkout": False}
