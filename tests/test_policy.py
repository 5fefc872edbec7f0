"""The silence policy in the browser and in every writer (silences.services), against a real
Alertmanager 0.25: each rule kind in warn and refuse mode. A refusal sends nothing to
Alertmanager and leaves one audit row naming the rule; a warning asks the person to confirm.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils import timezone

from alertui.audit.models import AuditEvent
from alertui.matchers import Matcher
from alertui.policy import config
from alertui.policy.models import PolicyRule
from alertui.silences import services
from alertui.silences.services import Actor, SilenceActionError, SilenceValues
from tests.api_client import silences_in_am, sync
from tests.policy_helpers import firing, make_rule, refused_once
from tests.servers import make_alert

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]

TICKET = r"[A-Z]+-[0-9]+"


def form(tag, *, rows=None, **fields) -> dict:
    rows = rows or [("test", "=", tag)]
    data = {
        "matcher_name": [r[0] for r in rows],
        "matcher_op": [r[1] for r in rows],
        "matcher_value": [r[2] for r in rows],
        "duration": "2h",
        "comment": f"deploy {tag} OPS-12",
        "tz": "UTC",
    }
    data.update(fields)
    return data


def values(tag, *, hours=2, comment="deploy OPS-1", extra=()):
    now = timezone.now()
    matchers = (Matcher("test", "=", tag), *extra)
    return SilenceValues(matchers, now, now + timedelta(hours=hours), comment)


def page_text(response) -> str:
    return response.content.decode()


# -- comment rule ------------------------------------------------------------------------------


def test_it_refuses_a_comment_without_a_ticket_in_the_form(am, silencer_client, tag):
    make_rule("ticket", "comment", pattern=TICKET, explanation="Name the ticket, like OPS-123.")

    response = silencer_client.post("/silences/new/", form(tag, comment="deploying"))

    assert response.status_code == 400
    text = page_text(response)
    assert "refused by policy: ticket" in text
    assert "Name the ticket, like OPS-123." in text
    assert silences_in_am(am, tag) == []
    event = refused_once(tag, "ticket")
    assert event.comment == "deploying" and event.actor.username == "alice"


def test_it_warns_about_a_comment_and_makes_the_silence_once_confirmed(am, silencer_client, tag):
    make_rule("ticket", "comment", mode="warn", pattern=TICKET, explanation="Name the ticket.")

    first = silencer_client.post("/silences/new/", form(tag, comment="deploying"))

    assert first.status_code == 400
    assert "Name the ticket." in page_text(first)
    assert 'name="policy_confirmed"' in page_text(first)
    assert silences_in_am(am, tag) == [] and not AuditEvent.objects.exists()

    confirmed = form(tag, comment="deploying", policy_confirmed="1")
    second = silencer_client.post("/silences/new/", confirmed)

    assert second.status_code == 302
    [made] = silences_in_am(am, tag)
    assert made["comment"] == "deploying"
    assert AuditEvent.objects.get().outcome == "succeeded"


def test_a_comment_with_the_ticket_passes_without_a_word(am, silencer_client, tag):
    make_rule("ticket", "comment", pattern=TICKET)

    response = silencer_client.post("/silences/new/", form(tag, comment="deploy OPS-7"))

    assert response.status_code == 302
    assert len(silences_in_am(am, tag)) == 1


# -- maximum duration --------------------------------------------------------------------------


def test_it_refuses_a_critical_silence_longer_than_its_scope_allows(am, silencer_client, tag):
    make_rule("critical-4h", "max_duration", scope='severity="critical"', max_duration="4h")
    critical = [("test", "=", tag), ("severity", "=", "critical")]

    response = silencer_client.post("/silences/new/", form(tag, rows=critical, duration="1d"))

    assert response.status_code == 400
    assert "may last at most 4h" in page_text(response)
    assert silences_in_am(am, tag) == []
    refused_once(tag, "critical-4h")


def test_the_scope_leaves_silences_that_cannot_mute_it_alone(am, silencer_client, tag):
    make_rule("critical-4h", "max_duration", scope='severity="critical"', max_duration="4h")
    warning = [("test", "=", tag), ("severity", "=", "warning")]

    response = silencer_client.post("/silences/new/", form(tag, rows=warning, duration="1d"))

    assert response.status_code == 302
    assert len(silences_in_am(am, tag)) == 1


def test_it_warns_about_a_long_silence_in_the_form(am, silencer_client, tag):
    make_rule("a-day", "max_duration", mode="warn", max_duration="1d")

    first = silencer_client.post("/silences/new/", form(tag, duration="3d"))

    assert first.status_code == 400
    assert "may last at most 1d" in page_text(first)
    assert silences_in_am(am, tag) == []
    second = silencer_client.post("/silences/new/", form(tag, duration="3d", policy_confirmed="1"))
    assert second.status_code == 302
    assert len(silences_in_am(am, tag)) == 1


def test_a_group_rule_limits_its_members_only(am, silencer, admin_user, tag):
    silencers = Group.objects.get(name="silencers")
    make_rule("silencers-1h", "max_duration", max_duration="1h", groups=[silencers])

    with pytest.raises(SilenceActionError) as refused:
        services.create_silence(Actor(silencer), values(tag, hours=2))

    assert refused.value.reason == "policy"
    assert silences_in_am(am, tag) == []
    refused_once(tag, "silencers-1h")
    made = services.create_silence(Actor(admin_user), values(tag, hours=2))
    assert [s["id"] for s in silences_in_am(am, tag)] == [made.id]


def test_an_extension_past_the_maximum_is_refused_and_leaves_the_silence(am, silencer, tag):
    make_rule("four-hours", "max_duration", max_duration="4h")
    made = services.create_silence(Actor(silencer), values(tag, hours=3))

    with pytest.raises(SilenceActionError, match="refused by policy: four-hours"):
        services.extend_silence(Actor(silencer), made.id, made.ends_at + timedelta(hours=2))

    [in_am] = silences_in_am(am, tag)
    assert in_am["id"] == made.id and in_am["status"]["state"] == "active"
    assert in_am["endsAt"].startswith(made.ends_at.strftime("%Y-%m-%dT%H:%M"))
    event = refused_once(tag, "four-hours", action="extended")
    assert event.silence_id == made.id and event.before["comment"] == "deploy OPS-1"


def test_an_edit_in_the_form_is_judged_too(am, silencer, silencer_client, tag):
    make_rule("ticket", "comment", pattern=TICKET)
    made = services.create_silence(Actor(silencer), values(tag))

    response = silencer_client.post(
        f"/silences/{made.id}/edit/", form(tag, comment="no ticket", duration="")
    )

    assert response.status_code == 400
    assert "refused by policy: ticket" in page_text(response)
    [in_am] = silences_in_am(am, tag)
    assert in_am["comment"] == "deploy OPS-1"
    assert refused_once(tag, "ticket", action="edited").silence_id == made.id


def test_an_admin_may_pass_a_refusal_the_rule_lets_admins_through(am, admin_user, silencer, tag):
    make_rule("four-hours", "max_duration", max_duration="4h", admins_exempt=True)

    with pytest.raises(SilenceActionError):
        services.create_silence(Actor(silencer), values(tag, hours=8))
    made = services.create_silence(Actor(admin_user), values(tag, hours=8))

    assert [s["id"] for s in silences_in_am(am, tag)] == [made.id]


# -- too broad ---------------------------------------------------------------------------------


def test_it_refuses_a_silence_matching_more_current_alerts_than_allowed(am, silencer_client, tag):
    # Real alerts, pushed to Alertmanager and read by the sync, as the preview counts them.
    am.push_alerts([make_alert({"alertname": f"Load{i}", "test": tag}) for i in range(3)])
    sync()
    make_rule("at-most-2", "too_broad", max_alerts=2)

    response = silencer_client.post("/silences/new/", form(tag))

    assert response.status_code == 400
    assert f"It matches 3 current alerts in {am_cluster()}; at most 2 allowed." in page_text(
        response
    )
    assert silences_in_am(am, tag) == []
    refused_once(tag, "at-most-2")


def test_it_warns_about_a_silence_of_most_of_a_clusters_alerts(am, silencer_client, tag):
    firing(*({"alertname": "Disk", "test": tag} for _ in range(3)), {"alertname": "Other"})
    make_rule("half", "too_broad", mode="warn", max_percent=50)

    first = silencer_client.post("/silences/new/", form(tag))

    assert first.status_code == 400
    assert "(75%); at most 50% allowed" in page_text(first)
    second = silencer_client.post("/silences/new/", form(tag, policy_confirmed="1"))
    assert second.status_code == 302
    assert len(silences_in_am(am, tag)) == 1


def test_it_refuses_a_silence_of_every_alert_of_the_cluster(am, silencer, tag):
    firing({"alertname": "Disk", "test": tag}, {"alertname": "Load", "test": tag})
    make_rule("not-everything", "too_broad", whole_cluster=True)

    with pytest.raises(SilenceActionError, match="every current alert"):
        services.create_silence(Actor(silencer), values(tag))

    assert silences_in_am(am, tag) == []
    refused_once(tag, "not-everything")


def test_it_refuses_only_regex_matchers_in_the_form(am, silencer_client, tag):
    make_rule("no-regex-only", "too_broad", only_regex=True)
    regex_only = [("test", "=~", f"{tag}|none")]

    response = silencer_client.post("/silences/new/", form(tag, rows=regex_only))

    assert response.status_code == 400
    assert "Every matcher is a regular expression" in page_text(response)
    assert silences_in_am(am, tag) == []
    refused_once(tag, "no-regex-only")


def test_it_warns_about_too_few_matchers(am, silencer, tag):
    make_rule("two-matchers", "too_broad", mode="warn", min_matchers=2)

    made = services.create_silence(Actor(silencer), values(tag))  # a warning never stops it

    assert [s["id"] for s in silences_in_am(am, tag)] == [made.id]
    assert AuditEvent.objects.get().outcome == "succeeded"


# -- the live preview --------------------------------------------------------------------------


def test_the_preview_shows_warnings_and_refusals_before_anything_is_sent(am, silencer_client, tag):
    make_rule("ticket", "comment", pattern=TICKET, explanation="Name the ticket.")
    make_rule("a-day", "max_duration", mode="warn", max_duration="1d")

    response = silencer_client.get(
        "/policy/preview/", form(tag, comment="no ticket", duration="2d")
    )

    assert response.status_code == 200
    text = page_text(response)
    assert "The silence policy refuses this silence" in text and "Name the ticket." in text
    assert "The silence policy warns" in text and "may last at most 1d" in text
    assert silences_in_am(am, tag) == [] and not AuditEvent.objects.exists()


def test_the_preview_is_empty_for_a_silence_the_policy_accepts(am, silencer_client, tag):
    make_rule("ticket", "comment", pattern=TICKET)

    response = silencer_client.get("/policy/preview/", form(tag))

    assert response.status_code == 200
    assert "policy" not in page_text(response)


def test_the_preview_escapes_what_the_person_typed(am, silencer_client, tag):
    make_rule("two-matchers", "too_broad", min_matchers=2, explanation="<b>two</b>")
    rows = [("test", "=", "<script>x</script>")]

    response = silencer_client.get("/policy/preview/", form(tag, rows=rows))

    assert "<script>" not in page_text(response) and "&lt;b&gt;two" in page_text(response)


# -- where rules come from ---------------------------------------------------------------------


def test_rules_from_the_policy_file_apply_and_are_read_only(am, settings, silencer, tag, tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(
        "rules:\n"
        "  - name: file-ticket\n"
        "    kind: comment\n"
        f"    pattern: '{TICKET}'\n"
        "    explanation: From the file.\n"
    )
    settings.POLICY_FILE = str(path)

    with pytest.raises(SilenceActionError, match="From the file."):
        services.create_silence(Actor(silencer), values(tag, comment="none"))

    assert silences_in_am(am, tag) == []
    refused_once(tag, "file-ticket")
    assert not PolicyRule.objects.exists()  # not a row an admin could change


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [{name: x, kind: comment}]", "rule 'x': key pattern"),
        ("rules: [{name: x, kind: comment, pattern: '(['}]", "rule 'x': key pattern: Not a"),
        ("rules: [{name: x, kind: max_duration, max_duration: soon}]", "key max_duration"),
        ("rules: [{name: x, kind: too_broad}]", "rule 'x': key max_alerts"),
        ("rules: [{name: x, kind: too_broad, min_matchers: 2, colour: red}]", "unknown key"),
        ("rules: [{name: x, kind: sometimes}]", "key kind"),
        (
            "rules: [{name: x, kind: too_broad, min_matchers: 2, clusters: [nope]}]",
            "key clusters: no such cluster: nope",
        ),
        ("rules: [{name: x, kind: warn, mode: maybe}]", "key"),
        ("rules: {}", "rules must be a list"),
        ("policy: []", "the file holds one key"),
        ("rules: [", "not valid YAML at line"),
    ],
)
def test_a_wrong_policy_file_stops_the_start_naming_the_rule_and_key(tmp_path, text, message):
    path = tmp_path / "policy.yaml"
    path.write_text(text)

    with pytest.raises(ImproperlyConfigured, match=f"POLICY_FILE {path}: .*") as wrong:
        config.load(str(path))

    assert message in str(wrong.value)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "comment", "pattern": "(["}, "pattern"),
        ({"kind": "comment", "pattern": "a" * 501}, "pattern"),
        ({"kind": "comment", "pattern": "(a{1,1000}){1,1000}"}, "pattern"),
        ({"kind": "max_duration", "max_duration": "forever"}, "max_duration"),
        ({"kind": "max_duration", "max_duration": "1h", "scope": 'severity=~"(['}, "scope"),
        ({"kind": "too_broad", "max_percent": 120}, "max_percent"),
        ({"kind": "too_broad"}, "max_alerts"),
        ({"kind": "too_broad", "min_matchers": 2, "clusters": "nope"}, "clusters"),
    ],
)
def test_the_admin_refuses_a_rule_that_cannot_work(fields, field):
    with pytest.raises(ValidationError) as wrong:
        make_rule("broken", **fields)

    assert field in wrong.value.message_dict


def am_cluster() -> str:
    from django.conf import settings

    return settings.CLUSTER_NAME


# -- automated writers -------------------------------------------------------------------------


def test_a_maintenance_window_the_policy_refuses_is_missed_once_not_retried(am, silencer, tag):
    from alertui.maintenance.materialize import materialize
    from alertui.maintenance.models import Materialization
    from tests.maintenance_helpers import make_window, soon

    make_rule("ticket", "comment", pattern=TICKET, explanation="Name the ticket.")
    window = make_window(silencer, tag, soon(3600), comment="patching")  # no ticket
    materialize()
    materialize()

    assert silences_in_am(am, tag) == []
    [event] = AuditEvent.objects.filter(outcome="failed")
    assert event.source == "maintenance" and event.actor == silencer
    assert event.error.startswith("refused by policy: ticket: ")
    row = Materialization.objects.get(window=window)
    assert row.state == "missed" and "Name the ticket." in row.error


def test_an_extension_refused_in_the_browser_says_why(am, silencer, silencer_client, tag):
    make_rule("four-hours", "max_duration", max_duration="4h", explanation="Ask the on-call.")
    made = services.create_silence(Actor(silencer), values(tag, hours=3))

    response = silencer_client.post(f"/silences/{made.id}/extend/", {"by": "1d"}, follow=True)

    assert "Not extended: refused by policy: four-hours" in page_text(response)
    assert "Ask the on-call." in page_text(response)
    [in_am] = silences_in_am(am, tag)
    assert in_am["endsAt"].startswith(made.ends_at.strftime("%Y-%m-%dT%H:%M"))
    refused_once(tag, "four-hours", action="extended")


def test_a_viewer_gets_no_verdict(viewer_client, tag):
    assert viewer_client.get("/policy/preview/", form(tag)).status_code == 403


def test_the_admin_lists_the_files_rules_beside_its_own(admin_user, client, settings, tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("rules: [{name: file-two, kind: too_broad, min_matchers: 2}]\n")
    settings.POLICY_FILE = str(path)
    client.force_login(admin_user)

    response = client.post(
        "/admin/policy/policyrule/add/",
        {
            "name": "critical-4h",
            "kind": "max_duration",
            "mode": "refuse",
            "enabled": "on",
            "scope": 'severity="critical"',
            "max_duration": "4h",
        },
    )
    assert response.status_code == 302, page_text(response)
    listing = page_text(client.get("/admin/policy/policyrule/"))

    assert "critical-4h" in listing
    assert "Also in force, from POLICY_FILE: file-two (too_broad, refuse: at least 2 matchers)" in (
        listing
    )
    rule = PolicyRule.objects.get().as_rule()
    assert (rule.scope, rule.max_duration) == (
        (Matcher("severity", "=", "critical"),),
        timedelta(hours=4),
    )
