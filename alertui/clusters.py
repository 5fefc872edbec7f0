"""The Alertmanager clusters alertui shows: each a name, its Alertmanager peers (one HA cluster)
and its Prometheus servers, each server with its own credentials and TLS.

Given by a YAML file (CLUSTERS_FILE, mounted from a ConfigMap; secrets come from files the
file names, never from the file itself), or, without one, by today's ALERTMANAGER_URL and
PROMETHEUS_URL as one cluster named CLUSTER_NAME. A bad file stops the start with a message
naming the cluster and the key.

    clusters:
      - name: prod
        alertmanagers:
          - http://am-0.prod:9093
          - url: https://am-1.prod:9093
            basic_auth: {username: alertui, password_file: /run/secrets/am-prod}
            tls_config: {ca_file: /etc/alertui/ca.pem}
        prometheus:
          - url: http://prometheus.prod:9090
            authorization: {credentials_file: /run/secrets/prometheus-prod}
        link: https://alertmanager.prod.example.com   # optional; the first peer by default
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from alertui.config_files import read_key
from alertui.integrations.connection import Connection, credentials_left_in, redact

# Safe in a URL, a Redis key, a CSV cell and a quoted filter value (`@cluster="prod-eu"`).
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
NAME_RULE = "1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit"
MAX_LENGTH = 63
CLUSTER_KEYS = {"name", "alertmanagers", "prometheus", "link"}
# Kept out of a ConfigMap: a secret is read from the file its `*_file` key names.
INLINE_SECRETS = {"basic_auth": "password", "authorization": "credentials"}


@dataclass(frozen=True)
class Cluster:
    name: str
    alertmanagers: dict[str, Connection | str]  # by URL (without credentials)
    prometheus: dict[str, Connection | str] = field(default_factory=dict)
    link: str = ""  # where the page header's "Alertmanager" link points for this cluster

    @property
    def alertmanager_urls(self) -> list[str]:
        return list(self.alertmanagers)

    @property
    def prometheus_urls(self) -> list[str]:
        return list(self.prometheus)


class UnknownCluster(LookupError):
    pass


def configured() -> list[Cluster]:
    """Every configured cluster, in the order given.

    Without a file, the one cluster is built from the settings at each call, so what changes
    them (tests point ALERTMANAGER_URLS at their own servers) changes it too."""
    if settings.CLUSTERS:
        return list(settings.CLUSTERS)
    return [
        Cluster(
            name=settings.CLUSTER_NAME,
            alertmanagers={
                url: _connection(url, settings.ALERTMANAGER_CONNECTIONS)
                for url in settings.ALERTMANAGER_URLS
            },
            prometheus={
                url: _connection(url, settings.PROMETHEUS_CONNECTIONS)
                for url in settings.PROMETHEUS_URLS
            },
            link=settings.ALERTMANAGER_EXTERNAL_URL,
        )
    ]


def names() -> list[str]:
    return [cluster.name for cluster in configured()]


def get(name: str) -> Cluster:
    for cluster in configured():
        if cluster.name == name:
            return cluster
    raise UnknownCluster(f"no cluster is named {name!r}")


def default_name() -> str:
    """The cluster rows made before there were several belong to (and what a single-cluster
    install calls its one): CLUSTER_NAME."""
    return settings.CLUSTER_NAME


def _connection(url: str, configured_connections: dict) -> Connection | str:
    # A URL put in settings without its connection (tests point settings at their own
    # servers) is reached without credentials.
    return configured_connections.get(url) or url


def check_name(name: object, where: str) -> str:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ImproperlyConfigured(f"{where}: {name!r} is not a cluster name ({NAME_RULE})")
    return name


# -- reading the configuration -----------------------------------------------------------------


def from_environment() -> tuple[str, list[Cluster], dict, dict]:
    """For settings: CLUSTER_NAME, the clusters of CLUSTERS_FILE (none without it), and the
    Alertmanager and Prometheus connections of the first cluster (ALERTMANAGER_URL's and
    PROMETHEUS_URL's without a file)."""
    from alertui.env import env_connections, env_str

    name = check_name(env_str("CLUSTER_NAME", "default"), "CLUSTER_NAME")
    path = env_str("CLUSTERS_FILE")
    if not path:
        return (
            name,
            [],
            env_connections("ALERTMANAGER", "http://127.0.0.1:9093"),
            env_connections("PROMETHEUS", "http://127.0.0.1:9090"),
        )
    for prefix in ("ALERTMANAGER", "PROMETHEUS"):
        if env_str(f"{prefix}_URL"):
            raise ImproperlyConfigured(
                f"CLUSTERS_FILE and {prefix}_URL: give the servers in the file, not both"
            )
    found = load(path)
    return name, found, dict(found[0].alertmanagers), dict(found[0].prometheus)


def load(path: str) -> list[Cluster]:
    """The clusters of the YAML file at `path`; ImproperlyConfigured naming the cluster and the
    key when it is wrong."""
    where, entries = read_key("CLUSTERS_FILE", path, "clusters")
    if not isinstance(entries, list) or not entries:
        raise ImproperlyConfigured(f"{where}: clusters must list at least one cluster")
    clusters: list[Cluster] = []
    for index, entry in enumerate(entries):
        cluster = _cluster(entry, f"{where}: clusters[{index}]")
        if cluster.name in {c.name for c in clusters}:
            raise ImproperlyConfigured(
                f"{where}: cluster {cluster.name!r}: key name: two clusters have this name"
            )
        clusters.append(cluster)
    return clusters


def _cluster(entry: object, where: str) -> Cluster:
    if not isinstance(entry, dict):
        raise ImproperlyConfigured(f"{where}: a cluster is a mapping with {_keys(CLUSTER_KEYS)}")
    name = check_name(entry.get("name"), f"{where}: key name")
    where = where.rpartition(": ")[0] + f": cluster {name!r}"
    unknown = set(entry) - CLUSTER_KEYS
    if unknown:
        raise ImproperlyConfigured(
            f"{where}: unknown key {_keys(unknown)} (a cluster has {_keys(CLUSTER_KEYS)})"
        )
    alertmanagers = _servers(entry.get("alertmanagers"), f"{where}: key alertmanagers")
    if not alertmanagers:
        raise ImproperlyConfigured(f"{where}: key alertmanagers: list at least one peer")
    prometheus = _servers(entry.get("prometheus"), f"{where}: key prometheus")
    link = entry.get("link") or next(iter(alertmanagers))
    if (
        not isinstance(link, str)
        or not re.match(r"https?://[^/@]+(/|$)", link)
        # `https://user:pa/ss@host`: an unencoded password ends the host part early.
        or credentials_left_in(link)
    ):
        shown = "" if isinstance(link, str) and credentials_left_in(link) else redact(str(link))
        raise ImproperlyConfigured(
            f"{where}: key link: an http(s) URL without credentials, not {shown or '(hidden)'!r}"
        )
    return Cluster(name, alertmanagers, prometheus, link.rstrip("/"))


def _servers(items: object, where: str) -> dict[str, Connection]:
    if items is None:
        return {}
    if not isinstance(items, list):
        raise ImproperlyConfigured(f"{where}: a list of URLs or server mappings")
    servers: dict[str, Connection] = {}
    for index, item in enumerate(items):
        here = f"{where}[{index}]"
        config = {"url": item} if isinstance(item, str) else item
        if not isinstance(config, dict):
            raise ImproperlyConfigured(f"{here}: a URL or a mapping with url")
        for section, secret in INLINE_SECRETS.items():
            if isinstance(config.get(section), dict) and config[section].get(secret):
                raise ImproperlyConfigured(
                    f"{here}.{section}.{secret}: secrets are read from files here: "
                    f"give {secret}_file"
                )
        if "@" in str(config.get("url", "")).partition("://")[2].partition("/")[0]:
            raise ImproperlyConfigured(
                f"{here}.url: credentials go in basic_auth with a password_file, not the URL"
            )
        try:
            connection = Connection.from_config(config)
        except ValueError as e:
            raise ImproperlyConfigured(f"{here}: {e}") from None
        if connection.url in servers:
            raise ImproperlyConfigured(f"{here}: {connection.url} is listed twice")
        servers[connection.url] = connection
    return servers


def _keys(keys: set[str]) -> str:
    return ", ".join(sorted(keys))
