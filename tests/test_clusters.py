"""Three real clusters at once: "eu", a two-peer HA Alertmanager 0.25 fed by Prometheus 2.42;
"us", Alertmanager 0.28 fed by Prometheus 2.53; "staging", Alertmanager 0.33 fed by
Prometheus 3.5. Each cluster's alerts, silences, targets and audit rows carry its name; each
syncs and is written to on its own.

The servers are shared by the module's tests: each test uses its own label value (`tag`)."""

import re
import threading
from datetime import timedelta
from io import StringIO

import pytest
import requests
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from alertui.alerts.models import Alert
from alertui.alerts.sync import sync_alerts
from alertui.audit.models import AuditEvent
from alertui.clusters import Cluster
from alertui.integrations.alertmanager import AlertmanagerClient, SilenceRequest
from alertui.matchers import Matcher
from alertui.silences import multi, services
from alertui.silences.models import Silence
from alertui.silences.recorder import Actor
from alertui.sync.models import SourceStatus
from alertui.targets.models import ScrapePool
from tests.servers import (
    AlertmanagerProcess,
    PrometheusProcess,
    make_alert,
    start_cluster,
    wait_until,
)
from tests.standins import HangingServer

pytestmark = pytest.mark.django_db

NAMES = ("eu", "us", "staging")


class World:
    def __init__(self, tmp):
        self.peers = {"eu": start_cluster("0.25", tmp / "eu")}
        try:
            self.peers["us"] = [AlertmanagerProcess("0.28", tmp / "us").start()]
            self.peers["staging"] = [AlertmanagerProcess("0.33", tmp / "staging").start()]
            versions = {"eu": "2.42", "us": "2.53", "staging": "3.5"}
            self.prometheus = {}
            for name, version in versions.items():
                self.prometheus[name] = PrometheusProcess(
                    version,
                    tmp / f"prom-{name}",
                    alertmanager_urls=[p.url for p in self.peers[name]],
                ).start()
            for prom in self.prometheus.values():
                prom.wait_settled()
            for name in NAMES:  # what each Prometheus fires has reached its cluster
                wait_until(lambda n=name: self.firing(n), 60, f"AlwaysFiring in {name}")
        except BaseException:
            self.stop()
            raise

    def firing(self, name: str) -> bool:
        peer = self.peers[name][0]
        alerts = requests.get(f"{peer.url}/api/v2/alerts", timeout=5).json()
        return any(a["labels"].get("alertname") == "AlwaysFiring" for a in alerts)

    def clusters(self) -> list[Cluster]:
        return [
            Cluster(
                name,
                {p.url: p.url for p in self.peers[name]},
                {self.prometheus[name].url: self.prometheus[name].url},
                self.peers[name][0].url,
            )
            for name in NAMES
        ]

    def push(self, name: str, alertname: str, tag: str) -> None:
        for peer in self.peers[name]:
            peer.push_alerts([make_alert({"alertname": alertname, "test": tag})])

    def client(self, name: str) -> AlertmanagerClient:
        return AlertmanagerClient([p.url for p in self.peers[name]])

    def stop(self):
        for prom in getattr(self, "prometheus", {}).values():
            prom.stop()
        for peers in self.peers.values():
            for peer in peers:
                peer.stop()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    world = World(tmp_path_factory.mktemp("clusters"))
    yield world
    world.stop()


@pytest.fixture
def three(settings, world, redis_db):
    settings.CLUSTERS = world.clusters()
    return world


def sync(*args) -> str:
    out = StringIO()
    call_command("sync", *args, stdout=out)
    return out.getvalue()


def mine(tag: str):
    return Alert.objects.filter(labels__test=tag)


def silence_values(tag: str, hours: int = 1) -> services.SilenceValues:
    now = timezone.now()
    return services.SilenceValues(
        (Matcher("test", "=", tag),), now, now + timedelta(hours=hours), "maintenance"
    )


def muted(tag: str) -> dict[str, bool]:
    return {a.cluster: a.is_silenced for a in mine(tag)}


def test_every_clusters_alerts_targets_and_health_carry_its_name(three, tag):
    for name in NAMES:
        three.push(name, f"Disk-{name}", tag)

    out = sync()

    assert {(a.cluster, a.alertname) for a in mine(tag)} == {(n, f"Disk-{n}") for n in NAMES}
    # Each Prometheus's own AlwaysFiring reached its own cluster only.
    for name in NAMES:
        firing = Alert.objects.filter(cluster=name, alertname="AlwaysFiring")
        assert {a.labels["prometheus"] for a in firing} == {three.prometheus[name].name}
        assert ScrapePool.objects.filter(cluster=name, name="broken").exists()
    healthy = SourceStatus.objects.filter(failing_since=None, last_success_at__isnull=False)
    assert {(s.cluster, s.kind) for s in healthy if s.cluster} >= {
        (n, k) for n in NAMES for k in ("alertmanager-alerts", "alertmanager-silences")
    }
    assert "eu alerts:" in out and "staging targets:" in out


def test_the_sync_command_runs_one_cluster_and_one_kind(three, tag):
    three.push("us", "OnlyUs", tag)
    three.push("eu", "NotYet", tag)

    out = sync("--cluster", "us", "--kind", "alerts")

    assert [a.cluster for a in mine(tag)] == ["us"]
    [line] = out.splitlines()
    assert line.startswith("us alerts: ")


def test_a_silence_made_in_two_clusters_mutes_both_and_expires_in_one(three, silencer, tag):
    for name in NAMES:
        three.push(name, "Shared", tag)
    sync("--kind", "alerts")

    outcomes = multi.create_in_clusters(Actor(silencer), silence_values(tag), ["us", "eu"])

    assert [(o.cluster, o.error) for o in outcomes] == [("eu", None), ("us", None)]
    ids = {o.cluster: o.silence.id for o in outcomes}
    for name in ("eu", "us"):
        held = {s.id for s in three.client(name).list_silences()}
        assert ids[name] in held and ids["eu" if name == "us" else "us"] not in held
    rows = AuditEvent.objects.filter(silence_id__in=ids.values())
    assert sorted((r.cluster, r.action, r.actor_name) for r in rows) == [
        ("eu", "created", "alice"),
        ("us", "created", "alice"),
    ]
    assert len({r.action_id for r in rows}) == 1 and rows[0].action_id
    assert {s.id: s.cluster for s in Silence.objects.filter(pk__in=ids.values())} == {
        ids["eu"]: "eu",
        ids["us"]: "us",
    }
    sync()
    assert muted(tag) == {"eu": True, "us": True, "staging": False}

    services.expire_silence(Actor(silencer), ids["eu"])
    sync()

    assert muted(tag) == {"eu": False, "us": True, "staging": False}
    assert three.client("us").get_silence(ids["us"]).state == "active"
    expiry = AuditEvent.objects.get(silence_id=ids["eu"], action="expired")
    assert expiry.cluster == "eu" and expiry.action_id == ""
    assert AuditEvent.objects.filter(silence_id__in=ids.values()).count() == 3


def test_changes_made_in_any_cluster_are_recorded_under_it_once(three, tag):
    now = timezone.now()
    made = {}
    for name in NAMES:
        request = SilenceRequest(
            (Matcher("test", "=", tag),), now, now + timedelta(hours=1), f"amtool {name}", "x"
        )
        made[name] = three.client(name).post_silence(request)

    sync("--kind", "silences")
    recorded = list(AuditEvent.objects.filter(silence_id__in=made.values()))
    sync("--kind", "silences")

    assert sorted((e.cluster, e.silence_id, e.source) for e in recorded) == sorted(
        (name, silence_id, "sync") for name, silence_id in made.items()
    )
    assert AuditEvent.objects.filter(silence_id__in=made.values()).count() == 3


def test_a_stopped_cluster_shows_its_banner_while_the_others_go_on(
    three, silencer, silencer_client, tag
):
    for name in NAMES:
        three.push(name, "Before", tag)
    sync()
    staging = three.peers["staging"][0]
    staging.stop()
    try:
        three.push("eu", "After", tag)
        with pytest.raises(Exception, match="staging"):
            sync()  # the command fails, naming the cluster, after syncing the others

        assert set(mine(tag).values_list("cluster", "alertname")) == {
            ("eu", "Before"),
            ("eu", "After"),
            ("us", "Before"),
            ("staging", "Before"),  # its last known picture
        }
        failing = SourceStatus.objects.exclude(failing_since=None)
        assert {s.cluster for s in failing} == {"staging"}
        page = silencer_client.get("/alerts/").content.decode()
        assert "Cannot reach Alertmanager (alerts) of cluster staging" in page
        assert "of cluster eu" not in page and "of cluster us" not in page
        [outcome, down] = multi.create_in_clusters(
            Actor(silencer), silence_values(tag), ["eu", "staging"]
        )
        assert outcome.cluster == "eu" and outcome.silence is not None
        assert down.cluster == "staging" and down.error.reason == "unavailable"
        created = AuditEvent.objects.get(silence_id=outcome.silence.id)
        failed = AuditEvent.objects.get(cluster="staging", matchers_text__contains=tag)
        assert (created.cluster, created.outcome) == ("eu", "succeeded")
        assert (failed.outcome, failed.action) == ("failed", "created")
        assert created.action_id and failed.action_id == created.action_id
    finally:
        staging.start()


@pytest.mark.django_db(transaction=True)  # the wedged cluster's sync writes from its thread
def test_a_hanging_cluster_holds_up_no_other(settings, three, tag):
    """A stand-in for what a real Alertmanager cannot be made to do: hang on every request."""
    hanging = HangingServer()
    settings.CLUSTERS = [*three.clusters(), Cluster("wedged", {hanging.url: hanging.url})]
    settings.ALERTMANAGER_TIMEOUT = 60

    def wedged_sync():
        try:
            sync_alerts(cluster="wedged")
        finally:
            connection.close()

    stuck = threading.Thread(target=wedged_sync, daemon=True)
    stuck.start()
    wait_until(lambda: hanging.received, 10, "the wedged cluster's sync to call it")
    try:
        three.push("eu", "WhileWedged", tag)
        result = sync_alerts(cluster="eu")

        assert not result.skipped and result.error == ""
        assert stuck.is_alive()  # still waiting on its peer: eu did not wait for it
        assert mine(tag).get().cluster == "eu"
    finally:
        hanging.stop()
        stuck.join(timeout=30)


def test_the_api_creates_in_several_clusters_and_reports_each(three, silencer, tag):
    from tests.api_client import token_client

    api, _ = token_client(silencer)
    three.peers["staging"][0].stop()
    try:
        response = api.post(
            "/api/v1/silences/",
            {
                "matchers": [{"name": "test", "op": "=", "value": tag}],
                "duration": "1h",
                "comment": "api in two clusters",
                "clusters": ["staging", "us"],
            },
            format="json",
        )
    finally:
        three.peers["staging"][0].start()

    assert response.status_code == 207, response.content
    body = response.json()
    made, down = body["results"]
    assert made["cluster"] == "us" and made["silence"]["cluster"] == "us" and not made["reason"]
    assert down["cluster"] == "staging" and down["silence"] is None
    assert down["reason"] == "unavailable" and "Nothing was changed" in down["detail"]
    rows = AuditEvent.objects.filter(action_id=body["action_id"])
    assert sorted((r.cluster, r.outcome, r.source) for r in rows) == [
        ("staging", "failed", "api"),
        ("us", "succeeded", "api"),
    ]
    listed = api.get("/api/v1/silences/", {"cluster": "us", "q": tag}).json()["results"]
    assert [s["id"] for s in listed] == [made["silence"]["id"]]
    audit = api.get("/api/v1/audit/", {"cluster": "staging", "text": tag}).json()["results"]
    assert [(e["cluster"], e["action_id"]) for e in audit] == [("staging", body["action_id"])]
    refused = api.post(
        "/api/v1/silences/",
        {
            "matchers": [{"name": "test", "op": "=", "value": tag}],
            "duration": "1h",
            "comment": "x",
            "clusters": ["us", "nowhere"],
        },
        format="json",
    )
    assert refused.status_code == 400 and "nowhere" in refused.json()["clusters"][0]


def test_the_audit_shows_each_rows_cluster_and_an_actions_rows_together(
    three, silencer, silencer_client, tag
):
    [eu, us] = multi.create_in_clusters(Actor(silencer), silence_values(tag), ["eu", "us"])

    history = silencer_client.get(f"/audit/silence/{eu.silence.id}/").content.decode()
    listed = silencer_client.get("/audit/", {"cluster": "us", "text": tag}).content.decode()
    csv = b"".join(silencer_client.get("/audit/export.csv", {"text": tag}).streaming_content)

    assert eu.silence.id[:8] in history and us.silence.id[:8] in history
    assert '<span class="cluster">eu</span>' in history
    assert '<span class="cluster">us</span>' in history
    assert us.silence.id[:8] in listed and eu.silence.id[:8] not in listed
    header, *lines = csv.decode().splitlines()
    assert header.split(",")[-1] == "cluster"
    assert sorted(line.split(",")[-1] for line in lines) == ["eu", "us"]


def test_the_form_makes_a_silence_in_each_ticked_cluster_and_names_them(
    three, silencer_client, tag
):
    for name in NAMES:
        three.push(name, "FormAlert", tag)
    sync("--kind", "alerts")
    eu_alert = mine(tag).get(cluster="eu")
    form = silencer_client.get(
        "/silences/new/", {"alert": eu_alert.fingerprint, "cluster": "eu"}
    ).content.decode()
    preview = silencer_client.get(
        "/silences/preview/", {"matcher_name": "test", "matcher_op": "=", "matcher_value": tag}
    ).content.decode()

    response = silencer_client.post(
        "/silences/new/",
        {
            "matcher_name": ["test"],
            "matcher_op": ["="],
            "matcher_value": [tag],
            "duration": "1h",
            "comment": "from the form",
            "clusters": ["eu", "staging"],
        },
        follow=True,
    )

    ticked = re.findall(
        r'<input type="checkbox" name="clusters" value="([^"]+)"[^>]* checked', form
    )
    assert ticked == ["eu"] and "Create in all 3 clusters" in form
    assert [p for p in ("eu", "us", "staging") if f'<span class="cluster">{p}</span> 1' in preview]
    texts = [str(m) for m in response.context["messages"]]
    assert [t.split(":")[0] for t in texts] == ["eu", "staging"], texts
    made = Silence.objects.filter(comment="from the form", matchers_text__contains=tag)
    assert sorted(made.values_list("cluster", flat=True)) == ["eu", "staging"]
    listed = silencer_client.get("/silences/", {"q": tag, "cluster": "staging"}).content.decode()
    staging_id = made.get(cluster="staging").id
    assert staging_id in listed and made.get(cluster="eu").id not in listed

    everywhere = silencer_client.post(
        "/silences/new/",
        {
            "matcher_name": ["test"],
            "matcher_op": ["="],
            "matcher_value": [tag],
            "duration": "1h",
            "comment": "everywhere",
            "all_clusters": "1",
        },
    )
    assert everywhere.status_code == 302
    assert Silence.objects.filter(comment="everywhere").count() == 3


def chips(page: str) -> list[str]:
    return re.findall(r'<span class="cluster" title="Cluster">([^<]+)</span>', page)


def test_the_alerts_page_marks_filters_and_groups_by_cluster(three, silencer_client, tag):
    for name in NAMES:
        three.push(name, "PageAlert", tag)
    sync("--kind", "alerts")

    def page(q, **params) -> str:
        response = silencer_client.get("/alerts/", {"q": q, **params})
        assert response.status_code == 200
        return response.content.decode()

    everything = page(f'test="{tag}"')
    only_us = page(f'test="{tag}" @cluster="us"')
    not_eu = page(f'test="{tag}" @cluster!="eu"')
    grouped = page(f'test="{tag}"', group_by="@cluster")

    assert sorted(chips(everything)) == ["eu", "staging", "us"]
    assert chips(only_us) == ["us"]
    assert sorted(chips(not_eu)) == ["staging", "us"]
    groups = re.findall(r'<section class="group" aria-label="@cluster ([^"]+)"', grouped)
    assert sorted(groups) == ["eu", "staging", "us"]
    link = re.search(r'href="/silences/new/\?alert=[^"&]+&amp;cluster=us"', only_us)
    assert link is not None


def test_the_api_lists_alerts_with_their_cluster_and_filters_by_it(three, silencer, tag):
    from tests.api_client import token_client

    api, _ = token_client(silencer)
    for name in NAMES:
        three.push(name, "ApiAlert", tag)
    sync("--kind", "alerts")

    every = api.get("/api/v1/alerts/", {"q": f'test="{tag}"'}).json()["results"]
    by_param = api.get("/api/v1/alerts/", {"q": f'test="{tag}"', "cluster": "us"}).json()
    by_filter = api.get("/api/v1/alerts/", {"q": f'test="{tag}" @cluster=~"eu|us"'}).json()

    assert sorted(a["cluster"] for a in every) == ["eu", "staging", "us"]
    assert [a["cluster"] for a in by_param["results"]] == ["us"]
    assert sorted(a["cluster"] for a in by_filter["results"]) == ["eu", "us"]


def test_notices_name_the_cluster(three, silencer, tag):
    from alertui.notices import messages

    [made] = multi.create_in_clusters(Actor(silencer), silence_values(tag), ["staging"])
    event = AuditEvent.objects.get(silence_id=made.silence.id)

    notice = messages.event_notice(event)

    assert notice["cluster"] == "staging"
    assert "in cluster staging" in messages.headline(notice)


def test_the_same_alert_in_two_clusters_is_two_rows_each_with_its_history(
    three, silencer_client, tag
):
    three.push("eu", "Twin", tag)
    three.push("us", "Twin", tag)
    sync("--kind", "alerts")
    eu, us = mine(tag).order_by("cluster")

    page = silencer_client.get("/alerts/", {"q": f'test="{tag}"'}).content.decode()
    history = silencer_client.get(f"/alerts/{us.fingerprint}/history/", {"cluster": "us"})

    assert eu.fingerprint == us.fingerprint and (eu.cluster, us.cluster) == ("eu", "us")
    assert sorted(chips(page)) == ["eu", "us"]
    assert f"/alerts/{eu.fingerprint}/history/?cluster=eu" in page
    assert [f.cluster for f in history.context["page"].object_list] == ["us"]


def test_a_silences_page_counts_and_lists_only_its_own_clusters_alerts(
    three, silencer, silencer_client, tag
):
    three.push("eu", "Twin", tag)
    three.push("us", "Twin", tag)
    sync("--kind", "alerts")
    (outcome,) = multi.create_in_clusters(Actor(silencer), silence_values(tag), ["eu"])

    page = silencer_client.get(f"/silences/{outcome.silence.id}/").content.decode()

    assert re.search(r"<dt>Matches now</dt><dd>1 current alert</dd>", page)
    assert re.search(r'<dt>Cluster</dt><dd><span class="cluster">eu</span>', page)
    assert page.count("<li><strong>Twin</strong>") == 1  # eu's; us's twin is not this silence's


def test_silence_group_ticks_every_cluster_the_group_fires_in(three, silencer_client, tag):
    three.push("eu", "Spread", tag)
    three.push("staging", "Spread", tag)
    sync("--kind", "alerts")
    page = silencer_client.get("/alerts/", {"q": f'test="{tag}"'}).content.decode()
    [link] = re.findall(
        r'<a class="button" href="(/silences/new/\?[^"]+)"[^>]*>Silence group', page
    )

    form = silencer_client.get(link.replace("&amp;", "&")).content.decode()

    ticked = re.findall(
        r'<input type="checkbox" name="clusters" value="([^"]+)"[^>]* checked', form
    )
    assert ticked == ["eu", "staging"]


def test_the_filter_hint_names_the_cluster_filter(three, silencer_client):
    page = silencer_client.get("/alerts/").content.decode()
    assert '<code>@cluster="eu"</code>' in page
