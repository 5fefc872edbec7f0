"""Bulk expire and bulk extend from the silence list, against a real Alertmanager: one
confirmation, one audit row per silence, a result per silence (one failure among many shown
as such, the others done), with and without htmx."""

from datetime import timedelta

import pytest
from django.utils import timezone

from alertui.audit.models import AuditEvent
from alertui.integrations.alertmanager import AlertmanagerClient
from alertui.matchers import Matcher
from alertui.silences import services
from alertui.silences.services import Actor, SilenceValues

pytestmark = pytest.mark.django_db


def make(user, tag, job, *, minutes=120):
    now = timezone.now()
    matchers = (Matcher("test", "=", tag), Matcher("job", "=", job))
    values = SilenceValues(matchers, now, now + timedelta(minutes=minutes), f"{job} deploy")
    return services.create_silence(Actor(user), values)


def run(client, action, silences, headers=None, **extra):
    data = {"action": action, "silence": [s.id for s in silences], **extra}
    return client.post("/silences/bulk/run/", data, follow=True, headers=headers)


def test_the_list_offers_checkboxes_and_the_bulk_buttons(am, silencer, silencer_client, tag):
    one = make(silencer, tag, "api")
    page = silencer_client.get("/silences/", {"q": tag}).content.decode()
    assert f'name="silence" value="{one.id}"' in page
    assert 'action="/silences/bulk/"' in page and 'value="expire"' in page


def test_it_confirms_before_expiring_and_changes_nothing_until_then(
    am, silencer, silencer_client, tag
):
    silences = [make(silencer, tag, job) for job in ("api", "db")]
    page = silencer_client.get(
        "/silences/bulk/", {"action": "expire", "silence": [s.id for s in silences]}
    )
    html = page.content.decode()
    assert page.status_code == 200 and "Expire 2 silences?" in html
    assert all(f"/silences/{s.id}/" in html for s in silences)
    assert all(AlertmanagerClient([am.url]).get_silence(s.id).state == "active" for s in silences)
    assert not AuditEvent.objects.filter(action="expired").exists()


def test_it_expires_many_and_reports_the_one_that_failed(am, silencer, silencer_client, tag):
    silences = [make(silencer, tag, job) for job in ("api", "db", "web", "queue")]
    gone = silences[1]
    # Someone expires one directly in Alertmanager (amtool) while the confirmation is open.
    AlertmanagerClient([am.url]).expire_silence(gone.id)

    page = run(silencer_client, "expire", silences)

    assert page.redirect_chain and page.redirect_chain[-1][0].startswith("/silences/bulk/")
    html = page.content.decode()
    assert "Expired: 3 of 4" in html and "1 silence could not be expired" in html
    outcomes = {o["silence_id"]: o for o in page.context["outcomes"]}
    assert not outcomes[gone.id]["ok"] and "already expired" in outcomes[gone.id]["message"]
    assert all(outcomes[s.id]["ok"] for s in silences if s is not gone)
    am_client = AlertmanagerClient([am.url])
    assert all(am_client.get_silence(s.id).state == "expired" for s in silences)
    done = AuditEvent.objects.filter(action="expired", outcome="succeeded", actor_name="alice")
    assert sorted(done.values_list("silence_id", flat=True)) == sorted(
        s.id for s in silences if s is not gone
    )
    failed = AuditEvent.objects.get(action="expired", outcome="failed")
    assert failed.silence_id == gone.id and failed.actor_name == "alice"
    # Reloading the result page shows the same results and changes nothing again.
    again = silencer_client.get(page.redirect_chain[-1][0])
    assert again.context["outcomes"] == page.context["outcomes"]
    assert AuditEvent.objects.filter(action="expired").count() == 4


def test_it_extends_each_selected_silence(am, silencer, silencer_client, tag):
    silences = [make(silencer, tag, job, minutes=60) for job in ("api", "db")]
    before = {s.id: AlertmanagerClient([am.url]).get_silence(s.id).ends_at for s in silences}
    confirm = silencer_client.get(
        "/silences/bulk/", {"action": "extend", "by": "4h", "silence": [s.id for s in silences]}
    )
    assert "Extend 2 silences?" in confirm.content.decode()

    page = run(silencer_client, "extend", silences, by="4h")

    assert "Extended by 4h: 2 of 2" in page.content.decode()
    for silence in silences:
        after = AlertmanagerClient([am.url]).get_silence(silence.id).ends_at
        assert after - before[silence.id] == timedelta(hours=4)
    events = AuditEvent.objects.filter(action="extended", outcome="succeeded", actor_name="alice")
    assert sorted(events.values_list("silence_id", flat=True)) == sorted(s.id for s in silences)


def test_with_htmx_the_result_replaces_the_confirmation(am, silencer, silencer_client, tag):
    silences = [make(silencer, tag, job) for job in ("api", "db")]
    page = run(silencer_client, "expire", silences, headers={"HX-Request": "true"})
    html = page.content.decode()
    assert 'id="bulk-result"' in html and "<html" not in html
    assert "Expired: 2 of 2" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "expire"}, "Select at least one silence."),
        ({"action": "delete", "silence": ["x"]}, "Choose what to do"),
        ({"action": "extend", "silence": ["x"], "by": "a while"}, "Extend by how long?"),
        ({"action": "expire", "silence": [f"id{i}" for i in range(101)]}, "at most 100"),
    ],
)
def test_it_refuses_an_unusable_request_and_changes_nothing(
    am, silencer, silencer_client, data, message
):
    page = silencer_client.post("/silences/bulk/run/", data, follow=True)
    assert message in page.content.decode()
    assert not AuditEvent.objects.exists()


def test_an_unknown_silence_fails_alone(am, silencer, silencer_client, tag):
    real = make(silencer, tag, "api")
    data = {"action": "expire", "silence": [real.id, "<b>not-a-silence</b>"]}
    page = silencer_client.post("/silences/bulk/run/", data, follow=True)
    html = page.content.decode()
    assert "Expired: 1 of 2" in html and "&lt;b&gt;not-a-silence" in html
    assert AlertmanagerClient([am.url]).get_silence(real.id).state == "expired"


def test_viewers_cannot_act_in_bulk(am, silencer, viewer_client, tag):
    one = make(silencer, tag, "api")
    assert (
        viewer_client.get("/silences/bulk/", {"action": "expire", "silence": one.id}).status_code
        == 403
    )
    assert (
        viewer_client.post(
            "/silences/bulk/run/", {"action": "expire", "silence": one.id}
        ).status_code
        == 403
    )
    assert 'name="silence"' not in viewer_client.get("/silences/", {"q": tag}).content.decode()
    assert AlertmanagerClient([am.url]).get_silence(one.id).state == "active"


# -- the API --------------------------------------------------------------------------------


def test_the_api_expires_several_and_reports_each(am, silencer, tag):
    from tests.api_client import alice_api

    api = alice_api(silencer)
    silences = [make(silencer, tag, job) for job in ("api", "db", "web")]
    AlertmanagerClient([am.url]).expire_silence(silences[0].id)
    ids = [s.id for s in silences]

    answer = api.post(
        "/api/v1/silences/bulk/", {"action": "expire", "silences": ids}, format="json"
    )

    assert answer.status_code == 207
    assert (answer.data["done"], answer.data["failed"]) == (2, 1)
    assert [r["ok"] for r in answer.data["results"]] == [False, True, True]
    events = AuditEvent.objects.filter(action="expired", outcome="succeeded")
    assert sorted(events.values_list("silence_id", flat=True)) == sorted(ids[1:])
    assert {e.source for e in events} == {"api"}
    assert all(e.api_token.startswith("deploy-pipeline") for e in events)


def test_the_api_extends_several(am, silencer, tag):
    from tests.api_client import alice_api

    api = alice_api(silencer)
    silences = [make(silencer, tag, job, minutes=60) for job in ("api", "db")]
    data = {"action": "extend", "by": "2h", "silences": [s.id for s in silences]}

    answer = api.post("/api/v1/silences/bulk/", data, format="json")

    assert answer.status_code == 200 and answer.data["done"] == 2
    for silence, result in zip(silences, answer.data["results"], strict=True):
        ends = AlertmanagerClient([am.url]).get_silence(silence.id).ends_at
        assert ends - silence.ends_at == timedelta(hours=2)
        assert result["until"] == ends.isoformat()


def test_the_api_refuses_a_bad_bulk_request(am, silencer, tag):
    from tests.api_client import alice_api

    api = alice_api(silencer)
    one = make(silencer, tag, "api")
    for data, field in (
        ({"action": "extend", "silences": [one.id], "by": "soon"}, "by"),
        ({"action": "expire", "silences": []}, "silences"),
        ({"action": "expire", "silences": ["x"] * 101}, "silences"),
        ({"action": "drop", "silences": [one.id]}, "action"),
    ):
        answer = api.post("/api/v1/silences/bulk/", data, format="json")
        assert answer.status_code == 400 and field in answer.data
    assert AlertmanagerClient([am.url]).get_silence(one.id).state == "active"
    assert not AuditEvent.objects.filter(action="expired").exists()


def test_with_htmx_an_unusable_request_leads_back_to_the_list(am, silencer, silencer_client):
    answer = silencer_client.post(
        "/silences/bulk/run/", {"action": "expire"}, headers={"HX-Request": "true"}
    )
    assert answer.headers["HX-Redirect"] == "/silences/"
    page = silencer_client.get("/silences/")
    assert "Select at least one silence." in page.content.decode()


def test_a_bulk_extension_the_policy_refuses_fails_alone(am, silencer, silencer_client, tag):
    from tests.policy_helpers import make_rule

    make_rule("critical-4h", "max_duration", scope='severity="critical"', max_duration="4h")
    now = timezone.now()

    def silence(severity):
        matchers = (Matcher("test", "=", tag), Matcher("severity", "=", severity))
        values = SilenceValues(matchers, now, now + timedelta(hours=1), "db failover")
        return services.create_silence(Actor(silencer), values)

    critical, other = silence("critical"), silence("warning")

    page = run(silencer_client, "extend", [critical, other], by="4h")

    assert "Extended by 4h: 1 of 2" in page.content.decode()
    outcomes = {o["silence_id"]: o for o in page.context["outcomes"]}
    assert not outcomes[critical.id]["ok"] and "critical-4h" in outcomes[critical.id]["message"]
    assert outcomes[other.id]["ok"]
    client = AlertmanagerClient([am.url])
    assert client.get_silence(critical.id).ends_at == critical.ends_at
    assert client.get_silence(other.id).ends_at - other.ends_at == timedelta(hours=4)


def test_a_scoped_person_selects_and_expires_only_their_teams_silences(am, silencer, client, tag):
    from tests.test_scopes import team_member

    pat = team_member("pat", "payments", 'team="payments"')
    now = timezone.now()

    def silence(team):
        matchers = (Matcher("test", "=", tag), Matcher("team", "=", team))
        values = SilenceValues(matchers, now, now + timedelta(hours=1), f"{team} deploy")
        return services.create_silence(Actor(silencer), values)

    ours, theirs = silence("payments"), silence("checkout")
    client.force_login(pat)
    page = client.get("/silences/", {"q": tag}).content.decode()
    assert f'name="silence" value="{ours.id}"' in page
    assert f'name="silence" value="{theirs.id}"' not in page

    # A crafted request naming the other team's silence is refused for that one alone.
    result = run(client, "expire", [ours, theirs])
    outcomes = {o["silence_id"]: o for o in result.context["outcomes"]}
    assert outcomes[ours.id]["ok"]
    assert not outcomes[theirs.id]["ok"] and "outside your scopes" in outcomes[theirs.id]["message"]
    am_client = AlertmanagerClient([am.url])
    assert am_client.get_silence(ours.id).state == "expired"
    assert am_client.get_silence(theirs.id).state == "active"
    refusal = AuditEvent.objects.get(silence_id=theirs.id, outcome="failed")
    assert refusal.actor_name == "pat"
