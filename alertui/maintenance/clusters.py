"""Where a window's silences go. Today alertui has one Alertmanager cluster; several clusters
(issue #10) plug in here: the names a window may list and one client per name."""

from django.conf import settings

from alertui import clients
from alertui.integrations.alertmanager import AlertmanagerClient


def configured_names() -> list[str]:
    return [getattr(settings, "CLUSTER_NAME", "default")]


def alertmanager_for(cluster: str) -> AlertmanagerClient:
    if cluster not in configured_names():
        raise LookupError(f"no cluster named {cluster!r} is configured")
    return clients.alertmanager_client()
