"""The silence policy in the JSON API, against a real Alertmanager 0.25: a refusal is a 422
with reason "policy", sends nothing and leaves one audit row; a warning lets the change go
ahead and is returned in the answer (`policy_warnings`).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from alertui.audit.models import AuditEvent
from tests.api_client import SILENCES, alice_api, body, create, silences_in_am, token_client
from tests.policy_helpers import firing, make_rule, refused_once

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]

TICKET = r"[A-Z]+-[0-9]+"


@pytest.fixture
def api(silencer):
    return alice_api(silencer)


def critical(tag) -> list[dict]:
    return [{"name": "test", "value": tag}, {"name": "severity", "value": "critical"}]


def refused(response, rule: str) -> str:
    assert response.status_code == 422, response.content
    answer = response.json()
    assert answer["reason"] == "policy"
    assert answer["detail"].startswith(f"refused by policy: {rule}: ")
    return answer["detail"]


# -- comment -----------------------------------------------------------------------------------


def test_it_refuses_a_comment_without_a_ticket(am, api, tag):
    make_rule("ticket", "comment", pattern=TICKET, explanation="Name the ticket, like OPS-123.")

    response = api.post(SILENCES, body(tag, comment="deploying"), format="json")

    assert "Name the ticket, like OPS-123." in refused(response, "ticket")
    assert silences_in_am(am, tag) == []
    event = refused_once(tag, "ticket")
    assert event.source == "api" and event.comment == "deploying"


def test_it_makes_the_silence_and_returns_the_comment_warning(am, api, tag):
    make_rule("ticket", "comment", mode="warn", pattern=TICKET, explanation="Name the ticket.")

    made = create(api, tag, comment="deploying")

    assert [s["id"] for s in silences_in_am(am, tag)] == [made["id"]]
    [warning] = made["policy_warnings"]
    assert warning.startswith("ticket: ") and "Name the ticket." in warning
    assert AuditEvent.objects.get().outcome == "succeeded"


def test_an_accepted_silence_has_no_warnings(am, api, tag):
    make_rule("ticket", "comment", mode="warn", pattern=TICKET)

    assert create(api, tag, comment="deploy OPS-9")["policy_warnings"] == []


# -- maximum duration --------------------------------------------------------------------------


def test_it_refuses_a_long_critical_silence(am, api, tag):
    make_rule("critical-4h", "max_duration", scope='severity="critical"', max_duration="4h")

    response = api.post(SILENCES, body(tag, matchers=critical(tag), duration="1d"), format="json")

    assert "may last at most 4h" in refused(response, "critical-4h")
    assert silences_in_am(am, tag) == []
    refused_once(tag, "critical-4h")


def test_it_warns_about_a_long_silence(am, api, tag):
    make_rule("a-day", "max_duration", mode="warn", max_duration="1d")

    made = create(api, tag, duration="3d")

    assert len(silences_in_am(am, tag)) == 1
    assert "may last at most 1d" in made["policy_warnings"][0]


def test_an_edit_past_the_maximum_is_refused(am, api, tag):
    make_rule("a-day", "max_duration", max_duration="1d")
    made = create(api, tag)

    response = api.patch(f"{SILENCES}{made['id']}/", {"duration": "2d"}, format="json")

    refused(response, "a-day")
    [in_am] = silences_in_am(am, tag)
    assert in_am["endsAt"][:16] == made["ends_at"][:16]
    assert refused_once(tag, "a-day", action="edited").silence_id == made["id"]


def test_an_extension_warning_comes_with_the_extended_silence(am, api, tag):
    make_rule("four-hours", "max_duration", mode="warn", max_duration="4h")
    made = create(api, tag)

    response = api.post(f"{SILENCES}{made['id']}/extend/", {"by": "4h"}, format="json")

    assert response.status_code == 200, response.content
    assert "may last at most 4h" in response.json()["policy_warnings"][0]
    [in_am] = silences_in_am(am, tag)
    assert in_am["endsAt"][:16] == response.json()["ends_at"][:16]


def test_a_role_rule_limits_only_its_group_and_admins_may_pass(am, api, admin_user, tag):
    make_rule(
        "silencers-1h",
        "max_duration",
        max_duration="1h",
        groups=[Group.objects.get(name="silencers")],
    )
    make_rule("everyone-1d", "max_duration", max_duration="1d", admins_exempt=True)
    root, _ = token_client(admin_user, name="root-script")

    refused(api.post(SILENCES, body(tag, duration="2h"), format="json"), "silencers-1h")
    as_admin = root.post(SILENCES, body(tag, duration="2d"), format="json")

    assert as_admin.status_code == 201, as_admin.content
    [warning] = as_admin.json()["policy_warnings"]
    assert warning.startswith("everyone-1d: ") and "you are an admin" in warning
    assert [s["id"] for s in silences_in_am(am, tag)] == [as_admin.json()["id"]]


# -- too broad ---------------------------------------------------------------------------------


def test_it_refuses_a_silence_matching_more_alerts_than_allowed(am, api, tag):
    firing(*({"alertname": f"Disk{i}", "test": tag} for i in range(3)), {"alertname": "Other"})
    make_rule("at-most-2", "too_broad", max_alerts=2)

    response = api.post(SILENCES, body(tag, matchers=[{"name": "test", "value": tag}]), "json")

    assert "It matches 3 current alerts" in refused(response, "at-most-2")
    assert silences_in_am(am, tag) == []
    refused_once(tag, "at-most-2")


def test_it_warns_about_a_share_of_the_alerts(am, api, tag):
    firing({"alertname": "Disk", "test": tag}, {"alertname": "Other"})
    make_rule("a-third", "too_broad", mode="warn", max_percent=33)

    made = create(api, tag, matchers=[{"name": "test", "value": tag}])

    assert "(50%); at most 33% allowed" in made["policy_warnings"][0]
    assert len(silences_in_am(am, tag)) == 1


def test_it_refuses_every_alert_of_the_cluster(am, api, tag):
    firing({"alertname": "Disk", "test": tag}, {"alertname": "Load", "test": tag})
    make_rule("not-everything", "too_broad", whole_cluster=True)

    response = api.post(SILENCES, body(tag, matchers=[{"name": "test", "value": tag}]), "json")

    assert "every current alert" in refused(response, "not-everything")
    assert silences_in_am(am, tag) == []


def test_it_warns_about_only_regex_matchers(am, api, tag):
    make_rule("regex-only", "too_broad", mode="warn", only_regex=True)
    regex = [{"name": "test", "op": "=~", "value": f"{tag}|nothing"}]

    made = create(api, tag, matchers=regex)

    assert "Every matcher is a regular expression" in made["policy_warnings"][0]
    assert len(silences_in_am(am, tag)) == 1


def test_it_refuses_too_few_matchers(am, api, tag):
    make_rule("three-matchers", "too_broad", min_matchers=3)

    response = api.post(SILENCES, body(tag), format="json")

    assert "at least 3 matchers (this silence has 2)" in refused(response, "three-matchers")
    assert silences_in_am(am, tag) == []
    refused_once(tag, "three-matchers")


def test_each_cluster_is_judged_on_its_own_alerts(am, api, settings, tag):
    # Two clusters backed by the same Alertmanager: "second" has no alerts of this tag.
    from alertui.clusters import Cluster

    settings.CLUSTERS = [
        Cluster("first", {am.url: am.url}),
        Cluster("second", {am.url: am.url}),
    ]
    firing({"alertname": "Disk", "test": tag}, {"alertname": "Load", "test": tag}, cluster="first")
    firing({"alertname": "Other"}, {"alertname": "Other2"}, cluster="second")
    make_rule("not-everything", "too_broad", whole_cluster=True)
    data = body(tag, matchers=[{"name": "test", "value": tag}], clusters=["first", "second"])

    response = api.post(SILENCES, data, format="json")

    assert response.status_code == 207, response.content
    first, second = response.json()["results"]
    assert (first["cluster"], first["reason"], first["silence"]) == ("first", "policy", None)
    assert second["silence"]["cluster"] == "second" and second["policy_warnings"] == []
    assert [s["id"] for s in silences_in_am(am, tag)] == [second["silence"]["id"]]
    [event] = AuditEvent.objects.filter(outcome="failed")
    assert event.cluster == "first" and "refused by policy: not-everything: " in event.error
