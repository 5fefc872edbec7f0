"""Adversarial review of the silence policy and maintenance window notices: each test pins a
bug found by attacking them (real Alertmanager 0.25, as tests/test_policy.py), and fails until
it is fixed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alertui.audit.models import AuditEvent
from alertui.matchers import Matcher
from alertui.silences import services
from alertui.silences.services import Actor, SilenceActionError, SilenceValues
from tests.api_client import silences_in_am
from tests.policy_helpers import firing, make_rule

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_snapshot")]


def values(matchers, *, hours=2, comment="deploy OPS-1"):
    now = timezone.now()
    return SilenceValues(tuple(matchers), now, now + timedelta(hours=hours), comment)


def page_text(response) -> str:
    return response.content.decode()


# -- maintenance windows: a refused edit is audited on every run -------------------------------


def test_it_audits_a_refused_window_edit_once_not_on_every_run(am, silencer, tag):
    """A window edited past a maximum duration: the edit of its already-made silence is
    refused, and then refused (and audited) again on every materialize run, flooding the
    audit with one failed row a minute (materialize._update_outdated keeps retrying it)."""
    from alertui.maintenance.materialize import materialize
    from alertui.maintenance.services import edit_window
    from tests.maintenance_helpers import make_window, once_fields, soon

    start = soon(3600)
    window = make_window(silencer, tag, start)  # 1 h: made
    materialize()
    assert len(silences_in_am(am, tag)) == 1
    make_rule("two-hours", "max_duration", max_duration="2h")

    edit_window(Actor(silencer), window, once_fields(tag, start, length=timedelta(hours=3)))
    materialize()
    materialize()

    refused = AuditEvent.objects.filter(outcome="failed", error__startswith="refused by policy")
    assert refused.count() == 1, [e.error for e in refused]


# -- too broad: the "only regex" and "minimum matchers" limits ---------------------------------


def test_it_does_not_let_a_negative_matcher_get_around_only_regex(am, silencer, tag):
    """`only_regex` asks for "an exact one (name="value")"; a `!=` matcher that excludes a
    value no alert has is no exact matcher, yet it takes the silence past the rule, and the
    silence mutes every alert whose label is set at all."""
    make_rule("no-regex-only", "too_broad", only_regex=True)
    matchers = [Matcher("test", "=~", ".+"), Matcher("test", "!=", f"nothing-{tag}")]

    with pytest.raises(SilenceActionError) as refused:
        services.create_silence(Actor(silencer), values(matchers))

    assert refused.value.reason == "policy"


def test_it_does_not_count_a_repeated_matcher_towards_min_matchers(am, silencer, tag):
    """`min_matchers: 3` is met by the same matcher written three times: the silence is as
    broad as with one."""
    make_rule("three-matchers", "too_broad", min_matchers=3)
    matchers = [Matcher("test", "=", tag)] * 3

    with pytest.raises(SilenceActionError) as refused:
        services.create_silence(Actor(silencer), values(matchers))

    assert refused.value.reason == "policy"


# -- warnings that the browser never shows ------------------------------------------------------


def test_it_tells_the_person_a_warning_when_extending_in_the_browser(
    am, silencer, silencer_client, tag
):
    """A warn-mode rule: the form asks to confirm, the API answers policy_warnings, but the
    extend button goes ahead with no word of the warning (the verdict is dropped)."""
    make_rule("four-hours", "max_duration", mode="warn", max_duration="4h", explanation="Hm.")
    made = services.create_silence(Actor(silencer), values([Matcher("test", "=", tag)], hours=3))

    response = silencer_client.post(f"/silences/{made.id}/extend/", {"by": "1d"}, follow=True)

    assert "Silence extended" in page_text(response)
    assert "four-hours" in page_text(response)


def test_it_tells_the_person_a_warning_when_restoring_in_the_browser(
    am, silencer, silencer_client, tag
):
    """Undo of an expire makes a new silence: a warn-mode rule is not shown either."""
    made = services.create_silence(Actor(silencer), values([Matcher("test", "=", tag)]))
    services.expire_silence(Actor(silencer), made.id)
    make_rule("ticket-url", "comment", mode="warn", pattern=r"https://", explanation="Link it.")

    response = silencer_client.post(f"/silences/{made.id}/restore/", follow=True)

    live = [s for s in silences_in_am(am, tag) if s["status"]["state"] == "active"]
    assert len(live) == 1, page_text(response)
    assert "ticket-url" in page_text(response)


def test_it_counts_the_snapshot_of_the_cluster_in_the_too_broad_rule(am, silencer, tag):
    """Sanity: the counts use the snapshot (not a finding; keeps the helpers honest)."""
    firing({"test": tag, "alertname": "A"}, {"test": tag, "alertname": "B"})
    make_rule("whole", "too_broad", whole_cluster=True)

    with pytest.raises(SilenceActionError):
        services.create_silence(Actor(silencer), values([Matcher("test", "=", tag)]))


# -- multi-cluster create: a refusal in one cluster skips the others' warnings -----------------


@pytest.fixture(scope="module")
def staging_am(tmp_path_factory):
    from tests.servers import AlertmanagerProcess

    am = AlertmanagerProcess("0.28", tmp_path_factory.mktemp("staging-am")).start()
    yield am
    am.stop()


def two_clusters(prod_url: str, staging_url: str):
    from alertui.clusters import Cluster

    return [
        Cluster("prod", {prod_url: prod_url}, {}, prod_url),
        Cluster("staging", {staging_url: staging_url}, {}, staging_url),
    ]


def test_it_asks_to_confirm_one_clusters_warnings_when_another_cluster_refuses(
    settings, am, staging_am, silencer_client, tag
):
    """confirmed() lets any verdict with a refusal through unconfirmed, so that services
    refuse and audit it; in a multi-cluster create the cluster that is only warned about gets
    its silence without the person ever seeing, let alone confirming, the warning."""
    from tests.maintenance_helpers import silences_of

    settings.CLUSTERS = two_clusters(am.url, staging_am.url)
    make_rule("staging-ticket", "comment", pattern=r"[A-Z]+-[0-9]+", clusters="staging")
    make_rule("one-hour", "max_duration", mode="warn", max_duration="1h", explanation="Hm.")
    form = {
        "matcher_name": ["test"],
        "matcher_op": ["="],
        "matcher_value": [tag],
        "duration": "2h",
        "comment": "deploying",
        "tz": "UTC",
        "clusters": ["prod", "staging"],
    }

    response = silencer_client.post("/silences/new/", form, follow=True)

    assert silences_of(staging_am, tag) == []  # refused there, as it should be
    made = silences_of(am, tag)
    assert made == [] or "one-hour" in page_text(response), "made in prod, warning never shown"
