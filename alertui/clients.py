"""The Alertmanager and Prometheus clients of each cluster (alertui.clusters), and how long
their calls can take (which the Redis locks around them must outlast)."""

from django.conf import settings

from alertui import clusters
from alertui.integrations.alertmanager import AlertmanagerClient
from alertui.integrations.prometheus import PrometheusClient

MB = 1_000_000
# The most Alertmanager calls one silence change makes while it holds the silence's lock:
# read the silence (twice when extending), write it, read it back, read the one it replaced.
CALLS_PER_CHANGE = 5
# The Prometheus calls of one server's sync: targets, scrape pools, rules.
CALLS_PER_PROMETHEUS_SYNC = 3


def alertmanager_client(
    urls: list[str] | None = None, cluster: str | None = None
) -> AlertmanagerClient:
    """The Alertmanager peers of `cluster` (the default one when not given), or those of
    `urls` among them."""
    peers = _cluster(cluster).alertmanagers
    chosen = list(peers) if urls is None else urls
    return AlertmanagerClient(
        [peers.get(url) or url for url in chosen],
        timeout=settings.ALERTMANAGER_TIMEOUT,
        max_response_bytes=settings.ALERTMANAGER_MAX_RESPONSE_MB * MB,
    )


def prometheus_client(url: str, cluster: str | None = None) -> PrometheusClient:
    return PrometheusClient(
        _cluster(cluster).prometheus.get(url) or url,
        timeout=settings.PROMETHEUS_TIMEOUT,
        max_response_bytes=settings.PROMETHEUS_MAX_RESPONSE_MB * MB,
    )


def _cluster(name: str | None) -> clusters.Cluster:
    return clusters.get(name) if name else clusters.configured()[0]


def alertmanager_call_bound(cluster: str | None = None) -> float:
    """The longest one Alertmanager client call can take: every peer tried to its deadline."""
    peers = len(_cluster(cluster).alertmanagers)
    return settings.ALERTMANAGER_TIMEOUT * max(1, peers)


def change_bound(cluster: str | None = None) -> float:
    """The longest the Alertmanager calls of one silence change can take."""
    return CALLS_PER_CHANGE * alertmanager_call_bound(cluster)


def sync_bound(cluster: str | None = None) -> float:
    """The longest the calls of any one sync run of a cluster can take: the alerts of every
    peer, the silences (with failover), or each Prometheus's targets, pools and rules."""
    chosen = _cluster(cluster)
    return sync_bound_of(
        len(chosen.alertmanagers),
        len(chosen.prometheus),
        settings.ALERTMANAGER_TIMEOUT,
        settings.PROMETHEUS_TIMEOUT,
    )


def sync_bound_of(peers: int, prometheus: int, am_timeout: float, prom_timeout: float) -> float:
    """sync_bound from the numbers themselves (settings use it before Django is set up)."""
    return max(am_timeout * max(1, peers), CALLS_PER_PROMETHEUS_SYNC * prom_timeout * prometheus)
