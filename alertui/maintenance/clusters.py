"""Where a window's silences go: the names a window may list and one client per name.

The silence services (alertui/silences/services.py) write to the default cluster only so far;
until they take a cluster, a window may list only that one. When they do, `configured_names`
becomes every configured cluster and the job passes each name through (one
Materialization row per cluster is already the unit of work)."""

from alertui import clients
from alertui import clusters as configured_clusters
from alertui.integrations.alertmanager import AlertmanagerClient


def configured_names() -> list[str]:
    return [configured_clusters.default_name()]


def alertmanager_for(cluster: str) -> AlertmanagerClient:
    if cluster not in configured_names():
        raise LookupError(f"no cluster named {cluster!r} takes maintenance silences")
    return clients.alertmanager_client(cluster=cluster)
