"""Maintenance windows over several clusters, against real Alertmanagers: one silence per
occurrence in each of the window's clusters, each recorded under its cluster; pausing acts in
every cluster; a cluster that cannot be reached holds up no other and gets its silence once it
is back."""

import pytest

from alertui.audit.models import AuditEvent
from alertui.clusters import Cluster
from alertui.maintenance import services
from alertui.maintenance.materialize import materialize
from alertui.maintenance.models import Materialization
from alertui.silences.recorder import Actor
from tests.maintenance_helpers import once_fields, silences_of, soon
from tests.servers import AlertmanagerProcess, free_port

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def staging_am(tmp_path_factory):
    """A second cluster's Alertmanager (0.28: the clusters need not run one version)."""
    am = AlertmanagerProcess("0.28", tmp_path_factory.mktemp("staging-am")).start()
    yield am
    am.stop()


def two_clusters(prod_url: str, staging_url: str) -> list[Cluster]:
    return [
        Cluster("prod", {prod_url: prod_url}, {}, prod_url),
        Cluster("staging", {staging_url: staging_url}, {}, staging_url),
    ]


def window_in(user, tag, clusters, starts_at):
    fields = once_fields(tag, starts_at)
    fields = type(fields)(**{**fields.__dict__, "clusters": tuple(clusters)})
    return services.create_window(Actor(user), fields)


def test_a_window_makes_one_silence_in_each_of_its_clusters(
    settings, am, staging_am, silencer, tag
):
    settings.CLUSTERS = two_clusters(am.url, staging_am.url)
    window = window_in(silencer, tag, ["prod", "staging"], soon(3600))
    materialize()  # a second run makes nothing twice

    [in_prod] = silences_of(am, tag)
    [in_staging] = silences_of(staging_am, tag)
    assert in_prod["status"]["state"] == in_staging["status"]["state"] == "pending"
    rows = {m.cluster: m.silence_id for m in Materialization.objects.filter(window=window)}
    assert rows == {"prod": in_prod["id"], "staging": in_staging["id"]}
    created = AuditEvent.objects.filter(action="created", source="maintenance")
    assert sorted(created.values_list("cluster", "silence_id")) == sorted(
        [("prod", in_prod["id"]), ("staging", in_staging["id"])]
    )

    services.pause_window(Actor(silencer), window)
    assert silences_of(am, tag) == [] and silences_of(staging_am, tag) == []


def test_a_window_in_one_cluster_leaves_the_other_alone(settings, am, staging_am, silencer, tag):
    settings.CLUSTERS = two_clusters(am.url, staging_am.url)
    window_in(silencer, tag, ["staging"], soon(3600))
    assert silences_of(am, tag) == []
    assert len(silences_of(staging_am, tag)) == 1


def test_an_unreachable_cluster_gets_its_silence_once_it_is_back(
    settings, am, staging_am, silencer, tag
):
    settings.CLUSTERS = two_clusters(am.url, f"http://127.0.0.1:{free_port()}")
    window = window_in(silencer, tag, ["prod", "staging"], soon(3600))

    assert len(silences_of(am, tag)) == 1  # prod is not held up by staging
    staging_row = Materialization.objects.get(window=window, cluster="staging")
    assert staging_row.state == Materialization.State.RETRY
    assert silences_of(staging_am, tag) == []

    settings.CLUSTERS = two_clusters(am.url, staging_am.url)
    materialize()
    assert len(silences_of(staging_am, tag)) == 1
    assert len(silences_of(am, tag)) == 1
    staging_row.refresh_from_db()
    assert staging_row.state == Materialization.State.CREATED
