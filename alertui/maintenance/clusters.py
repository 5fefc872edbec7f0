"""Where a window's silences go: the configured clusters (alertui.clusters), a client each."""

from alertui import clients, clusters
from alertui.integrations.alertmanager import AlertmanagerClient


def configured_names() -> list[str]:
    return clusters.names()


def alertmanager_for(cluster: str) -> AlertmanagerClient:
    if cluster not in configured_names():
        raise LookupError(f"no cluster named {cluster!r} is configured")
    return clients.alertmanager_client(cluster=cluster)
