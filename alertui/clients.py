"""The Alertmanager and Prometheus clients as settings configure them, and how long their calls
can take (which the Redis locks around them must outlast)."""

from django.conf import settings

from alertui.integrations.alertmanager import AlertmanagerClient
from alertui.integrations.prometheus import PrometheusClient

MB = 1_000_000
# The most Alertmanager calls one silence change makes while it holds the silence's lock:
# read the silence (twice when extending), write it, read it back, read the one it replaced.
CALLS_PER_CHANGE = 5
# The Prometheus calls of one server's sync: targets, scrape pools, rules.
CALLS_PER_PROMETHEUS_SYNC = 3


def alertmanager_client(urls: list[str] | None = None) -> AlertmanagerClient:
    """The configured Alertmanager peers, or those of `urls`."""
    urls = settings.ALERTMANAGER_URLS if urls is None else urls
    return AlertmanagerClient(
        [_connection(url, settings.ALERTMANAGER_CONNECTIONS) for url in urls],
        timeout=settings.ALERTMANAGER_TIMEOUT,
        max_response_bytes=settings.ALERTMANAGER_MAX_RESPONSE_MB * MB,
    )


def prometheus_client(url: str) -> PrometheusClient:
    return PrometheusClient(
        _connection(url, settings.PROMETHEUS_CONNECTIONS),
        timeout=settings.PROMETHEUS_TIMEOUT,
        max_response_bytes=settings.PROMETHEUS_MAX_RESPONSE_MB * MB,
    )


def _connection(url: str, configured: dict):
    # A URL put in settings without its connection (tests point settings at their own servers)
    # is reached without credentials.
    return configured.get(url) or url


def alertmanager_call_bound() -> float:
    """The longest one Alertmanager client call can take: every peer tried to its deadline."""
    return settings.ALERTMANAGER_TIMEOUT * max(1, len(settings.ALERTMANAGER_URLS))


def change_bound() -> float:
    """The longest the Alertmanager calls of one silence change can take."""
    return CALLS_PER_CHANGE * alertmanager_call_bound()


def sync_bound() -> float:
    """The longest the calls of any one sync run can take: the alerts of every peer, the
    silences (with failover), or each Prometheus's targets, pools and rules."""
    prometheus = CALLS_PER_PROMETHEUS_SYNC * settings.PROMETHEUS_TIMEOUT
    return max(
        alertmanager_call_bound(),
        prometheus * len(settings.PROMETHEUS_URLS),
    )
