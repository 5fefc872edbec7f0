"""The beat schedule, built from the kinds of sync and the configured clusters: one entry per
kind and cluster. Read by settings (so it imports no app code)."""

from alertui.sync.registry import KINDS


def sync_time_limits(clusters, am_timeout: int, prom_timeout: int) -> dict[str, int]:
    """Each cluster's (name, peers, Prometheus servers): the seconds its sync task may run,
    as long as its lock lasts."""
    from alertui.clients import sync_bound_of
    from alertui.locks import lock_timeout_for

    return {
        name: lock_timeout_for(sync_bound_of(peers, servers, am_timeout, prom_timeout))
        for name, peers, servers in clusters
    }


def beat_schedule(time_limits: dict[str, int], intervals: dict[str, int], prune: int) -> dict:
    """`time_limits`: each cluster's name and the seconds its sync task may run (as long as
    its lock lasts: alertui.locks.lock_timeout_for); `intervals`: each kind's interval
    setting (name: seconds)."""
    schedule = {}
    for cluster, time_limit in time_limits.items():
        for kind in KINDS:
            every = intervals[kind.interval_setting]
            schedule[f"sync-{kind.name}-{cluster}"] = {
                "task": "alertui.sync.tasks.sync_source",
                "schedule": every,
                "args": (kind.name, cluster),
                # A run not started within its period is dropped: the next one comes. One
                # that outlives its lock is ended by the worker (prefork pool).
                "options": {"expires": max(1, every - 1), "time_limit": time_limit},
            }
    schedule["prune-history"] = {
        "task": "alertui.sync.tasks.prune_history",
        "schedule": prune,
        "options": {"expires": max(1, prune - 1)},
    }
    return schedule


def stale_silence_job(expire_hours: int, every: int) -> dict:
    """The stale-silence policy's entry (alertui.stale_silences), only when it is on."""
    if not expire_hours:
        return {}
    return {
        "expire-stale-silences": {
            "task": "alertui.stale_silences.tasks.expire_stale_silences",
            "schedule": every,
            "options": {"expires": max(1, every - 1)},
        }
    }
