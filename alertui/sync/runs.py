"""Runs of one kind of sync for one cluster, each under its own Redis lock: clusters sync
independently, and a hanging cluster holds only its own lock, for a bounded time."""

import functools

from alertui import clusters
from alertui.locks import exclusive, sync_lock_timeout


def lock_name(kind: str, cluster: str) -> str:
    return f"sync:{kind}:{cluster}"


def cluster_sync(kind: str, skipped):
    """Make `function(cluster: Cluster, ...)` the app's sync function of `kind`: called with
    `cluster=<name>` (the first cluster when not given), it runs under that cluster's lock, and
    returns `skipped()` when another run of it holds the lock."""

    def decorate(function):
        @functools.wraps(function)
        def run(*args, cluster: str | None = None, **kwargs):
            chosen = clusters.get(cluster) if cluster else clusters.configured()[0]
            timeout = sync_lock_timeout(chosen.name)
            with exclusive(lock_name(kind, chosen.name), timeout=timeout) as acquired:
                if not acquired:
                    return skipped()
                return function(chosen, *args, **kwargs)

        return run

    return decorate


def run_all(kinds=None, cluster_names=None) -> list[tuple[str, str, object]]:
    """Run each of `kinds` (every kind) for each of `cluster_names` (every cluster), one after
    another: (kind, cluster, result). What the command does; the beat runs them as tasks."""
    from alertui.sync import registry

    results = []
    for cluster in cluster_names or clusters.names():
        for kind in kinds or registry.NAMES:
            results.append((kind, cluster, registry.function(kind)(cluster=cluster)))
    return results
